"""Tables of the state store (SQLAlchemy 2 declarative), the same on SQLite and PostgreSQL.

Times are epoch milliseconds (BIGINT) everywhere, so both engines agree and nothing depends on a
server's time zone. Free-form documents (a plan's content, a vehicle) are JSON columns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Json = dict[str, Any]


class Base(DeclarativeBase):
    type_annotation_map = {Json: JSON, list[str]: JSON, list[Any]: JSON}


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    claim_id: Mapped[str | None] = mapped_column(String(64), index=True)
    manager_id: Mapped[str | None] = mapped_column(String(64), index=True)
    resting_hr: Mapped[float | None] = mapped_column(Float)
    max_hr: Mapped[float | None] = mapped_column(Float)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Shop(Base):
    __tablename__ = "shops"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    makes: Mapped[list[str]] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    severities: Mapped[list[str]] = mapped_column(JSON)
    certified: Mapped[bool] = mapped_column(Boolean, default=True)
    last_heartbeat_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Device(Base):
    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    shop_id: Mapped[str | None] = mapped_column(ForeignKey("shops.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class DeviceStatusRow(Base):
    __tablename__ = "device_status"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    battery: Mapped[float | None] = mapped_column(Float)
    firmware: Mapped[str | None] = mapped_column(String(64))
    at_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class RepairJob(Base):
    __tablename__ = "repair_jobs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(64), index=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"), index=True)
    vehicle: Mapped[Json] = mapped_column(JSON)
    severity: Mapped[str] = mapped_column(String(20))
    required_stages: Mapped[list[str]] = mapped_column(JSON)
    customer: Mapped[Json | None] = mapped_column(JSON)
    promised_ms: Mapped[int | None] = mapped_column(BigInteger)
    current_stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    predicted_ms: Mapped[int | None] = mapped_column(BigInteger)
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[Json] = mapped_column(JSON, default=dict)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class RepairEvent(Base):
    """A beacon as received; the job's timeline is the ordered list of these."""

    __tablename__ = "repair_events"
    __table_args__ = (UniqueConstraint("device_id", "seq", name="uq_repair_events_device_seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    shop_id: Mapped[str] = mapped_column(String(64), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str | None] = mapped_column(String(32))
    at_ms: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    processed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class PhotoRow(Base):
    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("device_id", "seq", name="uq_photos_device_seq"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    shop_id: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    taken_ms: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    checked: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    checks: Mapped[Json | None] = mapped_column(JSON)
    phash: Mapped[int | None] = mapped_column(BigInteger)
    phash_mirror: Mapped[int | None] = mapped_column(BigInteger)
    received_ms: Mapped[int] = mapped_column(BigInteger)


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="uq_plans_patient_version"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[Json] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class PlanAdjustment(Base):
    __tablename__ = "plan_adjustments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    base_version: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(20))
    changes: Mapped[list[Any]] = mapped_column(JSON)
    new_content: Mapped[Json] = mapped_column(JSON)
    rationale: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Alert(Base):
    """One alert of either half; at most one active (not resolved) per (kind, subject), which the partial
    unique index enforces whichever worker raises it."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_kind_subject_state", "kind", "subject", "state"),
        Index(
            "uq_alerts_one_active",
            "kind",
            "subject",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    shop_id: Mapped[str | None] = mapped_column(String(64), index=True)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[Json] = mapped_column(JSON, default=dict)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    opened_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    acked_by: Mapped[str | None] = mapped_column(String(100))
    resolved_ms: Mapped[int | None] = mapped_column(BigInteger)
    shelved_until_ms: Mapped[int | None] = mapped_column(BigInteger)
    shelve_reason: Mapped[str | None] = mapped_column(Text)


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    received_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    topic: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(64), index=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)


class DedupMark(Base):
    __tablename__ = "dedup_marks"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    manager_id: Mapped[str | None] = mapped_column(String(64))
    shop_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    expires_ms: Mapped[int | None] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class DailyMetrics(Base):
    __tablename__ = "daily_metrics"
    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD (UTC)
    metrics: Mapped[Json] = mapped_column(JSON)
    computed_ms: Mapped[int] = mapped_column(BigInteger)


class MonitorCursor(Base):
    """Where a monitor got to (per patient or job), so a restart resumes instead of rescanning."""

    __tablename__ = "monitor_cursors"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value_ms: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[Json] = mapped_column(JSON, default=dict)


class EventRow(Base):
    """The live event feed (`GET /events`): alerts, stage changes, adjustments, in commit order."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    patient_id: Mapped[str | None] = mapped_column(String(64))
    shop_id: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[Json] = mapped_column(JSON)
