"""Safety rules: the days' metrics turned into :class:`AlertCandidate` objects.

Heart rate over the plan's cap, desaturation, fall, resting HR rising, HRV low, not worn; the
alert lifecycle elsewhere deduplicates them by (kind, subject, at_ms).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from monitor.rehab.plan import RehabPlanContent
from monitor.signals.daily import DayMetrics
from monitor.signals.heart import sustained_above
from monitor.signals.trend import theil_sen_trend
from store.state.alert_kinds import Severity

__all__ = [
    "ALERT_KINDS",
    "SAFETY_KINDS",
    "AlertCandidate",
    "SafetyThresholds",
    "desaturation_alerts",
    "fall_alerts",
    "hr_over_cap_alerts",
    "hrv_low_alert",
    "not_worn_alerts",
    "resting_hr_rising_alert",
    "safety_alerts",
]

logger = logging.getLogger(__name__)

MS_PER_DAY = 86_400_000
#: the kinds of the patient's body (not of the device) that make a plan adjustment a regression
SAFETY_KINDS = frozenset({"hr_over_cap", "desaturation", "fall", "resting_hr_rising", "hrv_low"})
ALERT_KINDS = SAFETY_KINDS | {"not_worn"}


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    """A condition that may need an alert: ``kind`` (see ``ALERT_KINDS``), the patient or
    device it is about, ``severity``, a message in numbers, when (epoch ms) and the value."""

    kind: str
    subject: str
    severity: Severity
    message: str
    at_ms: int
    value: float | None


@dataclass(frozen=True, slots=True)
class SafetyThresholds:
    """Tunable limits of the safety rules."""

    hr_over_cap_min_s: float = 60.0
    resting_hr_trend_days: int = 7
    resting_hr_min_days: int = 5
    resting_hr_slope_bpm_per_day: float = 0.5
    hrv_low_fraction: float = 0.7
    hrv_baseline_days: int = 14
    hrv_baseline_min_days: int = 3
    desaturation_critical_pct: float = 85.0


def hr_over_cap_alerts(
    plan: RehabPlanContent,
    days: Sequence[DayMetrics],
    *,
    subject: str,
    hr_series: tuple[ArrayLike, ArrayLike] | None = None,
    min_duration_s: float = 60.0,
) -> list[AlertCandidate]:
    """Heart rate above ``plan.medical.hr_cap_bpm`` for at least ``min_duration_s``.

    With the raw heart-rate series every episode is found; without it, a day whose
    ``max_hr_sustained`` (held 60 s) exceeds the cap raises one alert, which is only exact for
    ``min_duration_s <= 60``.
    """
    cap = plan.medical.hr_cap_bpm
    alerts: list[AlertCandidate] = []
    if hr_series is not None:
        for ep in sustained_above(*hr_series, cap, min_duration_s=min_duration_s):
            alerts.append(
                AlertCandidate(
                    kind="hr_over_cap",
                    subject=subject,
                    severity=Severity.WARNING,
                    message=f"heart rate above the {cap:.0f} bpm cap for {ep.duration_s:.0f} s "
                    f"(peak {ep.peak_bpm:.0f} bpm)",
                    at_ms=ep.start_ms,
                    value=ep.peak_bpm,
                )
            )
        return alerts
    if min_duration_s > 60:
        logger.warning("hr_over_cap for %s s needs the heart-rate series; day metrics hold 60 s", min_duration_s)
    for d in days:
        if d.max_hr_sustained is not None and d.max_hr_sustained > cap and d.max_hr_sustained_at_ms is not None:
            alerts.append(
                AlertCandidate(
                    kind="hr_over_cap",
                    subject=subject,
                    severity=Severity.WARNING,
                    message=f"heart rate held {d.max_hr_sustained:.0f} bpm for 60 s, above the {cap:.0f} bpm cap",
                    at_ms=d.max_hr_sustained_at_ms,
                    value=d.max_hr_sustained,
                )
            )
    return alerts


def desaturation_alerts(
    days: Sequence[DayMetrics], *, subject: str, critical_pct: float = 85.0
) -> list[AlertCandidate]:
    """One alert per desaturation event; critical when the nadir is below ``critical_pct``."""
    return [
        AlertCandidate(
            kind="desaturation",
            subject=subject,
            severity=Severity.CRITICAL if e.nadir_pct < critical_pct else Severity.WARNING,
            message=f"SpO2 down to {e.nadir_pct:.0f} % for {e.duration_s:.0f} s (baseline {e.baseline_pct:.0f} %)",
            at_ms=e.start_ms,
            value=e.nadir_pct,
        )
        for d in days
        for e in d.desaturations
    ]


def fall_alerts(days: Sequence[DayMetrics], *, subject: str) -> list[AlertCandidate]:
    """One critical alert per detected fall."""
    alerts = []
    for d in days:
        for f in d.falls:
            posture = (
                f", posture changed {f.orientation_change_deg:.0f} deg" if f.orientation_change_deg is not None else ""
            )
            alerts.append(
                AlertCandidate(
                    kind="fall",
                    subject=subject,
                    severity=Severity.CRITICAL,
                    message=f"fall detected: impact {f.peak_g:.1f} g, then lying still{posture}",
                    at_ms=f.at_ms,
                    value=f.peak_g,
                )
            )
    return alerts


def _day_x(days: Sequence[DayMetrics]) -> list[float]:
    """Day positions for trends: the day start in days, or the index when unknown."""
    return [d.day_start_ms / MS_PER_DAY if d.day_start_ms is not None else float(i) for i, d in enumerate(days)]


def resting_hr_rising_alert(
    days: Sequence[DayMetrics],
    *,
    subject: str,
    window_days: int = 7,
    min_days: int = 5,
    slope_bpm_per_day: float = 0.5,
) -> AlertCandidate | None:
    """Resting HR rising over the last ``window_days``: the lower bound of the 95 % confidence
    interval of the Theil-Sen slope exceeds ``slope_bpm_per_day`` (so the rise is not noise)."""
    recent = list(days)[-window_days:]
    pts = [(x, d.resting_hr) for x, d in zip(_day_x(recent), recent, strict=True) if d.resting_hr is not None]
    if len(pts) < min_days:
        return None
    trend = theil_sen_trend([p[0] for p in pts], [p[1] for p in pts])
    if trend is None or trend.slope_lo <= slope_bpm_per_day:
        return None
    last = recent[-1]
    return AlertCandidate(
        kind="resting_hr_rising",
        subject=subject,
        severity=Severity.WARNING,
        message=f"resting heart rate rising {trend.slope:+.1f} bpm/day over {len(pts)} days "
        f"(95 % CI {trend.slope_lo:+.1f} to {trend.slope_hi:+.1f})",
        at_ms=last.day_start_ms or 0,
        value=trend.slope,
    )


def hrv_low_alert(
    days: Sequence[DayMetrics],
    *,
    subject: str,
    baseline_rmssd_ms: float | None = None,
    fraction: float = 0.7,
    baseline_days: int = 14,
    baseline_min_days: int = 3,
) -> AlertCandidate | None:
    """The last day's RMSSD below ``fraction`` of the baseline: the one passed, or the median
    RMSSD of up to ``baseline_days`` earlier days (at least ``baseline_min_days``)."""
    if not days or days[-1].rmssd_ms is None:
        return None
    latest = days[-1].rmssd_ms
    if baseline_rmssd_ms is None:
        earlier = [d.rmssd_ms for d in list(days)[-baseline_days - 1 : -1] if d.rmssd_ms is not None]
        if len(earlier) < baseline_min_days:
            return None
        baseline_rmssd_ms = float(np.median(earlier))
    if latest >= fraction * baseline_rmssd_ms:
        return None
    return AlertCandidate(
        kind="hrv_low",
        subject=subject,
        severity=Severity.WARNING,
        message=f"HRV (RMSSD) {latest:.0f} ms is {100 * latest / baseline_rmssd_ms:.0f} % of the "
        f"{baseline_rmssd_ms:.0f} ms baseline (limit {100 * fraction:.0f} %)",
        at_ms=days[-1].day_start_ms or 0,
        value=latest,
    )


def not_worn_alerts(plan: RehabPlanContent, days: Sequence[DayMetrics], *, subject: str) -> list[AlertCandidate]:
    """Every stretch without data longer than ``plan.max_nonwear_hours``."""
    limit = plan.max_nonwear_hours
    return [
        AlertCandidate(
            kind="not_worn",
            subject=subject,
            severity=Severity.WARNING,
            message=f"no data for {g.hours:.1f} h (limit {limit:g} h)",
            at_ms=g.start_ms,
            value=g.hours,
        )
        for d in days
        for g in d.nonwear_gaps
        if g.hours > limit
    ]


def safety_alerts(
    plan: RehabPlanContent,
    days: Sequence[DayMetrics],
    *,
    subject: str,
    hr_series: tuple[ArrayLike, ArrayLike] | None = None,
    baseline_rmssd_ms: float | None = None,
    thresholds: SafetyThresholds | None = None,
) -> list[AlertCandidate]:
    """All safety rules over ``days`` (oldest first), sorted by time.

    Event rules (HR over cap, desaturation, fall, not worn) report every event of every day
    given; trend rules (resting HR rising, HRV low) judge the last days.
    """
    th = thresholds or SafetyThresholds()
    alerts = [
        *hr_over_cap_alerts(plan, days, subject=subject, hr_series=hr_series, min_duration_s=th.hr_over_cap_min_s),
        *desaturation_alerts(days, subject=subject, critical_pct=th.desaturation_critical_pct),
        *fall_alerts(days, subject=subject),
        *not_worn_alerts(plan, days, subject=subject),
    ]
    rising = resting_hr_rising_alert(
        days,
        subject=subject,
        window_days=th.resting_hr_trend_days,
        min_days=th.resting_hr_min_days,
        slope_bpm_per_day=th.resting_hr_slope_bpm_per_day,
    )
    low = hrv_low_alert(
        days,
        subject=subject,
        baseline_rmssd_ms=baseline_rmssd_ms,
        fraction=th.hrv_low_fraction,
        baseline_days=th.hrv_baseline_days,
        baseline_min_days=th.hrv_baseline_min_days,
    )
    alerts.extend(a for a in (rising, low) if a is not None)
    return sorted(alerts, key=lambda a: (a.at_ms, a.kind))
