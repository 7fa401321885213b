"""Tables that drive the monitors from what ingestion committed, instead of a timer over every subject.

- ``monitor_inbox``: one row per subject per committed batch that brought it data (the time range and
  the metrics), written in the batch's own transaction, deleted by the monitor worker in the transaction
  that applied its rules. A row therefore exists exactly while its data awaits the monitors: nothing is
  missed if a worker dies, nothing is handled twice once handled.
- ``subject_activity``: the newest data time of each subject, so "who has sent nothing for hours" is one
  set-based query instead of a read per subject.
- ``day_blocks``: the partial day metrics of one subject's block of time (see `monitor.day_blocks`).
Every row carries its subject's ``partition`` (`store.state.partitions`), by which workers split the work.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from store.state.schema import Base, Json


class MonitorInbox(Base):
    __tablename__ = "monitor_inbox"
    __table_args__ = (Index("ix_monitor_inbox_partition_id", "partition", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    partition: Mapped[int] = mapped_column(SmallInteger)
    subject_type: Mapped[str] = mapped_column(String(20))  # patient | job
    subject: Mapped[str] = mapped_column(String(64))
    first_ms: Mapped[int] = mapped_column(BigInteger)  # data time of the earliest sample (or beacon/photo)
    last_ms: Mapped[int] = mapped_column(BigInteger)  # and of the newest
    metrics: Mapped[list[str]] = mapped_column(JSON)
    committed_ms: Mapped[int] = mapped_column(BigInteger)


class SubjectActivity(Base):
    __tablename__ = "subject_activity"
    __table_args__ = (Index("ix_subject_activity_partition_last", "partition", "last_ms"),)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    partition: Mapped[int] = mapped_column(SmallInteger)
    last_ms: Mapped[int] = mapped_column(BigInteger)  # newest data time of a presence metric
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class DayBlock(Base):
    __tablename__ = "day_blocks"
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # start of the block
    partial: Mapped[Json] = mapped_column(JSON)
    computed_ms: Mapped[int] = mapped_column(BigInteger)
