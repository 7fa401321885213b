"""What a benchmark section produces: rows of figures with their same-run baselines, and notes.

Every figure is reported with the baseline measured in the same run and their ratio, because the
machine is shared and noisy: absolute figures move by tens of percent between runs, ratios much less.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table


@dataclass(frozen=True, slots=True)
class Row:
    """One figure: ``value`` in ``unit`` and the ratio to ``baseline_value`` of ``baseline``.

    ``higher_is_better`` says how to read the ratio (throughputs: yes; latencies: no).
    """

    section: str
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    higher_is_better: bool = True
    extra: str = ""

    @property
    def ratio(self) -> float:
        if self.baseline_value <= 0:
            return 0.0
        return self.value / self.baseline_value


@dataclass
class SectionResult:
    """A section's rows, its JSON (under the section's own key) and notes for the reader."""

    name: str
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0


def fmt(value: float) -> str:
    """Numbers for humans: 3 significant digits, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _cells(row: Row) -> tuple[str, str, str, str]:
    ratio = f"{row.ratio:.2f}" + ("" if row.higher_is_better else " (lower=better)")
    return (f"{fmt(row.value)} {row.unit}", f"{row.baseline}: {fmt(row.baseline_value)} {row.unit}", ratio, row.extra)


def table(results: list[SectionResult], *, title: str) -> Table:
    out = Table(title=title, header_style="bold")
    out.add_column("section")
    out.add_column("measure")
    out.add_column("value", justify="right")
    out.add_column("baseline (same run)")
    out.add_column("ratio", justify="right")
    out.add_column("notes")
    for result in results:
        if result.skipped or result.error:
            text = f"[yellow]skipped: {result.skipped}[/]" if result.skipped else f"[red]failed: {result.error}[/]"
            out.add_row(result.name, "", "", "", "", text)
            continue
        for row in result.rows:
            out.add_row(row.section, row.name, *_cells(row))
    return out


def markdown(results: list[SectionResult]) -> str:
    """The same table in Markdown (for docs/benchmarks.md)."""
    lines = ["| section | measure | value | baseline (same run) | ratio | notes |", "|---|---|---:|---|---:|---|"]
    for result in results:
        if result.skipped or result.error:
            why = f"skipped: {result.skipped}" if result.skipped else f"failed: {result.error}"
            lines.append(f"| {result.name} | | | | | {why} |")
            continue
        for row in result.rows:
            lines.append("| " + " | ".join((row.section, row.name, *_cells(row))) + " |")
    return "\n".join(lines) + "\n"


def to_json(results: list[SectionResult], *, quick: bool, seconds: float) -> dict[str, Any]:
    """Each section's figures under its own top-level key; how they were made under ``meta.sections``."""
    doc: dict[str, Any] = {
        "meta": {
            "quick": quick,
            "seconds": round(seconds, 1),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": _cpus(),
        }
    }
    sections: dict[str, Any] = {}
    doc["meta"]["sections"] = sections
    for result in results:
        doc[result.name] = dict(result.data)
        about: dict[str, Any] = {"seconds": round(result.seconds, 1), **result.meta}
        if result.skipped:
            about["skipped"] = result.skipped
        if result.error:
            about["error"] = result.error
        if result.notes:
            about["notes"] = list(result.notes)
        sections[result.name] = about
    return doc


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
