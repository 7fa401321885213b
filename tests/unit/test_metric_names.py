"""Every metric the Grafana dashboards and the Prometheus rules name is one the code really exports.

The names the code exports: every metric registered in prometheus_client's registry once every module of
the platform is imported, plus the figures the API's `/metrics` reads from the state store at scrape time
(`api/routers/health.py`), taken from a real `/metrics` answer. A renamed counter fails here, not silently on
a dashboard that stays empty.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("devices", "store", "ingest", "monitor", "cases", "api")
#: the series a metric family of each type exports besides its samples (a labelled family may have none yet)
SERIES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"), "gauge": ("",)}
#: what Prometheus itself adds to every scrape
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
NAME = re.compile(r"\b(aftercare_[a-z0-9_]+|up|scrape_[a-z_]+)\b")


def exported_names(tmp_path: Path) -> set[str]:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    names: set[str] = set()
    families = list(REGISTRY.collect())
    stores = open_stores(Settings(data_dir=tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}"))
    try:
        with TestClient(create_app(AppContext(stores=stores, admin_token="metric-names-token-0123456789"))) as api:
            text = api.get("/metrics").text
    finally:
        stores.close()
    families += text_string_to_metric_families(text)
    for family in families:
        names.update(family.name + suffix for suffix in SERIES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def exists(name: str, names: set[str]) -> bool:
    return name in names or name in PROMETHEUS_OWN


def referenced() -> dict[str, set[str]]:
    """Metric names in each dashboard's PromQL and in the Prometheus rules, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "dashboards/grafana").glob("*.json")):
        board = json.loads(path.read_text())
        exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", []) if "expr" in t]
        found[path.name] = {n for e in exprs for n in NAME.findall(e)}
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules.yml").read_text())
    exprs = [str(r["expr"]) for g in rules["groups"] for r in g["rules"]]
    found["rules.yml"] = {n for e in exprs for n in NAME.findall(e)}
    return found


def test_every_metric_a_dashboard_or_rule_names_is_exported(tmp_path: Path) -> None:
    names = exported_names(tmp_path)
    by_file = referenced()
    assert by_file["platform-health.json"], "the platform-health dashboard names no metric"
    assert by_file["rules.yml"]
    missing = {file: sorted(n for n in used if not exists(n, names)) for file, used in by_file.items()}
    assert {file: gone for file, gone in missing.items() if gone} == {}


def test_the_dashboard_shows_what_operators_need(tmp_path: Path) -> None:
    used = referenced()["platform-health.json"]
    for needed in (
        "aftercare_ingest_stored_messages_total",  # ingestion rate
        "aftercare_ingest_pending_messages",
        "aftercare_ingest_dead_letters_total",  # by reason
        "aftercare_ingest_batch_commit_seconds_bucket",  # commit time
        "aftercare_monitor_lag_seconds",
        "aftercare_monitor_alerts_raised_total",  # alert counts by kind
    ):
        assert needed in used, needed


def test_the_check_refuses_a_name_the_code_does_not_export(tmp_path: Path) -> None:
    names = exported_names(tmp_path)
    assert exists("aftercare_ingest_dead_letters_total", names)
    assert exists("aftercare_ingest_batch_commit_seconds_bucket", names)
    assert exists("aftercare_alerts_active", names)
    assert not exists("aftercare_ingest_dead_letter_total", names)  # one letter off
    assert not exists("aftercare_monitor_lag_seconds_bucket", names)  # a gauge has no buckets
