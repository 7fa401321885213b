"""Money: exact `Decimal` amounts in cents, from the request to the state store and back.

Every amount is quantised to cents (`CENT`, banker's rounding), the unit the payment notice and the
components' sum have always used, so components add up to the amount exactly or not at all.
Where money rests:

- the payment document of a case (`cases.payment`, JSON): amounts as decimal strings (``"1234.50"``),
  written by `Payment.document` and read back exactly by `to_money` (a number written by an older
  release reads back exactly too);
- the recovery file (`case_subrogations`, `case_subrogation_events`): `Numeric(14, 2)` columns;
- documents handed out (API answers, the notice, webhook data, timeline and log data, alert details):
  JSON numbers (`money_number`), as the dashboards and the insurer's webhook read them. Up to
  `MAX_AMOUNT` an amount in cents has at most 15 significant digits, so the number is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Final

from pydantic import AfterValidator, Field, PlainSerializer

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")
MAX_AMOUNT: Final = Decimal("1e11")

#: the amounts of a stored payment document
PAYMENT_AMOUNTS: Final = ("amount", "deductible")


def to_money(value: Decimal | float | str) -> Decimal:
    """An amount as a `Decimal` in cents; a float reads as its shortest repr (0.1 is 0.10, not 0.100000000000000005)."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_text(value: Decimal) -> str:
    """The stored form of an amount: ``"1234.50"``."""
    return str(to_money(value))


def money_number(value: Decimal) -> float:
    """An amount as a JSON number for the documents handed out (exact up to `MAX_AMOUNT`)."""
    return float(to_money(value))


def optional_number(value: Decimal | None) -> float | None:
    return None if value is None else money_number(value)


def total(amounts: list[Decimal]) -> Decimal:
    """The exact sum of amounts (`sum` of Decimals, starting at 0.00)."""
    return sum(amounts, ZERO)


def payment_for_json(payment: Mapping[str, Any]) -> dict[str, Any]:
    """A stored payment document with its amounts as JSON numbers (what the API answers)."""
    out = dict(payment)
    for key in PAYMENT_AMOUNTS:
        if out.get(key) is not None:
            out[key] = money_number(to_money(out[key]))
    if "components" in out:
        out["components"] = [{**c, "amount": money_number(to_money(c["amount"]))} for c in out["components"]]
    return out


#: an amount in a request or an answer: a Decimal in cents, a JSON number on the wire
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False),
    AfterValidator(to_money),
    PlainSerializer(money_number, return_type=float, when_used="json"),
]
