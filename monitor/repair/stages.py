"""Repair stages in contract order, which ones a job needs, and how long each should take.

Stage and severity names are the contract's strings; ``Stage`` and ``Severity`` are ``StrEnum``s,
so their members compare equal to those strings and the functions here accept either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Stage(StrEnum):
    """A repair stage, in the contract's normal order."""

    INTAKE = "intake"
    ESTIMATE = "estimate"
    PARTS_ORDERED = "parts_ordered"
    DISASSEMBLY = "disassembly"
    STRUCTURAL = "structural"
    BODY = "body"
    PAINT = "paint"
    REASSEMBLY = "reassembly"
    ADAS_CALIBRATION = "adas_calibration"
    QUALITY_CHECK = "quality_check"
    DETAIL = "detail"
    READY = "ready"
    DELIVERED = "delivered"


class Severity(StrEnum):
    """Damage severity of a repair order."""

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"


STAGES: tuple[Stage, ...] = tuple(Stage)
"""All stages in contract order."""
STAGE_INDEX: Mapping[Stage, int] = MappingProxyType({stage: i for i, stage in enumerate(STAGES)})

CHECKPOINT_STAGES: frozenset[Stage] = frozenset(
    {
        Stage.DISASSEMBLY,
        Stage.STRUCTURAL,
        Stage.BODY,
        Stage.PAINT,
        Stage.REASSEMBLY,
        Stage.ADAS_CALIBRATION,
        Stage.QUALITY_CHECK,
    }
)
"""Stages whose work must be documented by at least one checkpoint photo."""

OPTIONAL_STAGES: frozenset[Stage] = frozenset({Stage.STRUCTURAL, Stage.ADAS_CALIBRATION})
"""Stages a repair order may leave out."""

SEVERITY_RANK: Mapping[Severity, int] = MappingProxyType({Severity.MINOR: 0, Severity.MODERATE: 1, Severity.SEVERE: 2})

_OPTIONAL_BY_SEVERITY: Mapping[Severity, frozenset[Stage]] = MappingProxyType(
    {
        Severity.MINOR: frozenset({Stage.STRUCTURAL, Stage.ADAS_CALIBRATION}),
        Severity.MODERATE: frozenset({Stage.STRUCTURAL}),
        Severity.SEVERE: frozenset(),
    }
)


def as_stage(value: str) -> Stage:
    """The ``Stage`` named ``value``; ``ValueError`` naming the valid stages otherwise."""
    try:
        return Stage(value)
    except ValueError:
        raise ValueError(f"unknown stage {value!r}; expected one of {', '.join(STAGES)}") from None


def as_severity(value: str) -> Severity:
    """The ``Severity`` named ``value``; ``ValueError`` naming the valid ones otherwise."""
    try:
        return Severity(value)
    except ValueError:
        raise ValueError(f"unknown severity {value!r}; expected one of {', '.join(Severity)}") from None


def stage_index(stage: str) -> int:
    """Position of ``stage`` in contract order (intake = 0, delivered = 12)."""
    return STAGE_INDEX[as_stage(stage)]


def in_order(stages: Iterable[str]) -> tuple[Stage, ...]:
    """The distinct ``stages`` sorted into contract order."""
    return tuple(sorted({as_stage(s) for s in stages}, key=STAGE_INDEX.__getitem__))


def default_required_stages(severity: str) -> tuple[Stage, ...]:
    """Stages a repair order of ``severity`` needs, in order.

    minor: no structural work and no ADAS calibration; moderate: ADAS calibration (bumpers and
    windscreens carry sensors) but no structural work; severe: everything.
    """
    optional = _OPTIONAL_BY_SEVERITY[as_severity(severity)]
    return tuple(stage for stage in STAGES if stage not in optional)


def checkpoint_stages(required: Iterable[str]) -> tuple[Stage, ...]:
    """The checkpoint stages (needing a photo) among ``required``, in order."""
    return tuple(stage for stage in in_order(required) if stage in CHECKPOINT_STAGES)


checkpoints = checkpoint_stages
"""Alias of ``checkpoint_stages``."""


def _table(rows: Mapping[Stage, tuple[float, float, float]]) -> Mapping[Severity, Mapping[Stage, float]]:
    return MappingProxyType(
        {severity: MappingProxyType({stage: rows[stage][i] for stage in STAGES}) for i, severity in enumerate(Severity)}
    )


EXPECTED_HOURS: Mapping[Severity, Mapping[Stage, float]] = _table(
    {
        #                        minor moderate severe
        Stage.INTAKE: (0.5, 0.5, 1.0),
        Stage.ESTIMATE: (1.0, 2.0, 4.0),
        Stage.PARTS_ORDERED: (8.0, 16.0, 40.0),  # waiting for parts: one to five working days
        Stage.DISASSEMBLY: (1.5, 4.0, 8.0),
        Stage.STRUCTURAL: (4.0, 8.0, 16.0),  # frame straightening on the jig
        Stage.BODY: (3.0, 10.0, 24.0),
        Stage.PAINT: (5.0, 10.0, 16.0),  # prep, primer, base, clear, bake
        Stage.REASSEMBLY: (2.0, 6.0, 12.0),
        Stage.ADAS_CALIBRATION: (1.5, 2.0, 3.0),
        Stage.QUALITY_CHECK: (0.5, 1.0, 2.0),
        Stage.DETAIL: (1.0, 1.5, 2.0),
        Stage.READY: (8.0, 8.0, 8.0),  # waiting for the customer to collect
        Stage.DELIVERED: (0.0, 0.0, 0.0),  # terminal
    }
)
"""Expected working hours per stage and severity (realistic body-shop figures).

Every stage has a figure for every severity, so a stage entered although the repair order
does not require it (structural work found on a minor job) still has an expectation.
"""


def expected_hours(
    stage: str,
    severity: str,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
) -> float:
    """Expected hours of ``stage`` for a job of ``severity`` from ``table``."""
    return table[as_severity(severity)][as_stage(stage)]
