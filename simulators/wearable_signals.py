"""Simulated rehab wearables with known ground truth: a whole patient-day, or a live stream.

Everything is seeded (``numpy.random.Generator``) and vectorized; a day takes well under a second.
Signals and their truth:

* heart rate (1 Hz, bpm): a first-order (tau 30 s) response to a target of resting HR + a slow
  AR(1) wander + offsets for being awake, walking and exercise sets, so exercise bouts rise and
  recover exponentially; device values are the model plus noise, rounded to whole bpm;
* RR intervals (ms, one time per beat): beats placed by integrating the model HR, each beat time
  jittered by N(0, rmssd/sqrt(6)) so the successive differences have the profile's RMSSD; ectopic
  beats (premature by 30 %, with the compensatory pause) and missed beats are injected;
* PPG (raw counts, 25 Hz): a systolic and a dicrotic wave per beat over respiratory baseline wander;
* SpO2 (1 Hz, %): baseline with wander and noise, rounded; desaturations of known depth and
  duration; shallow or short dips and single-sample spikes as negatives;
* accel (g, [x, y, z]): 50 Hz during walking bouts, exercise sessions and events, 1 Hz posture
  samples at rest (as a device that batches at rest). Walking is a vertical oscillation at the
  step frequency with a harmonic, fore-aft and sideways sway, gait onset, in a random device
  orientation; falls (free fall, 3-6 g impact, lying still in a changed posture), hard sit-downs
  (1.5-2 g), lying down on a bed (1.2-1.6 g) and stumbles while walking (2.6-3.4 g, walking goes
  on) are injected with their times;
* joint_angle (deg, 50 Hz during sessions): knee flexion reps, each a smooth flexion to a known
  peak and back, in sets; or, for a patient without a brace, a shank gyroscope (deg/s) whose
  sagittal rate is the angle's derivative plus bias and noise, in a random orientation;
* non-wear gaps: no data from any sensor.

Body frame: x fore-aft, y sideways, z up. The accelerometer measures specific force, so at rest
it reads +1 g along "up" (in the device's frame after rotation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.ndimage  # type: ignore[import-untyped, unused-ignore]
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
Series = tuple[IntArray, FloatArray]

DAY_S = 86_400
ACCEL_HZ = 50.0
_UP = np.array([0.0, 0.0, 1.0])
# supine, prone, right side, left side
_LYING = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """The simulated patient's physiology and the day's activities (counts and ranges)."""

    resting_hr: float = 62.0
    max_hr: float = 172.0
    awake_hr_offset: float = 8.0
    walking_hr_offset: float = 28.0
    exercise_hr_offset: float = 22.0
    hr_wander_bpm: float = 1.0
    rmssd_ms: float = 38.0
    spo2_baseline: float = 97.0
    wake_hour: float = 7.0
    sleep_hour: float = 23.0
    walking_bouts: int = 6
    walking_minutes: tuple[float, float] = (3.0, 12.0)
    cadence_spm: tuple[float, float] = (92.0, 118.0)
    walking_amplitude_g: tuple[float, float] = (0.25, 0.45)
    stumbles_per_bout: float = 0.3
    exercise_sessions: int = 2
    sets_per_session: int = 3
    reps_per_set: int = 12
    rom_deg: float = 85.0
    rom_sd_deg: float = 4.0
    rep_seconds: tuple[float, float] = (2.5, 4.0)
    set_rest_seconds: tuple[float, float] = (30.0, 60.0)
    has_brace: bool = True
    desaturations: int = 3
    desaturation_depth: tuple[float, float] = (5.0, 12.0)
    desaturation_hold_s: tuple[float, float] = (10.0, 40.0)
    shallow_dips: int = 2
    short_dips: int = 1
    falls: int = 0
    hard_sitdowns: int = 4
    lie_downs: int = 2
    device_steps: bool = False
    include_ppg: bool = False


@dataclass(frozen=True, slots=True)
class Faults:
    """Sensor and data faults to inject."""

    nonwear_gaps: int = 1
    nonwear_minutes: tuple[float, float] = (20.0, 90.0)
    ectopic_fraction: float = 0.005
    missed_beat_fraction: float = 0.002
    spo2_spikes: int = 6
    nan_fraction: float = 0.0
    duplicate_fraction: float = 0.0
    noise_scale: float = 1.0


@dataclass(frozen=True, slots=True)
class TruthSet:
    """A simulated set: first rep start to last rep end (epoch ms), reps, ROM of each rep (deg)."""

    start_ms: int
    end_ms: int
    reps: int
    rom_deg: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class TruthSession:
    """A simulated exercise session and the model's heart-rate recovery after it (bpm)."""

    start_ms: int
    end_ms: int
    sets: tuple[TruthSet, ...]
    hr_recovery_bpm: float

    @property
    def reps(self) -> int:
        return sum(s.reps for s in self.sets)

    @property
    def rom_deg(self) -> tuple[float, ...]:
        return tuple(r for s in self.sets for r in s.rom_deg)


@dataclass(frozen=True, slots=True)
class TruthBout:
    """A simulated walking stretch: span (epoch ms), steps (gait cycles) and cadence (steps/min)."""

    start_ms: int
    end_ms: int
    steps: int
    cadence_spm: float


@dataclass(frozen=True, slots=True)
class TruthInterval:
    """A simulated desaturation: when the model SpO2 met the event rule, and its nadir (%)."""

    start_ms: int
    end_ms: int
    nadir_pct: float


@dataclass(frozen=True, slots=True, eq=False)
class GroundTruth:
    """What the simulated day really held. ``hr_t_ms``/``hr_bpm`` is the noise-free model HR
    (1 Hz, the whole day, gaps included); ``rmssd_ms``/``sdnn_ms`` are computed from the clean
    NN series (no ectopics, no missed beats, no pair across a gap)."""

    resting_hr: float
    hr_t_ms: IntArray
    hr_bpm: FloatArray
    rmssd_ms: float
    sdnn_ms: float
    ectopic_times_ms: tuple[int, ...]
    steps: int
    cadence_spm: float | None
    walking_bouts: tuple[TruthBout, ...]
    step_times_ms: IntArray
    sessions: tuple[TruthSession, ...]
    desaturations: tuple[TruthInterval, ...]
    minutes_below_90: float
    falls_ms: tuple[int, ...]
    hard_sitdowns_ms: tuple[int, ...]
    lie_downs_ms: tuple[int, ...]
    stumbles_ms: tuple[int, ...]
    wear_gaps: tuple[tuple[int, int], ...]
    wear_hours: float
    max_hr_sustained: float | None


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedDay:
    """A simulated patient-day: ``series`` maps a contract metric to ``(t_ms, values)``."""

    day_start_ms: int
    series: dict[str, Series]
    truth: GroundTruth
    profile: PatientProfile
    faults: Faults


@dataclass(frozen=True, slots=True)
class InjectedEvent:
    """A ground-truth event in a stream: ``kind`` is "desaturation" or "fall" (epoch ms)."""

    kind: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True, eq=False)
class StreamChunk:
    """A few seconds of one metric, as a device would publish it.

    Regular series have ``fs`` (Hz) and ``t_ms is None``; ``rr_interval`` has ``fs is None`` and
    one time per value in ``t_ms``. ``events`` lists the injected events that start in this chunk.
    """

    metric: str
    t0_ms: int
    fs: float | None
    values: FloatArray
    t_ms: IntArray | None = None
    events: tuple[InjectedEvent, ...] = field(default=())

    def as_series_payload(self) -> dict[str, object]:
        """The chunk as a series of the telemetry contract (epoch-ms times)."""
        vals = self.values.tolist()
        if self.t_ms is not None:
            return {"metric": self.metric, "t": self.t_ms.tolist(), "values": vals}
        return {"metric": self.metric, "t0": self.t0_ms, "fs": self.fs, "values": vals}


# --------------------------------------------------------------------------- small helpers


def _rotation(rng: np.random.Generator) -> FloatArray:
    """A uniformly random 3-D rotation matrix."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return np.asarray(q, dtype=np.float64)


def _ar1(rng: np.random.Generator, n: int, sd: float, tau_samples: float) -> FloatArray:
    """A stationary AR(1) wander with standard deviation ``sd`` and time constant ``tau``."""
    if n == 0 or sd == 0:
        return np.zeros(n)
    rho = float(np.exp(-1.0 / tau_samples))
    w = rng.normal(0.0, sd * np.sqrt(1 - rho**2), n)
    w[0] = rng.normal(0.0, sd)
    return np.asarray(scipy.signal.lfilter([1.0], [1.0, -rho], w), dtype=np.float64)


def _first_order(target: FloatArray, tau_samples: float) -> FloatArray:
    """First-order lag (exponential approach with time constant ``tau``) starting at target[0]."""
    alpha = float(np.exp(-1.0 / tau_samples))
    y, _ = scipy.signal.lfilter([1 - alpha], [1.0, -alpha], target, zi=[alpha * target[0]])
    return np.asarray(y, dtype=np.float64)


def _toward(u0: FloatArray, u1: FloatArray, w: FloatArray) -> FloatArray:
    """Unit vectors moving from u0 to u1 as w goes 0 -> 1 (normalized linear blend)."""
    v = (1 - w)[:, None] * u0[None, :] + w[:, None] * u1[None, :]
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float64)


def _tilted_up(rng: np.random.Generator, degrees: float) -> FloatArray:
    """'Up' in the body frame after leaning back by ``degrees`` (sitting), with a little spread."""
    a = np.radians(degrees + rng.normal(0, 3))
    return np.array([-np.sin(a), 0.0, np.cos(a)])


class _Timeline:
    """Non-overlapping placement of the day's events, in seconds from the day start."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._taken: list[tuple[float, float]] = []

    def place(self, duration: float, lo: float, hi: float, margin: float = 300.0) -> float | None:
        for _ in range(400):
            if hi - lo - duration <= 0:
                return None
            start = float(self._rng.uniform(lo, hi - duration))
            end = start + duration
            if all(end + margin <= a or start >= b + margin for a, b in self._taken):
                self._taken.append((start, end))
                return start
        logger.warning("could not place an event of %s s", duration)
        return None


# --------------------------------------------------------------------------- walking


def _walk(
    rng: np.random.Generator, n: int, fs: float, cadence_spm: float, amp_g: float
) -> tuple[FloatArray, FloatArray, float]:
    """Body-frame specific force (n, 3) of walking, the step times (s from the start) and the
    time actually spent walking (s).

    The gait-cycle phase advances at the step frequency: the cadence with a 2 % slow wander
    and a 4 % step-to-step jitter, stopped during pauses (bouts over 4 minutes stop once or
    twice for 5-20 s, as at a crossing). A step is a crest of the vertical fundamental (phase
    fraction 0.25); the vertical force also has the second harmonic and a left/right asymmetry
    at the stride frequency, its amplitude varies 8 % from step to step, gait starts and stops
    over 0.3 s, and the body adds 0.03 g of broadband noise (heel strikes, arm swing)."""
    secs = np.arange(n) / fs
    gate = np.ones(n)
    if n > 240 * fs:
        for _ in range(int(rng.integers(1, 3))):
            a = int(rng.uniform(30 * fs, n - 50 * fs))
            gate[a : a + int(rng.uniform(5, 20) * fs)] = 0.0
        gate = np.clip(scipy.ndimage.uniform_filter1d(gate, size=int(0.6 * fs)), 0.0, 1.0)
    rate = 1 + _ar1(rng, n, 0.02, 5 * fs) + _ar1(rng, n, 0.04, 0.3 * fs)
    phase = np.cumsum(cadence_spm / 60.0 * rate * gate) / fs
    duration = n / fs
    ramp = 0.3
    env = gate * np.clip(secs / ramp, 0, 1) * np.clip((duration - secs) / ramp, 0, 1)
    amp = amp_g * env * (1 + _ar1(rng, n, 0.08, 2 * fs))
    p1, p2, p3, p4 = rng.uniform(0, 2 * np.pi, 4)
    two_pi_phase = 2 * np.pi * phase
    vert = amp * (np.sin(two_pi_phase) + 0.3 * np.sin(2 * two_pi_phase + p1) + 0.15 * np.sin(0.5 * two_pi_phase + p4))
    fore = 0.5 * amp * np.sin(two_pi_phase + p2)
    side = 0.3 * amp * np.sin(0.5 * two_pi_phase + p3)
    force = np.stack((fore, side, 1.0 + vert), axis=1) + rng.normal(0, 0.03, (n, 3)) * env[:, None]
    crest_phases = np.arange(np.ceil(phase[0] - 0.25), np.floor(phase[-1] - 0.25) + 1) + 0.25
    moving = np.concatenate(([True], np.diff(phase) > 0))
    step_times = np.interp(crest_phases, phase[moving], secs[moving])
    return force, step_times, float(np.count_nonzero(gate > 0.5) / fs)


def simulate_walk(
    seed: int, *, start_ms: int, seconds: float, cadence_spm: float, amp_g: float = 0.35
) -> tuple[IntArray, FloatArray, int]:
    """A walking bout at 50 Hz in a random device orientation: (t_ms, accel g (n, 3), steps)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * ACCEL_HZ)
    force, steps, _ = _walk(rng, n, ACCEL_HZ, cadence_spm, amp_g)
    accel = force @ _rotation(rng).T + rng.normal(0, 0.02, (n, 3))
    t = start_ms + np.round(np.arange(n) * 1000.0 / ACCEL_HZ).astype(np.int64)
    return t, accel, int(steps.shape[0])


# --------------------------------------------------------------------------- knee exercise


@dataclass(frozen=True, slots=True)
class _SessionSignal:
    angle: FloatArray  # noisy knee angle at fs, from lead-in to lead-out
    clean: FloatArray  # noise-free angle
    sets: list[tuple[float, float, tuple[float, ...]]]  # (start s, end s, ROM per rep)


def _knee_session(
    rng: np.random.Generator,
    fs: float,
    *,
    sets: int,
    reps: int,
    rom_deg: float,
    rom_sd_deg: float,
    rep_seconds: tuple[float, float],
    set_rest_seconds: tuple[float, float],
    noise_deg: float,
    lead_s: float = 10.0,
) -> _SessionSignal:
    """Knee flexion reps: each a raised-cosine flexion from the rest angle to rest + ROM and
    back, with a short hold at the top and a pause after; sets separated by rests."""
    pieces: list[FloatArray] = []
    truth: list[tuple[float, float, tuple[float, ...]]] = []
    rest = 5.0 + rng.normal(0, 2)  # the resting knee angle, seated on the same chair all session
    pieces.append(np.full(int(lead_s * fs), rest))
    for k in range(sets):
        set_start = sum(p.shape[0] for p in pieces) / fs
        roms: list[float] = []
        for _ in range(reps):
            rom = float(np.clip(rng.normal(rom_deg, rom_sd_deg), 20.0, 140.0))
            dur = rng.uniform(*rep_seconds)
            hold = rng.uniform(0.0, 0.5)
            half = max(int((dur - hold) / 2 * fs), 2)
            up = rest + rom * 0.5 * (1 - np.cos(np.pi * np.arange(half) / half))
            top = np.full(int(hold * fs) + 1, rest + rom)
            down = rest + rom * 0.5 * (1 + np.cos(np.pi * np.arange(1, half + 1) / half))
            pause = np.full(int(rng.uniform(0.5, 1.5) * fs), rest)
            pieces.extend((up, top, down, pause))
            roms.append(rom)
        set_end = (sum(p.shape[0] for p in pieces) - pieces[-1].shape[0]) / fs
        truth.append((set_start, set_end, tuple(roms)))
        if k < sets - 1:
            pieces.append(np.full(int(rng.uniform(*set_rest_seconds) * fs), rest))
    pieces.append(np.full(int(lead_s * fs), pieces[-1][-1]))
    clean = np.concatenate(pieces)
    angle = clean + rng.normal(0, noise_deg, clean.shape[0]) + _ar1(rng, clean.shape[0], 0.3, 5 * fs)
    return _SessionSignal(angle=angle, clean=clean, sets=truth)


def _gyro_from_angle(rng: np.random.Generator, clean: FloatArray, fs: float, noise: float) -> FloatArray:
    """Shank gyroscope (deg/s) of a knee angle: the angle's rate on the sagittal axis, a constant
    bias per axis and white noise, in a random sensor orientation."""
    n = clean.shape[0]
    rate = np.gradient(clean) * fs
    body = np.zeros((n, 3))
    body[:, 1] = rate
    bias = rng.normal(0, 1.0, 3)
    return np.asarray(body @ _rotation(rng).T + bias + rng.normal(0, 1.5 * noise, (n, 3)), dtype=np.float64)


def simulate_knee_exercise(
    seed: int,
    *,
    start_ms: int,
    sets: int = 3,
    reps: int = 12,
    rom_deg: float = 85.0,
    rom_sd_deg: float = 4.0,
    noise_deg: float = 0.8,
    gyro: bool = False,
) -> tuple[IntArray, FloatArray, tuple[TruthSet, ...]]:
    """One session at 50 Hz: (t_ms, joint angle deg, or gyro deg/s (n, 3) when ``gyro``, sets)."""
    rng = np.random.default_rng(seed)
    sig = _knee_session(
        rng,
        ACCEL_HZ,
        sets=sets,
        reps=reps,
        rom_deg=rom_deg,
        rom_sd_deg=rom_sd_deg,
        rep_seconds=(2.5, 4.0),
        set_rest_seconds=(30.0, 60.0),
        noise_deg=noise_deg,
    )
    n = sig.angle.shape[0]
    t = start_ms + np.round(np.arange(n) * 1000.0 / ACCEL_HZ).astype(np.int64)
    truth = tuple(TruthSet(start_ms + round(a * 1000), start_ms + round(b * 1000), len(r), r) for a, b, r in sig.sets)
    values = _gyro_from_angle(rng, sig.clean, ACCEL_HZ, 1.0) if gyro else sig.angle
    return t, values, truth


# --------------------------------------------------------------------------- beats: RR and PPG


@dataclass(frozen=True, slots=True, eq=False)
class RRSimulation:
    """Simulated RR intervals (as a device reports them) and the clean NN series behind them."""

    t_ms: IntArray
    rr_ms: FloatArray
    clean_t_ms: IntArray
    clean_rr_ms: FloatArray
    clean_pair_valid: NDArray[np.bool_]
    ectopic_times_ms: IntArray

    @property
    def rmssd_ms(self) -> float:
        d = np.diff(self.clean_rr_ms)[self.clean_pair_valid[1:]]
        return float(np.sqrt(np.mean(d**2))) if d.shape[0] else float("nan")

    @property
    def sdnn_ms(self) -> float:
        return float(np.std(self.clean_rr_ms, ddof=1)) if self.clean_rr_ms.shape[0] > 1 else float("nan")


def _beats(
    rng: np.random.Generator,
    start_ms: int,
    hr_bpm: FloatArray,
    worn: NDArray[np.bool_],
    *,
    rmssd_ms: float,
    resting_hr: float,
    ectopic_fraction: float,
    missed_fraction: float,
) -> RRSimulation:
    """Beats of a 1 Hz heart-rate curve, jittered for a known RMSSD, with ectopics and misses.

    A beat falls where the integrated rate ``sum(HR)/60`` crosses a whole number. Jittering each
    beat time by N(0, s) makes successive RR differences ``d_i - 2 d_{i-1} + d_{i-2}`` with
    standard deviation ``s * sqrt(6)``, so ``s = rmssd / sqrt(6)`` at the resting heart rate;
    like real vagal variability, ``s`` shrinks with the square of the RR interval as HR rises."""
    n = hr_bpm.shape[0]
    phase = np.concatenate(([0.0], np.cumsum(hr_bpm / 60.0)))
    k = np.arange(1, int(np.floor(phase[-1])) + 1, dtype=np.float64)
    beat_s = np.interp(k, phase, np.arange(n + 1, dtype=np.float64))
    base_rr = np.diff(np.concatenate(([beat_s[0] - 60.0 / hr_bpm[0]], beat_s))) * 1000.0 if k.shape[0] else beat_s
    scale = np.minimum((base_rr * resting_hr / 60_000.0) ** 2, 1.5)
    t = beat_s * 1000.0 + rng.normal(0, rmssd_ms / np.sqrt(6.0), beat_s.shape[0]) * scale
    present = worn[np.clip(beat_s.astype(np.int64), 0, n - 1)]
    t_int = np.round(t).astype(np.int64)
    rr = np.diff(t_int).astype(np.float64)
    # the clean NN series: beat i (i >= 1) with the interval ending at it
    clean_t = t_int[1:]
    clean_present = present[1:] & present[:-1]
    pair_valid = np.concatenate(([False], clean_present[1:] & clean_present[:-1]))
    ct = clean_t[clean_present]
    crr = rr[clean_present]
    cpv = pair_valid[clean_present]
    # what the device reports: ectopic beats moved 30 % early, some beats missed
    m = t.shape[0]
    ectopic = np.zeros(m, dtype=bool)
    if ectopic_fraction > 0 and m > 4:
        # isolated ectopics (no couplets): at most one in any three beats
        slots = np.arange(2, m - 2, 3)
        idx = rng.choice(slots, size=min(int(ectopic_fraction * m), slots.shape[0]), replace=False)
        ectopic[idx] = True
    t_dev = t.copy()
    prev_rr = np.concatenate(([1000.0], np.diff(t)))
    t_dev[ectopic] -= 0.3 * prev_rr[ectopic]
    keep = present & (rng.random(m) >= missed_fraction)
    t_dev_int = np.round(t_dev).astype(np.int64)
    # the device measures each interval from the previous detected beat (so a missed beat gives
    # a double interval), but reports nothing for the first beat after it was taken off
    det_idx = np.flatnonzero(keep)
    det_rr = np.diff(t_dev_int[det_idx]).astype(np.float64)
    absent_before = np.cumsum(~present)
    out = absent_before[det_idx[1:]] == absent_before[det_idx[:-1]]
    out &= (det_rr >= 200.0) & (det_rr <= 2000.0)  # the contract's range: the device drops the rest
    rep_t = t_dev_int[det_idx[1:]][out]
    rep_rr = det_rr[out]
    return RRSimulation(
        t_ms=start_ms + rep_t,
        rr_ms=rep_rr,
        clean_t_ms=start_ms + ct,
        clean_rr_ms=crr,
        clean_pair_valid=cpv,
        ectopic_times_ms=start_ms + t_dev_int[ectopic & present],
    )


def simulate_rr(
    seed: int,
    *,
    start_ms: int,
    hr_bpm: FloatArray,
    rmssd_ms: float = 40.0,
    resting_hr: float | None = None,
    ectopic_fraction: float = 0.0,
    missed_fraction: float = 0.0,
) -> RRSimulation:
    """RR intervals for a 1 Hz heart-rate curve (bpm) starting at ``start_ms``; ``rmssd_ms``
    applies at ``resting_hr`` (default: the curve's minimum)."""
    hr = np.asarray(hr_bpm, dtype=np.float64)
    return _beats(
        np.random.default_rng(seed),
        start_ms,
        hr,
        np.ones(hr.shape[0], dtype=bool),
        rmssd_ms=rmssd_ms,
        resting_hr=float(hr.min()) if resting_hr is None else resting_hr,
        ectopic_fraction=ectopic_fraction,
        missed_fraction=missed_fraction,
    )


def _ppg(rng: np.random.Generator, hr_bpm: FloatArray, fs: float, noise: float) -> FloatArray:
    """PPG counts at ``fs`` for a 1 Hz heart-rate curve: per beat a systolic Gaussian wave at
    phase 0.2 and a dicrotic one (0.4 x) at phase 0.5, on respiratory (0.25 Hz) and slow
    baseline wander, plus white noise (``noise`` x pulse amplitude)."""
    n_s = hr_bpm.shape[0]
    n = int(n_s * fs)
    secs = np.arange(n) / fs
    rate = np.interp(secs, np.arange(n_s) + 0.5, hr_bpm) / 60.0
    phase = np.cumsum(rate) / fs
    frac = phase - np.floor(phase)
    wave = np.exp(-0.5 * ((frac - 0.2) / 0.07) ** 2) + 0.4 * np.exp(-0.5 * ((frac - 0.5) / 0.08) ** 2)
    resp = 0.3 * np.sin(2 * np.pi * 0.25 * secs + rng.uniform(0, 2 * np.pi))
    drift = _ar1(rng, n, 0.5, 20 * fs)
    amplitude = 800.0
    signal = amplitude * (wave + resp + drift + rng.normal(0, noise, n))
    return np.asarray(30_000.0 + signal, dtype=np.float64)


def simulate_ppg(
    seed: int, *, start_ms: int, hr_bpm: FloatArray, fs_hz: float = 25.0, noise: float = 0.05
) -> tuple[IntArray, FloatArray]:
    """A PPG (raw counts) at ``fs_hz`` for a 1 Hz heart-rate curve starting at ``start_ms``."""
    hr = np.asarray(hr_bpm, dtype=np.float64)
    values = _ppg(np.random.default_rng(seed), hr, fs_hz, noise)
    t = start_ms + np.round(np.arange(values.shape[0]) * 1000.0 / fs_hz).astype(np.int64)
    return t, values


# --------------------------------------------------------------------------- accel events


def _impact(n: int, at: int, fs: float, extra_g: float, width_s: float, direction: FloatArray) -> FloatArray:
    """A Gaussian force pulse of ``extra_g`` along ``direction`` centred on sample ``at``."""
    dt = (np.arange(n) - at) / fs
    return np.asarray(extra_g * np.exp(-0.5 * (dt / width_s) ** 2)[:, None] * direction[None, :])


def _ringing(rng: np.random.Generator, n: int, at: int, fs: float, amp_g: float) -> FloatArray:
    dt = (np.arange(n) - at) / fs
    env = np.where(dt > 0, amp_g * np.exp(-np.maximum(dt, 0) / 0.08) * np.sin(2 * np.pi * 12 * dt), 0.0)
    d = rng.normal(size=3)
    return np.asarray(env[:, None] * (d / np.linalg.norm(d))[None, :])


def _fall(
    rng: np.random.Generator, fs: float, *, walking_before: bool, cadence: float, lying: FloatArray
) -> tuple[FloatArray, int, FloatArray]:
    """Body-frame force of a fall window: 10 s before (walking or standing), 0.6 s falling
    (orientation turning to lying, force dropping to ~0.3 g), a 3-6 g impact, 20 s lying still.
    Returns (force, impact sample, step times in s of the walking part)."""
    pre, fall_s, post = 10.0, 0.6, 20.0
    n_pre, n_fall, n_post = int(pre * fs), int(fall_s * fs), int(post * fs)
    n = n_pre + n_fall + n_post
    force = np.zeros((n, 3))
    steps = np.zeros(0)
    if walking_before:
        force[:n_pre], steps, _ = _walk(rng, n_pre, fs, cadence, rng.uniform(0.25, 0.4))
    else:
        force[:n_pre] = _UP + rng.normal(0, 0.015, (n_pre, 3))
    w = np.arange(n_fall) / n_fall
    scale = 1.0 - 0.7 * np.sin(np.pi * np.minimum(w * 1.2, 1.0))
    force[n_pre : n_pre + n_fall] = _toward(_UP, lying, w) * scale[:, None]
    force[n_pre + n_fall :] = lying + rng.normal(0, 0.006, (n_post, 3))
    at = n_pre + n_fall
    force += _impact(n, at, fs, rng.uniform(2.0, 5.0), 0.02, lying) + _ringing(rng, n, at, fs, 0.3)
    return force, at, steps


def _sit_down_hard(rng: np.random.Generator, fs: float, seated_up: FloatArray) -> tuple[FloatArray, int]:
    """Standing 5 s, a 0.8 s descent, a 1.5-2 g landing on the seat, sitting still 10 s."""
    n_pre, n_move, n_post = int(5 * fs), int(0.8 * fs), int(10 * fs)
    n = n_pre + n_move + n_post
    force = np.zeros((n, 3))
    force[:n_pre] = _UP + rng.normal(0, 0.015, (n_pre, 3))
    w = np.arange(n_move) / n_move
    force[n_pre : n_pre + n_move] = _toward(_UP, seated_up, w) * (1 - 0.3 * np.sin(np.pi * w))[:, None]
    force[n_pre + n_move :] = seated_up + rng.normal(0, 0.006, (n_post, 3))
    at = n_pre + n_move
    force += _impact(n, at, fs, rng.uniform(0.5, 1.0), 0.04, seated_up) + _ringing(rng, n, at, fs, 0.1)
    return force, at


def _lie_down(rng: np.random.Generator, fs: float, seated_up: FloatArray, lying: FloatArray) -> tuple[FloatArray, int]:
    """Sitting 5 s, 1.5 s lying back onto a bed, a 1.2-1.6 g landing, lying still 10 s."""
    n_pre, n_move, n_post = int(5 * fs), int(1.5 * fs), int(10 * fs)
    n = n_pre + n_move + n_post
    force = np.zeros((n, 3))
    force[:n_pre] = seated_up + rng.normal(0, 0.01, (n_pre, 3))
    w = np.arange(n_move) / n_move
    force[n_pre : n_pre + n_move] = _toward(seated_up, lying, w) * (1 - 0.2 * np.sin(np.pi * w))[:, None]
    force[n_pre + n_move :] = lying + rng.normal(0, 0.006, (n_post, 3))
    at = n_pre + n_move
    force += _impact(n, at, fs, rng.uniform(0.2, 0.6), 0.05, lying)
    return force, at


# --------------------------------------------------------------------------- SpO2


def _dip(n: int, start: float, down: float, hold: float, up: float, depth: float) -> FloatArray:
    """A trapezoidal SpO2 dip (points below baseline) on a 1 Hz grid of ``n`` seconds."""
    secs = np.arange(n, dtype=np.float64)
    xp = [start, start + down, start + down + hold, start + down + hold + up]
    return np.asarray(np.interp(secs, xp, [0.0, depth, depth, 0.0], left=0.0, right=0.0))


# --------------------------------------------------------------------------- the day


def _ms(day_start_ms: int, secs: NDArray[np.floating[Any]] | NDArray[np.integer[Any]]) -> IntArray:
    """Epoch ms of times given in seconds from the day start."""
    return day_start_ms + np.round(np.asarray(secs, dtype=np.float64) * 1000.0).astype(np.int64)


def _ms1(day_start_ms: int, secs: float) -> int:
    return day_start_ms + round(secs * 1000.0)


#: an SpO2 dip: start, down, hold and up (s), depth (points below baseline)
_Dip = tuple[float, float, float, float, float]
#: a walk: start (s), duration (s), cadence (steps/min), amplitude (g)
_WalkPlan = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True, eq=False)
class _Placement:
    """Where the day's events go, in seconds from the day start: non-wear gaps (start, end), exercise
    sessions (start, signal), walks (start, seconds, cadence, amplitude g), falls (impact), hard
    sit-downs (landing), lie-downs (landing, stay), desaturations and negative dips (start, down,
    hold, up, depth)."""

    gaps: list[tuple[float, float]]
    sessions: list[tuple[float, _SessionSignal]]
    walks: list[_WalkPlan]
    falls: list[float]
    sitdowns: list[float]
    liedowns: list[tuple[float, float]]
    desaturations: list[_Dip]
    negative_dips: list[_Dip]


def _place_events(rng: np.random.Generator, p: PatientProfile, f: Faults) -> _Placement:
    """Non-overlapping times for the day's events: gaps, sessions, walks and accel events while
    awake; desaturations and negative dips during sleep."""
    tl = _Timeline(rng)
    wake, sleep = p.wake_hour * 3600.0, p.sleep_hour * 3600.0
    gaps: list[tuple[float, float]] = []
    for _ in range(f.nonwear_gaps):
        d = rng.uniform(*f.nonwear_minutes) * 60.0
        s = tl.place(d, wake, sleep, margin=600.0)
        if s is not None:
            gaps.append((s, s + d))
    sessions = _place_sessions(rng, tl, p, f.noise_scale, wake, sleep)
    walks: list[_WalkPlan] = []
    for _ in range(p.walking_bouts):
        d = rng.uniform(*p.walking_minutes) * 60.0
        s = tl.place(d, wake, sleep)
        if s is not None:
            walks.append((s, d, rng.uniform(*p.cadence_spm), rng.uniform(*p.walking_amplitude_g)))
    falls, sitdowns, liedowns = _place_accel_events(rng, tl, p, wake, sleep)
    desats, negatives = _place_spo2_dips(rng, tl, p, wake)
    return _Placement(
        gaps=sorted(gaps),
        sessions=sorted(sessions, key=lambda item: item[0]),
        walks=sorted(walks),
        falls=falls,
        sitdowns=sitdowns,
        liedowns=liedowns,
        desaturations=desats,
        negative_dips=negatives,
    )


def _place_sessions(
    rng: np.random.Generator, tl: _Timeline, p: PatientProfile, noise: float, wake: float, sleep: float
) -> list[tuple[float, _SessionSignal]]:
    """The exercise sessions' knee signals and their start times (with 90 s around each)."""
    sessions: list[tuple[float, _SessionSignal]] = []
    for _ in range(p.exercise_sessions):
        sig = _knee_session(
            rng,
            ACCEL_HZ,
            sets=p.sets_per_session,
            reps=p.reps_per_set,
            rom_deg=p.rom_deg,
            rom_sd_deg=p.rom_sd_deg,
            rep_seconds=p.rep_seconds,
            set_rest_seconds=p.set_rest_seconds,
            noise_deg=0.8 * noise,
        )
        s = tl.place(sig.angle.shape[0] / ACCEL_HZ + 90.0, wake, sleep)
        if s is not None:
            sessions.append((s, sig))
    return sessions


def _place_accel_events(
    rng: np.random.Generator, tl: _Timeline, p: PatientProfile, wake: float, sleep: float
) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    """Times of the falls (impact), hard sit-downs (landing) and lie-downs (landing, stay in s)."""
    falls: list[float] = []
    for _ in range(p.falls):
        s = tl.place(150.0, wake, sleep)
        if s is not None:
            falls.append(s + 10.6)
    sitdowns: list[float] = []
    for _ in range(p.hard_sitdowns):
        s = tl.place(16.0, wake, sleep, margin=60.0)
        if s is not None:
            sitdowns.append(s + 5.8)
    liedowns: list[tuple[float, float]] = []
    for _ in range(p.lie_downs):
        stay = rng.uniform(300.0, 1200.0)
        s = tl.place(stay, wake, sleep, margin=60.0)
        if s is not None:
            liedowns.append((s + 6.5, stay))
    return falls, sitdowns, liedowns


def _place_spo2_dips(
    rng: np.random.Generator, tl: _Timeline, p: PatientProfile, wake: float
) -> tuple[list[_Dip], list[_Dip]]:
    """The desaturations and the negative dips (shallow or short), during sleep: (start, down,
    hold, up, depth) each."""
    desats: list[_Dip] = []
    for _ in range(p.desaturations):
        down, up = rng.uniform(6, 12), rng.uniform(6, 12)
        hold = rng.uniform(*p.desaturation_hold_s)
        s = tl.place(down + hold + up, 1800.0, wake - 1800.0, margin=120.0)
        if s is not None:
            desats.append((s, down, hold, up, rng.uniform(*p.desaturation_depth)))
    negatives: list[_Dip] = []
    for _ in range(p.shallow_dips):
        s = tl.place(40.0, 1800.0, wake - 1800.0, margin=120.0)
        if s is not None:
            negatives.append((s, 8.0, 25.0, 8.0, rng.uniform(1.5, 2.8)))
    for _ in range(p.short_dips):
        s = tl.place(8.0, 1800.0, wake - 1800.0, margin=120.0)
        if s is not None:
            negatives.append((s, 2.0, 1.0, 2.0, rng.uniform(7.0, 10.0)))
    return desats, negatives


def _awake_mask(p: PatientProfile) -> BoolArray:
    """Each second of the day: between the wake and the sleep hour."""
    secs = np.arange(DAY_S)
    return np.asarray((secs >= p.wake_hour * 3600.0) & (secs < p.sleep_hour * 3600.0))


def _worn_mask(gaps: list[tuple[float, float]]) -> BoolArray:
    """Each second of the day: outside every non-wear gap."""
    worn = np.ones(DAY_S, dtype=bool)
    for a, b in gaps:
        worn[int(a) : int(np.ceil(b))] = False
    return worn


def _heart_rate_model(rng: np.random.Generator, p: PatientProfile, placed: _Placement, awake: BoolArray) -> FloatArray:
    """The noise-free 1 Hz heart rate: a first-order response to resting HR plus the offsets of
    being awake, walking, exercise sets and the minutes after a fall, plus a slow wander."""
    offset = np.where(awake, p.awake_hr_offset, 0.0)
    for s, d, cad, _ in placed.walks:
        offset[int(s) : int(s + d)] += p.walking_hr_offset + 0.3 * (cad - 100.0)
    for s, sig in placed.sessions:
        for a, b, _ in sig.sets:
            offset[int(s + a) : int(np.ceil(s + b))] += p.exercise_hr_offset
    for t_f in placed.falls:
        offset[int(t_f) : int(t_f) + 180] += 12.0
    target = p.resting_hr + offset + _ar1(rng, DAY_S, p.hr_wander_bpm, 300.0)
    return _first_order(target, 30.0)


class _AccelWindows:
    """The 50 Hz accel windows of the day (body frame, times in s from the day start) and which
    seconds they cover."""

    def __init__(self) -> None:
        self.t: list[FloatArray] = []
        self.force: list[FloatArray] = []
        self.covered = np.zeros(DAY_S, dtype=bool)

    def add(self, start_s: float, force: FloatArray) -> None:
        n = force.shape[0]
        self.t.append(start_s + np.arange(n) / ACCEL_HZ)
        self.force.append(force)
        self.covered[int(start_s) : int(np.ceil(start_s + n / ACCEL_HZ))] = True


@dataclass(slots=True, eq=False)
class _Gait:
    """What walking (the walks and the walks before falls) gave: step times (s), bouts, stumbles (s)
    and the seconds actually spent walking."""

    step_times: list[FloatArray] = field(default_factory=list)
    bouts: list[TruthBout] = field(default_factory=list)
    stumbles: list[float] = field(default_factory=list)
    walking_s: float = 0.0

    def all_steps(self) -> FloatArray:
        return np.sort(np.concatenate(self.step_times)) if self.step_times else np.zeros(0)


@dataclass(frozen=True, slots=True, eq=False)
class _Motion:
    """The day's movement: accel samples (s from the day start; device frame, g), the knee angle or
    shank gyro of the sessions, and the times (s) of the walking and accel events."""

    accel_t: FloatArray
    accel_v: FloatArray
    angle_t: list[FloatArray]
    angle_v: list[FloatArray]
    gyro_v: list[FloatArray]
    gait: _Gait
    fall_times: list[float]
    sit_times: list[float]
    lie_times: list[float]


def _resting_posture(rng: np.random.Generator, awake: BoolArray, seated: FloatArray) -> FloatArray:
    """'Up' in the body frame each second: seated while awake, lying (turning each hour) asleep."""
    posture = np.tile(seated, (DAY_S, 1))
    sleep_secs = np.flatnonzero(~awake)
    turns = rng.integers(0, 4, size=DAY_S // 3600 + 1)
    posture[sleep_secs] = _LYING[turns[sleep_secs // 3600]]
    return posture


def _walking_windows(
    rng: np.random.Generator,
    p: PatientProfile,
    walks: list[_WalkPlan],
    windows: _AccelWindows,
    posture: FloatArray,
    gait: _Gait,
    day_start_ms: int,
) -> None:
    """Each walk's accel window, with stumbles injected, and its steps and bout."""
    fs = ACCEL_HZ
    for s, d, cad, amp in walks:
        n = int(d * fs)
        force, st, walked = _walk(rng, n, fs, cad, amp)
        gait.walking_s += walked
        n_stumble = rng.poisson(p.stumbles_per_bout)
        if n_stumble and st.shape[0] > 40:
            for k in rng.choice(np.arange(10, st.shape[0] - 10), size=min(n_stumble, 3), replace=False):
                at = round(float(st[k]) * fs)
                force += _impact(n, at, fs, rng.uniform(1.6, 2.4), 0.02, _UP)
                gait.stumbles.append(s + at / fs)
        windows.add(s, force)
        gait.step_times.append(s + st)
        gait.bouts.append(TruthBout(_ms1(day_start_ms, s), _ms1(day_start_ms, s + d), int(st.shape[0]), cad))
        posture[int(s) : int(s + d)] = _UP


def _fall_windows(
    rng: np.random.Generator,
    p: PatientProfile,
    falls: list[float],
    windows: _AccelWindows,
    posture: FloatArray,
    gait: _Gait,
    day_start_ms: int,
) -> list[float]:
    """Each fall's accel window (half of them while walking), lying a while after; the fall times."""
    fs = ACCEL_HZ
    fall_times: list[float] = []
    for t_f in falls:
        lying = _LYING[rng.integers(0, 4)]
        walking_before = bool(rng.random() < 0.5)
        cad = rng.uniform(*p.cadence_spm)
        force, at, st = _fall(rng, fs, walking_before=walking_before, cadence=cad, lying=lying)
        start = t_f - at / fs
        windows.add(start, force)
        fall_times.append(t_f)
        lie_s = rng.uniform(30.0, 120.0)
        posture[int(t_f) : int(t_f + lie_s)] = lying
        if st.shape[0]:
            gait.walking_s += 10.0  # the walk before a fall (see _fall)
            gait.step_times.append(start + st)
            gait.bouts.append(
                TruthBout(_ms1(day_start_ms, start), _ms1(day_start_ms, t_f - 0.6), int(st.shape[0]), cad)
            )
    return fall_times


def _sitdown_windows(
    rng: np.random.Generator, sitdowns: list[float], windows: _AccelWindows, seated: FloatArray
) -> list[float]:
    """Each hard sit-down's accel window; their times."""
    sit_times: list[float] = []
    for t_s in sitdowns:
        force, at = _sit_down_hard(rng, ACCEL_HZ, seated)
        windows.add(t_s - at / ACCEL_HZ, force)
        sit_times.append(t_s)
    return sit_times


def _liedown_windows(
    rng: np.random.Generator,
    liedowns: list[tuple[float, float]],
    windows: _AccelWindows,
    posture: FloatArray,
    seated: FloatArray,
) -> list[float]:
    """Each lie-down's accel window, lying for its stay after; their times."""
    lie_times: list[float] = []
    for t_l, stay in liedowns:
        lying = _LYING[rng.integers(0, 4)]
        force, at = _lie_down(rng, ACCEL_HZ, seated, lying)
        windows.add(t_l - at / ACCEL_HZ, force)
        posture[int(t_l) : int(t_l + stay)] = lying
        lie_times.append(t_l)
    return lie_times


def _session_windows(
    rng: np.random.Generator,
    p: PatientProfile,
    sessions: list[tuple[float, _SessionSignal]],
    windows: _AccelWindows,
    seated: FloatArray,
    noise: float,
) -> tuple[list[FloatArray], list[FloatArray], list[FloatArray]]:
    """Each exercise session's seated accel window, and its knee angle (brace) or shank gyro:
    (angle times s, angles, gyro values)."""
    fs = ACCEL_HZ
    angle_t: list[FloatArray] = []
    angle_v: list[FloatArray] = []
    gyro_v: list[FloatArray] = []
    for s, sig in sessions:
        n = sig.angle.shape[0]
        sway = 0.02 * np.gradient(sig.clean)[:, None] * fs / 100.0 * np.array([1.0, 0.0, 0.0])
        windows.add(s, seated + sway + rng.normal(0, 0.01, (n, 3)))
        angle_t.append(s + np.arange(n) / fs)
        angle_v.append(sig.angle)
        if not p.has_brace:
            gyro_v.append(_gyro_from_angle(rng, sig.clean, fs, noise))
    return angle_t, angle_v, gyro_v


def _mounted_accel(
    rng: np.random.Generator, windows: _AccelWindows, posture: FloatArray, mount: FloatArray, noise: float
) -> tuple[FloatArray, FloatArray]:
    """All accel samples in time order, in the device frame with sensor noise: the 50 Hz windows
    and a 1 Hz posture sample in every second no window covers."""
    rest = np.flatnonzero(~windows.covered)
    acc_t = [*windows.t, rest.astype(np.float64)]
    acc_v = [*windows.force, posture[rest] + rng.normal(0, 0.004, (rest.shape[0], 3))]
    accel_t = np.concatenate(acc_t)
    order = np.argsort(accel_t, kind="stable")
    accel_v = (np.concatenate(acc_v)[order] @ mount.T) + rng.normal(0, 0.01 * noise, (order.shape[0], 3))
    return accel_t[order], accel_v


def _simulate_motion(
    rng: np.random.Generator, p: PatientProfile, placed: _Placement, awake: BoolArray, day_start_ms: int, noise: float
) -> _Motion:
    """The day's accelerometer (walks, falls, sit-downs, lie-downs, sessions, posture at rest) and
    the sessions' knee angle or gyro."""
    mount = _rotation(rng)
    seated = _tilted_up(rng, 20.0)
    posture = _resting_posture(rng, awake, seated)
    windows = _AccelWindows()
    gait = _Gait()
    _walking_windows(rng, p, placed.walks, windows, posture, gait, day_start_ms)
    fall_times = _fall_windows(rng, p, placed.falls, windows, posture, gait, day_start_ms)
    sit_times = _sitdown_windows(rng, placed.sitdowns, windows, seated)
    lie_times = _liedown_windows(rng, placed.liedowns, windows, posture, seated)
    angle_t, angle_v, gyro_v = _session_windows(rng, p, placed.sessions, windows, seated, noise)
    accel_t, accel_v = _mounted_accel(rng, windows, posture, mount, noise)
    return _Motion(accel_t, accel_v, angle_t, angle_v, gyro_v, gait, fall_times, sit_times, lie_times)


def _truth_sessions(
    sessions: list[tuple[float, _SessionSignal]], hr_model: FloatArray, day_start_ms: int
) -> tuple[TruthSession, ...]:
    """The sessions' sets and the model's heart-rate recovery in the minute after each."""
    truth: list[TruthSession] = []
    for s, sig in sessions:
        truth_sets = tuple(
            TruthSet(_ms1(day_start_ms, s + a), _ms1(day_start_ms, s + b), len(r), r) for a, b, r in sig.sets
        )
        end_s = int(np.ceil(s + sig.sets[-1][1]))
        recovery = float(hr_model[end_s] - hr_model[min(end_s + 60, DAY_S - 1)])
        truth.append(TruthSession(truth_sets[0].start_ms, truth_sets[-1].end_ms, truth_sets, recovery))
    return tuple(truth)


@dataclass(frozen=True, slots=True, eq=False)
class _SpO2:
    """The day's SpO2: the model (1 Hz, %), the device's values and the desaturations in the model."""

    model: FloatArray
    device: FloatArray
    desaturations: tuple[TruthInterval, ...]


def _simulate_spo2(
    rng: np.random.Generator, p: PatientProfile, f: Faults, placed: _Placement, worn: BoolArray, day_start_ms: int
) -> _SpO2:
    """Baseline with wander, the desaturations and negative dips; the device's rounded, noisy
    values with spikes; the truth: every worn stretch of 10 s or more meeting the event rule."""
    spo2_model = p.spo2_baseline + _ar1(rng, DAY_S, 0.3, 60.0)
    truth_desats: list[TruthInterval] = []
    for s, down, hold, up, depth in placed.desaturations:
        spo2_model -= _dip(DAY_S, s, down, hold, up, depth)
    for s, down, hold, up, depth in placed.negative_dips:
        spo2_model -= _dip(DAY_S, s, down, hold, up, depth)
    low = ((spo2_model < 90.0) | (spo2_model <= p.spo2_baseline - 4.0)) & worn
    edges = np.diff(np.concatenate(([0], low.astype(np.int8), [0])))
    for i0, i1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if i1 - i0 >= 10:
            truth_desats.append(
                TruthInterval(
                    day_start_ms + int(i0) * 1000,
                    day_start_ms + int(i1) * 1000,
                    float(spo2_model[i0:i1].min()),
                )
            )
    spo2_dev = np.round(spo2_model + rng.normal(0, 0.4 * f.noise_scale, DAY_S))
    if f.spo2_spikes:
        spikes = rng.choice(np.flatnonzero(worn), size=f.spo2_spikes, replace=False)
        spo2_dev[spikes] = rng.integers(80, 89, size=f.spo2_spikes)
    return _SpO2(spo2_model, np.clip(spo2_dev, 50.0, 100.0), tuple(truth_desats))


def _device_series(
    rng: np.random.Generator,
    p: PatientProfile,
    f: Faults,
    day_start_ms: int,
    worn: BoolArray,
    hr_model: FloatArray,
    beats: RRSimulation,
    spo2: _SpO2,
    motion: _Motion,
) -> dict[str, Series]:
    """What the device reports, in the worn seconds only: heart rate, RR, SpO2, accel, the knee
    angle or gyro, optionally steps per minute and PPG; then the data faults."""
    worn_secs = np.flatnonzero(worn)
    hr_dev = np.round(hr_model + rng.normal(0, 0.8 * f.noise_scale, DAY_S))
    series: dict[str, Series] = {
        "heart_rate": (_ms(day_start_ms, worn_secs), hr_dev[worn_secs].astype(np.float64)),
        "rr_interval": (beats.t_ms, beats.rr_ms),
        "spo2": (_ms(day_start_ms, worn_secs), spo2.device[worn_secs].astype(np.float64)),
    }
    acc_keep = worn[np.clip(motion.accel_t.astype(np.int64), 0, DAY_S - 1)]
    series["accel"] = (_ms(day_start_ms, motion.accel_t[acc_keep]), motion.accel_v[acc_keep])
    if motion.angle_t:
        at_all = np.concatenate(motion.angle_t)
        keep = worn[np.clip(at_all.astype(np.int64), 0, DAY_S - 1)]
        if p.has_brace:
            series["joint_angle"] = (_ms(day_start_ms, at_all[keep]), np.concatenate(motion.angle_v)[keep])
        else:
            series["gyro"] = (_ms(day_start_ms, at_all[keep]), np.concatenate(motion.gyro_v)[keep])
    if p.device_steps:
        minute_counts = np.bincount((motion.gait.all_steps() // 60).astype(np.int64), minlength=DAY_S // 60)
        minutes = np.arange(DAY_S // 60)
        keep_min = worn[minutes * 60]
        series["steps"] = (
            _ms(day_start_ms, minutes[keep_min] * 60.0),
            minute_counts[keep_min].astype(np.float64),
        )
    if p.include_ppg:
        ppg_t, ppg_v = simulate_ppg(int(rng.integers(1 << 31)), start_ms=day_start_ms, hr_bpm=hr_model)
        keep = worn[np.clip((ppg_t - day_start_ms) // 1000, 0, DAY_S - 1)]
        series["ppg"] = (ppg_t[keep], ppg_v[keep])
    return _inject_data_faults(rng, series, f)


def _ground_truth(
    p: PatientProfile,
    day_start_ms: int,
    placed: _Placement,
    worn: BoolArray,
    hr_model: FloatArray,
    beats: RRSimulation,
    spo2: _SpO2,
    motion: _Motion,
) -> GroundTruth:
    """What the day really held, from the models (before device noise and faults)."""
    gait = motion.gait
    total_steps = sum(b.steps for b in gait.bouts)
    windows = sliding_window_view(np.where(worn, hr_model, -np.inf), 60).min(axis=1)
    best = float(windows.max())
    return GroundTruth(
        resting_hr=p.resting_hr,
        hr_t_ms=_ms(day_start_ms, np.arange(DAY_S).astype(np.float64)),
        hr_bpm=hr_model,
        rmssd_ms=beats.rmssd_ms,
        sdnn_ms=beats.sdnn_ms,
        ectopic_times_ms=tuple(int(x) for x in beats.ectopic_times_ms),
        steps=int(total_steps),
        cadence_spm=60.0 * total_steps / gait.walking_s if gait.walking_s > 0 else None,
        walking_bouts=tuple(sorted(gait.bouts, key=lambda bout: bout.start_ms)),
        step_times_ms=_ms(day_start_ms, gait.all_steps()),
        sessions=_truth_sessions(placed.sessions, hr_model, day_start_ms),
        desaturations=spo2.desaturations,
        minutes_below_90=float(np.count_nonzero((spo2.model < 90.0) & worn) / 60.0),
        falls_ms=tuple(sorted(int(x) for x in _ms(day_start_ms, np.array(motion.fall_times)))),
        hard_sitdowns_ms=tuple(int(x) for x in _ms(day_start_ms, np.array(motion.sit_times))),
        lie_downs_ms=tuple(int(x) for x in _ms(day_start_ms, np.array(motion.lie_times))),
        stumbles_ms=tuple(int(x) for x in _ms(day_start_ms, np.array(gait.stumbles))),
        wear_gaps=tuple((day_start_ms + round(a * 1000), day_start_ms + round(b * 1000)) for a, b in placed.gaps),
        wear_hours=float(np.count_nonzero(worn) / 3600.0),
        max_hr_sustained=best if np.isfinite(best) else None,
    )


def simulate_patient_day(
    seed: int,
    *,
    day_start_ms: int,
    profile: PatientProfile | None = None,
    faults: Faults | None = None,
) -> SimulatedDay:
    """One simulated patient-day (24 h from ``day_start_ms``) with its ground truth.

    The phases draw from one generator in a fixed order (so a seed gives the same day): placing
    the events, the heart-rate model, the motion (accel, knee angle or gyro), the beats, SpO2,
    the device's series; the ground truth draws nothing.
    """
    p = profile or PatientProfile()
    f = faults or Faults()
    rng = np.random.default_rng(seed)
    placed = _place_events(rng, p, f)
    worn = _worn_mask(placed.gaps)
    awake = _awake_mask(p)
    hr_model = _heart_rate_model(rng, p, placed, awake)
    motion = _simulate_motion(rng, p, placed, awake, day_start_ms, f.noise_scale)
    beats = _beats(
        rng,
        day_start_ms,
        hr_model,
        worn,
        rmssd_ms=p.rmssd_ms,
        resting_hr=p.resting_hr,
        ectopic_fraction=f.ectopic_fraction,
        missed_fraction=f.missed_beat_fraction,
    )
    spo2 = _simulate_spo2(rng, p, f, placed, worn, day_start_ms)
    series = _device_series(rng, p, f, day_start_ms, worn, hr_model, beats, spo2, motion)
    truth = _ground_truth(p, day_start_ms, placed, worn, hr_model, beats, spo2, motion)
    return SimulatedDay(day_start_ms=day_start_ms, series=series, truth=truth, profile=p, faults=f)


def _inject_data_faults(rng: np.random.Generator, series: dict[str, Series], f: Faults) -> dict[str, Series]:
    """NaN values and duplicated samples in the 1 Hz and accel series."""
    if f.nan_fraction <= 0 and f.duplicate_fraction <= 0:
        return series
    out = dict(series)
    for metric in ("heart_rate", "spo2", "accel"):
        if metric not in out:
            continue
        t, v = out[metric]
        v = v.copy()
        n = t.shape[0]
        if f.nan_fraction > 0 and n:
            v[rng.random(n) < f.nan_fraction] = np.nan
        if f.duplicate_fraction > 0 and n:
            dup = np.flatnonzero(rng.random(n) < f.duplicate_fraction)
            t = np.insert(t, dup, t[dup])
            v = np.insert(v, dup, v[dup], axis=0)
        out[metric] = (t, v)
    return out


# --------------------------------------------------------------------------- live stream


def simulate_stream(
    seed: int,
    start_ms: int,
    seconds: float,
    *,
    profile: PatientProfile | None = None,
    chunk_s: float = 5.0,
    event_every_s: float = 300.0,
) -> Iterator[StreamChunk]:
    """Chunks of ``chunk_s`` seconds for a live publisher: heart_rate and spo2 at 1 Hz, accel at
    50 Hz, rr_interval with a time per beat.

    The stream is built a minute at a time (resting or walking). On average every
    ``event_every_s`` seconds a minute carries an injected event: a desaturation (SpO2 6-10
    points down, below the rule for 15-30 s) or a fall (3-6 g impact, then lying still); the
    event is listed in the ``events`` of the chunk (spo2 or accel) in which it starts.
    """
    p = profile or PatientProfile()
    rng = np.random.default_rng(seed)
    fs = ACCEL_HZ
    block = 60
    mount = _rotation(rng)
    seated = _tilted_up(rng, 20.0)
    hr_now = p.resting_hr + p.awake_hr_offset
    phase_carry = 0.0
    n_blocks = int(np.ceil(seconds / block))
    chunk_n = max(1, round(chunk_s))
    for b in range(n_blocks):
        t0 = start_ms + b * block * 1000
        events: list[InjectedEvent] = []
        walking = bool(rng.random() < 0.35)
        roll = rng.random()
        p_event = block / event_every_s
        fall = (not walking) and roll < p_event / 2
        desat = (not fall) and roll < p_event
        # heart rate
        target = np.full(block, p.resting_hr + p.awake_hr_offset + (p.walking_hr_offset if walking else 0.0))
        target[0] = hr_now
        hr = _first_order(target, 30.0) + _ar1(rng, block, 0.5, 30.0)
        hr_now = float(hr[-1])
        # beats
        phase = phase_carry + np.concatenate(([0.0], np.cumsum(hr / 60.0)))
        k = np.arange(np.floor(phase[0]) + 1, np.floor(phase[-1]) + 1)
        beat_s = np.interp(k, phase, np.arange(block + 1, dtype=np.float64))
        phase_carry = float(phase[-1] - np.floor(phase[-1]))
        jitter = rng.normal(0, p.rmssd_ms / np.sqrt(6), k.shape[0])
        beat_ms = np.sort(np.round(beat_s * 1000 + jitter).astype(np.int64))
        rr_t = t0 + beat_ms[1:]
        rr_v = np.diff(beat_ms).astype(np.float64)
        # SpO2
        spo2 = p.spo2_baseline + rng.normal(0, 0.4, block)
        if desat:
            s, hold, depth = rng.uniform(5, 15), rng.uniform(12, 25), rng.uniform(6, 10)
            spo2 -= _dip(block, s, 6, hold, 6, depth)
            # the rule (4 points below baseline) holds from 6 * 4 / depth s into each ramp
            enter, leave = s + 24.0 / depth, s + 12.0 + hold - 24.0 / depth
            events.append(InjectedEvent("desaturation", t0 + round(enter * 1000), t0 + round(leave * 1000)))
        spo2 = np.clip(np.round(spo2), 50, 100)
        # accel
        n = block * int(fs)
        if walking:
            force, _, _ = _walk(rng, n, fs, rng.uniform(*p.cadence_spm), rng.uniform(*p.walking_amplitude_g))
        elif fall:
            lying = _LYING[rng.integers(0, 4)]
            fforce, at, _ = _fall(rng, fs, walking_before=False, cadence=100.0, lying=lying)
            force = np.tile(lying, (n, 1)) + rng.normal(0, 0.006, (n, 3))
            offset_n = int(rng.uniform(5, 20) * fs)
            m = min(fforce.shape[0], n - offset_n)
            force[:offset_n] = seated
            force[offset_n : offset_n + m] = fforce[:m]
            impact_ms = t0 + round((offset_n + at) * 1000 / fs)
            events.append(InjectedEvent("fall", impact_ms, impact_ms))
        else:
            force = seated + rng.normal(0, 0.01, (n, 3))
        accel = force @ mount.T + rng.normal(0, 0.01, (n, 3))
        # chunks
        for c in range(0, block, chunk_n):
            if b * block + c >= seconds:
                return
            c0 = t0 + c * 1000
            c1 = c0 + chunk_n * 1000
            evs = [e for e in events if c0 <= e.start_ms < c1]
            yield StreamChunk("heart_rate", c0, 1.0, np.round(hr[c : c + chunk_n]))
            desat_events = tuple(e for e in evs if e.kind == "desaturation")
            yield StreamChunk("spo2", c0, 1.0, spo2[c : c + chunk_n], events=desat_events)
            a0, a1 = int(c * fs), int((c + chunk_n) * fs)
            yield StreamChunk("accel", c0, fs, accel[a0:a1], events=tuple(e for e in evs if e.kind == "fall"))
            sel = (rr_t >= c0) & (rr_t < c1)
            if np.any(sel):
                yield StreamChunk("rr_interval", int(rr_t[sel][0]), None, rr_v[sel], t_ms=rr_t[sel])
