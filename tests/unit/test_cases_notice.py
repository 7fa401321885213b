"""The payment notice: business-day arrival windows, component breakdown, entitlements, both languages."""

# The Chinese texts use full-width punctuation on purpose.
# ruff: noqa: RUF001
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cases.notice import add_business_days, arrival_window, build_notice
from cases.plan_rules import CaseFacts, generate

OFFERS = [{"shop_id": "S1", "name": "North Garage", "score": 0.8, "distance_km": 2.0, "reasons": []}]


def case(
    method: str = "bank_transfer",
    paid_at: str = "2025-01-03T10:00:00+08:00",
    language: str = "en",
    drivable: bool = False,
) -> dict[str, object]:
    return {
        "id": "K1",
        "claim_id": "CL-1",
        "line": "motor",
        "claimant": {
            "name": "Ann Lee",
            "age": 45,
            "language": language,
            "lat": 31.2,
            "lon": 121.4,
            "mobility": "normal",
            "channel": "email",
        },
        "payment": {
            "amount": 4500.0,
            "currency": "EUR",
            "method": method,
            "paid_at": paid_at,
            "deductible": 300.0,
            "components": [
                {"item": "Bodywork", "amount": 3000.0, "note": "front bumper and wing"},
                {"item": "Paint", "amount": 1500.0, "note": None},
            ],
        },
        "loss": {
            "cause": "rear-end collision",
            "severity": "moderate",
            "third_party_liable": True,
            "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": drivable},
        },
    }


def items(data: dict[str, object]) -> list[dict[str, object]]:
    facts = CaseFacts.of(data["claimant"], data["loss"], "motor")  # type: ignore[arg-type]
    return generate(facts, {}, OFFERS).items


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2025, 1, 1), 1, date(2025, 1, 2)),  # Wednesday -> Thursday
        (date(2025, 1, 3), 1, date(2025, 1, 6)),  # Friday -> Monday
        (date(2025, 1, 3), 2, date(2025, 1, 7)),  # Friday -> Tuesday
        (date(2025, 1, 4), 1, date(2025, 1, 6)),  # Saturday -> Monday
        (date(2025, 1, 5), 2, date(2025, 1, 7)),  # Sunday -> Tuesday
        (date(2025, 1, 2), 5, date(2025, 1, 9)),  # Thursday -> next Thursday
        (date(2025, 1, 2), 7, date(2025, 1, 13)),  # Thursday -> the Monday after next
    ],
)
def test_business_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert add_business_days(start, days) == expected


def test_arrival_windows_per_method() -> None:
    friday = datetime.fromisoformat("2025-01-03T10:00:00+08:00")
    assert arrival_window("bank_transfer", friday) == (date(2025, 1, 6), date(2025, 1, 7))
    assert arrival_window("cheque", friday) == (date(2025, 1, 10), date(2025, 1, 14))
    lo, hi = arrival_window("instant", friday)
    assert lo == friday
    assert hi == friday + timedelta(minutes=15)


def test_dates_follow_the_payment_time_zone() -> None:
    # Friday 23:30 in New York is already Saturday in UTC: counting starts from the local Friday.
    late_friday = datetime.fromisoformat("2025-01-03T23:30:00-05:00")
    assert arrival_window("bank_transfer", late_friday) == (date(2025, 1, 6), date(2025, 1, 7))


def test_english_notice_says_what_why_when_and_what_next() -> None:
    data = case()
    notice = build_notice(data, items(data), "en")
    assert notice["language"] == "en"
    assert notice["components"] == [
        {"item": "Bodywork", "amount": 3000.0, "text": "- Bodywork: 3,000.00 EUR (front bumper and wing)"},
        {"item": "Paint", "amount": 1500.0, "text": "- Paint: 1,500.00 EUR"},
    ]
    assert "4,500.00 EUR" in notice["why"]
    assert "rear-end collision" in notice["why"]
    assert notice["arrival"]["earliest"] == "2025-01-06"
    assert notice["arrival"]["latest"] == "2025-01-07"
    assert "Monday 6 January 2025" in notice["arrival"]["text"]
    assert "Tuesday 7 January 2025" in notice["arrival"]["text"]
    keys = [e["key"] for e in notice["entitlements"]]
    assert keys == ["repair", "courtesy_car", "extended_warranty"]
    warranty = notice["entitlements"][2]["text"]
    assert "36-month" in warranty
    assert "24 months" in warranty
    assert "courtesy car" in notice["entitlements"][1]["text"]
    assert "300.00 EUR" in notice["text"]
    assert notice["text"].startswith("Payment notice for your claim CL-1")
    assert "by email" in notice["text"]


def test_chinese_notice() -> None:
    data = case(method="cheque", language="zh", drivable=True)
    notice = build_notice(data, items(data), "zh")
    assert notice["title"] == "理赔 CL-1 付款通知"
    assert "2025年1月10日（星期五）" in notice["arrival"]["text"]
    assert "2025年1月14日（星期二）" in notice["arrival"]["text"]
    assert "支票" in notice["text"]
    assert "代步车" not in notice["text"]
    assert "维修保修36个月" in notice["text"]


def test_instant_payment_arrives_within_minutes() -> None:
    data = case(method="instant", paid_at="2025-01-04T09:00:00+00:00")
    notice = build_notice(data, items(data), "en")
    assert "within minutes" in notice["arrival"]["text"]
    assert "09:15" in notice["arrival"]["text"]
    assert notice["arrival"]["latest"] == "2025-01-04T09:15:00+00:00"


def test_bank_holidays_of_the_currency_are_skipped() -> None:
    # Paid on Wednesday 30 September 2026 in CNY: 1-8 October is China's National Day week (1, 2, 5, 6, 7
    # October are holidays; the 3rd and 4th a weekend), so a bank transfer arrives on Thursday the 8th at
    # the earliest and Friday the 9th at the latest.
    paid = datetime.fromisoformat("2026-09-30T10:00:00+08:00")
    assert arrival_window("bank_transfer", paid, "CNY") == (date(2026, 10, 8), date(2026, 10, 9))
    assert arrival_window("bank_transfer", paid) == (date(2026, 10, 1), date(2026, 10, 2))  # no calendar
    # EUR follows TARGET2: Friday 3 April 2026 (Good Friday) and Monday 6 April (Easter Monday) are closed.
    thursday = datetime.fromisoformat("2026-04-02T10:00:00+02:00")
    assert arrival_window("bank_transfer", thursday, "EUR") == (date(2026, 4, 7), date(2026, 4, 8))
    # A currency without a calendar counts weekends only, and the notice says a holiday may add a day.
    assert arrival_window("bank_transfer", thursday, "XAF") == (date(2026, 4, 3), date(2026, 4, 6))


def test_the_notice_says_which_days_are_not_counted() -> None:
    cny = case(paid_at="2026-09-30T10:00:00+08:00")
    cny["payment"] = {**cny["payment"], "currency": "CNY"}  # type: ignore[dict-item]
    notice = build_notice(cny, [], "en")
    assert (notice["arrival"]["earliest"], notice["arrival"]["latest"]) == ("2026-10-08", "2026-10-09")
    assert "weekends and bank holidays are not counted" in notice["arrival"]["text"]
    assert "周末及法定节假日不计" in build_notice(cny, [], "zh")["arrival"]["text"]
    other = case(paid_at="2026-09-30T10:00:00+08:00")
    other["payment"] = {**other["payment"], "currency": "XAF"}  # type: ignore[dict-item]
    assert "a bank holiday may add a day" in build_notice(other, [], "en")["arrival"]["text"]
