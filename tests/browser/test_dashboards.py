"""The dashboards in Debian's Chromium against a live `aftercare up --simulate`.

Each role logs in through the login page and sees what the role may see: the manager the patient's
charts drawn from real telemetry and a plan adjustment approved into a new plan version; a shop its
job's checkpoint photos (decoded, naturalWidth > 0); a claimant their own job and a 403 for another.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devices.timestamps import now_ms
from monitor.alerts import AlertInput
from store.state.alert_kinds import Severity
from tests.browser.conftest import Platform, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def login(page: Any, platform: Platform, token: str) -> None:
    page.goto(f"{platform.base}/#/login")
    page.fill("#token", token)
    page.click("#login-button")
    page.wait_for_selector("#role")


def path_points(page: Any, selector: str) -> int:
    """How many points the chart's data path(s) draw (M/L commands in `d`)."""
    return int(
        page.eval_on_selector_all(
            selector, "els => els.reduce((n, e) => n + (e.getAttribute('d').match(/[ML]/g) || []).length, 0)"
        )
    )


def test_login_page_offers_demo_tokens_and_rejects_bad_ones(
    page: Any, platform: Platform, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(platform.base)
    page.wait_for_selector("#login-form")
    page.wait_for_selector("[data-demo='manager M1']")
    shoot(page, "01-login")
    page.fill("#token", "not-a-token")
    page.click("#login-button")
    page.wait_for_selector("#login-error .error")
    assert "not valid" in page.inner_text("#login-error")


def test_manager_sees_charts_and_approves_an_adjustment(
    page: Any, platform: Platform, shoot: Callable[[Any, str], Path]
) -> None:
    token = platform.token("manager M1")
    login(page, platform, token)
    page.wait_for_selector("[data-patient='sim-P1']")
    # M1 manages P1..P3; P4 belongs to M2 and is not listed.
    listed = page.eval_on_selector_all("[data-patient]", "els => els.map(e => e.dataset.patient)")
    assert "sim-P1" in listed
    assert "sim-P4" not in listed
    page.wait_for_function("() => document.querySelector(\"[data-patient='sim-P1'] [data-last]\")?.dataset.last !== ''")
    shoot(page, "02-manager-patients")

    page.click("[data-patient='sim-P1']")
    page.wait_for_function("() => Number(document.querySelector('#hr-chart path.line')?.dataset.n) > 10")
    assert path_points(page, "#hr-chart path.line") > 10, "the heart-rate chart draws no data"
    page.wait_for_selector("#chart-spo2 svg, #chart-spo2 .empty", state="attached")
    if page.query_selector("#spo2-chart path.line"):
        assert path_points(page, "#spo2-chart path.line") > 10
    assert page.query_selector("#hr-chart [data-role='band']") is not None, "the plan's HR zone band is missing"
    page.wait_for_selector("#plan-version")
    page.wait_for_selector("#live-dot.on")
    shoot(page, "03-manager-patient")

    # A proposal to decide: what the monitors proposed, else the weekly rules run on demand.
    adjustment = _a_proposal(platform, "sim-P1")
    before = platform.get("patients/sim-P1/plans/current").json()["version"]

    page.reload()
    button = page.wait_for_selector(f"[aria-label='Approve adjustment {adjustment['id']}']")
    assert int(page.get_attribute("#plan-version", "data-version")) == before
    shoot(page, "04-manager-adjustment")
    button.click()
    page.wait_for_function(f"() => Number(document.querySelector('#plan-version')?.dataset.version) === {before + 1}")
    assert platform.get("patients/sim-P1/plans/current").json()["version"] == before + 1
    page.wait_for_selector(f"[data-adjustment='{adjustment['id']}']", state="detached")
    shoot(page, "05-manager-approved")


def _a_proposal(platform: Platform, pid: str) -> dict[str, Any]:
    """A proposed adjustment for the patient: one the monitors made, or the weekly rules run on demand.

    A fresh simulation has no week of data, so the rules have nothing to progress on. Then the test
    creates a real safety condition through the API, as a manager could: a plan version whose HR cap
    (60 bpm) is below the patient's heart rate. The rehab monitor raises `hr_over_cap` after a minute
    over the cap, and the rules answer an open safety alert with a regression.
    """
    proposed = platform.get(f"patients/{pid}/plan-adjustments", state="proposed")
    assert proposed.status_code == 200, proposed.text
    if proposed.json():
        found: dict[str, Any] = proposed.json()[0]
        return found
    made = platform.post(f"patients/{pid}/plan-adjustments/propose")
    assert made.status_code == 200, f"propose: {made.status_code} {made.text}"
    if made.json() is not None:
        first: dict[str, Any] = made.json()
        return first
    current = platform.get(f"patients/{pid}/plans/current").json()
    content = current["content"]
    content["medical"]["hr_cap_bpm"] = 60
    posted = platform.post(
        f"patients/{pid}/plans", {"content": content, "reason": "browser test: HR cap below the current heart rate"}
    )
    assert posted.status_code == 201, f"new plan version: {posted.status_code} {posted.text}"

    def propose() -> dict[str, Any] | None:
        r = platform.post(f"patients/{pid}/plan-adjustments/propose")
        assert r.status_code == 200, f"propose: {r.status_code} {r.text}"
        answer: dict[str, Any] | None = r.json()
        return answer

    proposal: dict[str, Any] = wait_for(
        f"a proposed adjustment for {pid} after its HR cap was set below its HR", propose, 240, platform.log
    )
    return proposal


def _job_with_photos(platform: Platform, shop_token: str) -> str:
    def find() -> str | None:
        for job in ("J-sim-11", "J-sim-12"):
            r = platform.get(f"repair-jobs/{job}", token=shop_token)
            if r.status_code == 200 and r.json().get("photos"):
                return job
        return None

    found: str = wait_for("a photo on a job of shop sim-S1", find, 240, platform.log)
    return found


def test_shop_sees_board_and_job_photos(page: Any, platform: Platform, shoot: Callable[[Any, str], Path]) -> None:
    token = platform.token("shop sim-S1")
    job = _job_with_photos(platform, token)
    login(page, platform, token)
    page.wait_for_selector("#job-board, .empty")
    shoot(page, "06-shop-board")
    page.goto(f"{platform.base}/#/jobs/{job}")
    page.wait_for_selector("#job-title")
    page.wait_for_selector("img[data-photo]")
    loaded = "() => [...document.querySelectorAll('img[data-photo]')].every(i => i.complete && i.naturalWidth > 0)"
    page.wait_for_function(loaded, timeout=30_000)
    widths = page.eval_on_selector_all("img[data-photo]", "els => els.map(e => e.naturalWidth)")
    assert widths
    assert all(w > 0 for w in widths)
    assert re.search(r"\d+%", page.inner_text("#job-percent"))
    shoot(page, "07-shop-job")


def test_claimant_sees_only_their_own_job(page: Any, platform: Platform, shoot: Callable[[Any, str], Path]) -> None:
    token = platform.token("claimant of J-sim-11")
    assert platform.get("repair-jobs/J-sim-12", token=token).status_code == 403
    login(page, platform, token)
    page.wait_for_selector("#job-title")
    assert page.url.endswith("#/mine")
    assert page.query_selector("#job-progress") is not None
    assert page.query_selector("[aria-label^='Acknowledge alert'], [aria-label^='Resolve alert']") is None
    nav = page.inner_text("#nav")
    assert "Job board" not in nav
    assert "Patients" not in nav
    shoot(page, "08-claimant-job")
    page.goto(f"{platform.base}/#/jobs/J-sim-12")
    page.wait_for_selector(".error")
    assert "403" in page.inner_text("main")
    shoot(page, "09-claimant-forbidden")


def test_stage_changes_arrive_live(page: Any, platform: Platform, shoot: Callable[[Any, str], Path]) -> None:
    """The job page follows the event stream: new timeline entries appear (with a toast) without reloading."""
    token = platform.token("claims handler")
    login(page, platform, token)
    jobs = [platform.get(f"repair-jobs/{j}").json() for j in ("J-sim-12", "J-sim-11", "J-sim-22", "J-sim-21")]
    finished = ("ready", "delivered")
    moving = [j["id"] for j in jobs if not j.get("delivered_ms") and j.get("current_stage") not in finished]
    assert moving, "every simulated job is already finished"
    page.goto(f"{platform.base}/#/jobs/{moving[0]}")
    page.wait_for_selector("#job-timeline")
    page.wait_for_selector("#live-dot.on")
    page.evaluate("window.__sameDocument = true")
    before = len(page.query_selector_all("#job-timeline li"))
    page.wait_for_function(f"() => document.querySelectorAll('#job-timeline li').length > {before}", timeout=180_000)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    shoot(page, "10-live-stage-change")


def test_new_alerts_arrive_live(page: Any, platform: Platform, shoot: Callable[[Any, str], Path]) -> None:
    """An alert raised while the alerts page is open shows up without reloading (table row and toast).

    The test raises it itself, through the platform's state store as the rehab monitor would (a fall of a
    patient of its own), once the page's event stream is live: the live dot turns on only when the
    stream has answered its first block, sent after the server fixed where the stream starts.
    """
    token = platform.token("claims handler")
    pid = f"P-live-{uuid.uuid4().hex[:8]}"
    made = platform.post("patients", {"id": pid, "name": "Live Alert"})
    assert made.status_code == 201, made.text
    login(page, platform, token)
    page.goto(f"{platform.base}/#/alerts")
    page.wait_for_selector("#alerts table, #alerts .empty")
    page.wait_for_selector("#live-dot.on")
    page.evaluate("window.__sameDocument = true")
    alert_id = platform.raise_alert(
        AlertInput(
            kind="fall",
            subject=pid,
            subject_type="patient",
            severity=Severity.CRITICAL,
            at_ms=now_ms(),
            message="browser test: a fall raised through the state store",
            patient_id=pid,
        )
    )
    page.wait_for_selector(f"[data-alert='{alert_id}']", timeout=20_000)
    page.wait_for_selector("#toasts .toast.alert")
    assert "browser test: a fall" in page.inner_text("#toasts")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    shoot(page, "11-live-alert")
