"""The embedded MQTT broker of `aftercare up` (amqtt), run on its own event loop in a thread.

It is for development and demos: anonymous access on loopback, sessions in memory. Production uses
Mosquitto (or any MQTT cluster) with per-device passwords and an ACL; see docs/operations.md.
amqtt is the optional extra ``embedded`` (``pip install -e '.[embedded]'``, done by ``make setup``): the
production image does not have it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

log = logging.getLogger(__name__)


INSTALL_HINT = (
    "the embedded development broker (amqtt) is not installed: install it with "
    "`pip install -e '.[embedded]'` (or `make setup`), or set AFTERCARE_MQTT_URL to a broker"
)


class EmbeddedBrokerMissing(RuntimeError):
    """amqtt, the optional extra ``embedded``, is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


def require_amqtt() -> None:
    """Raise `EmbeddedBrokerMissing` when amqtt cannot be imported."""
    try:
        import amqtt.broker  # noqa: F401
    except ImportError:
        raise EmbeddedBrokerMissing() from None


class PortTaken(RuntimeError):
    def __init__(self, port: int, setting: str) -> None:
        super().__init__(
            f"port {port} is already in use; set {setting} to a free port "
            f"(or AFTERCARE_MQTT_URL to use the broker that is already running there)"
        )
        self.port = port
        self.setting = setting


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def choose_port(requested: int | None, host: str = "127.0.0.1") -> int:
    """The requested port (refusing a taken one), or 1883, or any free port when 1883 is taken."""
    if requested is not None:
        if not port_free(host, requested):
            raise PortTaken(requested, "AFTERCARE_EMBEDDED_MQTT_PORT")
        return requested
    return 1883 if port_free(host, 1883) else free_port(host)


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="embedded-broker", daemon=True)
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": 0}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._thread.start()

        async def _start() -> None:
            self._broker = Broker(config, loop=self._loop)
            await self._broker.start()

        asyncio.run_coroutine_threadsafe(_start(), self._loop).result(timeout=30)
        log.info("embedded MQTT broker listening on %s", self.url)

    def stop(self) -> None:
        if self._broker is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=10)
            except Exception:  # shutting down anyway
                log.debug("embedded broker shutdown", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
