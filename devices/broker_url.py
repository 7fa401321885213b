"""``mqtt://user:pass@host:port`` (or ``mqtts://``) parsed once, with precise errors; the TLS context of ``mqtts``.

This is the one home of broker URLs: ingestion, the simulators and the command line all parse here, and every
MQTT client applies `BrokerUrl.tls_context` with ``client.tls_set_context`` when the URL says ``mqtts``.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path
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
    ca_file: Path | None = None  # the CA that signed the broker's certificate; None: the system's CAs

    @staticmethod
    def parse(url: str, *, ca_file: Path | str | None = None) -> BrokerUrl:
        shown = redacted(url)  # errors end up in logs and on consoles: never with the password
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise BrokerUrlError(f"AFTERCARE_MQTT_URL={shown!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise BrokerUrlError(f"AFTERCARE_MQTT_URL={shown!r}: no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise BrokerUrlError(
                f"AFTERCARE_MQTT_URL={shown!r}: a broker URL has no path, query or fragment "
                "(URL-encode / ? # in a password: %2F %3F %23)"
            )
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise BrokerUrlError(f"AFTERCARE_MQTT_URL={shown!r}: port must be 1..65535") from None
        ca = Path(ca_file) if ca_file is not None else None
        if ca is not None:
            if not tls:
                raise BrokerUrlError(
                    f"AFTERCARE_MQTT_CA_FILE={ca} is set but AFTERCARE_MQTT_URL={BrokerUrl(parts.hostname, port)} "
                    "is not TLS: use mqtts://"
                )
            if not ca.is_file():
                raise BrokerUrlError(f"AFTERCARE_MQTT_CA_FILE={ca}: no such file")
        return BrokerUrl(
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            tls,
            ca,
        )

    def tls_context(self) -> ssl.SSLContext | None:
        """For ``mqtts``: TLS 1.2+, the broker's certificate verified against ``ca_file`` and its host name checked."""
        if not self.tls:
            return None
        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerUrlError(f"AFTERCARE_MQTT_CA_FILE={self.ca_file}: not a PEM CA certificate ({exc})") from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def __str__(self) -> str:
        auth = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{self.host}:{self.port}"


def redacted(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***`` (whatever else is wrong with it)."""
    return re.sub(r"(://[^/@]*?:).*@", r"\1***@", url, count=1)
