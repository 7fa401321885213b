"""Tables of the post-claim case (`cases/`): the case, its plan versions, outbox, recovery file, feedback, log.

Times are epoch milliseconds like every other table. Documents that the API hands back as they were
given (the claimant's profile, the payment, the loss) are JSON columns; what is filtered or grouped
on (line, state, links, shop, manager) is a column of its own with an index. Money is exact: decimal
strings in the payment document, `Numeric(14, 2)` columns in the recovery file (`cases/money.py`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.state.schema import Base, Json

_AUTO_ID = BigInteger().with_variant(Integer, "sqlite")
#: an amount of money in cents, exact (`cases/money.py`); up to 10^12 - 0.01
MONEY = Numeric(14, 2)


class Case(Base):
    """A paid claim and the services that hang on it, from payment to close.

    ``row_version`` is SQLAlchemy's optimistic lock: an update of a case read before another
    transaction changed it fails (StaleDataError) instead of overwriting that change.
    """

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(64), index=True)
    line: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # open | closed
    claimant: Mapped[Json] = mapped_column(JSON)
    payment: Mapped[Json] = mapped_column(JSON)
    loss: Mapped[Json] = mapped_column(JSON)
    paid_ms: Mapped[int] = mapped_column(BigInteger)
    loss_ms: Mapped[int | None] = mapped_column(BigInteger)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: the shops offered for the repair, ranked once at opening (a plan change picks among them)
    offers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: per plan item key: {"status": pending|active|done, "at_ms", "by", "note"}
    services: Mapped[Json] = mapped_column(JSON, default=dict)
    #: milestones reached (a feedback request was sent for each)
    milestones: Mapped[list[str]] = mapped_column(JSON, default=list)
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    notice: Mapped[Json] = mapped_column(JSON, default=dict)
    figures: Mapped[Json | None] = mapped_column(JSON)
    risk_report: Mapped[Json | None] = mapped_column(JSON)
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    closed_ms: Mapped[int | None] = mapped_column(BigInteger)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version}


class CasePlan(Base):
    """One version of a case's service plan: the items with their reasons and what changed from the last."""

    __tablename__ = "case_plans"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_case_plans_case_version"),)
    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[Any]] = mapped_column(JSON)
    omitted: Mapped[list[Any]] = mapped_column(JSON, default=list)
    preferences: Mapped[Json] = mapped_column(JSON, default=dict)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class CaseNotification(Base):
    """The transactional outbox: a message to the claimant, written with the change that caused it.

    ``seq`` orders a case's messages (the worker delivers them in order); ``id`` is the delivery id
    the gateway deduplicates on. ``dedup_key`` makes producers that may run twice (the event feed,
    the 30-day progress notice) idempotent.
    """

    __tablename__ = "case_notifications"
    __table_args__ = (Index("ix_case_notifications_due", "state", "next_attempt_ms"),)
    seq: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5))
    payload: Mapped[Json] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    state: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger)


class Subrogation(Base):
    """The recovery file against a liable third party (one per case)."""

    __tablename__ = "case_subrogations"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    third_party: Mapped[Json] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    claimed: Mapped[Decimal] = mapped_column(MONEY)
    interest_rate: Mapped[float] = mapped_column(Float)
    interest_from_ms: Mapped[int] = mapped_column(BigInteger)
    recovered: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    recovered_ms: Mapped[int | None] = mapped_column(BigInteger)
    deductible: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    deductible_refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    deadline_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    last_progress_ms: Mapped[int] = mapped_column(BigInteger)
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class SubrogationEvent(Base):
    """A step of the recovery file: a stage change, an amount claimed or a payment recovered."""

    __tablename__ = "case_subrogation_events"
    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(20))
    claimed: Mapped[Decimal | None] = mapped_column(MONEY)
    recovered: Mapped[Decimal | None] = mapped_column(MONEY)
    refund: Mapped[Decimal | None] = mapped_column(MONEY)
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(100))


class CaseFeedback(Base):
    """A claimant's survey answer after a milestone; attributed to the shop or manager that served it."""

    __tablename__ = "case_feedback"
    __table_args__ = (UniqueConstraint("case_id", "milestone", name="uq_case_feedback_case_milestone"),)
    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(40))
    satisfaction: Mapped[int] = mapped_column(Integer)
    would_recommend: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    line: Mapped[str] = mapped_column(String(20), index=True)
    shop_id: Mapped[str | None] = mapped_column(String(64), index=True)
    manager_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class CaseLogEntry(Base):
    """What happened to the case itself (opened, linked, a service done, closed), for its timeline."""

    __tablename__ = "case_log"
    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[Json] = mapped_column(JSON, default=dict)
    by: Mapped[str] = mapped_column(String(100))
