"""Ingestion end to end against a real Mosquitto: publish with a plain client, read back through the API."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aftercare.settings import Settings
from aftercare.wiring import build_ingest, open_stores
from api.app import create_app
from api.context import AppContext
from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from ingest.service import IngestService
from store.state.engine import StateStore
from store.state.migrate import upgrade
from store.state.schema import DeadLetter, DedupMark, RepairEvent
from store.stores import Stores
from store.timeseries.sqlite import SQLiteTimeSeriesStore
from tests.integration.conftest_services import *  # noqa: F403
from tests.integration.conftest_services import MosquittoBroker
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = pytest.mark.integration
ADMIN = "test-admin-token-0123456789abcdef"


@pytest.fixture
def platform(
    tmp_path: Path, state_url: str, mosquitto_broker: MosquittoBroker
) -> Iterator[tuple[Stores, IngestService]]:
    broker = mosquitto_broker
    settings = Settings(
        data_dir=tmp_path,
        state_url=state_url,
        batch_max_seconds=0.02,
        mqtt_client_id=f"ingest-{os.getpid()}-{time.monotonic_ns()}",
    )
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=2, gateways=1)
    service = build_ingest(settings, stores, BrokerUrl(broker.host, broker.port))
    service.start()
    assert service.source.connected.wait(10)
    yield stores, service
    service.stop()
    stores.close()


def hr(seq: int, t0: int, values: list[float]) -> dict[str, object]:
    return {"seq": seq, "series": [{"metric": "heart_rate", "t0": t0, "fs": 1.0, "values": values}]}


def test_published_telemetry_is_readable_through_the_api(
    platform: tuple[Stores, IngestService], mosquitto_broker: MosquittoBroker
) -> None:
    stores, _service = platform
    pub = Publisher(mosquitto_broker.host, mosquitto_broker.port)
    t0 = now_ms() - 60_000
    pub.publish_all(
        [
            ("aftercare/v1/wearables/w0/telemetry", hr(1, t0, [70, 71, 72])),
            ("aftercare/v1/wearables/w0/telemetry", hr(1, t0, [70, 71, 72])),  # a repeat
            ("aftercare/v1/wearables/w0/telemetry", hr(2, t0 + 3000, [73, 74])),
        ]
    )
    pub.close()
    wait_until(lambda: stores.timeseries.read("P0", "heart_rate", t0 - 1, t0 + 10_000).n == 5, 20, what="5 samples")
    client = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN)))
    answer = client.get(
        "/api/v1/patients/P0/series/heart_rate",
        params={"start": t0 - 1, "end": t0 + 10_000},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["values"] == [70, 71, 72, 73, 74]
    assert answer.json()["t"] == [t0 + i * 1000 for i in range(5)]
    assert client.get("/api/v1/patients/P0/series/heart_rate").status_code == 401
    with stores.state.session() as s:
        assert s.execute(select(func.count()).select_from(DedupMark)).scalar_one() == 2


def test_every_bad_input_lands_in_dead_letters_and_good_after_it_is_stored(
    platform: tuple[Stores, IngestService], mosquitto_broker: MosquittoBroker
) -> None:
    stores, _ = platform
    now = now_ms()
    good_series = {"metric": "heart_rate", "t0": now - 10_000, "fs": 1.0, "values": [80]}
    bad: list[tuple[str, bytes | dict[str, object], str]] = [
        ("aftercare/v1/wearables/w0/telemetry", b"{oops", "bad_json"),
        ("aftercare/v1/wearables/w0/telemetry", {"seq": "x", "series": [good_series]}, "invalid"),
        (
            "aftercare/v1/wearables/w0/telemetry",
            {"seq": 10, "series": [{**good_series, "values": [412]}]},
            "out_of_range",
        ),
        (
            "aftercare/v1/wearables/w0/telemetry",
            {"seq": 11, "series": [{**good_series, "metric": "glucose"}]},
            "unknown_metric",
        ),
        (
            "aftercare/v1/wearables/w0/telemetry",
            {"seq": 12, "series": [{**good_series, "t0": now + 3_600_000}]},
            "bad_time",
        ),
        ("aftercare/v1/wearables/ghost/telemetry", {"seq": 13, "series": [good_series]}, "unregistered"),
        ("aftercare/v1/wearables/g0/telemetry", {"seq": 14, "series": [good_series]}, "wrong_kind"),
        ("aftercare/v1/wearables/w0/telemetry", b'{"seq": 15, "series": []' + b" " * 270_000 + b"}", "too_large"),
        ("aftercare/v1/elsewhere/w0/telemetry", {"seq": 16, "series": [good_series]}, "topic"),
        (
            "aftercare/v1/shops/g0/beacon",
            {"seq": 17, "job_id": "J-unknown", "event": "stage", "stage": "paint", "at": now},
            "unknown_job",
        ),
    ]
    pub = Publisher(mosquitto_broker.host, mosquitto_broker.port)
    messages: list[tuple[str, bytes | dict[str, object]]] = []
    for i, (topic, payload, _code) in enumerate(bad):
        messages.append((topic, payload))
        messages.append(
            (
                "aftercare/v1/wearables/w1/telemetry",
                {"seq": 100 + i, "series": [{**good_series, "t0": now - 60_000 + i * 1000}]},
            )
        )
    pub.publish_all(messages)
    pub.close()
    wait_until(
        lambda: stores.timeseries.read("P1", "heart_rate", now - 70_000, now).n == len(bad),
        30,
        what="every good message stored",
    )
    expected = {code for _t, _p, code in bad}

    def codes() -> set[str]:
        with stores.state.session() as s:
            return set(s.execute(select(DeadLetter.reason_code)).scalars())

    wait_until(lambda: expected <= codes(), 30, what=f"dead letters {expected}")
    with stores.state.session() as s:
        reasons = dict(s.execute(select(DeadLetter.reason_code, DeadLetter.reason)).all())
        oversized = s.execute(select(DeadLetter).where(DeadLetter.reason_code == "too_large")).scalar_one()
    assert reasons["out_of_range"] == "heart_rate[0]=412 outside 20..250"
    assert reasons["unregistered"] == "device 'ghost' is not registered"
    assert len(oversized.payload) == 4096
    assert oversized.payload_size > 270_000


def test_beacons_and_photos_are_stored_once(
    platform: tuple[Stores, IngestService], mosquitto_broker: MosquittoBroker
) -> None:
    stores, _ = platform
    now = now_ms()
    photo = {
        "seq": 2,
        "job_id": "J0-0",
        "stage": "body",
        "taken_at": now - 1000,
        "content_type": "image/png",
        "image_b64": base64.b64encode(b"\x89PNG\r\n\x1a\n not really").decode(),
    }
    beacon = {"seq": 1, "job_id": "J0-0", "event": "stage", "stage": "body", "at": now - 2000}
    pub = Publisher(mosquitto_broker.host, mosquitto_broker.port)
    pub.publish_all(
        [
            ("aftercare/v1/shops/g0/beacon", beacon),
            ("aftercare/v1/shops/g0/beacon", beacon),
            ("aftercare/v1/shops/g0/photo", photo),
            ("aftercare/v1/shops/g0/photo", photo),
            ("aftercare/v1/devices/g0/status", {"online": True, "battery": 90}),
        ]
    )
    pub.close()

    def counts() -> tuple[int, int]:
        from store.state.schema import PhotoRow

        with stores.state.session() as s:
            return (
                s.execute(select(func.count()).select_from(RepairEvent)).scalar_one(),
                s.execute(select(func.count()).select_from(PhotoRow)).scalar_one(),
            )

    wait_until(lambda: counts() == (1, 1), 20, what="one beacon and one photo")
    time.sleep(0.5)
    assert counts() == (1, 1)


def test_mosquitto_pub_example_is_stored(
    platform: tuple[Stores, IngestService], mosquitto_broker: MosquittoBroker
) -> None:
    stores, _ = platform
    now = now_ms()
    payload = json.dumps(
        {"seq": 7, "series": [{"metric": "spo2", "t0": now - 5000, "fs": 1.0, "values": [97, 97, 96, 97, 97]}]}
    )
    subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            mosquitto_broker.host,
            "-p",
            str(mosquitto_broker.port),
            "-q",
            "1",
            "-t",
            "aftercare/v1/wearables/w0/telemetry",
            "-m",
            payload,
        ],
        check=True,
        timeout=10,
    )
    wait_until(lambda: stores.timeseries.read("P0", "spo2", now - 6000, now).n == 5, 20, what="spo2 samples")


def _ingest_process(tmp_path: Path, broker: MosquittoBroker, client_id: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
        "AFTERCARE_MQTT_CLIENT_ID": client_id,
        "AFTERCARE_ADMIN_TOKEN": ADMIN,
        "AFTERCARE_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "aftercare.cli", "ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "ingest.log", "ab"),
    )


def test_sigkill_mid_stream_then_restart_stores_every_message_once(
    tmp_path: Path, mosquitto_broker: MosquittoBroker
) -> None:
    total = 10_000
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(state.engine)
    seed_registry(state, wearables=5, gateways=0)  # w4 only sends the probe that shows ingestion is up
    client_id = f"ingest-kill-{time.monotonic_ns()}"
    proc = _ingest_process(tmp_path, mosquitto_broker, client_id)
    ts = SQLiteTimeSeriesStore(tmp_path / "timeseries.db")

    def stored() -> int:
        return int(ts._conn().execute("SELECT count(*) FROM chunks WHERE device_id != 'w4'").fetchone()[0])

    def probe_stored() -> bool:
        probe.publish("aftercare/v1/wearables/w4/telemetry", hr(len(probes), now_ms() - 1000, [60]))
        probes.append(1)
        return int(ts._conn().execute("SELECT count(*) FROM chunks WHERE device_id = 'w4'").fetchone()[0]) > 0

    probes: list[int] = []

    try:
        probe = Publisher(mosquitto_broker.host, mosquitto_broker.port, client_id="kill-probe")
        wait_until(probe_stored, 30, 0.5, what="ingest up")
        probe.close()
        pub = Publisher(mosquitto_broker.host, mosquitto_broker.port, client_id="kill-publisher")
        t0 = now_ms() - 3_600_000
        infos = [
            pub.publish(f"aftercare/v1/wearables/w{i % 4}/telemetry", hr(i // 4, t0 + (i // 4) * 1000, [60 + i % 50]))
            for i in range(total)
        ]
        wait_until(lambda: stored() > total // 10, 60, 0.01, what="a tenth stored")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = stored()
        for info in infos:
            info.wait_for_publish(60)
        pub.close()
        proc = _ingest_process(tmp_path, mosquitto_broker, client_id)
        wait_until(lambda: stored() >= total, 120, 0.2, what=f"{total} messages stored")
        time.sleep(1.0)
        rows = (
            ts._conn()
            .execute(
                "SELECT count(*), count(DISTINCT device_id || ':' || seq), sum(n) FROM chunks WHERE device_id != 'w4'"
            )
            .fetchone()
        )
        assert rows == (total, total, total), f"killed at {killed_at}: {rows}"
        assert 0 < killed_at < total, "the kill happened mid-stream"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        ts.close()
        state.close()
