"""Rehab exercise sessions from a knee angle: repetitions, sets and range of motion (ROM).

Input: knee flexion in degrees from a smart brace (``joint_angle``, ~50 Hz while exercising), or
an angle integrated from a shank gyroscope (:mod:`monitor.signals.gyro_angle`) when there is no
brace.

Method, per gap-free segment: low-pass 2 Hz (2nd-order Butterworth, zero-phase) against sensor
noise; a repetition is a peak found by ``scipy.signal.find_peaks`` whose prominence is at least
``min_prominence_deg`` and ``rel_prominence`` x the segment's range (2nd-98th percentile), at
least ``min_rep_interval_s`` after the previous one. The ROM of a rep is its peak minus the
trough before it (the last local minimum since the previous peak, where the flexion began),
in degrees. Reps no more than
``max_rep_gap_s`` apart form a set (sets with fewer than ``min_reps`` are dropped); sets no more
than ``session_gap_s`` apart form a session.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike

from monitor.signals.filters import zero_phase
from monitor.signals.gyro_angle import sagittal_angle_from_gyro
from monitor.signals.series import TimesMs, Values, as_series, contiguous_segments

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExerciseSet:
    """A set of repetitions: its time span (epoch ms), reps, ROM per rep (deg) and their mean."""

    start_ms: int
    end_ms: int
    reps: int
    rom_deg: tuple[float, ...]
    mean_rom_deg: float
    peak_times_ms: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ExerciseSession:
    """An exercise session: its sets, total reps, ROM of every rep (deg) and the mean ROM.

    ``source`` says where the angle came from: ``"joint_angle"`` (brace) or ``"gyro"``.
    """

    start_ms: int
    end_ms: int
    reps: int
    rom_deg: tuple[float, ...]
    mean_rom_deg: float
    sets: tuple[ExerciseSet, ...]
    source: str


def _lowpass(y: Values, fs: float, cutoff_hz: float) -> Values:
    if cutoff_hz >= fs / 2.0:
        return y
    filtered = zero_phase(y, 2, cutoff_hz, "lowpass", fs)
    return y if filtered is None else filtered


def _sets_in_segment(
    seg_t: TimesMs,
    y: Values,
    fs: float,
    *,
    min_prominence_deg: float,
    rel_prominence: float,
    min_rep_interval_s: float,
    max_rep_gap_s: float,
    min_reps: int,
) -> list[ExerciseSet]:
    spread = float(np.percentile(y, 98) - np.percentile(y, 2))
    prominence = max(min_prominence_deg, rel_prominence * spread)
    distance = max(1, int(min_rep_interval_s * fs))
    peaks, _ = scipy.signal.find_peaks(y, prominence=prominence, distance=distance)
    if peaks.shape[0] == 0:
        return []
    # the trough of a rep: the last local minimum since the previous peak in the lower half of
    # the excursion (where the flexion began), else the lowest angle since the previous peak
    lowest = np.minimum.reduceat(y, np.concatenate(([0], peaks)))[:-1]
    minima, _ = scipy.signal.find_peaks(-y)
    troughs = lowest.copy()
    prev_peak = np.concatenate(([0], peaks[:-1]))
    lo_idx = np.searchsorted(minima, prev_peak, side="right")
    hi_idx = np.searchsorted(minima, peaks, side="left")
    for k in range(peaks.shape[0]):  # one iteration per repetition
        cand = minima[lo_idx[k] : hi_idx[k]]
        cand = cand[y[cand] <= lowest[k] + 0.5 * (y[peaks[k]] - lowest[k])]
        if cand.shape[0]:
            troughs[k] = y[cand[-1]]
    rom = y[peaks] - troughs
    pt = seg_t[peaks]
    new_set = np.concatenate(([True], np.diff(pt) > max_rep_gap_s * 1000.0))
    set_ids = np.cumsum(new_set) - 1
    bounds = np.flatnonzero(np.diff(np.concatenate((set_ids, [set_ids[-1] + 1])))) + 1
    starts = np.concatenate(([0], bounds[:-1]))
    gap_samples = int(max_rep_gap_s * fs)
    sets: list[ExerciseSet] = []
    for a, b in zip(starts, bounds, strict=True):
        if b - a < min_reps:
            continue
        first, last = int(peaks[a]), int(peaks[b - 1])
        # start: the last sample before the first peak within 10 % of its ROM from the trough
        before = y[max(0, first - gap_samples) : first + 1]
        low_before = np.flatnonzero(before <= troughs[a] + 0.1 * rom[a])
        i0 = first - (before.shape[0] - 1) + (int(low_before[-1]) if low_before.shape[0] else 0)
        # end: the first sample after the last peak back within 10 % of its ROM from the rest level
        after = y[last : last + gap_samples + 1]
        rest = float(after.min())
        low_after = np.flatnonzero(after <= rest + 0.1 * (y[last] - rest))
        i1 = last + (int(low_after[0]) if low_after.shape[0] else after.shape[0] - 1)
        set_rom = tuple(float(r) for r in rom[a:b])
        sets.append(
            ExerciseSet(
                start_ms=int(seg_t[i0]),
                end_ms=int(seg_t[i1]),
                reps=int(b - a),
                rom_deg=set_rom,
                mean_rom_deg=float(np.mean(set_rom)),
                peak_times_ms=tuple(int(x) for x in pt[a:b]),
            )
        )
    return sets


def detect_sessions(
    t_ms: ArrayLike,
    angle_deg: ArrayLike,
    *,
    lowpass_hz: float = 2.0,
    min_prominence_deg: float = 10.0,
    rel_prominence: float = 0.3,
    min_rep_interval_s: float = 1.2,
    max_rep_gap_s: float = 10.0,
    min_reps: int = 3,
    session_gap_s: float = 300.0,
    max_gap_ms: float = 2000.0,
    source: str = "joint_angle",
) -> tuple[ExerciseSession, ...]:
    """Exercise sessions with their sets, reps and ROM from a knee angle in degrees."""
    t, v = as_series(t_ms, angle_deg)
    if t.shape[0] < 3 or v.ndim != 1:
        return ()
    sets: list[ExerciseSet] = []
    for start, stop in contiguous_segments(t, max_gap_ms):
        seg_t = t[start:stop]
        if seg_t.shape[0] < 3:
            continue
        fs = 1000.0 / float(np.median(np.diff(seg_t)))
        y = _lowpass(v[start:stop], fs, lowpass_hz)
        sets.extend(
            _sets_in_segment(
                seg_t,
                y,
                fs,
                min_prominence_deg=min_prominence_deg,
                rel_prominence=rel_prominence,
                min_rep_interval_s=min_rep_interval_s,
                max_rep_gap_s=max_rep_gap_s,
                min_reps=min_reps,
            )
        )
    sessions = sessions_from_sets(sets, source, session_gap_s=session_gap_s)
    logger.debug("detect_sessions: %s sessions from %s", len(sessions), source)
    return sessions


def sessions_from_sets(
    sets: Sequence[ExerciseSet], source: str, *, session_gap_s: float = 300.0
) -> tuple[ExerciseSession, ...]:
    """Time-ordered sets grouped into sessions: a set within ``session_gap_s`` of the previous one's end
    belongs to its session."""
    if not sets:
        return ()
    sessions: list[ExerciseSession] = []
    group: list[ExerciseSet] = [sets[0]]
    for s in sets[1:]:
        if s.start_ms - group[-1].end_ms <= session_gap_s * 1000.0:
            group.append(s)
        else:
            sessions.append(_session(group, source))
            group = [s]
    sessions.append(_session(group, source))
    return tuple(sessions)


def _session(sets: list[ExerciseSet], source: str) -> ExerciseSession:
    rom = tuple(r for s in sets for r in s.rom_deg)
    return ExerciseSession(
        start_ms=sets[0].start_ms,
        end_ms=sets[-1].end_ms,
        reps=sum(s.reps for s in sets),
        rom_deg=rom,
        mean_rom_deg=float(np.mean(rom)),
        sets=tuple(sets),
        source=source,
    )


def detect_sessions_from_gyro(
    t_ms: ArrayLike,
    gyro_dps: ArrayLike,
    *,
    axis: int | None = None,
    min_prominence_deg: float = 10.0,
    rel_prominence: float = 0.3,
    min_rep_interval_s: float = 1.2,
    max_rep_gap_s: float = 10.0,
    min_reps: int = 3,
    session_gap_s: float = 300.0,
) -> tuple[ExerciseSession, ...]:
    """Exercise sessions from a shank gyroscope (deg/s, [x, y, z]) when there is no brace.

    The sagittal angle is integrated and high-passed by
    :func:`monitor.signals.gyro_angle.sagittal_angle_from_gyro`, then the rep logic of
    :func:`detect_sessions` applies with the same parameters.
    """
    t, angle = sagittal_angle_from_gyro(t_ms, gyro_dps, axis=axis)
    return detect_sessions(
        t,
        angle,
        min_prominence_deg=min_prominence_deg,
        rel_prominence=rel_prominence,
        min_rep_interval_s=min_rep_interval_s,
        max_rep_gap_s=max_rep_gap_s,
        min_reps=min_reps,
        session_gap_s=session_gap_s,
        max_gap_ms=200.0,
        source="gyro",
    )
