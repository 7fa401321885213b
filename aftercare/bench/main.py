"""`aftercare bench`: run the benchmark sections, show progress, print the table, optionally write JSON.

Sections run in a fixed order, each on private services (see `aftercare.bench.services`) and a
temporary work folder removed at the end. A section that cannot run yet (a component not written)
is skipped with a note; one that fails is reported and the others still run (exit code 1).
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from aftercare.bench.context import BenchContext
from aftercare.bench.results import SectionResult, markdown, table, to_json, write_json
from aftercare.settings import Settings

log = logging.getLogger(__name__)

Section = Callable[[BenchContext], SectionResult]


def _sections() -> dict[str, Section]:
    from aftercare.bench import alerts_bench, api_bench, fleet_bench, ingest_bench, monitor_bench, scale_bench

    return {
        "ingest": ingest_bench.run,
        "scale": scale_bench.run,
        "monitor": monitor_bench.run,
        "alerts": alerts_bench.run,
        "fleet": fleet_bench.run,
        "api": api_bench.run,
    }


SECTION_NAMES = ("ingest", "scale", "monitor", "alerts", "fleet", "api")


def run_bench(
    *,
    settings: Settings,
    quick: bool = False,
    json_path: Path | None = None,
    only: list[str] | None = None,
    console: Console | None = None,
    wearables: int | None = None,
) -> int:
    """Run the chosen sections (default all); return the exit code (0 ok, 1 a section failed, 2 bad usage)."""
    console = console or Console(width=None if sys.stdout.isatty() else 150)
    chosen = [s.strip() for s in only if s.strip()] if only else list(SECTION_NAMES)
    unknown = [s for s in chosen if s not in SECTION_NAMES]
    if unknown:
        console.print(f"[red]unknown section(s)[/]: {', '.join(unknown)} (known: {', '.join(SECTION_NAMES)})")
        return 2
    for chatty in ("alembic", "store.state.migrate"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))  # components run in this process; their INFO lines are noise here
    sections = _sections()
    workdir = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    started = time.perf_counter()
    results: list[SectionResult] = []
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    ctx = BenchContext(
        settings=settings, quick=quick, console=console, workdir=workdir, progress=progress, wearables=wearables
    )
    console.print(
        f"[bold]aftercare bench[/] ({'quick' if quick else 'full'} run: {', '.join(chosen)}); "
        "every figure is a ratio against a baseline measured in this run"
    )
    try:
        with progress:
            for name in chosen:
                results.append(_run_section(ctx, name, sections[name]))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130
    finally:
        ctx.close()
        shutil.rmtree(workdir, ignore_errors=True)
        root.setLevel(level)
    seconds = time.perf_counter() - started
    console.print(table(results, title=f"aftercare bench ({'quick' if quick else 'full'}, {seconds:.0f} s)"))
    for result in results:
        for note in result.notes:
            console.print(f"[dim]{result.name}: {note}[/]")
    if json_path is not None:
        write_json(json_path, to_json(results, quick=quick, seconds=seconds))
        table_path = json_path.with_suffix(".md")
        table_path.write_text(markdown(results))
        console.print(f"results written to {json_path} (and the table in Markdown to {table_path})")
    return 1 if any(r.error for r in results) else 0


def _run_section(ctx: BenchContext, name: str, section: Section) -> SectionResult:
    started = time.perf_counter()
    try:
        result = section(ctx)
    except Exception as exc:
        log.exception("bench section %s failed", name)
        ctx.end(f"{name}: failed")
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        # a child's traceback ends with the exception itself; other messages start with it
        text = (lines[-1] if "Traceback" in str(exc) else lines[0]) if lines else ""
        result = SectionResult(name, error=f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__)
        ctx.note(f"{name} failed: {exc}")
    result.seconds = time.perf_counter() - started
    if result.skipped:
        ctx.note(f"{name}: skipped: {result.skipped}")
    return result
