"""One patient-day of wearable data turned into the day's rehab metrics.

:func:`compute_day_metrics` runs every monitor of this package over the series of one day and
returns a :class:`DayMetrics`. Missing input gives None (scalars) or empty tuples (events); empty
or NaN input never raises. Heart rate comes from the ``heart_rate`` metric when present, else
from ``rr_interval``, else from ``ppg``. Steps come from the device's ``steps`` metric when
present (its sum), else from the accelerometer. Exercise comes from ``joint_angle`` (brace),
else from ``gyro``. Wear time counts the minutes with heart-rate, RR, SpO2 or PPG samples (the
sensors that need skin contact), or with any sample when none of those was sent.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from monitor.signals.activity import active_minutes
from monitor.signals.exercise import (
    ExerciseSession,
    ExerciseSet,
    detect_sessions,
    detect_sessions_from_gyro,
)
from monitor.signals.falls import Fall, detect_falls
from monitor.signals.gait import detect_steps, steps_from_device
from monitor.signals.heart import (
    SessionHeartRate,
    hr_from_rr,
    max_sustained_hr,
    resting_hr,
    session_heart_rate,
)
from monitor.signals.hrv import hrv_summary
from monitor.signals.ppg import hr_from_ppg
from monitor.signals.series import TimesMs, Values, as_series
from monitor.signals.spo2 import Desaturation, desaturations, minutes_below
from monitor.signals.wear import Gap, wear_time
from monitor.signals.zones import time_in_zone_minutes

logger = logging.getLogger(__name__)

MS_PER_DAY = 86_400_000
MS_PER_MIN = 60_000
_SKIN_METRICS = ("heart_rate", "rr_interval", "spo2", "ppg")


@dataclass(frozen=True, slots=True)
class DayMetrics:
    """The rehab metrics of one patient-day. Units: bpm, ms (HRV), %, minutes, hours, degrees.

    ``hr_recovery`` has one entry per exercise session (HR during it and the 60 s recovery);
    ``max_hr_sustained`` is the highest HR held for 60 s. ``steps`` is None without accel or
    step data (0 means none were taken). ``spo2_baseline`` is the baseline the desaturation rule
    used; ``spo2_median`` the day's own median (to build a patient's baseline from past days).
    """

    day_start_ms: int | None = None
    hr_source: str | None = None
    resting_hr: float | None = None
    resting_hr_delta: float | None = None
    mean_hr: float | None = None
    hr_zone: tuple[float, float] | None = None
    hr_zone_minutes: float | None = None
    hr_recovery: tuple[SessionHeartRate, ...] = ()
    max_hr_sustained: float | None = None
    max_hr_sustained_at_ms: int | None = None
    rmssd_ms: float | None = None
    sdnn_ms: float | None = None
    rr_beats: int = 0
    rr_rejected: int = 0
    spo2_baseline: float | None = None
    spo2_median: float | None = None
    desaturations: tuple[Desaturation, ...] = ()
    minutes_below_90: float | None = None
    steps: int | None = None
    cadence_spm: float | None = None
    walking_minutes: float | None = None
    active_minutes: int | None = None
    exercise_sessions: tuple[ExerciseSession, ...] = ()
    falls: tuple[Fall, ...] = ()
    wear_hours: float = 0.0
    nonwear_gaps: tuple[Gap, ...] = ()

    @property
    def session_reps(self) -> int:
        """Repetitions over all of the day's exercise sessions."""
        return sum(s.reps for s in self.exercise_sessions)

    @property
    def mean_rom_deg(self) -> float | None:
        """Mean range of motion over every rep of the day (degrees), None without reps."""
        roms = [r for s in self.exercise_sessions for r in s.rom_deg]
        return float(np.mean(roms)) if roms else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (nested results as dicts, tuples as lists)."""
        out = jsonable(dataclasses.asdict(self))
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DayMetrics:
        """The inverse of :meth:`to_dict`; unknown keys are ignored (newer writers)."""
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in data.items() if k in names}
        if d.get("hr_zone") is not None:
            lo, hi = d["hr_zone"]
            d["hr_zone"] = (float(lo), float(hi))
        d["hr_recovery"] = tuple(SessionHeartRate(**x) for x in d.get("hr_recovery", ()))
        d["desaturations"] = tuple(Desaturation(**x) for x in d.get("desaturations", ()))
        d["falls"] = tuple(Fall(**x) for x in d.get("falls", ()))
        d["nonwear_gaps"] = tuple(Gap(**x) for x in d.get("nonwear_gaps", ()))
        d["exercise_sessions"] = tuple(_session_from_dict(x) for x in d.get("exercise_sessions", ()))
        return cls(**d)


def _set_from_dict(x: Mapping[str, Any]) -> ExerciseSet:
    return ExerciseSet(
        start_ms=int(x["start_ms"]),
        end_ms=int(x["end_ms"]),
        reps=int(x["reps"]),
        rom_deg=tuple(float(r) for r in x["rom_deg"]),
        mean_rom_deg=float(x["mean_rom_deg"]),
        peak_times_ms=tuple(int(p) for p in x["peak_times_ms"]),
    )


def _session_from_dict(x: Mapping[str, Any]) -> ExerciseSession:
    return ExerciseSession(
        start_ms=int(x["start_ms"]),
        end_ms=int(x["end_ms"]),
        reps=int(x["reps"]),
        rom_deg=tuple(float(r) for r in x["rom_deg"]),
        mean_rom_deg=float(x["mean_rom_deg"]),
        sets=tuple(_set_from_dict(s) for s in x["sets"]),
        source=str(x["source"]),
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def clean_inputs(series: Mapping[str, tuple[ArrayLike, ArrayLike]]) -> dict[str, tuple[TimesMs, Values]]:
    clean: dict[str, tuple[TimesMs, Values]] = {}
    for metric, pair in series.items():
        try:
            t, v = as_series(*pair)
        except (ValueError, TypeError) as exc:
            logger.warning("metric %s ignored: %s", metric, exc)
            continue
        if t.shape[0]:
            clean[metric] = (t, v)
    return clean


def _heart_rate(data: Mapping[str, tuple[TimesMs, Values]]) -> tuple[str | None, TimesMs, Values]:
    if "heart_rate" in data:
        t, v = data["heart_rate"]
        ok = (v >= 20) & (v <= 250)
        if np.any(ok):
            return "heart_rate", t[ok], v[ok]
    if "rr_interval" in data:
        t, v = hr_from_rr(*data["rr_interval"])
        if t.shape[0]:
            return "rr_interval", t, v
    if "ppg" in data:
        t, v = hr_from_ppg(*data["ppg"])
        if t.shape[0]:
            return "ppg", t, v
    return None, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)


def compute_day_metrics(
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    zone: tuple[float, float] | None,
    resting_hr_baseline: float | None,
    spo2_baseline: float | None,
    day_bounds_ms: tuple[int, int] | None = None,
) -> DayMetrics:
    """All metrics of one patient-day from ``metric -> (t_ms, values)`` (contract metrics).

    ``zone``: the HR target zone in bpm (e.g. from :func:`monitor.signals.zones.karvonen`);
    ``resting_hr_baseline``: the patient's usual resting HR, for ``resting_hr_delta``;
    ``spo2_baseline``: the patient's usual SpO2 (%), for the 4-point-drop rule (else the day's
    median); ``day_bounds_ms``: the day's [start, end) to report non-wear at its edges.
    """
    data = clean_inputs(series)
    if day_bounds_ms is not None:
        day_start: int | None = int(day_bounds_ms[0])
    elif data:
        first = min(int(t[0]) for t, _ in data.values())
        day_start = first - first % MS_PER_DAY
    else:
        day_start = None

    # movement: steps, falls, exercise
    gait = detect_steps(*data["accel"]) if "accel" in data else None
    falls = detect_falls(*data["accel"]) if "accel" in data else ()
    if "joint_angle" in data:
        sessions = detect_sessions(*data["joint_angle"])
    elif "gyro" in data:
        sessions = detect_sessions_from_gyro(*data["gyro"])
    else:
        sessions = ()
    device_steps = data.get("steps")
    active = (
        active_minutes(
            step_times_ms=gait.step_times_ms if gait is not None else None,
            device_steps=device_steps,
            accel=data.get("accel"),
        )
        if gait is not None or device_steps is not None
        else None
    )
    steps: int | None = None
    cadence: float | None = None
    walking_minutes: float | None = None
    if device_steps is not None:
        steps = steps_from_device(*device_steps)
        t_s, c_s = device_steps
        _, inv = np.unique(t_s // MS_PER_MIN, return_inverse=True)
        per_min = np.bincount(inv, weights=np.maximum(c_s, 0.0))
        walking = per_min[per_min >= 60.0]
        walking_minutes = float(walking.shape[0])
        cadence = float(walking.mean()) if walking.shape[0] else None
    if gait is not None:
        if steps is None:
            steps = gait.steps
        if cadence is None:
            cadence = gait.cadence_spm
        if walking_minutes is None or walking_minutes == 0.0:
            walking_minutes = gait.walking_minutes

    # heart
    hr_source, hr_t, hr_v = _heart_rate(data)
    has_hr = hr_t.shape[0] > 0
    exclude = active if active is not None else np.zeros(0, dtype=np.int64)
    if sessions:
        session_minutes = [
            np.arange(s.start_ms // MS_PER_MIN, s.end_ms // MS_PER_MIN + 1, dtype=np.int64) for s in sessions
        ]
        exclude = np.concatenate([exclude, *session_minutes])
    rest_hr = resting_hr(hr_t, hr_v, active_minutes=exclude) if has_hr else None
    sustained = max_sustained_hr(hr_t, hr_v, min_duration_s=60) if has_hr else None
    hr_sessions = tuple(session_heart_rate(hr_t, hr_v, s.start_ms, s.end_ms) for s in sessions) if has_hr else ()

    # HRV
    rr_data = data.get("rr_interval")
    hrv = hrv_summary(*rr_data) if rr_data is not None else None

    # SpO2
    spo2_data = data.get("spo2")
    if spo2_data is not None:
        median: float | None = float(np.median(spo2_data[1]))
        base = median if spo2_baseline is None else float(spo2_baseline)
        desats = desaturations(*spo2_data, baseline_pct=base)
        below = minutes_below(*spo2_data)
    else:
        median, base, desats, below = None, None, (), None

    # wear
    skin = [data[m][0] for m in _SKIN_METRICS if m in data]
    wear = wear_time(skin or [t for t, _ in data.values()], bounds_ms=day_bounds_ms)

    return DayMetrics(
        day_start_ms=day_start,
        hr_source=hr_source,
        resting_hr=rest_hr,
        resting_hr_delta=(
            rest_hr - resting_hr_baseline if rest_hr is not None and resting_hr_baseline is not None else None
        ),
        mean_hr=float(hr_v.mean()) if has_hr else None,
        hr_zone=(float(zone[0]), float(zone[1])) if zone is not None else None,
        hr_zone_minutes=time_in_zone_minutes(hr_t, hr_v, zone) if has_hr and zone is not None else None,
        hr_recovery=hr_sessions,
        max_hr_sustained=sustained.bpm if sustained is not None else None,
        max_hr_sustained_at_ms=sustained.start_ms if sustained is not None else None,
        rmssd_ms=hrv.rmssd_ms if hrv is not None else None,
        sdnn_ms=hrv.sdnn_ms if hrv is not None else None,
        rr_beats=hrv.n_beats if hrv is not None else 0,
        rr_rejected=hrv.n_rejected if hrv is not None else 0,
        spo2_baseline=base,
        spo2_median=median,
        desaturations=desats,
        minutes_below_90=below,
        steps=steps,
        cadence_spm=cadence,
        walking_minutes=walking_minutes,
        active_minutes=int(active.shape[0]) if active is not None else None,
        exercise_sessions=sessions,
        falls=falls,
        wear_hours=wear.wear_hours,
        nonwear_gaps=wear.gaps,
    )
