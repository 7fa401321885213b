"""Running components: each alone (`aftercare ingest|monitor|api`) or all in one process (`aftercare up`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import uvicorn

from aftercare.embedded_broker import EmbeddedBroker, choose_port, require_amqtt
from aftercare.health_server import HealthServer
from aftercare.monitor_process import MonitorProcess
from aftercare.settings import Settings
from aftercare.wiring import build_device_accounts, build_ingest, build_monitor_worker, open_stores
from api.app import create_app
from api.context import AppContext
from api.events import EventHub
from devices.broker_url import BrokerUrl
from ingest.service import IngestService
from monitor.worker import MonitorWorker
from store.broker_accounts import BrokerAccounts
from store.stores import Stores

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """What one process runs; `stop` undoes `start` in reverse order."""

    settings: Settings
    stores: Stores
    admin_token: str
    broker: EmbeddedBroker | None = None
    broker_url: BrokerUrl | None = None
    ingest: IngestService | None = None
    workers: list[Any] = field(default_factory=list)  # objects with start() and stop()
    health_checks: dict[str, Callable[[], tuple[bool, str]]] = field(default_factory=dict)
    device_accounts: BrokerAccounts | None = None

    def stop(self) -> None:
        for worker in reversed(self.workers):
            try:
                worker.stop()
            except Exception:
                log.exception("stopping %s", type(worker).__name__)
        if self.ingest is not None:
            self.ingest.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.device_accounts is not None:
            self.device_accounts.close()
        self.stores.close()


def resolve_broker(settings: Settings, *, allow_embedded: bool) -> tuple[BrokerUrl, EmbeddedBroker | None, int]:
    """The broker to use and the MQTT protocol version to speak to it."""
    if settings.mqtt_url:
        url = BrokerUrl.parse(settings.mqtt_url, ca_file=settings.mqtt_ca_file)
        if not url.tls and settings.mode == "production":
            log.warning("AFTERCARE_MQTT_URL=%s is not TLS: passwords and data cross the network in clear", url)
        return url, None, mqtt.MQTTv5
    if not allow_embedded:
        raise SystemExit("AFTERCARE_MQTT_URL is not set (only `aftercare up` starts an embedded broker)")
    require_amqtt()
    port = choose_port(settings.embedded_mqtt_port)
    broker = EmbeddedBroker(port=port)
    broker.start()
    # amqtt speaks MQTT 3.1.1 only: a persistent session there is clean_session=False.
    return BrokerUrl("127.0.0.1", port), broker, mqtt.MQTTv311


def start_ingest(platform: Platform, protocol: int) -> None:
    assert platform.broker_url is not None
    service = build_ingest(platform.settings, platform.stores, platform.broker_url, protocol=protocol)
    service.start()
    platform.ingest = service

    def check() -> tuple[bool, str]:
        status = service.status()
        ok = status.connected and status.store_ok
        detail = (
            f"connected={status.connected} store_ok={status.store_ok} pending={status.pending}"
            + (f" store_error={status.store_error}" if status.store_error else "")
            + (f" broker_error={service.source.last_error}" if service.source.last_error else "")
        )
        return ok, detail

    platform.health_checks["ingest"] = check


def start_monitors(platform: Platform, *, own_process: bool = False) -> None:
    """The monitor worker in a thread of this process, or (``own_process``, for `aftercare up`, whose process
    already runs the MQTT client and the API) in a child process of its own."""
    worker: MonitorProcess | MonitorWorker
    if own_process:
        worker = MonitorProcess(platform.settings)
    else:
        worker = build_monitor_worker(platform.settings, platform.stores)
    worker.start()
    platform.workers.append(worker)
    platform.health_checks["monitor"] = worker.health


def start_health_server(platform: Platform, *, component: str, port: int) -> HealthServer | None:
    """`/healthz`, `/readyz`, `/metrics` of `aftercare ingest|monitor` on ``port`` (0: none); stopped first by
    `Platform.stop`. Raises `OSError` when the port is taken."""
    if port == 0:
        return None
    server = HealthServer(
        host=platform.settings.health_host,
        port=port,
        stores=platform.stores,
        health_checks=platform.health_checks,
        component=component,
    )
    server.start()
    platform.workers.append(server)
    return server


def make_app_context(platform: Platform) -> AppContext:
    from dashboards.mount import mount_dashboards

    ctx = AppContext(
        stores=platform.stores,
        admin_token=platform.admin_token,
        health_checks=platform.health_checks,
        max_photo_bytes=platform.settings.max_photo_bytes,
        hub=EventHub(
            poll_s=platform.settings.events_poll_s,
            max_streams_per_token=platform.settings.events_max_streams_per_token,
            recheck_s=platform.settings.events_token_recheck_s,
        ),
    )
    ctx.extras["mount_dashboards"] = mount_dashboards
    ctx.extras["settings"] = platform.settings
    if platform.device_accounts is None:  # only the API manages broker accounts
        platform.device_accounts = build_device_accounts(platform.settings)
    ctx.device_accounts = platform.device_accounts
    return ctx


def api_server(platform: Platform) -> uvicorn.Server:
    """The API's uvicorn server: HTTPS when AFTERCARE_API_TLS_CERT_FILE and _KEY_FILE are set, else plain HTTP."""
    settings = platform.settings
    app = create_app(
        make_app_context(platform),
        max_request_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    tls = settings.api_tls_cert_file is not None and settings.api_tls_key_file is not None
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go through our handlers (`aftercare.logging_setup`: human or JSON)
        access_log=False,  # access lines come from api/request_log.py, with the request id
        timeout_graceful_shutdown=3,
        ssl_certfile=settings.api_tls_cert_file if tls else None,
        ssl_keyfile=settings.api_tls_key_file if tls else None,
    )
    if tls:
        log.info("API serves HTTPS with %s", settings.api_tls_cert_file)
    elif settings.mode == "production":
        log.warning("API serves plain HTTP: set AFTERCARE_API_TLS_CERT_FILE and _KEY_FILE, or put a TLS proxy in front")
    return uvicorn.Server(config)


def serve_api(platform: Platform, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve the API in this thread until Ctrl-C / SIGTERM."""
    server = api_server(platform)
    if on_started is not None:

        def _wait() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                on_started()

        threading.Thread(target=_wait, daemon=True).start()
    server.run()


def open_platform(settings: Settings) -> Platform:
    token, _ = settings.ensure_admin_token()
    return Platform(settings=settings, stores=open_stores(settings), admin_token=token)
