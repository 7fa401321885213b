"""`INSERT ... ON CONFLICT DO NOTHING` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, silently skipping those whose unique key already exists."""
    if not rows:
        return
    # Core, not the ORM's bulk path: these are plain rows, and the ORM bookkeeping costs more than the insert
    session.connection().execute(_insert_ignore(session.get_bind().dialect.name, table), list(rows))


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, replacing the non-key columns of those whose key already exists."""
    if not rows:
        return
    stmt = _upsert(session.get_bind().dialect.name, table, tuple(keys), tuple(rows[0]))
    session.connection().execute(stmt, list(rows))


# The statements are built once per table and shape: building `excluded` proxies every column each time,
# which costs more than executing a one-row upsert.
@lru_cache(maxsize=128)
def _insert_ignore(dialect: str, table: Table) -> Any:
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)).on_conflict_do_nothing()


@lru_cache(maxsize=128)
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    ins: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    update = {c: ins.excluded[c] for c in columns if c not in keys}
    return ins.on_conflict_do_update(index_elements=list(keys), set_=update)
