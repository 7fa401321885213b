"""Pure rules of cases: recovery stages and amounts, delivery backoff and signature, the text tables."""

from __future__ import annotations

import random
import re
import string
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cases.errors import CaseConflict
from cases.outbox_worker import backoff_ms
from cases.risk_advice import TEXTS as ADVICE
from cases.risk_advice import cause_family
from cases.subrogation import STAGES, TRANSITIONS, check_transition, interest, limitation_deadline, refund_due
from cases.texts import TEXTS

DAY = 86_400_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("investigation", "evidence"),
        ("evidence", "demand"),
        ("demand", "negotiation"),
        ("negotiation", "settlement"),
        ("negotiation", "litigation"),
        ("litigation", "settlement"),
        ("settlement", "recovered"),
        ("recovered", "closed"),
        ("demand", "recovered"),
        ("investigation", "closed"),
    ],
)
def test_allowed_transitions(current: str, target: str) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("investigation", "demand"),
        ("evidence", "recovered"),
        ("recovered", "negotiation"),
        ("closed", "investigation"),
        ("settlement", "negotiation"),
        ("investigation", "investigation"),
    ],
)
def test_refused_transitions_name_what_is_allowed(current: str, target: str) -> None:
    with pytest.raises(CaseConflict, match=f"cannot go from {current} to {target}"):
        check_transition(current, target)


def test_every_stage_reaches_closed() -> None:
    for stage in STAGES:
        seen, todo = {stage}, [stage]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert "closed" in seen


def test_simple_interest_actual_365() -> None:
    assert interest(Decimal(10_000), 0.04, 0, 365 * DAY) == Decimal("400.00")
    assert interest(Decimal(10_000), 0.04, 0, 73 * DAY) == Decimal("80.00")
    assert interest(Decimal(10_000), 0.04, 5 * DAY, 0) == 0


def test_deductible_refunded_pro_rata_to_the_principal_recovered() -> None:
    # interest recovered on top of the principal refunds no more than the deductible
    assert refund_due(Decimal(500), Decimal(5000), Decimal(2500)) == Decimal(250)
    assert refund_due(Decimal(500), Decimal(5000), Decimal(5000)) == Decimal(500)
    assert refund_due(Decimal(500), Decimal(5000), Decimal(5200)) == Decimal(500)
    assert refund_due(Decimal(500), Decimal(5000), Decimal(0)) == 0.0
    assert refund_due(Decimal(0), Decimal(5000), Decimal(5000)) == 0.0


def test_limitation_deadline_is_years_after_the_loss() -> None:
    assert limitation_deadline(ms("2022-03-15T12:00:00+00:00"), 3) == ms("2025-03-15T12:00:00+00:00")
    assert limitation_deadline(ms("2024-02-29T00:00:00+00:00"), 3) == ms("2027-02-28T00:00:00+00:00")


def test_backoff_grows_exponentially_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_ms(n, base_ms=1000, max_ms=60_000, rng=rng) for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        nominal = min(60_000, 1000 * 2 ** (n - 1))
        assert 0.8 * nominal <= delay <= nominal
    assert max(delays) <= 60_000


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("table", [TEXTS, ADVICE], ids=["texts", "advice"])
def test_both_languages_have_every_template_with_the_same_placeholders(table: dict[str, dict[str, str]]) -> None:
    assert set(table["en"]) == set(table["zh"])
    for key, template in table["en"].items():
        assert _fields(template) == _fields(table["zh"][key]), key
        assert not re.search(r"[\u4e00-\u9fff]", template), f"Chinese in the English {key}"


@pytest.mark.parametrize(
    ("line", "cause", "family"),
    [
        ("property", "Kitchen fire", "fire"),
        ("property", "burst pipe", "water"),
        ("property", "burglary", "theft"),
        ("property", "hail storm", "storm"),
        ("property", "meteorite", "other"),
        ("motor", "hail", "storm"),
        ("motor", "rear-end collision", "collision"),
        ("motor", "collision with a deer", "animal"),
        ("health", "slipped on ice", "fall"),
        ("health", "football", "sport"),
        ("property", "厨房火灾", "fire"),
    ],
)
def test_causes_map_to_advice_families(line: str, cause: str, family: str) -> None:
    assert cause_family(line, cause) == family


def test_deadline_dates_are_utc() -> None:
    deadline = limitation_deadline(ms("2023-06-01T23:00:00-05:00"), 1)
    assert datetime.fromtimestamp(deadline / 1000, tz=UTC).date().isoformat() == "2024-06-02"
