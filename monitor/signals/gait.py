"""Walking from a trunk-worn accelerometer (g, ~50 Hz): steps, cadence and walking bouts.

Method, per gap-free segment sampled at >= 10 Hz: the magnitude of the acceleration (orientation
free) is band-passed 0.5-3 Hz (2nd-order Butterworth, zero-phase), step peaks are found with
``scipy.signal.find_peaks`` (minimum distance one step at ``max_cadence_spm``; prominence at
least ``prominence_floor_g`` and ``rel_prominence`` x the local RMS over 2 s, so it adapts to how
hard the patient walks). Peaks count as steps only inside walking bouts: runs of at least
``min_bout_steps`` peaks whose intervals all lie between one step at ``max_cadence_spm`` and one
at ``min_cadence_spm``. Cadence is the step rate while walking: steps per minute of bout time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.ndimage  # type: ignore[import-untyped, unused-ignore]
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike, NDArray

from monitor.signals.filters import zero_phase
from monitor.signals.runs import true_runs
from monitor.signals.series import TimesMs, Values, as_series, contiguous_segments

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WalkingBout:
    """A walking bout: first and last step (epoch ms), its steps and cadence (steps/min)."""

    start_ms: int
    end_ms: int
    steps: int
    cadence_spm: float


@dataclass(frozen=True, slots=True, eq=False)
class GaitResult:
    """Steps in walking bouts, the cadence while walking (steps/min), walking time (min)."""

    steps: int
    cadence_spm: float | None
    walking_minutes: float
    bouts: tuple[WalkingBout, ...]
    step_times_ms: TimesMs


_NO_GAIT = GaitResult(0, None, 0.0, (), np.zeros(0, dtype=np.int64))


def _segment_peaks(
    mag: Values,
    fs: float,
    band_hz: tuple[float, float],
    max_cadence_spm: float,
    prominence_floor_g: float,
    rel_prominence: float,
) -> NDArray[np.intp]:
    y = zero_phase(mag - mag.mean(), 2, band_hz, "bandpass", fs)
    if y is None:
        return np.zeros(0, dtype=np.intp)
    rms = np.sqrt(scipy.ndimage.uniform_filter1d(y**2, size=max(3, int(2 * fs)), mode="nearest"))
    prominence = np.maximum(prominence_floor_g, rel_prominence * rms)
    distance = max(1, int(np.floor(fs * 60.0 / max_cadence_spm)))
    peaks, _ = scipy.signal.find_peaks(y, distance=distance, prominence=prominence)
    return np.asarray(peaks, dtype=np.intp)


def detect_steps(
    t_ms: ArrayLike,
    accel: ArrayLike,
    *,
    band_hz: tuple[float, float] = (0.5, 3.0),
    max_cadence_spm: float = 200.0,
    min_cadence_spm: float = 40.0,
    min_bout_steps: int = 8,
    max_gap_ms: float = 100.0,
    prominence_floor_g: float = 0.05,
    rel_prominence: float = 0.5,
) -> GaitResult:
    """Steps, cadence and walking bouts from a 3-axis accelerometer in g (see module docstring)."""
    t, a = as_series(t_ms, accel)
    if t.shape[0] < 3 or a.ndim != 2:
        return _NO_GAIT
    mag_all = np.sqrt(np.einsum("ij,ij->i", a, a))
    min_gap = 60_000.0 / min_cadence_spm
    min_step = 60_000.0 / max_cadence_spm
    bouts: list[WalkingBout] = []
    step_times: list[TimesMs] = []
    segments = contiguous_segments(t, max_gap_ms)
    lengths = segments[:, 1] - segments[:, 0]
    for start, stop in segments[lengths >= max(8, min_bout_steps)]:
        seg_t = t[start:stop]
        span_ms = float(seg_t[-1] - seg_t[0])
        if span_ms < 2.0 * min_bout_steps * min_step:
            continue
        fs = 1000.0 / float(np.median(np.diff(seg_t)))
        if fs < 2.5 * band_hz[1]:
            continue
        peaks = _segment_peaks(mag_all[start:stop], fs, band_hz, max_cadence_spm, prominence_floor_g, rel_prominence)
        if peaks.shape[0] < min_bout_steps:
            continue
        _add_bouts(seg_t[peaks], min_step, min_gap, min_bout_steps, bouts, step_times)
    return _gait(bouts, step_times)


def _add_bouts(
    pt: TimesMs,
    min_step: float,
    min_gap: float,
    min_bout_steps: int,
    bouts: list[WalkingBout],
    step_times: list[TimesMs],
) -> None:
    """The walking bouts among step times: runs of regular intervals linking at least ``min_bout_steps``."""
    dt = np.diff(pt)
    regular = (dt >= min_step * 0.999) & (dt <= min_gap)
    run_starts, run_stops = true_runs(regular)
    # a run of k regular intervals links k + 1 peaks: peaks[run_start : run_stop + 1]
    long_enough = (run_stops - run_starts + 1) >= min_bout_steps
    for rs, re in zip(run_starts[long_enough], run_stops[long_enough], strict=True):
        bout_t = pt[rs : re + 1]
        n = bout_t.shape[0]
        duration = float(bout_t[-1] - bout_t[0])
        bouts.append(
            WalkingBout(
                start_ms=int(bout_t[0]),
                end_ms=int(bout_t[-1]),
                steps=int(n),
                cadence_spm=60_000.0 * (n - 1) / duration,
            )
        )
        step_times.append(bout_t)


def walking_from_step_times(
    step_times_ms: ArrayLike,
    *,
    max_cadence_spm: float = 200.0,
    min_cadence_spm: float = 40.0,
    min_bout_steps: int = 8,
) -> GaitResult:
    """Bouts, cadence and walking time from step times already detected (e.g. a day's, merged from its
    blocks): the bouts `detect_steps` forms, without its split at gaps in the accelerometer data."""
    pt = np.unique(np.asarray(step_times_ms, dtype=np.int64).ravel())
    bouts: list[WalkingBout] = []
    step_times: list[TimesMs] = []
    if pt.shape[0] >= min_bout_steps:
        _add_bouts(pt, 60_000.0 / max_cadence_spm, 60_000.0 / min_cadence_spm, min_bout_steps, bouts, step_times)
    return _gait(bouts, step_times)


def _gait(bouts: list[WalkingBout], step_times: list[TimesMs]) -> GaitResult:
    if not bouts:
        return _NO_GAIT
    steps = sum(b.steps for b in bouts)
    intervals = sum(b.steps - 1 for b in bouts)
    walk_ms = float(sum(b.end_ms - b.start_ms for b in bouts))
    cadence = 60_000.0 * intervals / walk_ms if walk_ms > 0 else None
    # each bout lasts one more step period than first-to-last step
    walking_minutes = (walk_ms + sum((b.end_ms - b.start_ms) / (b.steps - 1) for b in bouts)) / 60_000.0
    logger.debug("detect_steps: %s steps in %s bouts", steps, len(bouts))
    return GaitResult(
        steps=steps,
        cadence_spm=cadence,
        walking_minutes=walking_minutes,
        bouts=tuple(bouts),
        step_times_ms=np.concatenate(step_times),
    )


def steps_from_device(t_ms: ArrayLike, counts: ArrayLike) -> int:
    """Total of a device's ``steps`` metric (steps per sample interval); negatives are ignored."""
    _, c = as_series(t_ms, counts)
    return int(np.round(c[c > 0].sum())) if c.shape[0] else 0
