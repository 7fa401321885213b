"""Private services for a benchmark or reliability run: a Mosquitto and (when installed) an influxd 1.x.

Each runs from a config file written to a temporary folder, listens on a free loopback port and
is stopped (and its folder removed) by `stop`. The machine's own Mosquitto on 127.0.0.1:1883 is
never used or touched. Both classes are context managers.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from simulators.waiting import http_answers, wait_until

log = logging.getLogger(__name__)

MOSQUITTO_BINARY = "/usr/sbin/mosquitto"


class ServiceError(RuntimeError):
    """A private service did not start; ``str()`` says which and why (with its log's tail)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_port(
    host: str, port: int, proc: subprocess.Popen[bytes], what: str, log_path: Path, timeout: float = 15.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"{what} exited with {proc.returncode}: {_tail(log_path)}")
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise ServiceError(f"{what} did not listen on {host}:{port} within {timeout:.0f} s: {_tail(log_path)}")


def _tail(path: Path, size: int = 800) -> str:
    try:
        return path.read_bytes()[-size:].decode(errors="replace").strip()
    except OSError:
        return "(no log)"


def _terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class PrivateMosquitto:
    """A Mosquitto of our own: persistence on, unbounded queues, 1000 in flight, anonymous, loopback."""

    def __init__(self, *, port: int | None = None, root: Path | None = None, autosave_interval_s: int = 1800) -> None:
        self.host = "127.0.0.1"
        self.autosave_interval_s = autosave_interval_s
        self.port = port or free_port()
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="aftercare-mosquitto-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _write_config(self) -> Path:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        config = self.root / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {self.host}\n"
            "user root\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.root / 'data'}/\n"
            f"autosave_interval {self.autosave_interval_s}\n"
            "max_inflight_messages 1000\n"
            "max_queued_messages 0\n"
            "max_queued_bytes 0\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
        )
        return config

    def start(self) -> PrivateMosquitto:
        if not Path(MOSQUITTO_BINARY).exists():
            raise ServiceError(f"{MOSQUITTO_BINARY} is not installed (Debian package mosquitto)")
        config = self._write_config()
        with open(self.log_path, "ab") as log_file:
            # a fixed binary and a config file we wrote: no untrusted input
            self.proc = subprocess.Popen(  # noqa: S603
                [MOSQUITTO_BINARY, "-c", str(config)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_port(self.host, self.port, self.proc, "mosquitto", self.log_path)
        log.debug("private mosquitto (pid %s) on %s:%s", self.proc.pid, self.host, self.port)
        return self

    def restart(self, *, down_s: float = 0.0) -> None:
        """Stop gracefully (the queues are saved), stay down ``down_s``, start on the same port."""
        _terminate(self.proc)
        if down_s > 0:
            time.sleep(down_s)
        self.start()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL): what was not saved by autosave is lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        _terminate(self.proc)
        self.proc = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivateMosquitto:
        return self.start()

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.stop()


def influxd_installed() -> bool:
    return shutil.which("influxd") is not None


class PrivateInfluxd:
    """An influxd 1.x of our own, from a temporary config; ``url`` names one fresh database."""

    def __init__(self, *, database: str = "aftercare_bench") -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.rpc_port = free_port()
        self.database = database
        self.root = Path(tempfile.mkdtemp(prefix="aftercare-influxd-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "influxd.log"

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, database: str) -> str:
        """The AFTERCARE_TIMESERIES_URL naming ``database`` on this server (created if missing)."""
        self.create_database(database)
        return f"influxdb://{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def start(self) -> PrivateInfluxd:
        binary = shutil.which("influxd")
        if binary is None:
            raise ServiceError("influxd is not installed (Debian package influxdb)")
        config = self.root / "influxdb.conf"
        config.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "{self.host}:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.root / "meta"}"\n'
            f'[data]\n  dir = "{self.root / "data"}"\n  wal-dir = "{self.root / "wal"}"\n'
            "  query-log-enabled = false\n"
            f'[http]\n  bind-address = "{self.host}:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
        )
        env = {**os.environ, "INFLUXDB_DATA_QUERY_LOG_ENABLED": "false"}
        with open(self.log_path, "ab") as log_file:
            self.proc = subprocess.Popen(  # noqa: S603
                [binary, "-config", str(config)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        _wait_port(self.host, self.port, self.proc, "influxd", self.log_path, timeout=30)
        try:
            wait_until(http_answers(f"{self.http}/ping", 204), 30, 0.1, "influxd to answer /ping")
        except TimeoutError as exc:
            raise ServiceError(f"{exc}: {_tail(self.log_path)}") from exc
        self.create_database(self.database)
        log.debug("private influxd (pid %s) on %s", self.proc.pid, self.http)
        return self

    def create_database(self, name: str) -> None:
        answer = httpx.post(f"{self.http}/query", params={"q": f'CREATE DATABASE "{name}"'}, timeout=10)
        if answer.status_code != 200:
            raise ServiceError(f"influxd: CREATE DATABASE {name}: {answer.status_code} {answer.text[:200]}")

    def stop(self) -> None:
        _terminate(self.proc)
        self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivateInfluxd:
        return self.start()

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.stop()
