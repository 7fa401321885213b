"""Which partitions of the subjects (`store.state.partitions`) this monitor worker may handle.

- PostgreSQL: session-level advisory locks, one per partition, on one dedicated connection. Each worker also
  holds a membership lock, so the number of live workers is read from ``pg_locks``; each takes its fair
  share (ceil(partitions / workers)) and hands back what it holds beyond it. A worker that dies (SIGKILL,
  lost network) loses its connection and with it every lock, at once: the others take its partitions on
  their next refresh. The worker's state transactions run on that same connection, so a worker whose
  connection (and thus whose leases) is gone cannot commit anything either: one subject's rules never
  run in two places.
- SQLite: one worker. An exclusive ``flock`` beside the database file; a second worker waits as a hot
  standby and takes over when the first one's lock is released (the OS releases it when the process dies).
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from store.state.engine import StateStore
from store.state.partitions import PARTITIONS

log = logging.getLogger(__name__)

MEMBER_CLASS = 0x41_4D  # "AM": advisory lock class of worker membership
PARTITION_CLASS = 0x41_50  # "AP": advisory lock class of partitions


class Leases(Protocol):
    def refresh(self) -> frozenset[int]:
        """Rebalance and return the partitions held now (empty when the store cannot be reached)."""
        ...

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that can commit only while the leases are held; committed on success."""
        ...

    def close(self) -> None: ...


class AdvisoryLeases:
    """`Leases` on PostgreSQL advisory locks (see module docstring)."""

    def __init__(self, state: StateStore, *, partitions: int = PARTITIONS) -> None:
        self.state = state
        self.partitions = partitions
        self.member = random.randrange(1, 2**31 - 1)
        self.held: set[int] = set()
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.state.engine.connect()
            conn.execute(text("SELECT pg_advisory_lock(:c, :k)"), {"c": MEMBER_CLASS, "k": self.member})
            conn.commit()
            self._conn = conn
            log.info("monitor worker %s joined", self.member)
        return self._conn

    def refresh(self) -> frozenset[int]:
        try:
            conn = self._connection()
            members = int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :c AND granted"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    ),
                    {"c": MEMBER_CLASS},
                ).scalar_one()
            )
            fair = math.ceil(self.partitions / max(1, members))
            for p in sorted(self.held, reverse=True)[: max(0, len(self.held) - fair)]:
                conn.execute(text("SELECT pg_advisory_unlock(:c, :p)"), {"c": PARTITION_CLASS, "p": p})
                self.held.discard(p)
            if len(self.held) < fair:
                start = self.member % self.partitions
                for i in range(self.partitions):
                    p = (start + i) % self.partitions
                    if p in self.held:
                        continue
                    if conn.execute(
                        text("SELECT pg_try_advisory_lock(:c, :p)"), {"c": PARTITION_CLASS, "p": p}
                    ).scalar_one():
                        self.held.add(p)
                        if len(self.held) >= fair:
                            break
            conn.commit()
        except SQLAlchemyError as exc:
            log.warning("monitor leases lost (%s); reconnecting", str(exc).splitlines()[0][:200])
            self._drop()
        return frozenset(self.held)

    @contextmanager
    def session(self) -> Iterator[Session]:
        conn = self._connection()
        with Session(bind=conn, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _drop(self) -> None:
        self.held.clear()
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError:
                log.debug("closing a broken lease connection", exc_info=True)
        self._conn = None

    def close(self) -> None:
        self._drop()  # closing the connection releases every lock


class FileLease:
    """`Leases` for SQLite: all partitions to the one worker holding an exclusive lock file.

    Its transactions begin IMMEDIATE (they take SQLite's write lock at once): a deferred one would read, then
    fail to upgrade to a writer whenever ingestion committed in between (SQLITE_BUSY_SNAPSHOT, which no
    busy timeout waits out), and at a hundred batches a second that is nearly every round.
    """

    def __init__(self, state: StateStore, lock_path: Path | None, *, partitions: int = PARTITIONS) -> None:
        self.state = state
        self.lock_path = lock_path
        self.partitions = partitions
        self._file: IO[bytes] | None = None
        self._standby_logged = False
        self._writer = StateStore(state.url, immediate=True)  # its own connections, IMMEDIATE transactions

    def refresh(self) -> frozenset[int]:
        if self.lock_path is None:  # an in-memory store: nobody else can reach it
            return frozenset(range(self.partitions))
        if self._file is None:
            f = self.lock_path.open("ab")
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                if not self._standby_logged:
                    log.info("another monitor worker holds %s; standing by", self.lock_path)
                    self._standby_logged = True
                return frozenset()
            os.chmod(self.lock_path, 0o600)
            self._file = f
        return frozenset(range(self.partitions))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._writer.session() as session:
            yield session

    def close(self) -> None:
        self._writer.close()
        if self._file is not None:
            self._file.close()  # releases the lock
            self._file = None


def leases_for(state: StateStore) -> Leases:
    dialect = state.engine.dialect.name
    if dialect == "postgresql":
        return AdvisoryLeases(state)
    database = state.engine.url.database
    return FileLease(state, Path(database + ".monitor-lock") if database and database != ":memory:" else None)
