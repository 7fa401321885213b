"""Run a measurement in a fresh child process (``spawn``), so every figure starts from a clean interpreter.

The child's function must be importable (a module-level function); its return value comes back
through a pipe. An exception in the child comes back as `ChildFailed` with the child's traceback.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

_SPAWN = multiprocessing.get_context("spawn")


class ChildFailed(RuntimeError):
    """The child raised, died or timed out; ``str()`` carries its traceback or exit code."""


def _entry(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        conn.send(("ok", fn(*args, **kwargs)))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class Child:
    """A started child; `result` waits for its answer."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._parent, child_end = _SPAWN.Pipe(duplex=False)
        # not daemonic: a measured child may start processes of its own (ingestion's committer)
        self.process = _SPAWN.Process(target=_entry, args=(child_end, fn, args, kwargs), daemon=False)
        self.process.start()
        child_end.close()
        self.name = getattr(fn, "__name__", "child")

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def result(self, timeout: float) -> Any:
        if not self._parent.poll(timeout):
            self.process.kill()
            self.process.join(5)
            raise ChildFailed(f"{self.name} gave no answer within {timeout:.0f} s")
        try:
            status, value = self._parent.recv()
        except EOFError:
            self.process.join(5)
            raise ChildFailed(f"{self.name} died with exit code {self.process.exitcode}") from None
        self.process.join(10)
        if status == "error":
            raise ChildFailed(f"{self.name} failed:\n{value}")
        return value


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) another process has used so far, from /proc (Linux); 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(fn: Callable[..., Any], *args: Any, timeout: float = 300.0, **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` in a fresh process and return its result."""
    return Child(fn, *args, **kwargs).result(timeout)
