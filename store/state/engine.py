"""Engines and sessions of the state store: SQLite (embedded) or PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from store.private_files import touch_private


class StateConfigError(ValueError):
    """AFTERCARE_STATE_URL names no engine we support."""


def normalize_url(url: str) -> str:
    """Accept the plain forms operators write and pick the driver we ship (psycopg 3)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    raise StateConfigError(f"AFTERCARE_STATE_URL={url!r}: expected sqlite:///path or postgresql://user@host/db")


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    """An engine for the URL; on SQLite, ``immediate`` makes every transaction take the write lock when it
    begins (for a writer that reads first: a deferred transaction fails to upgrade once another connection
    has committed meanwhile, and no busy timeout waits that out)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            touch_private(Path(path))  # 0600 before SQLite opens it; its -wal and -shm files take its mode
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        if immediate:
            connect_args["isolation_level"] = None  # SQLAlchemy's "begin" event below issues BEGIN itself
        engine = create_engine(url, connect_args=connect_args)
        if immediate:

            @event.listens_for(engine, "begin")
            def _begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class StateStore:
    """The state store: an engine plus a session factory. Repositories take a Session."""

    def __init__(self, url: str, *, immediate: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, immediate=immediate)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()
