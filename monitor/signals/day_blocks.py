"""Day metrics kept incrementally: partial aggregates per 5-minute block, merged into the day.

Recomputing a whole day of 50 Hz data for every refresh costs what the whole day costs. Instead each
block of ``BLOCK_MS`` gets a partial (:func:`block_partial`) computed from the block's samples with a
context window before and after it (so that filters settle, and an event that began in the block is
seen to its end), and the day (:func:`merge_day`) is merged from the partials. A block is computed again
only when data lands in its window (new data, or a late backlog); the cost of a refresh is therefore
that of the blocks the new data touched, not that of the day.

What a partial holds, by what the day needs (all exact merges unless said otherwise):
- heart rate (from ``heart_rate``, else RR, else PPG): per-minute sums and counts (the day's mean and
  resting heart rate, which the day computes from minute means), time in the target zone, and the
  highest 60 s sustained rate among the windows that end in the block;
- HRV: counts and sums of the accepted NN intervals and of the squared successive differences (RMSSD,
  SDNN, beats, rejected beats), each beat cleaned with its neighbours on both sides;
- SpO2: a histogram of the values (the day's median; values are kept to 0.001 %), time below 90 %, and
  the desaturations that start in the block with the baseline used (a block whose baseline is no
  longer the day's is computed again);
- movement: the detected step times and device steps per minute (steps, cadence, walking time, active
  minutes), mean ENMO per minute, falls, exercise sets (sessions are grouped at the merge);
- wear: worn minutes and the first and last worn second (gaps of 10 minutes and more are between
  blocks, since a block is shorter).
Steps and exercise repetitions come from detectors whose thresholds adapt to the signal around them,
so at a block boundary they can differ slightly from a whole-day run; `tests/unit/test_day_blocks.py`
measures how much on the simulator's days, late backlogs included. Everything else equals the
whole-day computation (:func:`monitor.signals.daily.compute_day_metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from monitor.signals.activity import enmo_per_minute
from monitor.signals.daily import DayMetrics, clean_inputs, jsonable
from monitor.signals.exercise import ExerciseSet, detect_sessions, detect_sessions_from_gyro, sessions_from_sets
from monitor.signals.falls import Fall, detect_falls
from monitor.signals.gait import detect_steps, walking_from_step_times
from monitor.signals.heart import SessionHeartRate, hr_from_rr, per_second, resting_hr
from monitor.signals.hrv import clean_rr
from monitor.signals.ppg import hr_from_ppg
from monitor.signals.series import TimesMs, Values, nominal_period_ms, sample_durations_ms
from monitor.signals.spo2 import Desaturation, low_runs, smoothed_spo2
from monitor.signals.wear import Gap

BLOCK_MS = 300_000
MS_PER_MIN = 60_000
SUSTAIN_S = 60
#: context read around a block, per metric: (before, after) in ms
CONTEXT_MS: Mapping[str, tuple[int, int]] = {
    "heart_rate": (SUSTAIN_S * 1000 + 10_000, 10_000),
    "rr_interval": (180_000, 60_000),
    "spo2": (180_000, 180_000),
    "steps": (0, 0),
    "accel": (30_000, 30_000),
    "gyro": (180_000, 180_000),
    "joint_angle": (180_000, 180_000),
    "ppg": (30_000, 30_000),
}
_SKIN = ("heart_rate", "rr_interval", "spo2", "ppg")
_SPO2_KEY = 1000  # histogram keys: SpO2 in thousandths of a percent


def blocks_touched(first_ms: int, last_ms: int) -> list[int]:
    """Starts of the blocks whose windows hold any time in ``[first_ms, last_ms]``."""
    before = max(b for b, _ in CONTEXT_MS.values())
    after = max(a for _, a in CONTEXT_MS.values())
    lo = (first_ms - after - BLOCK_MS + 1) // BLOCK_MS * BLOCK_MS
    hi = (last_ms + before) // BLOCK_MS * BLOCK_MS
    return list(range(max(lo, 0), hi + 1, BLOCK_MS))


def window_of(block_ms: int, metric: str, day_bounds: tuple[int, int]) -> tuple[int, int]:
    """The ``[start, end)`` a block's partial reads of a metric, within its day."""
    before, after = CONTEXT_MS.get(metric, (0, 0))
    return max(day_bounds[0], block_ms - before), min(day_bounds[1], block_ms + BLOCK_MS + after)


def _in(t: TimesMs, block_ms: int) -> NDArray[np.bool_]:
    return (t >= block_ms) & (t < block_ms + BLOCK_MS)


def _hr_stats(t: TimesMs, v: Values, block_ms: int, zone: tuple[float, float] | None) -> dict[str, Any] | None:
    """Heart-rate aggregates of the samples in the block (``t``/``v``: the block's window)."""
    mask = _in(t, block_ms)
    if not np.any(mask):
        return None
    bt, bv = t[mask], v[mask]
    minutes, inv = np.unique(bt // MS_PER_MIN, return_inverse=True)
    sums = np.bincount(inv, weights=bv)
    counts = np.bincount(inv)
    zone_ms = 0.0
    if zone is not None:
        durations = sample_durations_ms(t)[mask]
        zone_ms = float(durations[(bv >= zone[0]) & (bv <= zone[1])].sum())
    sustained = None
    base, dense = per_second(t, v)
    if dense.shape[0] >= SUSTAIN_S:
        minima = np.lib.stride_tricks.sliding_window_view(np.where(np.isfinite(dense), dense, -np.inf), SUSTAIN_S).min(
            axis=1
        )
        ends_ms = (base + np.arange(minima.shape[0]) + SUSTAIN_S - 1) * 1000
        own = (ends_ms >= block_ms) & (ends_ms < block_ms + BLOCK_MS) & np.isfinite(minima)
        if np.any(own):
            k = int(np.flatnonzero(own)[int(np.argmax(minima[own]))])
            sustained = [float(minima[k]), int((base + k) * 1000)]
    return {
        "min": [[int(m), float(s), int(c)] for m, s, c in zip(minutes, sums, counts, strict=True)],
        "zone_ms": zone_ms,
        "sustained": sustained,
    }


def block_partial(
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    block_ms: int,
    *,
    zone: tuple[float, float] | None,
    spo2_baseline: float | None,
) -> dict[str, Any]:
    """The partial of one block from each metric's samples over its window (:func:`window_of`)."""
    data = clean_inputs(series)
    out: dict[str, Any] = {"block_ms": block_ms, "zone": list(zone) if zone is not None else None}
    if "heart_rate" in data:
        t, v = data["heart_rate"]
        ok = (v >= 20) & (v <= 250)
        out["hr"] = _hr_stats(t[ok], v[ok], block_ms, zone)
    if "rr_interval" in data:
        t, rr = data["rr_interval"]
        out["hr_rr"] = _hr_stats(*hr_from_rr(t, rr), block_ms, zone)
        clean = clean_rr(t, rr)
        mine = _in(t, block_ms)
        nn = rr[mine & clean.accepted]
        diffs = np.diff(rr, prepend=np.nan)[mine & clean.pair_valid]
        out["hrv"] = {
            "n": int(nn.shape[0]),
            "sum": float(nn.sum()),
            "sumsq": float((nn**2).sum()),
            "pairs": int(diffs.shape[0]),
            "d2": float((diffs**2).sum()),
            "rejected": int(np.count_nonzero(mine & ~clean.accepted)),
        }
    if "ppg" in data:
        out["hr_ppg"] = _hr_stats(*hr_from_ppg(*data["ppg"]), block_ms, zone)
    if "spo2" in data:
        t, v = data["spo2"]
        mine = _in(t, block_ms)
        keys, counts = np.unique(np.round(v[mine] * _SPO2_KEY).astype(np.int64), return_counts=True)
        st, sv = smoothed_spo2(t, v)
        below = float(sample_durations_ms(st)[_in(st, block_ms) & (sv < 90.0)].sum())
        out["spo2"] = {
            "hist": [[int(k), int(c)] for k, c in zip(keys, counts, strict=True)],
            "below_ms": below,
            "baseline": spo2_baseline,
            "period": nominal_period_ms(st),
            "low": _low_pieces(st, sv, block_ms, spo2_baseline) if spo2_baseline is not None else [],
        }
    if "steps" in data:
        t, c = data["steps"]
        mine = _in(t, block_ms)
        minutes, inv = np.unique(t[mine] // MS_PER_MIN, return_inverse=True)
        per_min = np.bincount(inv, weights=np.maximum(c[mine], 0.0)) if minutes.shape[0] else np.zeros(0)
        out["device_steps"] = {
            "positive": float(c[mine][c[mine] > 0].sum()),
            "min": [[int(m), float(s)] for m, s in zip(minutes, per_min, strict=True)],
        }
    if "accel" in data:
        t, a = data["accel"]
        steps = detect_steps(t, a).step_times_ms
        out["step_times"] = [int(s) for s in steps[_in(steps, block_ms)]]
        mine = _in(t, block_ms)
        minutes, enmo = enmo_per_minute(t[mine], a[mine])
        out["enmo"] = [[int(m), float(e)] for m, e in zip(minutes, enmo, strict=True)]
        out["falls"] = [asdict(f) for f in detect_falls(t, a) if block_ms <= f.at_ms < block_ms + BLOCK_MS]
    if "joint_angle" in data or "gyro" in data:
        source = "joint_angle" if "joint_angle" in data else "gyro"
        sessions = (
            detect_sessions(*data[source]) if source == "joint_angle" else detect_sessions_from_gyro(*data[source])
        )
        out["sets"] = {
            "source": source,
            "items": [
                asdict(s) for session in sessions for s in session.sets if block_ms <= s.start_ms < block_ms + BLOCK_MS
            ],
        }
    skin = [m for m in _SKIN if m in data]
    for key, metrics in (("wear_skin", skin), ("wear_any", list(data))):
        secs = np.unique(
            np.concatenate([data[m][0][_in(data[m][0], block_ms)] // 1000 for m in metrics])
            if metrics
            else np.zeros(0, dtype=np.int64)
        )
        if secs.shape[0]:
            out[key] = {"minutes": int(np.unique(secs // 60).shape[0]), "first": int(secs[0]), "last": int(secs[-1])}
    doc = jsonable(out)
    assert isinstance(doc, dict)
    return doc


def _low_pieces(t: TimesMs, v: Values, block_ms: int, baseline: float) -> list[list[float]]:
    """The parts inside the block of the low SpO2 runs (`low_runs` over the window): [first sample, last
    sample, nadir, nadir time, continues before the block (0/1), continues after it (0/1)]."""
    starts, stops = low_runs(t, v, baseline_pct=baseline)
    lo, hi = int(np.searchsorted(t, block_ms)), int(np.searchsorted(t, block_ms + BLOCK_MS))
    pieces = []
    for a, b in zip(starts, stops, strict=True):
        i, j = max(int(a), lo), min(int(b), hi)
        if i < j:
            k = i + int(np.argmin(v[i:j]))
            pieces.append([int(t[i]), int(t[j - 1]), float(v[k]), int(t[k]), int(a < i), int(b > j)])
    return pieces


def _desaturations(
    parts: Sequence[Mapping[str, Any]], base: float | None, min_duration_s: float = 10.0
) -> tuple[Desaturation, ...]:
    """The day's desaturations: the blocks' low pieces joined where a run crosses a block boundary."""
    if base is None:
        return ()
    events: list[Desaturation] = []
    run: list[float] | None = None
    period = 0.0

    def close() -> None:
        if run is not None and run[1] - run[0] + period >= min_duration_s * 1000.0:
            events.append(
                Desaturation(
                    start_ms=int(run[0]),
                    end_ms=int(run[1] + period),
                    nadir_pct=float(run[2]),
                    nadir_ms=int(run[3]),
                    baseline_pct=base,
                )
            )

    previous_block = None
    for part in parts:
        period = float(part["period"])
        for first, last, nadir, nadir_ms, before, after in part["low"]:
            if run is not None and before and run[4] and previous_block == part["block_ms"] - BLOCK_MS:
                if nadir < run[2]:
                    run[2], run[3] = nadir, nadir_ms
                run[1], run[4] = last, after
            else:
                close()
                run = [first, last, nadir, nadir_ms, after]
        previous_block = part["block_ms"]
    close()
    return tuple(events)


def spo2_median(partials: Sequence[Mapping[str, Any]]) -> float | None:
    """The day's median SpO2 (as ``np.median`` of the values) from the blocks' histograms."""
    counts: dict[int, int] = {}
    for p in partials:
        for key, n in (p.get("spo2") or {}).get("hist", ()):
            counts[key] = counts.get(key, 0) + n
    total = sum(counts.values())
    if not total:
        return None
    keys = sorted(counts)
    cum = np.cumsum([counts[k] for k in keys])
    lo = keys[int(np.searchsorted(cum, (total - 1) // 2, side="right"))]
    hi = keys[int(np.searchsorted(cum, total // 2, side="right"))]
    return (lo + hi) / 2 / _SPO2_KEY


def stale(partial: Mapping[str, Any], *, zone: tuple[float, float] | None, spo2_baseline: float | None) -> bool:
    """Whether a partial was computed with another zone or SpO2 baseline than the day's."""
    if (list(zone) if zone is not None else None) != partial.get("zone"):
        return True
    spo2 = partial.get("spo2")
    return spo2 is not None and spo2.get("baseline") != spo2_baseline


def _minute_series(entries: Sequence[Sequence[float]]) -> tuple[TimesMs, Values, Values]:
    if not entries:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    arr = np.asarray(entries, dtype=np.float64)
    return arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2]


def merge_day(
    partials: Sequence[Mapping[str, Any]],
    *,
    day_bounds_ms: tuple[int, int],
    zone: tuple[float, float] | None,
    resting_hr_baseline: float | None,
    spo2_baseline: float | None,
    session_hr: Callable[[str, int, int], SessionHeartRate],
) -> DayMetrics:
    """The day from its blocks' partials (every one computed with this ``zone`` and ``spo2_baseline``).

    ``session_hr(source, start_ms, end_ms)`` gives the heart rate (from the day's ``hr_source``) during
    and after an exercise session (the caller reads those minutes from the store)."""
    blocks = sorted(partials, key=lambda p: int(p["block_ms"]))
    # heart rate: heart_rate when the day has any, else RR, else PPG (as compute_day_metrics)
    hr_source, hr_key = next(
        (
            (src, key)
            for src, key in (("heart_rate", "hr"), ("rr_interval", "hr_rr"), ("ppg", "hr_ppg"))
            if any(p.get(key) for p in blocks)
        ),
        (None, ""),
    )
    hr_parts = [p[hr_key] for p in blocks if p.get(hr_key)] if hr_source else []
    minutes, sums, counts = _minute_series([m for h in hr_parts for m in h["min"]])
    # movement
    step_times = np.asarray([s for p in blocks for s in p.get("step_times", ())], dtype=np.int64)
    has_accel = any("enmo" in p for p in blocks)
    device = [p["device_steps"] for p in blocks if "device_steps" in p]
    device_min = {int(m): s for d in device for m, s in d["min"]}
    active_sets = []
    if has_accel:
        uniq, per = np.unique(step_times // MS_PER_MIN, return_counts=True)
        active_sets.append(uniq[per >= 60.0])
        enmo = [e for p in blocks for e in p.get("enmo", ())]
        active_sets.append(np.asarray([int(m) for m, e in enmo if e >= 0.1], dtype=np.int64))
    if device:
        active_sets.append(np.asarray([m for m, s in device_min.items() if s >= 60.0], dtype=np.int64))
    active = np.unique(np.concatenate(active_sets)).astype(np.int64) if active_sets else None
    if device:
        steps: int | None = int(np.round(sum(d["positive"] for d in device)))
        walking = np.asarray([s for s in device_min.values() if s >= 60.0])
        walking_minutes: float | None = float(walking.shape[0])
        cadence = float(walking.mean()) if walking.shape[0] else None
    else:
        steps, walking_minutes, cadence = None, None, None
    if has_accel:
        gait = walking_from_step_times(step_times)
        if steps is None:
            steps = gait.steps
        if cadence is None:
            cadence = gait.cadence_spm
        if walking_minutes is None or walking_minutes == 0.0:
            walking_minutes = gait.walking_minutes
    set_parts = [p["sets"] for p in blocks if "sets" in p]
    sets = [
        ExerciseSet(
            int(s["start_ms"]),
            int(s["end_ms"]),
            int(s["reps"]),
            tuple(s["rom_deg"]),
            float(s["mean_rom_deg"]),
            tuple(s["peak_times_ms"]),
        )
        for part in set_parts
        for s in part["items"]
    ]
    sessions = sessions_from_sets(sorted(sets, key=lambda s: s.start_ms), set_parts[0]["source"]) if sets else ()
    # heart
    rest = None
    if minutes.shape[0]:
        exclude = active if active is not None else np.zeros(0, dtype=np.int64)
        if sessions:
            exclude = np.concatenate(
                [
                    exclude,
                    *[
                        np.arange(s.start_ms // MS_PER_MIN, s.end_ms // MS_PER_MIN + 1, dtype=np.int64)
                        for s in sessions
                    ],
                ]
            )
        rest = resting_hr(minutes * MS_PER_MIN, sums / counts, active_minutes=exclude)
    sustained = [h["sustained"] for h in hr_parts if h["sustained"] is not None]
    best = max(sustained, key=lambda s: (s[0], -s[1])) if sustained else None
    hr_sessions = (
        tuple(session_hr(hr_source, s.start_ms, s.end_ms) for s in sessions)
        if minutes.shape[0] and hr_source is not None
        else ()
    )
    # HRV
    hrv = [p["hrv"] for p in blocks if "hrv" in p]
    n_nn = sum(h["n"] for h in hrv)
    pairs = sum(h["pairs"] for h in hrv)
    rmssd = math.sqrt(sum(h["d2"] for h in hrv) / pairs) if pairs >= 5 else None
    sdnn = None
    if n_nn >= 5:
        total, total_sq = sum(h["sum"] for h in hrv), sum(h["sumsq"] for h in hrv)
        sdnn = math.sqrt(max(0.0, (total_sq - total * total / n_nn) / (n_nn - 1)))
    # SpO2
    spo2_parts = [{**p["spo2"], "block_ms": p["block_ms"]} for p in blocks if p.get("spo2")]
    median = spo2_median(blocks)
    base = (median if spo2_baseline is None else float(spo2_baseline)) if spo2_parts else None
    desats = _desaturations(spo2_parts, base)
    # wear
    wear_key = "wear_skin" if any("wear_skin" in p for p in blocks) else "wear_any"
    worn = [p[wear_key] for p in blocks if wear_key in p]
    gaps = _gaps(worn, day_bounds_ms)
    worn_minutes = sum(w["minutes"] for w in worn)
    return DayMetrics(
        day_start_ms=day_bounds_ms[0],
        hr_source=hr_source,
        resting_hr=rest,
        resting_hr_delta=rest - resting_hr_baseline if rest is not None and resting_hr_baseline is not None else None,
        mean_hr=float(sums.sum() / counts.sum()) if minutes.shape[0] else None,
        hr_zone=(float(zone[0]), float(zone[1])) if zone is not None else None,
        hr_zone_minutes=sum(h["zone_ms"] for h in hr_parts) / 60_000.0 if minutes.shape[0] and zone else None,
        hr_recovery=hr_sessions,
        max_hr_sustained=best[0] if best else None,
        max_hr_sustained_at_ms=int(best[1]) if best else None,
        rmssd_ms=rmssd,
        sdnn_ms=sdnn,
        rr_beats=n_nn,
        rr_rejected=sum(h["rejected"] for h in hrv),
        spo2_baseline=base,
        spo2_median=median,
        desaturations=desats,
        minutes_below_90=sum(s["below_ms"] for s in spo2_parts) / 60_000.0 if spo2_parts else None,
        steps=steps,
        cadence_spm=cadence,
        walking_minutes=walking_minutes,
        active_minutes=int(active.shape[0]) if active is not None else None,
        exercise_sessions=sessions,
        falls=tuple(Fall(**f) for p in blocks for f in p.get("falls", ())),
        wear_hours=worn_minutes / 60.0,
        nonwear_gaps=gaps,
    )


def _gaps(worn: Sequence[Mapping[str, int]], bounds: tuple[int, int], min_gap_min: float = 10.0) -> tuple[Gap, ...]:
    """Gaps of ``min_gap_min`` and more between worn seconds and the day's edges (as `wear_time`)."""
    if not worn:
        hours = (bounds[1] - bounds[0]) / 3_600_000.0
        return (Gap(int(bounds[0]), int(bounds[1]), hours),) if bounds[1] > bounds[0] else ()
    starts = [bounds[0] / 1000.0] + [w["last"] + 1 for w in worn]
    ends = [w["first"] for w in worn] + [bounds[1] / 1000.0]
    return tuple(
        Gap(start_ms=round(a * 1000), end_ms=round(b * 1000), hours=(b - a) / 3600.0)
        for a, b in zip(starts, ends, strict=True)
        if b - a >= min_gap_min * 60.0
    )


#: reads a metric's samples in ``[start_ms, end_ms)``
SeriesReader = Callable[[str, int, int], tuple[TimesMs, Values]]


def compute_blocks(
    read: SeriesReader,
    metrics: Sequence[str],
    blocks: Sequence[int],
    day_bounds_ms: tuple[int, int],
    *,
    zone: tuple[float, float] | None,
    spo2_baseline: float | None,
) -> dict[int, dict[str, Any]]:
    """The partials of these blocks of one day, each metric read once over the windows of all of them."""
    if not blocks:
        return {}
    spans = {
        m: (
            min(window_of(b, m, day_bounds_ms)[0] for b in blocks),
            max(window_of(b, m, day_bounds_ms)[1] for b in blocks),
        )
        for m in metrics
    }
    data = {m: read(m, *spans[m]) for m in metrics}
    out = {}
    for b in blocks:
        windowed = {}
        for m, (t, v) in data.items():
            lo, hi = window_of(b, m, day_bounds_ms)
            i, j = np.searchsorted(t, lo, side="left"), np.searchsorted(t, hi, side="left")
            if j > i:
                windowed[m] = (t[i:j], v[i:j])
        if any(_in(t, b).any() for t, _ in windowed.values()):
            out[b] = block_partial(windowed, b, zone=zone, spo2_baseline=spo2_baseline)
    return out


def update_day(
    partials: Mapping[int, Mapping[str, Any]],
    touched: Sequence[int],
    read: SeriesReader,
    metrics: Sequence[str],
    day_bounds_ms: tuple[int, int],
    *,
    zone: tuple[float, float] | None,
    spo2_baseline: float | None,
    resting_hr_baseline: float | None,
    session_hr: Callable[[str, int, int], SessionHeartRate],
) -> tuple[dict[int, dict[str, Any]], set[int], DayMetrics]:
    """A day's partials after new data touched some blocks, which of them changed, and the merged day.

    ``spo2_baseline``: the patient's usual SpO2 from earlier days, or None for the day's own median (which
    new data may move: then the blocks computed with the old median are computed again)."""
    blocks: dict[int, dict[str, Any]] = {b: dict(p) for b, p in partials.items()}
    day_blocks = [b for b in touched if day_bounds_ms[0] <= b < day_bounds_ms[1]]
    guess = spo2_baseline if spo2_baseline is not None else spo2_median(list(blocks.values()))
    computed = compute_blocks(read, metrics, day_blocks, day_bounds_ms, zone=zone, spo2_baseline=guess)
    for b in day_blocks:
        blocks.pop(b, None)
    blocks.update(computed)
    changed = set(day_blocks)
    base = spo2_baseline if spo2_baseline is not None else spo2_median(list(blocks.values()))
    again = [b for b, p in blocks.items() if stale(p, zone=zone, spo2_baseline=base)]
    if again:
        blocks.update(compute_blocks(read, metrics, again, day_bounds_ms, zone=zone, spo2_baseline=base))
        changed.update(again)
    day = merge_day(
        list(blocks.values()),
        day_bounds_ms=day_bounds_ms,
        zone=zone,
        resting_hr_baseline=resting_hr_baseline,
        spo2_baseline=spo2_baseline,
        session_hr=session_hr,
    )
    return blocks, changed, day
