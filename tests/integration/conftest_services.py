"""Real services for integration tests: a private influxd (1.x) and private Mosquitto brokers.

Every service here is started by its fixture on a free loopback port, from a config file written into
a temporary folder, and stopped when the fixture ends; nothing touches the system's own services
(the Mosquitto on 127.0.0.1:1883 is never used). Fixtures:

- ``influxd`` (session): an `InfluxServer`; ``influxd.url("db")`` gives an ``influxdb://`` URL and
  ``with influxd.stopped():`` takes it down for a moment (the data stays).
- ``influxd_url`` (session): ``influxdb://127.0.0.1:PORT/aftercare_test``.
- ``mosquitto_broker`` (session): a `MosquittoBroker` allowing anonymous clients, with persistence,
  ``max_inflight_messages 1000`` and ``max_queued_messages 0``; ``restart()`` keeps its port and data.
- ``mosquitto_factory`` (function): ``mosquitto_factory(password_file=..., acl_file=...)`` starts a
  broker that authenticates with those files (anonymous refused); all are stopped after the test.

Until ``tests/conftest.py`` imports them, a test module does
``from tests.integration.conftest_services import *  # noqa: F403``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

__all__ = [
    "InfluxServer",
    "MosquittoBroker",
    "ServiceStartError",
    "free_port",
    "influxd",
    "influxd_url",
    "mosquitto_broker",
    "mosquitto_factory",
]

INFLUXD = os.environ.get("AFTERCARE_TEST_INFLUXD", "/usr/bin/influxd")
MOSQUITTO = os.environ.get("AFTERCARE_TEST_MOSQUITTO", "/usr/sbin/mosquitto")
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 15.0


class ServiceStartError(RuntimeError):
    """A service binary did not come up; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(_STOP_TIMEOUT_S)


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(f"{what} exited with status {process.returncode}:\n{_log_tail(log)}")
        if ready():
            return
        time.sleep(0.05)
    _terminate(process)
    raise ServiceStartError(f"{what} was not ready after {_START_TIMEOUT_S:.0f} s:\n{_log_tail(log)}")


# -- InfluxDB 1.x ----------------------------------------------------------------------------------


@dataclass
class InfluxServer:
    """An influxd of our own: HTTP and RPC on free loopback ports, all files under ``root``."""

    root: Path
    port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.root / "influxdb.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "influxd.log"

    def url(self, database: str = "aftercare_test") -> str:
        """The ``influxdb://`` URL of a database on this server (created by the store on first use)."""
        return f"influxdb://127.0.0.1:{self.port}/{database}"

    def write_config(self) -> None:
        self.config_path.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            "[meta]\n"
            f'  dir = "{self.root / "meta"}"\n'
            "[data]\n"
            f'  dir = "{self.root / "data"}"\n'
            f'  wal-dir = "{self.root / "wal"}"\n'
            "  query-log-enabled = false\n"
            "[http]\n"
            "  enabled = true\n"
            f'  bind-address = "127.0.0.1:{self.port}"\n'
            "  auth-enabled = false\n"
            "  log-enabled = false\n"
            "[continuous_queries]\n"
            "  enabled = false\n"
            "[monitor]\n"
            "  store-enabled = false\n"
        )

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if not Path(INFLUXD).exists():
            raise ServiceStartError(f"{INFLUXD} is missing: apt-get install -y influxdb")
        self.write_config()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [INFLUXD, "-config", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until(self.ping, self.process, f"influxd on port {self.port}", self.log_path)

    def ping(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/ping", timeout=1.0).status_code == 204
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)
            self.process = None

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the server for the body of the ``with``, then start it again on the same port and data."""
        self.stop()
        try:
            yield
        finally:
            self.start()


@pytest.fixture(scope="session")
def influxd() -> Iterator[InfluxServer]:
    root = Path(tempfile.mkdtemp(prefix="aftercare-influxd-"))
    server = InfluxServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def influxd_url(influxd: InfluxServer) -> str:
    return influxd.url("aftercare_test")


# -- Mosquitto -------------------------------------------------------------------------------------


@dataclass
class MosquittoBroker:
    """A mosquitto of our own on a free loopback port, configured from ``conf_dir/mosquitto.conf``."""

    conf_dir: Path
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    password_file: Path | None = None
    acl_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def conf_path(self) -> Path:
        return self.conf_dir / "mosquitto.conf"

    @property
    def pid_file(self) -> Path:
        return self.conf_dir / "mosquitto.pid"

    @property
    def log_path(self) -> Path:
        return self.conf_dir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            # The tests run as root; without this mosquitto drops to the `mosquitto` user and can
            # read neither our 0600 files nor write its persistence in our private folder.
            "user root",
            "persistence true",
            f"persistence_location {self.conf_dir}/",
            f"pid_file {self.pid_file}",
            "max_inflight_messages 1000",
            "max_queued_messages 0",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if self.password_file is None and self.acl_file is None:
            lines.append("allow_anonymous true")
        else:
            lines.append("allow_anonymous false")
            if self.password_file is not None:
                lines.append(f"password_file {self.password_file}")
            if self.acl_file is not None:
                lines.append(f"acl_file {self.acl_file}")
        self.conf_path.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        if self.pid is not None:
            return
        if not Path(MOSQUITTO).exists():
            raise ServiceStartError(f"{MOSQUITTO} is missing: apt-get install -y mosquitto")
        self.write_config()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf_path)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_until(self._accepts, self.process, f"mosquitto on port {self.port}", self.log_path)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)  # SIGTERM: mosquitto saves its persistence file on the way out
            self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port; persistent sessions and queued messages survive."""
        self.stop()
        self.start()

    def reload(self) -> None:
        """SIGHUP: mosquitto rereads its password and ACL files without dropping connections."""
        if self.process is None:
            raise ServiceStartError("mosquitto is not running")
        self.process.send_signal(signal.SIGHUP)


@pytest.fixture(scope="session")
def mosquitto_broker() -> Iterator[MosquittoBroker]:
    conf_dir = Path(tempfile.mkdtemp(prefix="aftercare-mosquitto-"))
    broker = MosquittoBroker(conf_dir)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(conf_dir, ignore_errors=True)


MosquittoFactory = Callable[..., MosquittoBroker]


@pytest.fixture
def mosquitto_factory() -> Iterator[MosquittoFactory]:
    """Start brokers that authenticate with a given password file and ACL file; stopped after the test."""
    started: list[MosquittoBroker] = []

    def start(*, password_file: Path | None = None, acl_file: Path | None = None) -> MosquittoBroker:
        conf_dir = Path(tempfile.mkdtemp(prefix="aftercare-mosquitto-"))
        broker = MosquittoBroker(conf_dir, password_file=password_file, acl_file=acl_file)
        started.append(broker)
        broker.start()
        return broker

    try:
        yield start
    finally:
        for broker in started:
            broker.stop()
            shutil.rmtree(broker.conf_dir, ignore_errors=True)
