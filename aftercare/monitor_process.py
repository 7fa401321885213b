"""The monitor worker in a child process, for `aftercare up`.

`aftercare up` runs the MQTT client, the API and the live streams in one Python process; the monitor
worker beside them would share their one GIL (the ingestion committer already has a process of its own,
see `ingest/committer.py`). So `up` starts the worker in a ``spawn``-ed child with its own store
connections, as `aftercare monitor` would run it: on SQLite the worker's lock file makes sure it is the
only one. The child exits when its parent's pipe closes; a child that dies is started again on the next
health check, and the state it had not committed is taken over from the stores (the monitor inbox, the
cursors), as after any worker's death.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from aftercare.logging_setup import configure
from aftercare.settings import Settings

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")


class MonitorProcess:
    """Starts, watches and stops the child; ``health`` asks the child's worker how it is."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        self._lock = threading.Lock()  # health checks come from the API's threads; the pipe takes one at a time
        self.starts = 0

    def start(self) -> None:
        parent, child = _SPAWN.Pipe(duplex=True)
        self._process = _SPAWN.Process(target=serve, args=(child, self.settings), name="aftercare-monitor", daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        self.starts += 1
        log.info("monitor worker process %s started", self._process.pid)

    def health(self) -> tuple[bool, str]:
        with self._lock:
            return self._health()

    def _health(self) -> tuple[bool, str]:
        if self._process is None or not self._process.is_alive():
            code = self._process.exitcode if self._process is not None else None
            self.stop()
            self.start()
            return False, f"monitor process exited with code {code}; started again"
        assert self._conn is not None
        try:
            self._conn.send("health")
            if self._conn.poll(5):
                ok, detail = self._conn.recv()
                return bool(ok), str(detail)
        except (OSError, EOFError) as exc:
            return False, f"monitor process unreachable: {exc}"
        return False, "monitor process did not answer within 5 s"

    def stop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                log.debug("monitor pipe already closed", exc_info=True)
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
            self._process = None


def serve(conn: Connection, settings: Settings) -> None:
    """The child: a monitor worker on stores of its own, answering health questions until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it then closes the pipe
    from aftercare.wiring import build_monitor_worker, open_stores

    configure(settings.log_level, settings.log_format)
    stores = open_stores(settings, migrate=False)
    worker = build_monitor_worker(settings, stores)
    worker.start()
    try:
        while True:
            try:
                question = conn.recv()
            except EOFError:  # the parent is gone
                return
            if question is None:
                return
            conn.send(worker.health())
    finally:
        worker.stop()
        stores.close()
