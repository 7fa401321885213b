"""The payment notice: what was paid and why, when it arrives, and what the claimant is entitled to next.

Arrival follows the payment method: an instant payment within minutes, a bank transfer in 1 to 2
business days, a cheque in 5 to 7, counting business days in the time zone the payment time was
given in and skipping Saturdays and Sundays (a payment made on a weekend starts counting on Monday)
and the public holidays of the banking calendar of the payment's currency (`BANK_CALENDARS`, from the
``holidays`` package: CNY follows China's statutory holidays, EUR the TARGET2 closing days, USD the
Federal Reserve's, ...). A currency without a calendar here counts weekends only, and the notice says so.
China's make-up working weekends are not counted as business days (``holidays`` does not list them), so
an estimate can be a day late, never early.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import holidays

from cases.money import money_number, to_money
from cases.texts import day_text, money, say, time_text

#: method -> (earliest, latest) business days; instant payments arrive within INSTANT_MINUTES
BUSINESS_DAYS: Final[dict[str, tuple[int, int]]] = {"bank_transfer": (1, 2), "cheque": (5, 7)}
INSTANT_MINUTES: Final = 15


#: currency -> ("country" | "financial", code, subdivision): whose closing days delay a transfer in it
BANK_CALENDARS: Final[dict[str, tuple[str, str, str | None]]] = {
    "CNY": ("country", "CN", None),
    "EUR": ("financial", "TAR", None),
    "USD": ("financial", "FED", None),
    "GBP": ("country", "GB", "ENG"),
    "JPY": ("country", "JP", None),
    "HKD": ("country", "HK", None),
    "SGD": ("country", "SG", None),
    "AUD": ("country", "AU", None),
    "CAD": ("country", "CA", None),
    "CHF": ("country", "CH", None),
    "KRW": ("country", "KR", None),
    "INR": ("country", "IN", None),
}


@lru_cache(maxsize=32)
def bank_holidays(currency: str) -> holidays.HolidayBase | None:
    """The closing days (all years, filled in as asked) of `currency`'s banking calendar; None if unknown."""
    spec = BANK_CALENDARS.get(currency)
    if spec is None:
        return None
    kind, code, subdiv = spec
    if kind == "financial":
        return holidays.financial_holidays(code)
    return holidays.country_holidays(code, subdiv=subdiv)


def add_business_days(start: date, days: int, closed: Container[date] = ()) -> date:
    """The date `days` business days (Monday to Friday, not in `closed`) after `start`."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in closed:
            left -= 1
    return current


def arrival_window(
    method: str, paid_at: datetime, currency: str | None = None
) -> tuple[datetime | date, datetime | date]:
    """When the money should reach the claimant: instants for an instant payment, dates otherwise."""
    if method == "instant":
        return paid_at, paid_at + timedelta(minutes=INSTANT_MINUTES)
    lo, hi = BUSINESS_DAYS[method]
    calendar = bank_holidays(currency) if currency else None  # (empty until asked: never test it for truth)
    closed: Container[date] = () if calendar is None else calendar
    return add_business_days(paid_at.date(), lo, closed), add_business_days(paid_at.date(), hi, closed)


def build_notice(case: dict[str, Any], plan_items: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The notice of a case (its stored fields: id, claim_id, line, claimant, payment, loss) in `lang`."""
    claimant, payment, loss = case["claimant"], case["payment"], case["loss"]
    paid_at = datetime.fromisoformat(payment["paid_at"])
    currency = payment["currency"]
    amount, deductible = to_money(payment["amount"]), to_money(payment.get("deductible") or 0)
    method = say(lang, f"method.{payment['method']}")
    why = say(
        lang,
        "notice.why",
        amount=money(amount, currency),
        line=say(lang, f"line.{case['line']}"),
        claim_id=case["claim_id"],
        cause=loss["cause"],
        severity=say(lang, f"severity.{loss['severity']}"),
        method=method,
        paid_date=day_text(paid_at.date(), lang),
    )
    components = []
    for c in payment["components"]:
        key = "notice.component_note" if c.get("note") else "notice.component"
        part = to_money(c["amount"])
        components.append(
            {
                "item": c["item"],
                "amount": money_number(part),
                "text": say(lang, key, item=c["item"], amount=money(part, currency), note=c.get("note") or ""),
            }
        )
    earliest, latest = arrival_window(payment["method"], paid_at, currency)
    if payment["method"] == "instant":
        assert isinstance(latest, datetime)
        arrival_text = say(lang, "notice.arrival_instant", latest=time_text(latest, lang))
    else:
        lo, hi = BUSINESS_DAYS[payment["method"]]
        key = "notice.arrival_days" if currency in BANK_CALENDARS else "notice.arrival_days_weekends"
        arrival_text = say(
            lang,
            key,
            method=method,
            earliest=day_text(_day(earliest), lang),
            latest=day_text(_day(latest), lang),
            lo=lo,
            hi=hi,
        )
    entitlements = [_entitlement(item, lang) for item in plan_items]
    title = say(lang, "notice.title", claim_id=case["claim_id"])
    greeting = say(lang, "notice.greeting", name=claimant["name"])
    lines = [title, "", greeting, why]
    if deductible:
        lines.append(say(lang, "notice.deductible", amount=money(deductible, currency)))
    lines += [
        "",
        say(lang, "notice.components"),
        *[c["text"] for c in components],
        "",
        arrival_text,
        "",
        say(lang, "notice.next"),
    ]
    lines += [say(lang, "notice.entitlement", title=e["title"], text=e["text"]) for e in entitlements] or [
        say(lang, "notice.none")
    ]
    lines += ["", say(lang, "notice.contact", channel=say(lang, f"channel.{claimant.get('channel', 'app')}"))]
    return {
        "case_id": case["id"],
        "claim_id": case["claim_id"],
        "language": lang,
        "title": title,
        "greeting": greeting,
        "why": why,
        "amount": money_number(amount),
        "currency": currency,
        "method": payment["method"],
        "paid_at": payment["paid_at"],
        "components": components,
        "arrival": {
            "method": payment["method"],
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
            "text": arrival_text,
        },
        "entitlements": entitlements,
        "text": "\n".join(lines),
    }


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _entitlement(item: dict[str, Any], lang: str) -> dict[str, str]:
    details = item.get("details") or {}
    if item["key"] == "extended_warranty":
        text = say(lang, "entitle.warranty", months=details.get("months"), base=details.get("base_months"))
    elif item["key"] == "courtesy_car":
        text = say(lang, "entitle.courtesy_car")
    else:
        text = item["reason"]
    return {"key": item["key"], "title": item["title"], "text": text}
