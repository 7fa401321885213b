"""Alembic environment: runs migrations on the connection handed over by `store.state.migrate`."""

from __future__ import annotations

from alembic import context

from store.state.schema_all import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the command-line alembic path
    raise RuntimeError("run migrations through `aftercare migrate` (store.state.migrate.upgrade)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
