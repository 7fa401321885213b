"""The post-claim case pages in Debian's Chromium against a live `aftercare up --simulate`.

Two cases are opened through the API with the admin token: a motor case in English whose repair job
was promised for yesterday (so its repair is late) and whose recovery file's limitation deadline is
45 days away, and a health case of a claimant who reads Chinese, whose risk review is done (so a
survey is open). Claims staff see both in the list with the late service and the near deadline
highlighted, open the motor case (plan items, timeline, notifications, recovery file, risk report);
the Chinese claimant sees their own case only, in Chinese, and answers the survey; the answer shows
in the staff's NPS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cases.texts import STAGE_NAMES
from devices.timestamps import now_ms
from store.state.schema import RepairEvent
from tests.browser.conftest import Platform
from tests.integration.test_cases_api import case_body, health_body

pytestmark = [pytest.mark.browser, pytest.mark.integration]

EN_CASE, ZH_CASE, JOB = "K-BR-EN", "K-BR-ZH", "J-BR-EN"
DEADLINE_IN_DAYS = 45


@dataclass
class Cases:
    staff: str
    claimant: str


def _years_before(t: datetime, years: int) -> datetime:
    try:
        return t.replace(year=t.year - years)
    except ValueError:  # 29 February
        return t.replace(year=t.year - years, day=28)


def _ok(response: Any, what: str) -> Any:
    assert response.status_code in (200, 201), f"{what}: {response.status_code} {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def cases(platform: Platform) -> Cases:
    now = datetime.now(tz=UTC)
    # The limitation period is 3 years from the loss: a loss 3 years minus 45 days ago leaves 45 days.
    occurred = _years_before(now + timedelta(days=DEADLINE_IN_DAYS), 3)
    paid = occurred + timedelta(days=10)
    tz = "+08:00"
    shanghai = timedelta(hours=8)
    motor = case_body(
        **{
            "id": EN_CASE,
            "claim_id": "CLM-BR-EN",
            "claimant.name": "Ann Lee",
            "loss.occurred_at": (occurred + shanghai).strftime("%Y-%m-%dT%H:%M:%S") + tz,
            "payment.paid_at": (paid + shanghai).strftime("%Y-%m-%dT%H:%M:%S") + tz,
        }
    )
    _ok(platform.post("cases", motor), "open the motor case")
    health = health_body(
        ZH_CASE,
        "CLM-BR-ZH",
        **{
            "claimant.name": "王芳",
            "claimant.language": "zh",
            "claimant.email": "wang.fang@example.org",
            "loss.prior_claims_same_cause": 1,
        },
    )
    _ok(platform.post("cases", health), "open the health case")

    # The repair job serving the motor case, promised for yesterday and not started: a late service.
    job = {
        "id": JOB,
        "claim_id": "CLM-BR-EN",
        "shop_id": _toyota_shop(platform),
        "severity": "moderate",
        "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": False},
        "promised_at": int((now - timedelta(days=1)).timestamp() * 1000),
    }
    _ok(platform.post("repair-jobs", job), "create the repair job")
    _ok(platform.post(f"cases/{EN_CASE}/links", {"job_id": JOB}), "link the job")
    _ok(
        platform.post(f"cases/{EN_CASE}/subrogation", {"third_party": {"name": "Zhou Tao", "insurer": "Other Mutual"}}),
        "open the recovery file",
    )
    # A recurring cause puts a risk review in the health plan; once done, the claimant is asked for feedback.
    plan = _ok(platform.get(f"cases/{ZH_CASE}/plan"), "read the health plan")
    assert "risk_review" in [i["key"] for i in plan["items"]], plan
    _ok(
        platform.post(f"cases/{ZH_CASE}/services/risk_review", {"status": "done", "note": "visit done"}),
        "finish the risk review",
    )

    staff = _ok(platform.post("tokens", {"role": "claims_handler", "label": "browser cases staff"}), "staff token")
    claimant = _ok(
        platform.post("tokens", {"role": "claimant", "case_id": ZH_CASE, "label": "browser cases claimant"}),
        "claimant token",
    )
    return Cases(staff=staff["token"], claimant=claimant["token"])


def _toyota_shop(platform: Platform) -> str:
    shops = _ok(platform.get("shops", limit=100), "list shops")["items"]
    for shop in shops:
        if "Toyota" in (shop.get("makes") or []):
            return str(shop["id"])
    pytest.fail(f"no simulated shop repairs Toyota: {shops}")


def login(page: Any, platform: Platform, token: str) -> None:
    page.goto(f"{platform.base}/#/login")
    page.fill("#token", token)
    page.click("#login-button")
    page.wait_for_selector("#role")


def snap(page: Any, shoot: Callable[[Any, str], Path], name: str) -> None:
    """A full-page screenshot from the top, without the transient toasts over the content."""
    page.evaluate("() => { window.scrollTo(0, 0); document.getElementById('toasts')?.replaceChildren(); }")
    shoot(page, name)


def test_staff_see_cases_late_services_deadlines_and_a_case(
    page: Any, platform: Platform, cases: Cases, shoot: Callable[[Any, str], Path]
) -> None:
    login(page, platform, cases.staff)
    assert page.get_attribute("#role", "data-role") == "claims_handler"
    page.click("#nav a[href='#/cases']")
    en_row = f"#cases-table tr[data-case='{EN_CASE}']"
    page.wait_for_selector(f"{en_row}[data-enriched='true']")
    page.wait_for_selector(f"#cases-table tr[data-case='{ZH_CASE}'][data-enriched='true']")
    assert page.inner_text(f"{en_row} td:nth-child(3)").startswith("Ann Lee")
    assert "王芳" in page.inner_text(f"#cases-table tr[data-case='{ZH_CASE}']")
    # The repair is late (promised yesterday), highlighted on the row and on its service chip.
    assert page.get_attribute(en_row, "data-late") == "true"
    assert page.query_selector(f"{en_row} [data-service='repair'][data-late='true']") is not None
    zh_review = f"#cases-table tr[data-case='{ZH_CASE}'] [data-service='risk_review']"
    assert page.get_attribute(zh_review, "data-status") == "done"
    # The limitation deadline is 45 days away: within 90, highlighted, and listed with the deadlines.
    days = int(page.get_attribute(f"{en_row} .deadline", "data-days"))
    assert DEADLINE_IN_DAYS - 2 <= days <= DEADLINE_IN_DAYS, days
    assert page.get_attribute(f"{en_row} .deadline", "data-near") == "true"
    assert page.query_selector(f"#case-deadlines [data-deadline-case='{EN_CASE}'].near") is not None
    page.wait_for_selector("#nps-body table, #nps-body .empty")
    snap(page, shoot, "20-cases-list")

    page.click(f"{en_row} a")
    page.wait_for_selector("#case-plan [data-item='repair']")
    assert page.url.endswith(f"#/case/{EN_CASE}")
    items = page.eval_on_selector_all("#case-plan [data-item]", "els => els.map(e => e.dataset.item)")
    assert {"repair", "courtesy_car", "extended_warranty"} <= set(items), items
    assert "late" in page.get_attribute("#case-plan [data-item='repair']", "class")
    assert "certified" in page.inner_text("#case-plan [data-item='repair']").lower()
    assert page.query_selector("#timeline li[data-source='payment']") is not None
    assert page.query_selector("#timeline li[data-kind='plan_version']") is not None
    assert page.query_selector("#timeline li[data-kind='linked']") is not None
    assert page.query_selector("#case-notifications [data-kind='payment_notice']") is not None
    assert page.get_attribute("#subrogation", "data-stage") == "investigation"
    assert "Zhou Tao" in page.inner_text("#case-subrogation")
    assert "Bodywork" in page.inner_text("#case-payment")
    snap(page, shoot, "21-case-page")

    # The risk report is bearer-protected: the button fetches it and opens it in a new tab.
    with page.expect_popup() as popup_info:
        page.click("#risk-html")
    popup = popup_info.value
    popup.wait_for_function(f"() => document.body && document.body.innerText.includes('{EN_CASE}')", timeout=30_000)
    popup.close()


def test_zh_claimant_sees_their_case_in_chinese_and_answers_the_survey(
    page: Any, platform: Platform, cases: Cases, shoot: Callable[[Any, str], Path]
) -> None:
    mine = _ok(platform.get("cases", token=cases.claimant), "claimant's case list")
    assert [c["id"] for c in mine["items"]] == [ZH_CASE]

    login(page, platform, cases.claimant)
    page.wait_for_selector(f"#my-case[data-case='{ZH_CASE}'][data-lang='zh']")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text("#my-case-title") == "我的理赔"
    timeline = page.inner_text("#my-timeline")
    assert "理赔进展" in timeline  # the card's title from our dictionary
    assert "已通过银行转账向您支付" in timeline  # the payment entry, rebuilt in Chinese
    plan = _ok(platform.get(f"cases/{ZH_CASE}/plan", token=cases.claimant), "claimant's plan")
    review = next(i["title"] for i in plan["items"] if i["key"] == "risk_review")
    assert f"{review}\N{FULLWIDTH COLON}已完成" in timeline  # the service entry: the plan's title, our status label
    notice = page.inner_text("#notice")
    assert "付款通知" in notice  # the API's notice in Chinese
    assert "尊敬的王芳" in notice
    assert "预计于" in notice
    assert page.query_selector("#my-plan [data-item='rehab']") is not None
    assert page.query_selector("#my-notifications [data-kind='payment_notice']") is not None
    main = page.inner_text("main")
    assert EN_CASE not in main
    assert "Ann Lee" not in main
    page.wait_for_selector("#feedback-form[data-milestone='risk_review']")
    snap(page, shoot, "22-claimant-case-zh")

    page.click("#feedback-form input[name='satisfaction'][value='5'] + span")
    page.click("#feedback-form input[name='would_recommend'][value='9'] + span")
    page.fill("#fb-comment", "上门检查很专业")
    page.click("#fb-send")
    page.wait_for_selector("#my-answers [data-answer='risk_review']")
    assert "满意度 5/5" in page.inner_text("#my-answers")
    answers = _ok(platform.get(f"cases/{ZH_CASE}/feedback"), "feedback list")
    assert [(a["milestone"], a["satisfaction"], a["would_recommend"]) for a in answers] == [("risk_review", 5, 9)]
    snap(page, shoot, "23-claimant-feedback-sent")

    # Another case is not theirs: the staff page of the English case is refused.
    page.goto(f"{platform.base}/#/case/{EN_CASE}")
    page.wait_for_selector("main .error")
    assert "403" in page.inner_text("main .error")
    assert "Ann Lee" not in page.inner_text("main")


def test_staff_see_the_claimants_answer_in_the_nps(
    page: Any, platform: Platform, cases: Cases, shoot: Callable[[Any, str], Path]
) -> None:
    if not _ok(platform.get(f"cases/{ZH_CASE}/feedback"), "feedback list"):
        _ok(
            platform.post(
                f"cases/{ZH_CASE}/feedback",
                {"milestone": "risk_review", "satisfaction": 5, "would_recommend": 9},
                token=cases.claimant,
            ),
            "feedback",
        )
    login(page, platform, cases.staff)
    page.goto(f"{platform.base}/#/cases")
    page.wait_for_selector("#nps tr[data-nps='health']")
    row = page.inner_text("#nps tr[data-nps='health']")
    assert "+100" in row, row
    page.click("#nps [data-by='shop']")
    page.wait_for_selector("#nps-body table[aria-label='NPS by shop'], #nps-body .empty")
    page.click("#nps [data-by='line']")
    page.wait_for_selector("#nps tr[data-nps='health']")
    page.wait_for_selector(f"#cases-table tr[data-case='{EN_CASE}'][data-enriched='true']")
    snap(page, shoot, "24-cases-nps")


def test_zh_claimant_reads_repair_stages_by_their_names_in_cases_texts(
    page: Any, platform: Platform, shoot: Callable[[Any, str], Path]
) -> None:
    """A Chinese claimant's timeline names the repair stages as `cases/texts.py` does (the wording of their
    notifications too), served by `GET /vocabulary`: 定损 for the estimate, 装配 for the reassembly."""
    case_id, job_id, claim_id = "K-BR-ZH-CAR", "J-BR-ZH-CAR", "CLM-BR-ZH-CAR"
    _ok(
        platform.post(
            "cases",
            case_body(**{"id": case_id, "claim_id": claim_id, "claimant.name": "李伟", "claimant.language": "zh"}),
        ),
        "open the Chinese motor case",
    )
    shop = _toyota_shop(platform)
    _ok(
        platform.post(
            "repair-jobs",
            {
                "id": job_id,
                "claim_id": claim_id,
                "shop_id": shop,
                "severity": "moderate",
                "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": True},
            },
        ),
        "create the repair job",
    )
    _ok(platform.post(f"cases/{case_id}/links", {"job_id": job_id}), "link the job")
    # The shop's gateway reports two stages: the beacons as ingestion stores them.
    stages = ("estimate", "reassembly")
    now = now_ms()
    with platform.state() as s:
        for seq, stage in enumerate(stages, start=1):
            s.add(
                RepairEvent(
                    job_id=job_id,
                    shop_id=shop,
                    device_id="browser-test-gateway",
                    seq=seq,
                    event="stage",
                    stage=stage,
                    at_ms=now - (len(stages) - seq) * 60_000,
                    progress=0.0,
                    received_ms=now,
                    processed=False,
                )
            )
    token = _ok(
        platform.post("tokens", {"role": "claimant", "case_id": case_id, "label": "browser zh motor"}), "claimant token"
    )["token"]

    login(page, platform, token)
    page.wait_for_selector(f"#my-case[data-case='{case_id}'][data-lang='zh']")
    entries = "#my-timeline li[data-source='repair'][data-kind='stage'] .entry"
    page.wait_for_selector(entries)
    shown = page.eval_on_selector_all(entries, "els => els.map(e => e.textContent)")
    expected = [f"维修进度\N{FULLWIDTH COLON}{STAGE_NAMES['zh'][stage]}" for stage in reversed(stages)]
    assert shown == expected, shown
    assert expected == ["维修进度\N{FULLWIDTH COLON}装配", "维修进度\N{FULLWIDTH COLON}定损"]
    snap(page, shoot, "25-claimant-repair-stages-zh")
