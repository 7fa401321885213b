"""Stage order, required stages per severity, checkpoint stages and expected hours."""

from __future__ import annotations

import pytest

from monitor.repair.stages import (
    CHECKPOINT_STAGES,
    EXPECTED_HOURS,
    STAGES,
    Severity,
    Stage,
    as_stage,
    checkpoint_stages,
    default_required_stages,
    expected_hours,
    in_order,
    stage_index,
)


def test_stages_follow_the_contract_order() -> None:
    assert [str(s) for s in STAGES] == [
        "intake",
        "estimate",
        "parts_ordered",
        "disassembly",
        "structural",
        "body",
        "paint",
        "reassembly",
        "adas_calibration",
        "quality_check",
        "detail",
        "ready",
        "delivered",
    ]
    assert stage_index("intake") == 0
    assert stage_index(Stage.DELIVERED) == 12


@pytest.mark.parametrize(
    ("severity", "absent"),
    [
        ("minor", {Stage.STRUCTURAL, Stage.ADAS_CALIBRATION}),
        ("moderate", {Stage.STRUCTURAL}),
        ("severe", set()),
    ],
)
def test_default_required_stages(severity: str, absent: set[Stage]) -> None:
    required = default_required_stages(severity)
    assert set(STAGES) - set(required) == absent
    assert list(required) == sorted(required, key=stage_index)


def test_checkpoint_stages_are_intersected_with_the_required_ones() -> None:
    minor = checkpoint_stages(default_required_stages("minor"))
    assert minor == (Stage.DISASSEMBLY, Stage.BODY, Stage.PAINT, Stage.REASSEMBLY, Stage.QUALITY_CHECK)
    assert set(checkpoint_stages(STAGES)) == CHECKPOINT_STAGES
    assert checkpoint_stages(["intake", "estimate"]) == ()


def test_expected_hours_grow_with_severity_and_cover_every_stage() -> None:
    for stage in STAGES:
        minor, moderate, severe = (EXPECTED_HOURS[s][stage] for s in Severity)
        assert 0 <= minor <= moderate <= severe
    total_severe = sum(EXPECTED_HOURS[Severity.SEVERE][s] for s in default_required_stages("severe"))
    total_minor = sum(EXPECTED_HOURS[Severity.MINOR][s] for s in default_required_stages("minor"))
    assert 20 < total_minor < 60  # a few days of a minor repair
    assert 100 < total_severe < 250  # a few weeks of a severe one
    assert expected_hours("paint", "moderate") == 10.0
    assert expected_hours("delivered", "severe") == 0.0


def test_custom_table_is_used() -> None:
    table = {sev: {st: 2.0 for st in STAGES} for sev in Severity}
    assert expected_hours("paint", "minor", table) == 2.0


def test_unknown_names_are_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown stage 'painting'; expected one of intake"):
        as_stage("painting")
    with pytest.raises(ValueError, match="unknown severity 'total'"):
        default_required_stages("total")


def test_in_order_sorts_and_deduplicates() -> None:
    assert in_order(["paint", "intake", "paint", Stage.BODY]) == (Stage.INTAKE, Stage.BODY, Stage.PAINT)
