"""MQTT over TLS against a real Mosquitto whose only listener is TLS, with certificates from `aftercare certs dev`.

Ingestion (configured through AFTERCARE_MQTT_URL=mqtts://... and AFTERCARE_MQTT_CA_FILE) stores what a
simulated device publishes over TLS; a client without TLS, or one trusting another CA, is refused; a renewed
server certificate is served after SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from paho.mqtt.enums import CallbackAPIVersion

from aftercare.certs import DevCerts, make_dev_certs
from aftercare.runtime import resolve_broker
from aftercare.settings import Settings
from aftercare.wiring import build_ingest, open_stores
from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from simulators.mqtt_out import DeviceLink
from tests.integration.conftest_services import MosquittoBroker
from tests.support.mqtt_publisher import wait_until
from tests.support.seed import seed_registry

pytestmark = pytest.mark.integration


@dataclass
class TlsMosquitto(MosquittoBroker):
    """A Mosquitto whose one listener (``port``) speaks TLS only, like deploy/mosquitto/mosquitto.conf."""

    certs: DevCerts | None = None

    def write_config(self) -> None:
        assert self.certs is not None
        self.conf_path.write_text(
            "\n".join(
                [
                    f"listener {self.port} {self.host}",
                    f"cafile {self.certs.ca_cert}",
                    f"certfile {self.certs.server_cert}",
                    f"keyfile {self.certs.server_key}",
                    "tls_version tlsv1.2",
                    "user root",
                    "allow_anonymous true",
                    "persistence false",
                    f"pid_file {self.pid_file}",
                    "log_dest stderr",
                    "log_type all",
                    "connection_messages true",
                ]
            )
            + "\n"
        )


@pytest.fixture
def certs(tmp_path: Path) -> DevCerts:
    return make_dev_certs(tmp_path / "certs")


@contextlib.contextmanager
def started_tls_broker(certs: DevCerts, host: str = "127.0.0.1") -> Iterator[TlsMosquitto]:
    conf_dir = Path(tempfile.mkdtemp(prefix="aftercare-mosquitto-tls-"))
    broker = TlsMosquitto(conf_dir, host=host, certs=certs)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(conf_dir, ignore_errors=True)


@pytest.fixture
def tls_broker(certs: DevCerts) -> Iterator[TlsMosquitto]:
    with started_tls_broker(certs) as broker:
        yield broker


def connect_outcome(host: str, port: int, context: ssl.SSLContext | None) -> str:
    """``connected``, or why the broker could not be reached: an exception's text or ``disconnected: ...``."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{time.monotonic_ns()}")
    if context is not None:
        client.tls_set_context(context)
    outcome: list[str] = []
    done = threading.Event()

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        outcome.append("connected" if not reason.is_failure else f"refused: {reason}")
        done.set()

    def on_disconnect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        outcome.append(f"disconnected: {reason}")
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    try:
        client.connect(host, port, keepalive=10)
    except (OSError, ssl.SSLError) as exc:  # the TLS handshake runs inside connect()
        return f"{type(exc).__name__}: {exc}"
    client.loop_start()
    try:
        assert done.wait(15), "neither CONNACK nor a disconnect within 15 s"
    finally:
        client.disconnect()
        client.loop_stop()
    return outcome[0]


def test_ingestion_over_tls_stores_what_a_device_publishes(
    tmp_path: Path, certs: DevCerts, tls_broker: TlsMosquitto
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        mqtt_url=f"mqtts://localhost:{tls_broker.port}",  # the server certificate names localhost
        mqtt_ca_file=certs.ca_cert,
        batch_max_seconds=0.02,
        mqtt_client_id=f"ingest-tls-{os.getpid()}-{time.monotonic_ns()}",
    )
    broker, embedded, _protocol = resolve_broker(settings, allow_embedded=False)
    assert embedded is None
    assert broker.tls
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=1, gateways=0)
    service = build_ingest(settings, stores, broker)
    service.start()
    link = DeviceLink(BrokerUrl.parse(f"mqtts://127.0.0.1:{tls_broker.port}", ca_file=certs.ca_cert), "w0")
    try:
        assert service.source.connected.wait(15), service.source.last_error
        # sentinels: the broker has ingestion's subscription, and the device's TLS connection is up
        suback = f"Sending SUBACK to {settings.mqtt_client_id}"
        wait_until(lambda: suback in tls_broker.log_path.read_text(errors="replace"), 15, what="ingestion's SUBACK")
        wait_until(link.client.is_connected, 15, what="the device's TLS connection")
        t0 = now_ms() - 60_000
        link.publish(
            "aftercare/v1/wearables/w0/telemetry",
            {"seq": 1, "series": [{"metric": "heart_rate", "t0": t0, "fs": 1.0, "values": [71, 72, 73]}]},
        )
        wait_until(lambda: stores.timeseries.read("P0", "heart_rate", t0 - 1, t0 + 5000).n == 3, 20, what="3 samples")
        assert list(stores.timeseries.read("P0", "heart_rate", t0 - 1, t0 + 5000).values) == [71, 72, 73]
    finally:
        link.close()
        service.stop()
        stores.close()


def test_a_client_without_tls_is_refused_on_the_tls_port(certs: DevCerts, tls_broker: TlsMosquitto) -> None:
    trusted = BrokerUrl.parse(f"mqtts://localhost:{tls_broker.port}", ca_file=certs.ca_cert).tls_context()
    assert connect_outcome("localhost", tls_broker.port, trusted) == "connected"  # the broker is up
    outcome = connect_outcome("127.0.0.1", tls_broker.port, None)
    assert outcome != "connected"
    assert outcome.startswith("disconnected"), outcome


def test_a_client_trusting_another_ca_is_refused(tmp_path: Path, certs: DevCerts, tls_broker: TlsMosquitto) -> None:
    trusted = BrokerUrl.parse(f"mqtts://localhost:{tls_broker.port}", ca_file=certs.ca_cert).tls_context()
    assert connect_outcome("localhost", tls_broker.port, trusted) == "connected"
    other = make_dev_certs(tmp_path / "other-ca")
    stranger = BrokerUrl.parse(f"mqtts://localhost:{tls_broker.port}", ca_file=other.ca_cert).tls_context()
    outcome = connect_outcome("localhost", tls_broker.port, stranger)
    assert outcome.startswith("SSLCertVerificationError"), outcome
    assert "certificate verify failed" in outcome


def test_a_renewed_server_certificate_is_served_after_sighup(certs: DevCerts, tls_broker: TlsMosquitto) -> None:
    context = BrokerUrl.parse(f"mqtts://localhost:{tls_broker.port}", ca_file=certs.ca_cert).tls_context()
    assert context is not None

    def served_serial() -> int:
        with (
            socket.create_connection(("127.0.0.1", tls_broker.port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der).serial_number

    before = served_serial()
    renewed = make_dev_certs(certs.server_cert.parent)  # same CA, new server certificate and key
    new_serial = x509.load_pem_x509_certificate(renewed.server_cert.read_bytes()).serial_number
    assert new_serial != before
    assert served_serial() == before  # not picked up until told
    tls_broker.reload()
    wait_until(lambda: served_serial() == new_serial, 15, what="the renewed certificate served after SIGHUP")


def test_a_broker_reached_by_a_name_its_certificate_lacks_is_refused(certs: DevCerts) -> None:
    # 127.0.0.2 is loopback too, but not among the certificate's names (localhost, 127.0.0.1, mosquitto, api)
    with started_tls_broker(certs, host="127.0.0.2") as broker:
        context = BrokerUrl.parse(f"mqtts://127.0.0.2:{broker.port}", ca_file=certs.ca_cert).tls_context()
        assert context is not None
        with (
            socket.create_connection((broker.host, broker.port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")  # the same certificate, checked for a name it has
        outcome = connect_outcome("127.0.0.2", broker.port, context)
        assert outcome.startswith("SSLCertVerificationError"), outcome
        assert "IP address mismatch" in outcome
