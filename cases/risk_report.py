"""The risk report of a case: the loss cause, what the case's data show, and concrete prevention advice.

- health: the rehab monitors' daily metrics of the linked patient (adherence, resting heart-rate
  trend, falls, oxygen desaturations) and their alerts, read from the state store;
- motor: the linked repair job (damage, stages that ran past their expected time, holds, late
  delivery, alerts) and the cause;
- property: the checklist of the cause (fire, water, theft, storm, or a general one).

Every part works with no data (no link yet, no metrics): the finding then says so. Rendering to
HTML and PDF is in `cases.risk_render`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from statistics import fmean
from typing import Any, Final, cast

import numpy as np
from scipy.stats import theilslopes
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.language import lang as case_lang
from cases.metrics import adherence_of, count_of, daily_rows, number
from cases.risk_advice import CHECKLISTS, HEALTH_CAUSE_ADVICE, MOTOR_ADVICE, cause_family, text
from cases.texts import say, stage_name
from devices.timestamps import ms_to_iso, now_ms
from monitor.repair.stages import EXPECTED_HOURS
from store.state.schema import Alert, RepairEvent, RepairJob
from store.state.schema_cases import Case

#: a stage is late when it took this many times its expected hours (and at least LATE_MIN_HOURS more)
LATE_FACTOR: Final = 1.5
LATE_MIN_HOURS: Final = 2.0
HR_RISING_BPM_PER_WEEK: Final = 1.0
HR_FALLING_BPM_PER_WEEK: Final = -0.5
MIN_TREND_DAYS: Final = 5


def build_report(session: Session, case: Case, lang: str | None = None, *, at_ms: int | None = None) -> dict[str, Any]:
    """The report of `case` in `lang` (default: the claimant's language)."""
    lg = lang or case_lang(case)
    loss = case.loss or {}
    family = cause_family(case.line, loss.get("cause", ""))
    report: dict[str, Any] = {
        "case_id": case.id,
        "claim_id": case.claim_id,
        "line": case.line,
        "language": lg,
        "generated_ms": at_ms if at_ms is not None else now_ms(),
        "title": text(lg, "title"),
        "summary": text(
            lg,
            "summary",
            line=say(lg, f"line.{case.line}"),
            claim_id=case.claim_id,
            cause=loss.get("cause", "-"),
            severity=say(lg, f"severity.{loss.get('severity', 'minor')}"),
        ),
        "loss": {
            "cause": loss.get("cause"),
            "cause_family": family,
            "cause_name": text(lg, f"cause.{family}"),
            "severity": loss.get("severity"),
            "occurred_at": loss.get("occurred_at"),
            "third_party_liable": bool(loss.get("third_party_liable")),
        },
        "findings": [],
        "advice": [],
        "checklist": [],
        "data": {},
    }
    if case.line == "health" or (loss.get("injury") and case.patient_id):
        _health(session, case, family, lg, report)
    if case.line == "motor":
        _motor(session, case, family, lg, report)
    if case.line == "property":
        _property(family, loss.get("cause", ""), lg, report)
    prior = int(loss.get("prior_claims_same_cause") or 0)
    if prior:
        report["findings"].append(_finding("recurring", text(lg, "f.recurring", n=prior + 1), {"claims": prior + 1}))
    return report


def _finding(key: str, sentence: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"key": key, "text": sentence, "data": data or {}}


def _advise(report: dict[str, Any], lg: str, key: str, priority: str, **values: object) -> None:
    if any(a["key"] == key for a in report["advice"]):
        return
    report["advice"].append({"key": key, "text": text(lg, f"a.{key}", **values), "priority": priority})


# --- health --------------------------------------------------------------------------------------------


def _health(session: Session, case: Case, family: str, lg: str, report: dict[str, Any]) -> None:
    rows = [] if case.patient_id is None else daily_rows(session, case.patient_id)
    adherence_values = [a for r in rows if (a := adherence_of(r.metrics or {})) is not None]
    hr = [(i, v) for i, r in enumerate(rows) if (v := number((r.metrics or {}).get("resting_hr"))) is not None]
    falls = sum(count_of((r.metrics or {}).get("falls")) for r in rows)
    desats = sum(count_of((r.metrics or {}).get("desaturations")) for r in rows)
    alerts = _alert_counts(session, Alert.patient_id == case.patient_id) if case.patient_id else {}
    data: dict[str, Any] = {
        "days": len(rows),
        "adherence_mean": None,
        "adherence_last7": None,
        "resting_hr_slope_bpm_per_week": None,
        "falls": falls,
        "desaturations": desats,
        "alerts": alerts,
    }
    if not rows:
        report["findings"].append(_finding("health.no_data", text(lg, "f.health.no_data")))
    if adherence_values:
        mean, last = fmean(adherence_values), fmean(adherence_values[-7:])
        data["adherence_mean"], data["adherence_last7"] = round(mean, 3), round(last, 3)
        report["findings"].append(
            _finding(
                "health.adherence",
                text(lg, "f.health.adherence", mean=mean, last=last, days=len(adherence_values)),
                {"mean": round(mean, 3), "last7": round(last, 3)},
            )
        )
        if last < 0.6:
            _advise(report, lg, "health.adherence_low", "high")
        elif last < 0.8:
            _advise(report, lg, "health.adherence_fair", "medium")
    if len(hr) >= MIN_TREND_DAYS:
        x = np.array([p[0] for p in hr], dtype=float)
        y = np.array([p[1] for p in hr], dtype=float)
        slope = float(theilslopes(y, x)[0]) * 7.0
        data["resting_hr_slope_bpm_per_week"] = round(slope, 2)
        report["findings"].append(
            _finding(
                "health.hr_trend",
                text(lg, "f.health.hr_trend", slope=slope, days=len(hr), first=y[0], last=y[-1]),
                {"slope": round(slope, 2)},
            )
        )
        if slope >= HR_RISING_BPM_PER_WEEK or alerts.get("resting_hr_rising"):
            _advise(report, lg, "health.hr_rising", "high")
    elif alerts.get("resting_hr_rising"):
        _advise(report, lg, "health.hr_rising", "high")
    fall_count = max(falls, alerts.get("fall", 0))
    if fall_count:
        report["findings"].append(_finding("health.falls", text(lg, "f.health.falls", falls=fall_count)))
        _advise(report, lg, "health.falls", "high")
    desat_count = max(desats, alerts.get("desaturation", 0))
    if desat_count:
        report["findings"].append(
            _finding("health.desaturations", text(lg, "f.health.desaturations", count=desat_count))
        )
        _advise(report, lg, "health.desaturation", "high")
    if alerts:
        report["findings"].append(_finding("health.alerts", text(lg, "f.health.alerts", alerts=_counts_text(alerts))))
    for key in HEALTH_CAUSE_ADVICE.get(family, HEALTH_CAUSE_ADVICE["other"]):
        _advise(report, lg, key, "medium")
    report["data"]["health"] = data


# --- motor ---------------------------------------------------------------------------------------------


def _motor(session: Session, case: Case, family: str, lg: str, report: dict[str, Any]) -> None:
    loss = case.loss or {}
    vehicle = loss.get("vehicle") or {}
    job = session.get(RepairJob, case.job_id) if case.job_id else None
    severity = (job.severity if job is not None else loss.get("severity")) or "moderate"
    vehicle_name = " ".join(str(vehicle.get(k, "")) for k in ("make", "model", "year")).strip() or "-"
    repair_type = (job.state or {}).get("repair_type", "body") if job is not None else "-"
    report["findings"].append(
        _finding(
            "motor.damage",
            text(
                lg,
                "f.motor.damage",
                severity=say(lg, f"severity.{severity}"),
                vehicle=vehicle_name,
                repair_type=repair_type,
            ),
        )
    )
    data: dict[str, Any] = {
        "job_id": case.job_id,
        "severity": severity,
        "late_stages": [],
        "holds": [],
        "delivered_late_days": None,
        "alerts": {},
    }
    if job is None:
        report["findings"].append(_finding("motor.no_job", text(lg, "f.motor.no_job")))
    else:
        events = list(
            session.execute(
                select(RepairEvent).where(RepairEvent.job_id == job.id).order_by(RepairEvent.at_ms, RepairEvent.id)
            ).scalars()
        )
        late = late_stages(events, severity, end_ms=job.delivered_ms or now_ms())
        data["late_stages"] = late
        if late:
            report["findings"].append(
                _finding(
                    "motor.late_stages",
                    text(
                        lg,
                        "f.motor.late_stages",
                        stages=", ".join(
                            f"{stage_name(s['stage'], lg)} ({s['hours']:.0f} h / {s['expected_hours']:.0f} h)"
                            for s in late
                        ),
                    ),
                    {"stages": late},
                )
            )
        elif any(e.event == "stage" for e in events):
            report["findings"].append(_finding("motor.on_time", text(lg, "f.motor.on_time")))
        holds = [e.reason or e.note or "-" for e in events if e.event == "hold"]
        data["holds"] = holds
        if holds:
            report["findings"].append(_finding("motor.holds", text(lg, "f.motor.holds", reasons="; ".join(holds))))
        if job.delivered_ms is not None and job.promised_ms is not None and job.delivered_ms > job.promised_ms:
            days = (job.delivered_ms - job.promised_ms) / 86_400_000
            data["delivered_late_days"] = round(days, 1)
            report["findings"].append(_finding("motor.delivered_late", text(lg, "f.motor.delivered_late", days=days)))
        alerts = _alert_counts(session, Alert.job_id == job.id)
        data["alerts"] = alerts
        if alerts:
            report["findings"].append(_finding("motor.alerts", text(lg, "f.motor.alerts", alerts=_counts_text(alerts))))
    for key in MOTOR_ADVICE.get(family, MOTOR_ADVICE["other"]):
        _advise(report, lg, key, "high" if family != "other" else "medium")
    if severity in ("moderate", "severe") or not vehicle.get("drivable", True):
        _advise(report, lg, "motor.alignment", "medium", severity=say(lg, f"severity.{severity}"))
    report["data"]["motor"] = data


def late_stages(events: list[RepairEvent], severity: str, *, end_ms: int) -> list[dict[str, Any]]:
    """Stages that took more than LATE_FACTOR times their expected hours (time until the next stage beacon)."""
    table = cast("Mapping[str, Mapping[str, float]]", EXPECTED_HOURS)
    expected = table.get(severity) or table["moderate"]
    starts = [(e.stage, e.at_ms) for e in events if e.event == "stage" and e.stage]
    late = []
    for i, (stage, start) in enumerate(starts):
        if stage in ("ready", "delivered"):
            continue
        end = starts[i + 1][1] if i + 1 < len(starts) else end_ms
        hours = max(0, end - start) / 3_600_000
        want = float(expected.get(stage, 0))
        if want > 0 and hours > want * LATE_FACTOR and hours - want >= LATE_MIN_HOURS:
            late.append({"stage": stage, "hours": round(hours, 1), "expected_hours": want})
    return late


# --- property ------------------------------------------------------------------------------------------


def _property(family: str, cause: str, lg: str, report: dict[str, Any]) -> None:
    report["findings"].append(
        _finding("property.cause", text(lg, "f.property.cause", cause=f"{text(lg, f'cause.{family}')} ({cause})"))
    )
    _advise(report, lg, "property.review", "high")
    report["checklist"] = [{"key": key, "text": text(lg, key)} for key in CHECKLISTS.get(family, CHECKLISTS["other"])]
    report["data"]["property"] = {"cause_family": family, "checklist_items": len(report["checklist"])}


# --- shared --------------------------------------------------------------------------------------------


def _alert_counts(session: Session, condition: Any) -> dict[str, int]:
    kinds = session.execute(select(Alert.kind).where(condition)).scalars()
    return dict(sorted(Counter(kinds).items()))


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} x{n}" for k, n in counts.items())


def generated_at(report: dict[str, Any]) -> str:
    return ms_to_iso(int(report["generated_ms"]))
