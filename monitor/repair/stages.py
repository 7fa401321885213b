"""The contract's repair stages, which a repair order requires, which need a photo, and how long they take."""

from __future__ import annotations

from typing import Final

STAGES: Final[tuple[str, ...]] = (
    "intake", "estimate", "parts_ordered", "disassembly", "structural", "body", "paint", "reassembly",
    "adas_calibration", "quality_check", "detail", "ready", "delivered",
)
OPTIONAL_STAGES: Final[frozenset[str]] = frozenset({"structural", "adas_calibration"})

#: Stages whose work must be evidenced by at least one photo before the job leaves them.
CHECKPOINT_STAGES: Final[frozenset[str]] = frozenset(
    {"disassembly", "structural", "body", "paint", "reassembly", "adas_calibration", "quality_check"})

#: Expected working hours per stage by severity (calendar hours; configurable by passing another table).
EXPECTED_HOURS: Final[dict[str, dict[str, float]]] = {
    "minor": {"intake": 1, "estimate": 4, "parts_ordered": 24, "disassembly": 3, "structural": 0, "body": 6,
              "paint": 8, "reassembly": 4, "adas_calibration": 0, "quality_check": 2, "detail": 2, "ready": 4,
              "delivered": 0},
    "moderate": {"intake": 1, "estimate": 6, "parts_ordered": 48, "disassembly": 6, "structural": 0, "body": 16,
                 "paint": 16, "reassembly": 8, "adas_calibration": 4, "quality_check": 3, "detail": 3, "ready": 8,
                 "delivered": 0},
    "severe": {"intake": 2, "estimate": 8, "parts_ordered": 96, "disassembly": 10, "structural": 24, "body": 32,
               "paint": 24, "reassembly": 16, "adas_calibration": 6, "quality_check": 4, "detail": 4, "ready": 8,
               "delivered": 0},
}


def default_required_stages(severity: str) -> tuple[str, ...]:
    """The stages a repair order of this severity needs (minor: no structural or ADAS work)."""
    skip = {"minor": {"structural", "adas_calibration"}, "moderate": {"structural"}}.get(severity, set())
    return tuple(s for s in STAGES if s not in skip)


def checkpoints(required: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The required stages that need a photo, in stage order."""
    return tuple(s for s in STAGES if s in CHECKPOINT_STAGES and s in required)
