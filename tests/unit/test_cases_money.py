"""Money is exact: amounts in cents as Decimals, components that add up exactly, stored and read back unchanged."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from api.schemas.cases import NoticePublic, SubrogationStepPublic
from cases.inputs import Payment
from cases.money import money_number, payment_for_json, to_money, total
from cases.notice import build_notice
from cases.subrogation import interest, refund_due
from cases.texts import money

PAID_AT = "2025-01-03T10:00:00+08:00"


def payment(amount: Any, parts: list[Any], deductible: Any = 0) -> Payment:
    return Payment.model_validate(
        {
            "amount": amount,
            "currency": "EUR",
            "method": "bank_transfer",
            "paid_at": PAID_AT,
            "deductible": deductible,
            "components": [{"item": f"part {i}", "amount": a} for i, a in enumerate(parts)],
        }
    )


def test_float_components_that_add_up_in_cents_are_accepted_exactly() -> None:
    # 0.1 + 0.2 != 0.3 and ten times 0.1 != 1.0 in binary floating point; in cents they add up
    assert 0.1 + 0.2 != 0.3
    paid = payment(0.3, [0.1, 0.2])
    assert paid.amount == Decimal("0.30")
    assert [c.amount for c in paid.components] == [Decimal("0.10"), Decimal("0.20")]
    assert payment(1.0, [0.1] * 10).amount == Decimal("1.00")
    assert payment("1000000.01", ["999999.99", "0.02"]).amount == Decimal("1000000.01")


@pytest.mark.parametrize(
    ("amount", "parts", "message"),
    [
        (100, ["33.33", "33.33", "33.33"], "components add up to 99.99, not the amount 100.00"),
        (10, [5, 5.01], "components add up to 10.01, not the amount 10.00"),
    ],
)
def test_components_off_by_a_cent_are_refused(amount: Any, parts: list[Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        payment(amount, parts)


@pytest.mark.parametrize(
    ("given", "cents"),
    [
        (12.345, "12.34"),
        (12.355, "12.36"),
        ("0.005", "0.00"),
        ("0.015", "0.02"),  # banker's rounding to the cent
        (4500, "4500.00"),
        ("99999999999.99", "99999999999.99"),
        (0.1, "0.10"),
    ],
)
def test_amounts_are_quantised_to_cents(given: Any, cents: str) -> None:
    assert to_money(given) == Decimal(cents)
    assert str(to_money(given)) == cents


@pytest.mark.parametrize("bad", [-0.01, "NaN", "Infinity", 1e12, "abc"])
def test_bad_amounts_are_refused(bad: Any) -> None:
    with pytest.raises(ValidationError):
        payment(bad, [bad])


def test_stored_payment_holds_strings_and_reads_back_exactly() -> None:
    paid = payment("4500.10", ["3000.05", "1500.05"], deductible="300")
    doc = paid.document()
    assert (doc["amount"], doc["deductible"]) == ("4500.10", "300.00")
    assert [c["amount"] for c in doc["components"]] == ["3000.05", "1500.05"]
    assert doc["paid_at"] == "2025-01-03T10:00:00+08:00"
    stored = json.loads(json.dumps(doc))  # a JSON column round trip
    assert total([to_money(c["amount"]) for c in stored["components"]]) == to_money(stored["amount"])
    answered = payment_for_json(stored)
    assert (answered["amount"], answered["deductible"]) == (4500.1, 300.0)
    assert [c["amount"] for c in answered["components"]] == [3000.05, 1500.05]


def test_answers_carry_money_as_json_numbers() -> None:
    step = SubrogationStepPublic(
        at_ms=1,
        from_stage=None,
        stage="demand",
        claimed=Decimal("9100.10"),
        recovered=None,
        refund=Decimal("0.30"),
        note=None,
        by="x",
    )
    assert json.loads(step.model_dump_json())["claimed"] == 9100.1
    assert json.loads(step.model_dump_json())["refund"] == 0.3
    assert money_number(Decimal("99999999999.99")) == 99999999999.99


def test_money_text_is_the_same_for_a_float_a_decimal_and_a_stored_string() -> None:
    assert money(4500.0, "EUR") == money(Decimal("4500.00"), "EUR") == money("4500.00", "EUR") == "4,500.00 EUR"
    assert money("1234567.5", "CNY") == "1,234,567.50 CNY"
    assert money(Decimal(0), "CNY") == "0.00 CNY"


def _case(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "K1",
        "claim_id": "CL-1",
        "line": "motor",
        "payment": doc,
        "claimant": {"name": "Ann Lee", "age": 45, "language": "en", "lat": 31.2, "lon": 121.4},
        "loss": {"cause": "collision", "severity": "moderate"},
    }


def test_notice_of_a_stored_payment_reads_as_before() -> None:
    new = payment("4500", ["3000", "1500"], deductible="300").document()
    legacy = {
        **new,
        "amount": 4500.0,
        "deductible": 300.0,
        "components": [{**c, "amount": float(c["amount"])} for c in new["components"]],
    }
    notice, before = build_notice(_case(new), [], "en"), build_notice(_case(legacy), [], "en")
    assert notice == before
    assert "We have paid 4,500.00 EUR" in notice["why"]
    assert "Your deductible of 300.00 EUR was not part of this payment." in notice["text"]
    assert [c["amount"] for c in notice["components"]] == [3000.0, 1500.0]
    assert NoticePublic.model_validate(notice).amount == Decimal("4500.00")
    no_deductible = build_notice(_case(payment("10", ["10"]).document()), [], "en")
    assert "deductible" not in no_deductible["text"]


def test_pro_rata_refunds_lose_no_cent() -> None:
    deductible, claimed = Decimal("100.00"), Decimal("300.00")
    refunded = Decimal("0.00")
    recovered = Decimal("0.00")
    for part in (Decimal("100.00"), Decimal("100.00"), Decimal("100.00")):  # a third each: 33.33, 33.34, 33.33
        recovered += part
        step = refund_due(deductible, claimed, recovered) - refunded
        refunded += step
    assert refunded == deductible
    assert refund_due(deductible, claimed, Decimal("500.00")) == deductible  # never more than the deductible
    assert refund_due(Decimal("0.00"), claimed, recovered) == Decimal("0.00")


def test_interest_is_simple_yearly_in_cents() -> None:
    year_ms = 365 * 86_400_000
    assert interest(Decimal("9100.00"), 0.04, 0, year_ms) == Decimal("364.00")
    assert interest(Decimal("1000.00"), 0.05, 0, year_ms // 2) == Decimal("25.00")
    assert interest(Decimal("1000.00"), 0.04, year_ms, 0) == Decimal("0.00")
