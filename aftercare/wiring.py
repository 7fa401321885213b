"""Build the components from the settings: the only place that knows every concrete class."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import paho.mqtt.client as mqtt

from aftercare.logging_setup import configure
from aftercare.settings import Settings
from cases.feedback import shop_feedback_mean
from cases.monitor import CasesMonitor
from cases.outbox_worker import OutboxWorker
from devices.broker_url import BrokerUrl
from devices.topics import SUBSCRIPTIONS
from ingest.committer import Committer, CommitterProcess
from ingest.mqtt_source import MqttSource
from ingest.pipeline import IngestPipeline
from ingest.service import IngestService
from monitor.leases import leases_for
from monitor.rehab_monitor import RehabMonitor
from monitor.repair_monitor import RepairMonitor
from monitor.worker import MonitorWorker
from store.broker_accounts import BrokerAccounts
from store.dynsec_client import DynsecClient
from store.photo_files import PhotoFiles
from store.private_files import private_data_dir
from store.state.engine import StateStore
from store.state.migrate import upgrade
from store.stores import Stores
from store.timeseries import open_timeseries

log = logging.getLogger(__name__)


def open_stores(settings: Settings, *, migrate: bool = True) -> Stores:
    private_data_dir(settings.data_dir)
    state = StateStore(settings.resolved_state_url)
    if migrate:
        upgrade(state.engine)
    timeseries = open_timeseries(settings.resolved_timeseries_url, token=settings.influx_token, org=settings.influx_org)
    return Stores(timeseries, state, PhotoFiles(settings.photo_dir))


def build_pipeline(settings: Settings, stores: Stores) -> IngestPipeline:
    return IngestPipeline(
        timeseries=stores.timeseries,
        state=stores.state,
        registry=stores.registry,
        photos=stores.photos,
        max_future_s=settings.max_future_s,
        retention_days=settings.retention_days,
    )


def open_committer_pipeline(settings: Settings) -> tuple[IngestPipeline, Callable[[], None]]:
    """The committer child's pipeline on stores of its own (see `ingest.committer`); runs in the child."""
    configure(settings.log_level, settings.log_format)
    stores = open_stores(settings, migrate=False)
    return build_pipeline(settings, stores), stores.close


def committer_process(settings: Settings) -> CommitterProcess:
    return CommitterProcess(functools.partial(open_committer_pipeline, settings))


def build_ingest(
    settings: Settings, stores: Stores, broker: BrokerUrl, *, protocol: int = mqtt.MQTTv5
) -> IngestService:
    """Ingestion; with ``ingest_committer="process"`` its pipeline runs in a child with its own store connections."""
    pipeline: Committer = (
        committer_process(settings) if settings.ingest_committer == "process" else build_pipeline(settings, stores)
    )
    source = MqttSource(
        broker=broker,
        client_id=settings.mqtt_client_id,
        topics=SUBSCRIPTIONS,
        on_message=lambda _m: None,
        protocol=protocol,
        keepalive=settings.mqtt_keepalive,
        receive_maximum=settings.mqtt_receive_maximum,
        shared_group=settings.mqtt_shared_group,
        backoff_min_s=settings.mqtt_backoff_min_s,
        backoff_max_s=settings.mqtt_backoff_max_s,
    )
    return IngestService(
        source=source,
        pipeline=pipeline,
        batch_max_messages=settings.batch_max_messages,
        batch_max_seconds=settings.batch_max_seconds,
        stats_interval_s=settings.stats_interval_s,
    )


def build_monitor_worker(settings: Settings, stores: Stores) -> MonitorWorker:
    """A monitor worker with every monitor; any number of them split the subjects (see `monitor.leases`)."""
    repair = RepairMonitor(
        stores,
        spot_base_rate=settings.spot_check_rate,
        spot_seed=settings.ensure_spot_check_seed(),
        feedback=shop_feedback_mean,
        max_photo_bytes=settings.max_photo_bytes,
    )
    rehab = RehabMonitor(stores, day_recompute_s=settings.day_recompute_s)
    outbox = OutboxWorker(
        stores.state,
        url=settings.webhook_url,
        secrets=settings.webhook_secrets,
        max_age_ms=int(settings.webhook_max_age_s * 1000),
    )
    return MonitorWorker(
        leases=leases_for(stores.state),
        read_session=stores.state.session,
        monitors=[repair, rehab],
        duties=[CasesMonitor(stores.state), outbox],
        poll_s=settings.monitor_poll_s,
        tick_s=settings.monitor_interval_s,
    )


def build_device_accounts(settings: Settings) -> BrokerAccounts | None:
    """Device accounts on the broker of ``AFTERCARE_MQTT_URL`` (its dynamic security plugin), as the admin user;
    None when no admin password is set (the embedded broker, or a broker whose accounts are managed elsewhere)."""
    if not settings.broker_admin_password or not settings.mqtt_url:
        if settings.mode == "production":
            log.warning(
                "AFTERCARE_BROKER_ADMIN_PASSWORD is not set: registered devices get no broker account "
                "(the broker must learn them some other way)"
            )
        return None
    broker = BrokerUrl.parse(settings.mqtt_url, ca_file=settings.mqtt_ca_file)
    client = DynsecClient(
        host=broker.host,
        port=broker.port,
        tls_context=broker.tls_context(),
        username=settings.broker_admin_user,
        password=settings.broker_admin_password,
        timeout_s=settings.broker_admin_timeout_s,
    )
    return BrokerAccounts(client)
