"""The alert table names every kind the monitors and the cases raise, with one severity vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

from cases import feeds
from store.state.alert_kinds import (
    ALERT_KINDS,
    FRAUD_KINDS,
    LATE_KINDS,
    SAFETY_KINDS,
    Severity,
    is_late,
    may_close,
    severity_of,
)

ROOT = Path(__file__).resolve().parents[2]
#: `kind="..."` of an alert candidate or input in the code that raises alerts
KIND = re.compile(r'kind="([a-z_]+)"')
RAISERS = (
    "monitor/rehab_rules.py",
    "monitor/rehab_monitor.py",
    "monitor/repair/rules.py",
    "monitor/repair_monitor.py",
    "cases/subrogation.py",
)


def _raised_kinds() -> set[str]:
    found: set[str] = set()
    for rel in RAISERS:
        path = ROOT / rel
        if path.exists():
            found |= set(KIND.findall(path.read_text()))
    found |= set(re.findall(r'found\.append\(\("([a-z_]+)"', (ROOT / "monitor/repair_monitor.py").read_text()))
    found |= set(re.findall(r'ALERT_KIND: Final = "([a-z_]+)"', (ROOT / "cases/subrogation.py").read_text()))
    return found - {"stable"}  # numpy's argsort(kind="stable")


def test_every_raised_kind_is_in_the_table() -> None:
    raised = _raised_kinds()
    assert {"fall", "stall", "photo_reuse", "subrogation_deadline"} <= raised
    assert sorted(raised - set(ALERT_KINDS)) == []


def test_severities_are_one_vocabulary() -> None:
    assert [str(s) for s in Severity] == ["info", "warning", "critical"]
    assert all(isinstance(k.severity, Severity) for k in ALERT_KINDS.values())
    assert severity_of("photo_reuse") == "critical"
    assert severity_of("courtesy_car") == "info"
    assert severity_of("a_kind_not_listed") == "warning"


def test_flags() -> None:
    assert {"stall", "long_hold", "sla_breach"} == LATE_KINDS
    assert {"desaturation", "fall", "hr_over_cap"} == SAFETY_KINDS
    assert "photo_reuse" in FRAUD_KINDS
    assert not (LATE_KINDS & FRAUD_KINDS)
    assert not (LATE_KINDS & SAFETY_KINDS)


def test_the_claimant_hears_of_late_kinds_only() -> None:
    # The table decides, not a word in the kind's name (substring matching called any "..._late_..." late).
    assert feeds._is_late({"kind": "stall"})
    assert not feeds._is_late({"kind": "photo_reuse"})
    assert not feeds._is_late({"kind": "escalated_late_review"})
    assert is_late("sla_breach")
    assert not is_late("")


def test_a_shop_cannot_close_alerts_about_its_own_quality_or_fraud() -> None:
    # issue 15, finding 2: the table says who closes a kind, not a special case in the router
    staff_only = {"photo_reuse", "photo_location", "photo_time", "photo_quality", "missing_photo"}
    staff_only |= {"stage_skipped", "stage_backwards"}
    assert staff_only == {k.name for k in ALERT_KINDS.values() if k.closed_by is not None}
    assert staff_only >= FRAUD_KINDS
    for name in staff_only:
        assert not may_close(name, "shop")
        assert may_close(name, "claims_handler")
        assert may_close(name, "admin")
    assert may_close("stall", "shop")
    # a kind missing from the table fails closed: staff only
    assert not may_close("a_kind_not_listed", "shop")
    assert not may_close("a_kind_not_listed", "rehab_manager")
    assert may_close("a_kind_not_listed", "claims_handler")
