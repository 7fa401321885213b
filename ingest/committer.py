"""The commit half of ingestion in a process of its own.

One Python process cannot both keep up with the broker and decode, validate and commit: paho's
network thread and the commit worker share one GIL, and the bare subscriber alone already fills it
(see docs/benchmarks.md). So by default `aftercare ingest` is two processes on two cores:

- the MQTT process (`ingest.service.IngestService`) receives, gathers batches and acknowledges;
- this committer, a ``spawn``-ed child, runs `ingest.pipeline.IngestPipeline` on its own connections
  to the stores and answers each batch with its `BatchResult` once it is committed.

Nothing changes for at-least-once: the MQTT process acknowledges a batch only after the committer has
answered that it is committed. If the committer dies, the batch is not acknowledged (the service
retries it; `CommitterProcess` starts a new child); if the MQTT process dies, the committer sees its
pipe close and exits, and the broker redelivers whatever was unacknowledged (every write is idempotent).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Protocol

from ingest.inbound import Inbound
from ingest.pipeline import BatchResult, IngestPipeline
from store.timeseries.base import StoreUnavailable

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")

# What crosses the pipe: plain tuples pickle several times faster than dataclass instances.
Wire = tuple[str, bytes, int]


#: Opens the stores and builds the pipeline in the child; returns it with what closes its stores. It crosses
#: to the ``spawn``-ed child by pickling, so it must be a module-level function (or a partial of one).
PipelineFactory = Callable[[], tuple[IngestPipeline, Callable[[], None]]]


class Committer(Protocol):
    """Commits a batch and says what was stored; raises StoreUnavailable when it cannot."""

    def start(self) -> None: ...

    def process(self, batch: Sequence[Inbound]) -> BatchResult: ...

    def close(self) -> None: ...


class CommitterProcess:
    """`Committer` backed by a child process running the pipeline (see module docstring)."""

    def __init__(self, open_pipeline: PipelineFactory, *, start_timeout_s: float = 120.0) -> None:
        self.open_pipeline = open_pipeline
        self.start_timeout_s = start_timeout_s
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        self.starts = 0  # children started so far; more than one means a committer died and was replaced

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child and wait until its stores are open (idempotent)."""
        if self._process is not None and self._process.is_alive():
            return
        parent, child = _SPAWN.Pipe(duplex=True)
        process = _SPAWN.Process(
            target=serve, args=(child, self.open_pipeline), name="aftercare-committer", daemon=True
        )
        process.start()
        self.starts += 1
        child.close()
        self._conn, self._process = parent, process
        answer = self._receive(self.start_timeout_s, "starting")
        if answer != ("ready", None):
            self._discard()
            raise StoreUnavailable(f"committer process did not start: {answer[1]}")
        log.info("committer process %s ready", process.pid)

    def process(self, batch: Sequence[Inbound]) -> BatchResult:
        if self._process is None or not self._process.is_alive():
            if self._process is not None:
                log.warning("committer process exited with code %s; starting a new one", self._process.exitcode)
                self._discard()
            self.start()
        assert self._conn is not None
        try:
            self._conn.send([(m.topic, m.payload, m.received_ms) for m in batch])
        except OSError as exc:
            self._discard()
            raise StoreUnavailable(f"committer process is gone: {exc}") from exc
        status, value = self._receive(None, f"committing {len(batch)} messages")
        if status == "ok":
            assert isinstance(value, BatchResult)
            return value
        if status == "unavailable":
            raise StoreUnavailable(str(value))
        raise RuntimeError(f"committer process failed:\n{value}")

    def _receive(self, timeout_s: float | None, doing: str) -> tuple[str, object]:
        """The child's next answer; StoreUnavailable if it dies (or, with a timeout, is silent) first."""
        assert self._conn is not None
        assert self._process is not None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._conn.poll(0.5):
            if not self._process.is_alive():
                code = self._process.exitcode
                self._discard()
                raise StoreUnavailable(f"committer process exited with code {code} while {doing}")
            if deadline is not None and time.monotonic() > deadline:
                self._discard()
                raise StoreUnavailable(f"committer process gave no answer within {timeout_s:.0f} s while {doing}")
        try:
            answer: tuple[str, object] = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._discard()
            raise StoreUnavailable(f"committer process died while {doing}") from exc
        return answer

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(5)
        self._conn = self._process = None

    def close(self) -> None:
        """Ask the child to finish (it completes the batch in hand first), then reap it."""
        if self._conn is not None and self._process is not None:
            try:
                self._conn.send(None)
            except OSError:
                log.debug("committer pipe already closed", exc_info=True)
            self._process.join(10)
        self._discard()


class ParentGone(Exception):
    """The MQTT process died: nobody will acknowledge this batch, so it must not be committed either."""


def _parent_check(parent_pid: int) -> Callable[[], None]:
    def check() -> None:
        if os.getppid() != parent_pid:  # orphaned: re-parented to init or a subreaper
            raise ParentGone(f"the MQTT process {parent_pid} is gone")

    return check


def serve(conn: Connection, open_pipeline: PipelineFactory) -> None:
    """The child: open the stores, then commit batches until the pipe says stop or closes.

    Just before each state commit it checks that its parent is alive. If the parent was killed meanwhile,
    the batch is rolled back and the child exits: the broker redelivers that batch to the restarted
    ingestion, which must not race a late commit of the same messages (its dedup would miss them, and a
    bad message's dead letter would be stored twice).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes the pipe
    try:
        pipeline, close_stores = open_pipeline()
        pipeline.before_commit = _parent_check(os.getppid())
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    try:
        while True:
            try:
                wire: list[Wire] | None = conn.recv()
            except EOFError:  # the MQTT process is gone
                return
            if wire is None:
                return
            batch = [Inbound(topic, payload, 0, 1, 0, received) for topic, payload, received in wire]
            try:
                conn.send(("ok", pipeline.process(batch)))
            except ParentGone:
                log.warning("MQTT process gone: batch of %s messages rolled back, exiting", len(batch))
                return
            except StoreUnavailable as exc:
                conn.send(("unavailable", exc.reason))
            except Exception:
                log.exception("unexpected failure committing a batch of %s messages", len(batch))
                conn.send(("error", traceback.format_exc()))
    except (BrokenPipeError, ConnectionResetError):
        return
    finally:
        close_stores()
