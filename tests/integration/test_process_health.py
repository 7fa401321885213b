"""`aftercare ingest` and `aftercare monitor` as real processes serve /healthz, /readyz and /metrics.

Against a Mosquitto of the test's own (stopped to see /readyz turn 503) and the processes' own SQLite
stores (the monitor's on a PostgreSQL database of its own, dropped to see its /readyz turn 503).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devices.timestamps import now_ms
from store.state.engine import StateStore
from store.state.migrate import upgrade
from tests.integration.conftest_services import *  # noqa: F403
from tests.integration.conftest_services import MosquittoBroker, MosquittoFactory, free_port
from tests.reliability.helpers import ADMIN, hr, stop, telemetry_topic
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = pytest.mark.integration
COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict[str, object]:
        loaded = json.loads(self.body)
        assert isinstance(loaded, dict)
        return loaded


def get(port: int, path: str) -> Answer:
    """GET ``path`` from the health server; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return Answer(response.status, response.headers["Content-Type"], response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers["Content-Type"], exc.read())


def answers(port: int, path: str, status: int) -> bool:
    try:
        return get(port, path).status == status
    except OSError:  # not listening yet
        return False


def samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    answer = get(port, "/metrics")
    assert answer.status == 200
    assert answer.content_type.startswith("text/plain")
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(answer.body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def compose_healthcheck(service: str, port: int) -> int:
    """Run ``service``'s healthcheck of docker-compose.yml (``python -c ...``) against ``port``; its exit code."""
    test = yaml.safe_load(COMPOSE.read_text())["services"][service]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    code = re.sub(r"127\.0\.0\.1:\d+/", f"127.0.0.1:{port}/", test[3])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False).returncode


def run(component: str, data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_ADMIN_TOKEN": ADMIN,
        "AFTERCARE_LOG_LEVEL": "INFO",
        "AFTERCARE_MQTT_BACKOFF_MAX_S": "1",
        "AFTERCARE_HEALTH_HOST": "127.0.0.1",
        **env,
    }
    with open(data_dir / f"{component}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "aftercare.cli", component], env=full, stdout=log, stderr=subprocess.STDOUT
        )


@pytest.fixture
def broker(mosquitto_factory: MosquittoFactory) -> MosquittoBroker:
    return mosquitto_factory()


@pytest.fixture
def ingest(tmp_path: Path, broker: MosquittoBroker) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(state.engine)
    seed_registry(state, wearables=1, gateways=0)
    state.close()
    port = free_port()
    proc = run(
        "ingest",
        tmp_path,
        {
            "AFTERCARE_MQTT_URL": broker.url,
            "AFTERCARE_MQTT_CLIENT_ID": f"health-{port}",
            "AFTERCARE_INGEST_HEALTH_PORT": str(port),
            "AFTERCARE_LOG_FORMAT": "json",
        },
    )
    try:
        yield proc, port
    finally:
        stop(proc)


def test_ingest_serves_health_readiness_and_the_committers_counters(
    tmp_path: Path, broker: MosquittoBroker, ingest: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = ingest
    wait_until(lambda: answers(port, "/readyz", 200), 60, 0.1, what="ingest /readyz 200")
    assert proc.poll() is None
    alive = get(port, "/healthz")
    assert (alive.status, alive.json()["status"]) == (200, "alive")
    ready = get(port, "/readyz").json()
    checks = ready["checks"]
    assert isinstance(checks, dict)
    assert ready["ready"] is True
    assert set(checks) == {"state_store", "timeseries_store", "ingest"}
    assert samples(port)[("aftercare_ingest_connected", ())] == 1.0
    assert compose_healthcheck("ingest-1", port) == 0
    missing = get(port, "/nowhere")
    assert missing.status == 404
    assert "detail" in missing.json()

    # One good message and one that is not JSON: both are handled by the committer child process
    # (AFTERCARE_INGEST_COMMITTER=process, the default), and counted in the MQTT process's registry.
    publisher = Publisher(broker.host, broker.port, client_id=f"health-pub-{port}")
    try:
        publisher.publish_all(
            [
                (telemetry_topic("w0"), hr(1, now_ms() - 60_000, [70.0, 71.0, 72.0])),
                (telemetry_topic("w0"), b"{not json"),
            ]
        )
    finally:
        publisher.close()

    def counted() -> bool:
        found = samples(port)
        return (
            found.get(("aftercare_ingest_stored_messages_total", ()), 0.0) >= 1
            and found.get(("aftercare_ingest_dead_letters_total", (("reason", "bad_json"),)), 0.0) >= 1
        )

    wait_until(counted, 60, 0.1, what="the committed batch counted in ingest's /metrics")
    found = samples(port)
    assert found[("aftercare_ingest_stored_points_total", ())] == 3.0
    assert found[("aftercare_ingest_batch_commit_seconds_count", ())] >= 1

    broker.stop()
    wait_until(lambda: answers(port, "/readyz", 503), 60, 0.1, what="ingest /readyz 503 with the broker down")
    down = get(port, "/readyz")
    assert down.content_type == "application/json"
    body = down.json()
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert body["ready"] is False
    assert checks["ingest"]["ok"] is False
    assert "connected=False" in checks["ingest"]["detail"]
    assert checks["state_store"]["ok"] is True  # only the broker is down
    assert samples(port)[("aftercare_ingest_connected", ())] == 0.0
    assert get(port, "/healthz").status == 200  # alive, only not ready
    assert compose_healthcheck("ingest-3", port) != 0  # compose marks it unhealthy

    broker.start()
    wait_until(lambda: answers(port, "/readyz", 200), 60, 0.1, what="ingest /readyz 200 again")

    # AFTERCARE_LOG_FORMAT=json: everything both processes wrote is one JSON object per line
    lines = [line for line in (tmp_path / "ingest.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["level"] == "WARNING" and "lost" in r["message"] for r in records)  # the broker going away


def test_monitor_serves_health_readiness_and_metrics(tmp_path: Path, pg_server: str) -> None:
    name = f"aftercare_test_health_{free_port()}_{os.getpid()}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    proc = run(
        "monitor",
        tmp_path,
        {
            "AFTERCARE_STATE_URL": f"{pg_server.rsplit('/', 1)[0]}/{name}",
            "AFTERCARE_MONITOR_HEALTH_PORT": str(port),
            "AFTERCARE_MONITOR_POLL_S": "0.1",
        },
    )
    try:

        def after_a_round() -> bool:  # the worker's detail is "starting" until its first round is done
            return answers(port, "/readyz", 200) and "partitions" in json.dumps(get(port, "/readyz").json())

        wait_until(after_a_round, 60, 0.1, what="monitor /readyz 200 after its first round")
        ready = get(port, "/readyz").json()
        checks = ready["checks"]
        assert isinstance(checks, dict)
        assert set(checks) == {"state_store", "timeseries_store", "monitor"}
        assert checks["monitor"]["ok"] is True
        assert compose_healthcheck("monitor-2", port) == 0
        assert get(port, "/healthz").status == 200
        wait_until(
            lambda: samples(port).get(("aftercare_monitor_partitions_held", ()), 0.0) > 0,
            60,
            0.1,
            what="the monitor holding its partitions",
        )
        found = {sample_name for sample_name, _labels in samples(port)}
        assert "aftercare_monitor_lag_seconds" in found

        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        wait_until(lambda: answers(port, "/readyz", 503), 60, 0.1, what="monitor /readyz 503 without its store")
        body = get(port, "/readyz").json()
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["state_store"] == {"ok": False}
        assert compose_healthcheck("monitor-1", port) != 0
    finally:
        stop(proc)
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_taken_health_port_stops_production_and_is_a_warning_in_embedded_mode(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "AFTERCARE_MQTT_URL": broker.url,
            "AFTERCARE_MQTT_CLIENT_ID": f"health-taken-{port}",
            "AFTERCARE_INGEST_HEALTH_PORT": str(port),
        }
        production = run(
            "ingest",
            tmp_path,
            {
                **env,
                "AFTERCARE_MODE": "production",
                "AFTERCARE_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
                "AFTERCARE_SPOT_CHECK_SEED": "a-spot-check-secret-of-32-bytes-or-more",
            },
        )
        try:
            assert production.wait(60) == 2
        finally:
            stop(production)
        log = tmp_path / "ingest.log"
        assert "AFTERCARE_INGEST_HEALTH_PORT to a free port" in log.read_text()

        embedded = run("ingest", tmp_path, env)  # e.g. a second `aftercare ingest` on a developer's machine
        try:
            wait_until(lambda: "running without ingest health" in log.read_text(), 60, 0.1, what="the warning")
            wait_until(lambda: "ingesting from" in log.read_text(), 60, 0.1, what="ingestion started anyway")
            assert embedded.poll() is None
        finally:
            stop(embedded)


def test_the_api_process_logs_json_lines_with_each_requests_id(tmp_path: Path) -> None:
    port = free_port()
    proc = run(
        "api",
        tmp_path,
        {"AFTERCARE_API_PORT": str(port), "AFTERCARE_LOG_FORMAT": "json", "AFTERCARE_LOG_LEVEL": "INFO"},
    )
    log = tmp_path / "api.log"
    try:
        wait_until(lambda: answers_at(port, "/healthz"), 60, 0.1, what="the API up")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/alerts",
            headers={"X-Request-ID": "e2e-request-7", "Authorization": "Bearer not-a-token"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        assert refused.value.headers["X-Request-ID"] == "e2e-request-7"
        wait_until(lambda: "e2e-request-7" in log.read_text(), 60, 0.1, what="the request's access line")
    finally:
        stop(proc)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [r for r in records if r.get("request_id") == "e2e-request-7"]
    assert [(r["logger"], r["method"], r["path"], r["status"]) for r in access] == [
        ("aftercare.access", "GET", "/api/v1/alerts", 401)
    ]


def answers_at(port: int, path: str) -> bool:
    return answers(port, path, 200)
