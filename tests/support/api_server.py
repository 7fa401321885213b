"""A real uvicorn server running an app in a thread, and a raw HTTP/1.1 client that can stop mid-body."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from aftercare.embedded_broker import free_port


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a fresh loopback port until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"uvicorn did not start on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


class RawRequest:
    """An HTTP/1.1 request written by hand on a socket: headers first, then the body piece by piece."""

    def __init__(self, base: str, method: str, path: str, headers: dict[str, str]) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.sent = 0

    def send_chunk(self, data: bytes) -> bool:
        """Send one chunk of a chunked body; False once the server has closed the connection."""
        try:
            self.sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        except OSError:
            return False
        self.sent += len(data)
        return True

    def send_chunks_past(self, limit: int, piece: bytes) -> None:
        """Send ``piece`` as chunks until more than ``limit`` bytes are out, or the server closed the connection."""
        while self.sent <= limit + len(piece) and self.send_chunk(piece):
            continue

    def send_raw(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        return True

    def answer(self, timeout: float = 10) -> RawAnswer:
        """The response, read while the request body is still unfinished; AssertionError if none comes."""
        self.sock.settimeout(timeout)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                piece = self.sock.recv(65536)
                if not piece:
                    break
                data += piece
        except TimeoutError:
            raise AssertionError(f"no response within {timeout} s while the body was unfinished") from None
        head, _, body = data.partition(b"\r\n\r\n")
        if not head:
            raise AssertionError("the server closed the connection without a response")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
        length = int(headers.get("content-length", "0"))
        try:
            while len(body) < length:
                piece = self.sock.recv(65536)
                if not piece:
                    break
                body += piece
        except (TimeoutError, ConnectionResetError):
            pass  # the server closed or stopped sending: the body is what arrived
        return RawAnswer(int(status_line.split()[1]), headers, body)

    def close(self) -> None:
        self.sock.close()


class RawStream:
    """`GET /api/v1/events` on a socket of its own: read up to a marker, close it whenever the test likes."""

    def __init__(self, base: str, token: str, last_event_id: int | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._request = RawRequest(base, "GET", "/api/v1/events", headers)
        self.sock = self._request.sock
        self.buffer = b""

    def read_until(self, marker: bytes, timeout: float = 10) -> bool:
        """True once `marker` has arrived; False when the server closed first or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                piece = self.sock.recv(65536)
            except TimeoutError:
                return False
            except OSError:
                return marker in self.buffer
            if not piece:
                return marker in self.buffer
            self.buffer += piece
        return True

    @property
    def status(self) -> int:
        head = self.buffer.partition(b"\r\n")[0].decode("latin-1")
        return int(head.split()[1]) if head.startswith("HTTP/") else 0

    def opened(self, timeout: float = 10) -> bool:
        """The stream is established: 200 and the first `retry:` line (sent once its start is fixed)."""
        return self.read_until(b"retry: ", timeout) and self.status == 200

    def ended(self, timeout: float = 10) -> bool:
        """The server finished the stream (the last chunk of the chunked body)."""
        return self.read_until(b"\r\n0\r\n\r\n", timeout)

    def close(self) -> None:
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
