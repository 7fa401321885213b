"""Migration 0002: a first-release state store (money in Float columns) keeps its amounts, exactly, as Numeric."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Float, MetaData, Numeric, inspect, select

from store.state.engine import StateStore
from store.state.migrate import _SCRIPTS, upgrade
from store.state.schema_all import metadata
from store.state.schema_cases import Subrogation, SubrogationEvent

pytestmark = pytest.mark.integration
MONEY = {
    "case_subrogations": ("claimed", "recovered", "deductible", "deductible_refunded"),
    "case_subrogation_events": ("claimed", "recovered", "refund"),
}


def _first_release(store: StateStore) -> None:
    """The tables as release 1 made them (money as Float), stamped at revision 0001."""
    old = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(old)
        for name in MONEY.get(table.name, ()):
            copy.c[name].type = Float()
    old.create_all(store.engine)
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "0001")


def test_float_amounts_become_exact_numeric(state_url: str) -> None:
    store = StateStore(state_url)
    try:
        _first_release(store)
        assert all(
            isinstance(c["type"], Float)
            for c in inspect(store.engine).get_columns("case_subrogations")
            if c["name"] == "claimed"
        )
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO cases (id, claim_id, line, state, claimant, payment, loss, paid_ms, offers, services, "
                "milestones, plan_version, notice, opened_by, opened_ms, updated_ms, row_version) VALUES ('K1', 'C1', "
                "'motor', 'open', '{}', '{}', '{}', 0, '[]', '{}', '[]', 1, '{}', 'x', 0, 0, 1)"
            )
            conn.exec_driver_sql(
                "INSERT INTO case_subrogations (case_id, stage, third_party, currency, claimed, interest_rate, "
                "interest_from_ms, recovered, deductible, deductible_refunded, deadline_ms, last_progress_ms, "
                "opened_by, opened_ms, updated_ms) VALUES ('K1', 'demand', '{}', 'CNY', 9100.1, 0.04, 0, 4550.07, "
                "300.3, 150.15, 1, 0, 'x', 0, 0)"
            )
            conn.exec_driver_sql(
                "INSERT INTO case_subrogation_events (case_id, at_ms, stage, claimed, recovered, refund, by) "
                "VALUES ('K1', 1, 'settlement', NULL, 0.1, 0.2, 'x')"
            )
        upgrade(store.engine)
        for table, names in MONEY.items():
            types = {c["name"]: c["type"] for c in inspect(store.engine).get_columns(table)}
            assert all(isinstance(types[n], Numeric) and not isinstance(types[n], Float) for n in names), types
        with store.session() as session:
            file = session.execute(select(Subrogation)).scalar_one()
            step = session.execute(select(SubrogationEvent)).scalar_one()
            amounts = (file.claimed, file.recovered, file.deductible, file.deductible_refunded)
            assert amounts == (Decimal("9100.10"), Decimal("4550.07"), Decimal("300.30"), Decimal("150.15"))
            assert all(isinstance(a, Decimal) for a in amounts)
            assert (step.claimed, step.recovered, step.refund) == (None, Decimal("0.10"), Decimal("0.20"))
            assert sum((step.recovered or 0, step.refund or 0), Decimal(0)) == Decimal("0.30")
    finally:
        store.close()
