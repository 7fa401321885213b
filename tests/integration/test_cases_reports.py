"""The risk report in JSON, printable HTML and PDF, from what the case's data show, for each line."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.timestamps import now_ms
from monitor.repair.stages import EXPECTED_HOURS, Severity
from store.state.schema import Alert, DailyMetrics, RepairEvent, RepairJob
from tests.integration.test_cases_api import World, case_body, health_body, open_world

pytestmark = pytest.mark.integration
HOUR = 3_600_000


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    yield from open_world(tmp_path, state_url)


def pdf_text(pdf: bytes) -> str:
    """The decoded content of every stream of a PDF (reportlab writes ASCII85 + Flate)."""
    out = []
    for found in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        raw = found.rstrip(b"\r\n")
        try:
            out.append(zlib.decompress(base64.a85decode(raw, adobe=True)).decode("latin-1"))
        except (zlib.error, ValueError):
            try:
                out.append(zlib.decompress(raw).decode("latin-1"))
            except zlib.error:
                out.append(raw.decode("latin-1"))
    return "\n".join(out)


def formats(world: World, case_id: str, **params: str) -> tuple[dict[str, Any], str, bytes]:
    report = world.get(f"/cases/{case_id}/risk-report", params={"format": "json", **params})
    page = world.get(f"/cases/{case_id}/risk-report", params={"format": "html", **params})
    assert page.headers["content-type"].startswith("text/html")
    pdf = world.get(f"/cases/{case_id}/risk-report", params={"format": "pdf", **params})
    assert pdf.headers["content-type"] == "application/pdf"
    return report, page.text, pdf.content


def keys(items: object) -> list[str]:
    assert isinstance(items, list)
    return [i["key"] for i in items]


def test_property_fire_report_has_the_fire_checklist_in_three_formats(world: World) -> None:
    world.post(
        "/cases",
        case_body(
            id="K9",
            claim_id="CL-9",
            line="property",
            **{"loss.cause": "Kitchen fire", "loss.vehicle": None, "loss.prior_claims_same_cause": 1},
        ),
    )
    report, page, pdf = formats(world, "K9")
    assert report["line"] == "property"
    assert report["loss"]["cause_family"] == "fire"
    assert keys(report["checklist"]) == [
        "fire.wiring",
        "fire.extinguishers",
        "fire.alarms",
        "fire.sockets",
        "fire.kitchen",
        "fire.escape",
    ]
    assert keys(report["advice"]) == ["property.review"]
    assert "recurring" in keys(report["findings"])
    assert page.startswith("<!DOCTYPE html>")
    assert '<ul class="checklist">' in page
    assert "Have the wiring inspected by a qualified electrician" in page
    assert "@media print" in page
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Risk and prevention report" in text
    assert "Have the wiring inspected" in text


def test_motor_report_reads_the_repair(world: World) -> None:
    world.post("/cases", case_body())
    world.post(
        "/repair-jobs",
        {
            "id": "J1",
            "claim_id": "CL-1",
            "shop_id": "S1",
            "severity": "moderate",
            "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": False},
        },
    )
    world.post("/cases/K1/links", {"job_id": "J1"}, expect=200)
    expected = {str(k): v for k, v in EXPECTED_HOURS[Severity.MODERATE].items()}
    hours = {
        "intake": expected["intake"],
        "estimate": expected["estimate"],
        "parts_ordered": expected["parts_ordered"],
        "body": 3 * expected["body"] + 3,
        "paint": 3 * expected["paint"] + 3,
    }
    start = now_ms() - 400 * HOUR
    at = float(start)
    with world.stores.state.session() as s:
        for seq, stage in enumerate([*hours, "ready"], start=1):
            s.add(
                RepairEvent(
                    job_id="J1",
                    shop_id="S1",
                    device_id="g1",
                    seq=seq,
                    event="stage",
                    stage=stage,
                    at_ms=int(at),
                    received_ms=int(at),
                )
            )
            at += hours.get(stage, 0) * HOUR
        s.add(
            RepairEvent(
                job_id="J1",
                shop_id="S1",
                device_id="g1",
                seq=99,
                event="hold",
                reason="waiting for a bumper",
                at_ms=start + 50 * HOUR,
                received_ms=start + 50 * HOUR,
            )
        )
        s.add(
            Alert(
                id="A-1",
                kind="stall",
                subject="J1",
                subject_type="job",
                severity="warning",
                state="resolved",
                message="body stalled",
                job_id="J1",
                details={},
                occurrences=1,
                opened_ms=start + 60 * HOUR,
                updated_ms=start + 60 * HOUR,
            )
        )
        job = s.get(RepairJob, "J1")
        assert job is not None
        job.promised_ms, job.delivered_ms = start + 96 * HOUR, start + 120 * HOUR
    report, page, pdf = formats(world, "K1")
    motor = report["data"]["motor"]
    assert motor["late_stages"] == [
        {"stage": "body", "hours": round(hours["body"], 1), "expected_hours": expected["body"]},
        {"stage": "paint", "hours": round(hours["paint"], 1), "expected_hours": expected["paint"]},
    ]
    assert motor["holds"] == ["waiting for a bumper"]
    assert motor["delivered_late_days"] == 1.0
    assert motor["alerts"] == {"stall": 1}
    assert keys(report["findings"]) == [
        "motor.damage",
        "motor.late_stages",
        "motor.holds",
        "motor.delivered_late",
        "motor.alerts",
    ]
    assert keys(report["advice"]) == ["motor.distance", "motor.adas", "motor.alignment"]
    assert f"bodywork ({hours['body']:.0f} h / {expected['body']:.0f} h)" in page
    text = pdf_text(pdf)
    assert pdf.startswith(b"%PDF")
    assert "three-second gap" in text


def test_health_report_reads_the_monitors(world: World) -> None:
    world.post("/cases", health_body("K2", "CL-2"))
    world.post("/cases/K2/links", {"patient_id": "P1"}, expect=200)
    with world.stores.state.session() as s:
        for day in range(7):
            metrics: dict[str, object] = {
                "adherence": {"overall": 0.4, "days": 1},
                "resting_hr": 60.0 + day,
                "falls": [],
                "desaturations": [],
            }
            if day == 2:
                metrics["falls"] = [{"at_ms": 1, "peak_g": 3.1}]
            if day == 4:
                metrics["desaturations"] = [{"start_ms": 1, "nadir_pct": 86}, {"start_ms": 2, "nadir_pct": 88}]
            s.add(DailyMetrics(patient_id="P1", day=f"2025-01-{10 + day:02d}", metrics=metrics, computed_ms=now_ms()))
    report, page, pdf = formats(world, "K2")
    health = report["data"]["health"]
    assert (health["days"], health["adherence_mean"], health["falls"], health["desaturations"]) == (7, 0.4, 1, 2)
    assert health["resting_hr_slope_bpm_per_week"] == 7.0
    assert keys(report["findings"]) == ["health.adherence", "health.hr_trend", "health.falls", "health.desaturations"]
    assert keys(report["advice"]) == [
        "health.adherence_low",
        "health.hr_rising",
        "health.falls",
        "health.desaturation",
        "health.home_safety",
    ]
    assert "Adherence is low" in page
    assert "Adherence is low" in pdf_text(pdf)


def test_reports_work_with_no_data(world: World) -> None:
    world.post("/cases", health_body("K3", "CL-3"))
    world.post("/cases", case_body(id="K4", claim_id="CL-4", **{"loss.cause": "hail"}))
    health, _, pdf = formats(world, "K3")
    assert keys(health["findings"]) == ["health.no_data"]
    assert keys(health["advice"]) == ["health.home_safety"]
    assert pdf.startswith(b"%PDF")
    motor, _, pdf = formats(world, "K4")
    assert keys(motor["findings"]) == ["motor.damage", "motor.no_job"]
    assert keys(motor["advice"])[:2] == ["motor.covered", "motor.flood_water"]
    assert pdf.startswith(b"%PDF")


def test_report_in_chinese_and_unknown_format(world: World) -> None:
    world.post(
        "/cases",
        case_body(
            id="K9",
            claim_id="CL-9",
            line="property",
            **{"loss.cause": "burst pipe", "loss.vehicle": None, "claimant.language": "zh"},
        ),
    )
    report, page, pdf = formats(world, "K9")
    assert report["title"] == "风险与预防报告"
    assert '<html lang="zh-Hans">' in page
    assert "安装漏水传感器" in page
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf
    english = world.get("/cases/K9/risk-report", params={"lang": "en"})
    assert english["checklist"][2]["text"] == "Put leak sensors under sinks, the boiler and appliances."
    world.get("/cases/K9/risk-report", params={"format": "docx"}, expect=422)
