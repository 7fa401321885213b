"""`aftercare_monitor_alerts_raised_total{kind}` counts alerts whose opening was committed, once each.

On PostgreSQL: with pysqlite's default transaction handling the savepoint `raise_alert` opens is the first
statement of its transaction and its release commits at once, so a later rollback cannot undo the alert there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from monitor.alerts import AlertInput, raise_alert
from store.state.engine import StateStore
from store.state.migrate import upgrade

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_state(pg_url: str) -> Iterator[StateStore]:
    store = StateStore(pg_url)
    upgrade(store.engine)
    yield store
    store.close()


def _fall(subject: str) -> AlertInput:
    return AlertInput(
        kind="fall", subject=subject, subject_type="patient", severity="critical", message="fall", at_ms=1_000
    )


def _raised(kind: str) -> float:
    value = REGISTRY.get_sample_value("aftercare_monitor_alerts_raised_total", {"kind": kind})
    return value or 0.0


def test_an_opened_alert_is_counted_once_and_a_recurrence_is_not(pg_state: StateStore) -> None:
    before = _raised("fall")
    with pg_state.session() as s:
        _alert, opened = raise_alert(s, _fall("P-counted"))
        assert opened
    assert _raised("fall") == before + 1
    with pg_state.session() as s:
        _alert, opened = raise_alert(s, _fall("P-counted"))  # the same condition again: occurrences + 1
        assert not opened
    assert _raised("fall") == before + 1


def test_an_alert_whose_transaction_rolls_back_is_not_counted(pg_state: StateStore) -> None:
    before = _raised("fall")

    def failing_round() -> None:
        with pg_state.session() as s:
            raise_alert(s, _fall("P-rolled-back"))
            raise RuntimeError("the round failed after raising")

    with pytest.raises(RuntimeError):
        failing_round()
    assert _raised("fall") == before
    with pg_state.session() as s:
        raise_alert(s, _fall("P-rolled-back"))  # opened again, for real this time
    assert _raised("fall") == before + 1
