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
from aftercare.monitor_process import MonitorProcess
from aftercare.settings import Settings
from aftercare.wiring import build_ingest, build_monitor_worker, open_stores
from api.app import create_app
from api.context import AppContext
from devices.broker_url import BrokerUrl
from ingest.service import IngestService
from monitor.worker import MonitorWorker
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
        self.stores.close()


def resolve_broker(settings: Settings, *, allow_embedded: bool) -> tuple[BrokerUrl, EmbeddedBroker | None, int]:
    """The broker to use and the MQTT protocol version to speak to it."""
    if settings.mqtt_url:
        return BrokerUrl.parse(settings.mqtt_url), None, mqtt.MQTTv5
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


def make_app_context(platform: Platform) -> AppContext:
    from dashboards.mount import mount_dashboards

    ctx = AppContext(
        stores=platform.stores,
        admin_token=platform.admin_token,
        health_checks=platform.health_checks,
        max_photo_bytes=platform.settings.max_photo_bytes,
    )
    ctx.extras["mount_dashboards"] = mount_dashboards
    ctx.extras["settings"] = platform.settings
    hook = broker_files_hook(platform.settings, platform.stores)
    if hook is not None:
        ctx.extras["on_device_registered"] = hook
    return ctx


def broker_files_hook(settings: Settings, stores: Stores) -> Callable[[], None] | None:
    """Rewrite Mosquitto's password file and ACL (and make it reload) when the platform manages them."""
    if settings.mosquitto_passwd_file is None or settings.mosquitto_acl_file is None:
        return None
    from store.broker_files import INGEST_USER, MONITOR_USER, write_broker_files

    services = {
        name: pw
        for name, pw in ((INGEST_USER, settings.mqtt_ingest_password), (MONITOR_USER, settings.mqtt_monitor_password))
        if pw
    }
    passwd, acl = settings.mosquitto_passwd_file, settings.mosquitto_acl_file

    def rewrite() -> None:
        with stores.state.session() as session:
            write_broker_files(
                session, passwd_path=passwd, acl_path=acl, service_users=services, pid_file=settings.mosquitto_pid_file
            )

    return rewrite


def serve_api(platform: Platform, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve the API in this thread until Ctrl-C / SIGTERM."""
    app = create_app(make_app_context(platform), max_request_bytes=platform.settings.max_request_bytes)
    config = uvicorn.Config(
        app,
        host=platform.settings.api_host,
        port=platform.settings.api_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
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
