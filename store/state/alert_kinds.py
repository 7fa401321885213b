"""The alert vocabulary: severities and every alert kind with its properties, in one table.

An alert row (`store.state.schema.Alert`) stores its ``kind``, ``severity`` and ``subject_type`` as
strings; their meanings live here, below every layer that raises, routes or shows alerts:

- ``severity``: how urgent the kind is when raised (a rule may grade one case higher, e.g. a
  desaturation below the critical level, a recovery deadline under 30 days);
- ``subject_type``: what the alert is about (a patient, a repair job, a shop, a post-claim case);
- ``late``: a delay the claimant should hear about (their repair is behind);
- ``fraud``: suspected fraud (a reused photo, a photo from elsewhere or another time);
- ``safety``: someone must act at once (a fall, a desaturation, a heart rate over the plan's cap);
- ``closed_by``: the roles (``api.auth.Role`` values) that may resolve or shelve an alert of the kind;
  ``None`` for any role that sees the alert and may act on it. The alerts about a shop's own quality or
  fraud are closed by claims staff only: the shop reads and acknowledges them, never dismisses them.

A kind missing here is unknown: `alert_kind` answers ``None`` and `severity_of` the default
``warning``, so a new rule works before it is listed (and `test_alert_kinds` lists what is missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class SubjectType(StrEnum):
    """What an alert is about; its ``subject`` is that resource's id."""

    PATIENT = "patient"
    JOB = "job"
    SHOP = "shop"
    CASE = "case"


@dataclass(frozen=True, slots=True)
class AlertKind:
    """One kind of alert: its name, urgency, subject, flags and labels by language (``en``, ``zh``)."""

    name: str
    severity: Severity
    subject_type: SubjectType
    label_en: str
    label_zh: str
    late: bool = False
    fraud: bool = False
    safety: bool = False
    closed_by: frozenset[str] | None = None

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


_P, _J, _S, _C = SubjectType.PATIENT, SubjectType.JOB, SubjectType.SHOP, SubjectType.CASE
_I, _W, _X = Severity.INFO, Severity.WARNING, Severity.CRITICAL
#: the staff roles (``api.auth.STAFF``, named here as strings: the store sits below the API)
STAFF_ROLES: Final = frozenset({"admin", "claims_handler"})
_STAFF = STAFF_ROLES

_TABLE: Final = (
    # rehabilitation (monitor.rehab_rules, monitor.rehab_monitor)
    AlertKind("desaturation", _X, _P, "Low blood oxygen", "血氧过低", safety=True),
    AlertKind("fall", _X, _P, "Fall", "跌倒", safety=True),
    AlertKind("hr_over_cap", _W, _P, "Heart rate over the plan's cap", "心率超过计划上限", safety=True),
    AlertKind("not_worn", _W, _P, "Wearable not worn", "未佩戴设备"),
    AlertKind("resting_hr_rising", _W, _P, "Resting heart rate rising", "静息心率上升"),
    AlertKind("hrv_low", _W, _P, "Low heart-rate variability", "心率变异性偏低"),
    # repair jobs (monitor.repair.rules, monitor.repair_monitor)
    AlertKind("stall", _W, _J, "Repair stalled", "维修停滞", late=True),
    AlertKind("long_hold", _W, _J, "Repair on hold too long", "维修暂停过久", late=True),
    AlertKind("sla_breach", _W, _J, "Repair past its promised date", "维修超过承诺日期", late=True),
    AlertKind("stage_skipped", _W, _J, "Stage skipped", "跳过维修阶段", closed_by=_STAFF),
    AlertKind("stage_backwards", _W, _J, "Stage went backwards", "维修阶段倒退", closed_by=_STAFF),
    AlertKind("missing_photo", _W, _J, "Checkpoint photo missing", "缺少检查点照片", closed_by=_STAFF),
    AlertKind("shop_offline", _W, _S, "Shop gateway offline", "维修厂网关离线"),
    AlertKind("courtesy_car", _I, _J, "Courtesy car due", "应提供代步车"),
    # checkpoint photos (monitor.photos, monitor.repair_monitor)
    AlertKind("photo_quality", _W, _J, "Poor photo quality", "照片质量差", closed_by=_STAFF),
    AlertKind("photo_reuse", _X, _J, "Photo reused", "照片重复使用", fraud=True, closed_by=_STAFF),
    AlertKind(
        "photo_location", _W, _J, "Photo taken away from the shop", "照片拍摄地点不符", fraud=True, closed_by=_STAFF
    ),
    AlertKind("photo_time", _W, _J, "Photo time does not match", "照片拍摄时间不符", fraud=True, closed_by=_STAFF),
    # post-claim cases (cases.subrogation)
    AlertKind("subrogation_deadline", _W, _C, "Recovery deadline near", "追偿时效临近"),
)

ALERT_KINDS: Final[Mapping[str, AlertKind]] = MappingProxyType({k.name: k for k in _TABLE})
#: the severity each kind is raised with, by kind name
SEVERITY_OF_KIND: Final[Mapping[str, Severity]] = MappingProxyType({k.name: k.severity for k in _TABLE})
LATE_KINDS: Final = frozenset(k.name for k in _TABLE if k.late)
FRAUD_KINDS: Final = frozenset(k.name for k in _TABLE if k.fraud)
SAFETY_KINDS: Final = frozenset(k.name for k in _TABLE if k.safety)


def alert_kind(name: str) -> AlertKind | None:
    """The kind named ``name``, or ``None`` for a kind not in the table."""
    return ALERT_KINDS.get(name)


def severity_of(name: str) -> Severity:
    """The severity ``name`` is raised with (``warning`` for a kind not in the table)."""
    return SEVERITY_OF_KIND.get(name, Severity.WARNING)


def may_close(name: str, role: str) -> bool:
    """Whether ``role`` may resolve or shelve an alert of kind ``name`` that it sees: the kind's ``closed_by``
    (any role that sees it when None). A kind missing from the table is closed by staff only (fail closed: a new
    fraud rule somebody forgot to list is never closable by the shop it is about)."""
    kind = ALERT_KINDS.get(name)
    if kind is None:
        return role in STAFF_ROLES
    return kind.closed_by is None or role in kind.closed_by


def is_late(name: str) -> bool:
    """Whether an alert of this kind means a delay the claimant should hear about."""
    return name in LATE_KINDS
