"""Section ``monitor``: the signal and photo work of the monitors, each against a floor on the same data.

- patient-days per second of `monitor.signals.daily.compute_day_metrics` on simulated days
  (`simulators.wearable_signals.simulate_patient_day`); baseline: one numpy pass (copy, mean,
  min, max) over the same arrays: what merely reading the data costs.
- day-metric refreshes per second kept incrementally (`monitor.signals.day_blocks.update_day`: the
  blocks a minute of new data touched, merged into the day) at 18:00 of a simulated day; baseline: the
  whole-day recomputation of the same refresh (`compute_day_metrics` over the day so far), as the
  monitor did before the blocks.
- photo checks per second of `monitor.photos.quality.check_photo` on generated checkpoint photos;
  baseline: Pillow decoding the same JPEGs to a luminance array.
- pHash look-ups per second of `monitor.photos.phash.HashIndex.find_reuse` (hash and mirror
  hash) against 100,000 stored hashes; baselines: a bare numpy XOR + popcount over the same array,
  and a plain Python loop of ``(a ^ b).bit_count()``.

Inputs are generated before the clock starts; only the work itself is timed.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from aftercare.bench.context import BenchContext
from aftercare.bench.results import Row, SectionResult

DAY_MS = 86_400_000
STORED_HASHES = 100_000


def rate(items: int, work: Callable[[], Any], *, repeats: int = 1) -> float:
    """Items per second of ``work`` (which handles ``items`` items), best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return items / best if best > 0 else 0.0


def _patient_days(ctx: BenchContext, out: SectionResult, days: int) -> None:
    try:
        from monitor.signals.daily import compute_day_metrics
        from simulators.wearable_signals import simulate_patient_day
    except ImportError as exc:
        ctx.note(f"monitor: patient-day metrics not measured: {exc}")
        out.notes.append(f"patient-day metrics not measured yet: {exc}")
        return
    day0 = 1_767_225_600_000  # 2026-01-01T00:00Z
    simulated = [simulate_patient_day(seed, day_start_ms=day0 + seed * DAY_MS) for seed in range(days)]

    def metrics() -> None:
        for day in simulated:
            compute_day_metrics(
                day.series,
                zone=(100.0, 135.0),
                resting_hr_baseline=62.0,
                spo2_baseline=97.0,
                day_bounds_ms=(day.day_start_ms, day.day_start_ms + DAY_MS),
            )

    def floor() -> None:
        for day in simulated:
            for t_ms, values in day.series.values():
                v = np.array(values, dtype=np.float64)
                np.array(t_ms, dtype=np.int64)
                float(v.mean()), float(v.min()), float(v.max())

    samples = sum(int(t.shape[0]) for day in simulated for t, _v in day.series.values())
    measured = rate(days, metrics)
    base = rate(days, floor, repeats=3)
    out.rows.append(
        Row(
            "monitor",
            "patient-days of metrics (compute_day_metrics)",
            measured,
            "days/s",
            "numpy pass over the same arrays",
            base,
            extra=f"{samples // days:,} samples per simulated day",
        )
    )
    out.data["patient_days"] = {
        "per_s": round(measured, 3),
        "baseline_per_s": round(base, 1),
        "ratio": round(measured / base, 5),
        "days": days,
        "samples_per_day": samples // days,
    }


def _photos(ctx: BenchContext, out: SectionResult, count: int) -> None:
    from PIL import Image

    from monitor.photos.quality import check_photo
    from simulators.photos import PhotoFault, checkpoint_photo

    faults = (PhotoFault.NONE, PhotoFault.NONE, PhotoFault.BLURRY, PhotoFault.DARK)
    photos = [checkpoint_photo(1000 + i, fault=faults[i % len(faults)]).data for i in range(count)]

    def checks() -> None:
        for data in photos:
            check_photo(data)

    def decode() -> None:
        for data in photos:
            with Image.open(io.BytesIO(data)) as image:
                np.asarray(image.convert("L"))

    measured = rate(count, checks)
    base = rate(count, decode, repeats=2)
    out.rows.append(
        Row(
            "monitor",
            "photo checks (check_photo, 1024x768 JPEG)",
            measured,
            "photos/s",
            "Pillow decode to luminance",
            base,
        )
    )
    out.data["photo_checks"] = {
        "per_s": round(measured, 2),
        "baseline_per_s": round(base, 2),
        "ratio": round(measured / base, 4),
        "photos": count,
    }


def _phash(ctx: BenchContext, out: SectionResult, lookups: int) -> None:
    from monitor.photos.phash import HashIndex

    rng = np.random.default_rng(7)
    stored = rng.integers(0, 2**63, size=STORED_HASHES, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    index = HashIndex(initial_capacity=STORED_HASHES)
    index.add_many((f"ph{i}", int(h)) for i, h in enumerate(stored.tolist()))
    queries = [int(h) for h in rng.integers(0, 2**63, size=lookups, dtype=np.int64).tolist()]
    mirrors = [q ^ 0x5A5A5A5A for q in queries]
    plain = [int(h) for h in stored.tolist()]

    def find() -> None:
        for q, m in zip(queries, mirrors, strict=True):
            index.find_reuse(q, m)

    def bare() -> None:
        for q in queries:
            np.flatnonzero(np.bitwise_count(np.bitwise_xor(stored, np.uint64(q))) <= 8)

    loop_lookups = 3 if ctx.quick else 5

    def loop() -> None:
        for q in queries[:loop_lookups]:
            [i for i, h in enumerate(plain) if (h ^ q).bit_count() <= 8]

    measured = rate(lookups, find, repeats=2)
    base = rate(lookups, bare, repeats=2)
    python = rate(loop_lookups, loop)
    out.rows.append(
        Row(
            "monitor",
            "pHash find_reuse vs 100k hashes (hash + mirror)",
            measured,
            "lookups/s",
            "numpy XOR+popcount, one hash",
            base,
        )
    )
    out.rows.append(
        Row(
            "monitor",
            "pHash find_reuse vs 100k hashes (hash + mirror)",
            measured,
            "lookups/s",
            "plain Python XOR+bit_count loop",
            python,
        )
    )
    out.data["phash_lookups"] = {
        "per_s": round(measured, 1),
        "baseline_per_s": round(base, 1),
        "ratio": round(measured / base, 3),
        "python_loop_per_s": round(python, 2),
        "ratio_to_python_loop": round(measured / python, 1),
        "stored": STORED_HASHES,
        "lookups": lookups,
    }


def _day_refreshes(ctx: BenchContext, out: SectionResult, refreshes: int) -> None:
    from monitor.signals.daily import compute_day_metrics
    from monitor.signals.day_blocks import blocks_touched, update_day
    from monitor.signals.heart import SessionHeartRate, session_heart_rate
    from simulators.wearable_signals import simulate_patient_day

    day0 = 1_767_225_600_000
    bounds = (day0, day0 + DAY_MS)
    sim = simulate_patient_day(1, day_start_ms=day0)
    series = {}
    for m, (t, v) in sim.series.items():
        t, v = np.asarray(t, dtype=np.int64), np.asarray(v, dtype=np.float64)
        keep = np.isfinite(v).all(axis=1) if v.ndim > 1 else np.isfinite(v)
        order = np.argsort(t[keep], kind="stable")
        series[m] = (t[keep][order], v[keep][order])

    def reader(upto: int) -> Callable[[str, int, int], tuple[Any, Any]]:
        def read(metric: str, start: int, end: int) -> tuple[Any, Any]:
            t, v = series[metric]
            i, j = np.searchsorted(t, start), np.searchsorted(t, min(end, upto))
            return t[i:j], v[i:j]

        return read

    def session_hr(_source: str, start: int, end: int) -> SessionHeartRate:
        return session_heart_rate(*series["heart_rate"], start, end)

    def refresh(partials: dict[int, dict[str, Any]], lo: int, hi: int) -> dict[int, dict[str, Any]]:
        blocks, _, _ = update_day(
            partials,
            blocks_touched(lo, hi - 1),
            reader(hi),
            list(series),
            bounds,
            zone=(100.0, 135.0),
            spo2_baseline=97.0,
            resting_hr_baseline=62.0,
            session_hr=session_hr,
        )
        return blocks

    start = day0 + 18 * 3_600_000
    before = refresh({}, day0, start)  # the day so far, in blocks (not timed)
    minutes = [start + i * 60_000 for i in range(refreshes)]

    def incremental() -> None:
        partials = before
        for m in minutes:
            partials = refresh(partials, m, m + 60_000)

    def whole() -> None:
        for m in minutes:
            upto = {k: (t[t < m + 60_000], v[t < m + 60_000]) for k, (t, v) in series.items()}
            compute_day_metrics(
                upto, zone=(100.0, 135.0), resting_hr_baseline=62.0, spo2_baseline=97.0, day_bounds_ms=bounds
            )

    measured = rate(refreshes, incremental)
    base = rate(refreshes, whole)
    out.rows.append(
        Row(
            "monitor",
            "day-metric refreshes, a minute of new data at 18:00 (blocks merged)",
            measured,
            "refreshes/s",
            "whole-day recomputation",
            base,
            extra=f"{1000 / measured:.1f} ms against {1000 / base:.0f} ms a refresh",
        )
    )
    out.data["day_refresh"] = {
        "per_s": round(measured, 2),
        "baseline_per_s": round(base, 2),
        "ratio": round(measured / base, 2),
        "refreshes": refreshes,
    }


def run(ctx: BenchContext) -> SectionResult:
    out = SectionResult("monitor")
    ctx.begin("monitor", 4)
    ctx.step("monitor: patient-day metrics")
    _patient_days(ctx, out, 3 if ctx.quick else 8)
    ctx.step("monitor: day-metric refreshes, incremental")
    _day_refreshes(ctx, out, 5 if ctx.quick else 20)
    ctx.step("monitor: photo checks")
    _photos(ctx, out, 8 if ctx.quick else 24)
    ctx.step("monitor: pHash look-ups")
    _phash(ctx, out, 300 if ctx.quick else 2000)
    ctx.end("monitor: done")
    return out
