"""``mqtt://user:pass@host:port`` (or ``mqtts://``) parsed once, with precise errors."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class BrokerUrlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @staticmethod
    def parse(url: str) -> BrokerUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise BrokerUrlError(f"AFTERCARE_MQTT_URL={url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise BrokerUrlError(f"AFTERCARE_MQTT_URL={url!r}: no host")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise BrokerUrlError(f"AFTERCARE_MQTT_URL={url!r}: port must be 1..65535") from None
        return BrokerUrl(
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            tls,
        )

    def __str__(self) -> str:
        auth = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{self.host}:{self.port}"
