"""Post-claim cases through the API on SQLite and PostgreSQL: opening, refusals, plans, services, close, walls.

The helpers at the top (`World`, `case_body`) are shared with the other `test_cases_*` modules.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from cases.feedback import shop_feedback_mean
from cases.monitor import CasesMonitor
from devices.timestamps import now_ms
from store.state.schema import Alert, DailyMetrics, Device, EventRow, PhotoRow, RepairEvent, RepairJob
from store.state.schema_cases import Case, CaseNotification, CasePlan
from store.stores import Stores

pytestmark = pytest.mark.integration
ADMIN = "admin-token-for-case-tests-0123456789"
PAID_AT = "2025-01-03T10:00:00+08:00"  # a Friday
SHANGHAI = (31.2304, 121.4737)

BASE_CASE: dict[str, Any] = {
    "id": "K1",
    "claim_id": "CL-1",
    "line": "motor",
    "claimant": {
        "name": "Ann Lee",
        "age": 45,
        "language": "en",
        "lat": SHANGHAI[0],
        "lon": SHANGHAI[1],
        "mobility": "normal",
        "channel": "app",
        "email": "ann@example.org",
    },
    "payment": {
        "amount": 4500,
        "currency": "CNY",
        "method": "bank_transfer",
        "paid_at": PAID_AT,
        "deductible": 500,
        "components": [
            {"item": "Bodywork", "amount": 3000, "note": "front bumper"},
            {"item": "Paint", "amount": 1200},
            {"item": "Labour", "amount": 300},
        ],
    },
    "loss": {
        "cause": "rear-end collision",
        "severity": "moderate",
        "third_party_liable": True,
        "occurred_at": "2024-12-20T08:30:00+08:00",
        "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": False},
    },
}


def case_body(**changes: Any) -> dict[str, Any]:
    """The base motor case with changes; a dotted key (``"claimant.age"``) changes a nested field."""
    body = copy.deepcopy(BASE_CASE)
    for key, value in changes.items():
        target = body
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        if value is _DROP:
            target.pop(last, None)
        else:
            target[last] = value
    return body


_DROP = object()


def health_body(case_id: str, claim_id: str, **changes: Any) -> dict[str, Any]:
    return case_body(
        **{
            "id": case_id,
            "claim_id": claim_id,
            "line": "health",
            "loss.cause": "slipped on ice",
            "loss.vehicle": None,
            "loss.third_party_liable": False,
            "loss.injury": {"description": "fractured wrist", "body_part": "wrist"},
            "payment.components": [{"item": "Treatment", "amount": 4000}, {"item": "Physiotherapy", "amount": 500}],
            **changes,
        }
    )


@dataclass
class World:
    client: TestClient
    stores: Stores

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str = ADMIN,
        expect: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.client.request(method, f"/api/v1{path}", json=body, headers=headers, params=params)
        wanted = expect if expect is not None else (201 if method == "POST" else 200)
        assert answer.status_code == wanted, (method, path, answer.status_code, answer.text)
        content_type = answer.headers.get("content-type", "")
        return answer.json() if content_type.startswith("application/json") else answer

    def post(self, path: str, body: Any, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def token(self, **body: Any) -> str:
        return str(self.post("/tokens", body)["token"])

    def monitor_pass(self, at_ms: int | None = None) -> int:
        return CasesMonitor(self.stores.state).run_once(at_ms if at_ms is not None else now_ms())

    def notifications(self, case_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get(f"/cases/{case_id}/notifications")
        return result


def open_world(tmp_path: Path, state_url: str) -> Iterator[World]:
    """An API on a fresh state store with five shops (three near Shanghai for Toyota) and two patients."""
    stores = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    w = World(TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN))), stores)
    near = [(0.0, 0.0), (0.02, 0.02), (-0.05, 0.03)]
    for i, (dlat, dlon) in enumerate(near, start=1):
        w.post(
            "/shops",
            {
                "id": f"S{i}",
                "name": f"Garage {i}",
                "lat": SHANGHAI[0] + dlat,
                "lon": SHANGHAI[1] + dlon,
                "makes": ["Toyota", "Honda"],
                "capacity": 4,
                "severities": ["minor", "moderate", "severe"],
            },
        )
    w.post(
        "/shops",
        {
            "id": "S-FAR",
            "name": "Beijing Garage",
            "lat": 39.9,
            "lon": 116.4,
            "makes": ["Toyota"],
            "capacity": 4,
            "severities": ["moderate"],
        },
    )
    w.post(
        "/shops",
        {
            "id": "S-BMW",
            "name": "BMW only",
            "lat": SHANGHAI[0],
            "lon": SHANGHAI[1],
            "makes": ["BMW"],
            "capacity": 4,
            "severities": ["moderate"],
        },
    )
    for pid, mgr in (("P1", "M1"), ("P2", "M2")):
        w.post("/patients", {"id": pid, "name": f"Patient {pid}", "manager_id": mgr, "resting_hr": 62, "max_hr": 170})
    yield w
    stores.close()


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    yield from open_world(tmp_path, state_url)


# --- opening -------------------------------------------------------------------------------------------


def test_opening_a_motor_case_stores_plan_notice_and_notifications(world: World) -> None:
    case = world.post("/cases", case_body())
    assert case["id"] == "K1"
    assert case["state"] == "open"
    assert case["plan_version"] == 1
    assert case["payment"]["paid_at"] == "2025-01-03T10:00:00+08:00"
    plan = world.get("/cases/K1/plan")
    assert [i["key"] for i in plan["items"]] == ["repair", "courtesy_car", "extended_warranty"]
    assert all(i["status"] == "pending" and i["reason"] and i["rule"] for i in plan["items"])
    offers = plan["items"][0]["details"]["offers"]
    assert {o["shop_id"] for o in offers} == {"S1", "S2", "S3"}
    assert plan["items"][0]["details"]["shop_id"] == offers[0]["shop_id"]
    notice = world.get("/cases/K1/notice")
    assert [c["item"] for c in notice["components"]] == ["Bodywork", "Paint", "Labour"]
    assert notice["arrival"] == {
        "method": "bank_transfer",
        "earliest": "2025-01-06",
        "latest": "2025-01-07",
        "text": notice["arrival"]["text"],
    }
    assert [e["key"] for e in notice["entitlements"]] == ["repair", "courtesy_car", "extended_warranty"]
    notes = world.notifications("K1")
    assert [n["kind"] for n in notes] == ["payment_notice", "plan_ready"]
    assert all(n["state"] == "pending" and n["attempts"] == 0 and n["channel"] == "app" for n in notes)
    assert notes[0]["text"] == notice["text"]
    with world.stores.state.session() as s:
        kinds = s.execute(select(EventRow.kind).where(EventRow.case_id == "K1")).scalars().all()
    assert "case_opened" in kinds
    page = world.get("/cases")
    assert page["total"] == 1
    assert page["items"][0]["id"] == "K1"


INVALID: list[tuple[str, dict[str, Any], list[str | int]]] = [
    (
        "components do not add up",
        {"payment.components": [{"item": "Bodywork", "amount": 3000}]},
        ["payment", "components"],
    ),
    ("negative amount", {"payment.amount": -10}, ["payment", "amount"]),
    (
        "negative component",
        {"payment.components": [{"item": "A", "amount": 4600}, {"item": "B", "amount": -100}]},
        ["payment", "components", 1, "amount"],
    ),
    ("unknown line", {"line": "travel"}, ["line"]),
    ("payment in the future", {"payment.paid_at": "2099-01-01T00:00:00Z"}, ["payment", "paid_at"]),
    ("loss in the future", {"loss.occurred_at": "2099-01-01T00:00:00Z"}, ["loss", "occurred_at"]),
    ("time without zone", {"payment.paid_at": "2025-01-03T10:00:00"}, ["payment", "paid_at"]),
    ("unknown language", {"claimant.language": "fr"}, ["claimant", "language"]),
    ("unknown method", {"payment.method": "crypto"}, ["payment", "method"]),
    ("unknown severity", {"loss.severity": "total"}, ["loss", "severity"]),
    ("unknown field", {"loss.colour": "red"}, ["loss", "colour"]),
]


def test_invalid_cases_are_refused_naming_the_field_and_nothing_is_stored(world: World) -> None:
    for label, changes, field in INVALID:
        answer = world.client.post(
            "/api/v1/cases", json=case_body(**changes), headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert answer.status_code == 422, (label, answer.text)
        locs = [e["loc"] for e in answer.json()["detail"]]
        assert ["body", *field] in locs, (label, locs)
    answer = world.client.post(
        "/api/v1/cases",
        json=case_body(**{"payment.components": [{"item": "X", "amount": 1}]}),
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert "components add up to 1.00, not the amount 4500.00" in answer.text
    after_payment = case_body(**{"loss.occurred_at": "2025-01-04T00:00:00Z"})
    answer = world.client.post("/api/v1/cases", json=after_payment, headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 422
    assert "loss.occurred_at" in answer.text
    assert world.get("/cases")["total"] == 0
    with world.stores.state.session() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(CaseNotification)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(CasePlan)).scalar_one() == 0


def test_duplicates_conflict(world: World) -> None:
    world.post("/cases", case_body())
    assert "already exists" in world.post("/cases", case_body(), expect=409)["detail"]
    assert "already has case K1" in world.post("/cases", case_body(id="K2"), expect=409)["detail"]


def test_notice_in_the_claimants_language_and_on_request_in_the_other(world: World) -> None:
    world.post("/cases", case_body(**{"claimant.language": "zh", "payment.method": "cheque"}))
    notice = world.get("/cases/K1/notice")
    assert notice["language"] == "zh"
    assert notice["title"] == "理赔 CL-1 付款通知"
    assert "2025年1月10日（星期五）" in notice["text"]  # noqa: RUF001
    plan = world.get("/cases/K1/plan")
    assert plan["items"][1]["title"] == "代步车"
    english = world.get("/cases/K1/notice", params={"lang": "en"})
    assert english["language"] == "en"
    assert "Friday 10 January 2025" in english["text"]
    assert english["entitlements"][1]["title"] == "Courtesy car"
    claimant = world.token(role="claimant", case_id="K1")
    assert world.get("/cases/K1/notice", token=claimant)["text"] == notice["text"]


# --- plan changes -----------------------------------------------------------------------------------------


def test_a_plan_change_regenerates_a_versioned_plan_with_a_diff_and_reasons(world: World) -> None:
    world.post("/cases", case_body())
    claimant = world.token(role="claimant", case_id="K1")
    v1 = world.get("/cases/K1/plan")
    first_shop = v1["items"][0]["details"]["offers"][0]
    second_shop = v1["items"][0]["details"]["offers"][1]

    v2 = world.patch("/cases/K1/plan", {"courtesy_car": False, "note": "I have a second car"}, token=claimant)
    assert v2["version"] == 2
    assert [i["key"] for i in v2["items"]] == ["repair", "extended_warranty"]
    assert v2["changes"] == [
        {
            "key": "courtesy_car",
            "change": "removed",
            "reason": "You declined it.",
            "before": v2["changes"][0]["before"],
            "after": None,
        }
    ]
    assert v2["reason"] == "I have a second car"
    assert v2["preferences"] == {"courtesy_car": {"value": False, "by": "claimant"}}

    v3 = world.patch("/cases/K1/plan", {"shop_rank": 2}, token=claimant)
    assert v3["version"] == 3
    repair = v3["items"][0]
    assert repair["details"]["shop_id"] == second_shop["shop_id"]
    assert repair["details"]["chosen_by"] == "claimant"
    (change,) = v3["changes"]
    assert change["key"] == "repair"
    assert change["change"] == "changed"
    assert change["reason"].startswith(f"Shop changed from {first_shop['name']} to {second_shop['name']}.")
    assert "courtesy_car" not in [i["key"] for i in v3["items"]]  # earlier preferences stay

    v4 = world.patch("/cases/K1/plan", {"pickup_delivery": True})
    assert v4["changes"][0]["key"] == "pickup_delivery"
    assert v4["changes"][0]["change"] == "added"
    assert v4["preferences"]["pickup_delivery"] == {"value": True, "by": "staff"}

    same = world.patch("/cases/K1/plan", {"courtesy_car": False}, token=claimant)
    assert same["version"] == 4
    assert world.get("/cases/K1")["plan_version"] == 4
    assert [p["version"] for p in world.get("/cases/K1/plan/versions")] == [1, 2, 3, 4]
    assert world.get("/cases/K1/plan", params={"version": 1})["items"][1]["key"] == "courtesy_car"

    notes = [n for n in world.notifications("K1") if n["kind"] == "plan_changed"]
    assert len(notes) == 3
    assert "removed Courtesy car: You declined it." in notes[0]["text"]
    assert "Shop changed from" in notes[1]["text"]

    v5 = world.patch("/cases/K1/plan", {"courtesy_car": True}, token=claimant)
    assert v5["changes"][0]["key"] == "courtesy_car"
    assert v5["changes"][0]["change"] == "added"
    for body, field in (({"home_visits": True}, "home_visits"), ({"shop_id": "S-FAR"}, "shop_id")):
        detail = world.patch("/cases/K1/plan", body, token=claimant, expect=422)["detail"]
        assert detail.startswith(f"{field}: "), detail
    assert world.patch("/cases/K1/plan", {}, token=claimant, expect=422)["detail"][0]["msg"].endswith(
        "the change request changes nothing"
    )
    manager = world.token(role="rehab_manager", manager_id="M1")
    world.patch("/cases/K1/plan", {"courtesy_car": True}, token=manager, expect=403)


def test_only_offered_shops_can_be_chosen(world: World) -> None:
    world.post(
        "/cases", case_body(**{"claimant.lat": 39.9, "claimant.lon": 116.4, "loss.vehicle.drivable": True})
    )  # only S-FAR is near
    plan = world.get("/cases/K1/plan")
    assert [o["shop_id"] for o in plan["items"][0]["details"]["offers"]] == ["S-FAR"]
    assert (
        world.patch("/cases/K1/plan", {"shop_rank": 2}, expect=422)["detail"]
        == "shop_rank: only 1 shop(s) were offered"
    )
    assert (
        world.patch("/cases/K1/plan", {"courtesy_car": True}, expect=422)["detail"]
        == "courtesy_car: a courtesy car is offered only when the vehicle cannot be driven"
    )


# --- services, close, feedback ---------------------------------------------------------------------------


def test_motor_case_links_its_job_and_closes_when_the_car_is_delivered(world: World) -> None:
    world.post("/cases", case_body())
    claimant = world.token(role="claimant", case_id="K1")
    shop = world.get("/cases/K1/plan")["items"][0]["details"]["shop_id"]
    world.post(
        "/repair-jobs",
        {
            "id": "J1",
            "claim_id": "CL-1",
            "shop_id": shop,
            "severity": "moderate",
            "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": False},
        },
    )
    world.monitor_pass()
    case = world.get("/cases/K1")
    assert case["job_id"] == "J1"  # linked by its claim id
    assert case["services"]["repair"]["status"] == "active"
    world.post(
        "/cases/K1/feedback",
        {"milestone": "repair", "satisfaction": 5, "would_recommend": 10},
        token=claimant,
        expect=409,
    )
    delivered = now_ms()
    with world.stores.state.session() as s:
        job = s.get(RepairJob, "J1")
        assert job is not None
        job.current_stage, job.delivered_ms = "delivered", delivered
    world.monitor_pass()
    case = world.get("/cases/K1")
    assert case["state"] == "closed"
    assert {k: v["status"] for k, v in case["services"].items()} == {
        "repair": "done",
        "courtesy_car": "done",
        "extended_warranty": "done",
    }
    assert case["milestones"] == ["repair", "closure"]
    paid_ms = 1735869600000  # 2025-01-03T10:00:00+08:00
    assert case["figures"]["days_to_keys"] == round((delivered - paid_ms) / 86_400_000, 1)
    kinds = [n["kind"] for n in world.notifications("K1")]
    assert kinds[:2] == ["payment_notice", "plan_ready"]
    assert {"feedback_request", "case_closed", "risk_report"} <= set(kinds)
    assert kinds.count("feedback_request") == 2
    with world.stores.state.session() as s:
        stored = s.get(Case, "K1")
        assert stored is not None
        assert stored.risk_report is not None
        assert stored.risk_report["line"] == "motor"

    answer = world.post(
        "/cases/K1/feedback",
        {"milestone": "repair", "satisfaction": 4, "would_recommend": 9, "comment": "quick and clean"},
        token=claimant,
    )
    assert answer["shop_id"] == shop
    world.post("/cases/K1/feedback", {"milestone": "closure", "satisfaction": 3, "would_recommend": 6}, token=claimant)
    world.post(
        "/cases/K1/feedback",
        {"milestone": "repair", "satisfaction": 1, "would_recommend": 0},
        token=claimant,
        expect=409,
    )
    world.post("/cases/K1/feedback", {"milestone": "repair", "satisfaction": 1, "would_recommend": 0}, expect=403)
    with world.stores.state.session() as s:
        assert shop_feedback_mean(s, shop) == 4.0
        assert shop_feedback_mean(s, "S-BMW") is None
    by_shop = world.get("/cases/nps", params={"by": "shop"})
    assert by_shop == {
        "by": "shop",
        "rows": [
            {
                "key": shop,
                "answers": 1,
                "satisfaction_mean": 4.0,
                "promoters": 1,
                "passives": 0,
                "detractors": 0,
                "nps": 100.0,
            }
        ],
    }
    by_line = world.get("/cases/nps", params={"by": "line"})["rows"]
    assert by_line == [
        {
            "key": "motor",
            "answers": 2,
            "satisfaction_mean": 3.5,
            "promoters": 1,
            "passives": 0,
            "detractors": 1,
            "nps": 0.0,
        }
    ]
    figures = world.get("/cases/K1")["figures"]
    assert figures["feedback"] == {"answers": 2, "satisfaction_mean": 3.5, "nps": 0.0}
    world.patch("/cases/K1/plan", {"courtesy_car": False}, expect=409)
    world.get("/cases/nps", token=claimant, expect=403)


def test_health_case_for_an_elderly_claimant_is_served_at_home_and_closes(world: World) -> None:
    body = health_body("K2", "CL-2", **{"claimant.age": 74, "claimant.language": "zh", "claimant.channel": "sms"})
    world.post("/cases", body)
    plan = world.get("/cases/K2/plan")
    assert [i["key"] for i in plan["items"]] == ["rehab", "wearable_kit", "home_visits"]
    assert plan["items"][2]["rule"] == "rehab.home_visits.age"
    assert len(plan["items"][0]["details"]["dimensions"]) == 3
    world.post("/cases/K2/links", {"job_id": "J-none"}, expect=422)
    assert world.post("/cases/K2/links", {"patient_id": "P-none"}, expect=422)["detail"].startswith("patient_id:")
    world.post("/cases/K2/links", {"patient_id": "P1"}, expect=200)
    world.post("/cases", health_body("K3", "CL-3"))
    assert "already serves case K2" in world.post("/cases/K3/links", {"patient_id": "P1"}, expect=409)["detail"]
    with world.stores.state.session() as s:
        s.add(Device(device_id="w-P1", kind="wearable", patient_id="P1", created_ms=now_ms()))
        for day, overall in (("2025-01-10", 0.5), ("2025-01-11", 0.7), ("2025-01-12", 0.9)):
            s.add(
                DailyMetrics(
                    patient_id="P1",
                    day=day,
                    metrics={"adherence": {"overall": overall}, "falls": []},
                    computed_ms=now_ms(),
                )
            )
    world.monitor_pass()
    case = world.get("/cases/K2")
    assert case["services"]["rehab"]["status"] == "active"
    assert case["services"]["wearable_kit"]["status"] == "done"
    manager = world.token(role="rehab_manager", manager_id="M1")
    world.post("/cases/K2/services/repair", {"status": "done"}, token=manager, expect=403)
    world.post("/cases/K2/services/risk_review", {"status": "done"}, expect=422)
    case = world.post("/cases/K2/services/rehab", {"status": "done", "note": "discharged"}, token=manager, expect=200)
    assert case["state"] == "closed"
    assert case["services"]["home_visits"]["status"] == "done"
    assert case["figures"]["rehab_adherence"] == 0.7
    assert case["figures"]["days_to_keys"] is None
    world.post("/cases/K2/services/rehab", {"status": "done"}, expect=409)
    notes = world.notifications("K2")
    assert all(n["language"] == "zh" and n["channel"] == "sms" for n in notes)
    assert "请评价我们的服务" in [n["subject"] for n in notes]
    claimant = world.token(role="claimant", case_id="K2")
    answer = world.post(
        "/cases/K2/feedback", {"milestone": "rehab", "satisfaction": 5, "would_recommend": 10}, token=claimant
    )
    assert answer["manager_id"] == "M1"
    assert world.get("/cases/nps", params={"by": "manager"})["rows"][0]["key"] == "M1"


def test_list_filters_and_pagination(world: World) -> None:
    world.post("/cases", case_body())
    for i in range(2, 6):
        world.post("/cases", health_body(f"K{i}", f"CL-{i}"))
    world.post(
        "/cases",
        case_body(id="K9", claim_id="CL-9", line="property", **{"loss.cause": "kitchen fire", "loss.vehicle": None}),
    )
    world.post("/cases/K9/services/risk_review", {"status": "done"}, expect=200)
    assert world.get("/cases")["total"] == 6
    health = world.get("/cases", params={"line": "health", "limit": 2, "offset": 1})
    assert (health["total"], health["limit"], health["offset"], len(health["items"])) == (4, 2, 1, 2)
    assert {c["line"] for c in health["items"]} == {"health"}
    closed = world.get("/cases", params={"state": "closed"})
    assert [c["id"] for c in closed["items"]] == ["K9"]
    assert world.get("/cases", params={"state": "open", "line": "property"})["total"] == 0
    world.get("/cases", params={"line": "travel"}, expect=422)
    world.get("/cases", params={"limit": 0}, expect=422)


def test_timeline_orders_everything_in_the_case(world: World) -> None:
    world.post("/cases", case_body())
    world.post(
        "/repair-jobs",
        {
            "id": "J1",
            "claim_id": "CL-1",
            "shop_id": "S1",
            "severity": "moderate",
            "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": False},
        },
    )
    world.post("/cases/K1/links", {"job_id": "J1"}, expect=200)
    base = now_ms()
    with world.stores.state.session() as s:
        for seq, (stage, offset) in enumerate((("intake", 1000), ("body", 3000)), start=1):
            s.add(
                RepairEvent(
                    job_id="J1",
                    shop_id="S1",
                    device_id="g1",
                    seq=seq,
                    event="stage",
                    stage=stage,
                    at_ms=base + offset,
                    received_ms=base + offset,
                )
            )
        s.add(
            PhotoRow(
                id="PH1",
                job_id="J1",
                shop_id="S1",
                stage="body",
                taken_ms=base + 4000,
                content_type="image/jpeg",
                path="x.jpg",
                size=10,
                sha256="0" * 64,
                received_ms=base + 4000,
            )
        )
        s.add(
            Alert(
                id="A-1",
                kind="stall",
                subject="J1",
                subject_type="job",
                severity="warning",
                state="open",
                message="body takes long",
                job_id="J1",
                details={},
                occurrences=1,
                opened_ms=base + 5000,
                updated_ms=base + 5000,
            )
        )
    world.patch("/cases/K1/plan", {"courtesy_car": False})
    timeline = world.get("/cases/K1/timeline")["entries"]
    times = [e["at_ms"] for e in timeline]
    assert times == sorted(times)
    assert timeline[0]["source"] == "payment"
    sources = {e["source"] for e in timeline}
    assert {"payment", "case", "plan", "repair", "photo", "alert", "notification"} <= sources
    repair = [e["summary"] for e in timeline if e["source"] == "repair"]
    assert repair == ["stage intake", "stage body"]
    assert [e["data"]["version"] for e in timeline if e["kind"] == "plan_version"] == [1, 2]
    claimant = world.token(role="claimant", case_id="K1")
    mine = world.get("/cases/K1/timeline", token=claimant)["entries"]
    assert len(mine) == len(timeline)
    assert all("attempts" not in e["data"] for e in mine if e["source"] == "notification")


# --- tenant walls ----------------------------------------------------------------------------------------


def test_tenant_walls(world: World) -> None:
    world.post("/cases", case_body())
    world.post("/cases", health_body("K2", "CL-2"))
    world.post("/cases", health_body("K3", "CL-3"))
    world.post("/cases/K2/links", {"patient_id": "P1"}, expect=200)
    world.post("/cases/K3/links", {"patient_id": "P2"}, expect=200)
    tokens = {
        "claims": world.token(role="claims_handler"),
        "claimant1": world.token(role="claimant", case_id="K1"),
        "claimant_p1": world.token(role="claimant", patient_id="P1"),
        "mgr1": world.token(role="rehab_manager", manager_id="M1"),
        "shop1": world.token(role="shop", shop_id="S1"),
    }
    expected = {
        "claims": {"K1": 200, "K2": 200, "K3": 200, "K404": 404},
        "claimant1": {"K1": 200, "K2": 403, "K3": 403, "K404": 403},
        "claimant_p1": {"K1": 403, "K2": 200, "K3": 403, "K404": 403},
        "mgr1": {"K1": 403, "K2": 200, "K3": 403, "K404": 403},
        "shop1": {"K1": 403, "K2": 403, "K3": 403, "K404": 403},
    }
    for who, cases in expected.items():
        for case_id, status in cases.items():
            for suffix in ("", "/notice", "/plan", "/timeline", "/notifications", "/risk-report"):
                world.get(f"/cases/{case_id}{suffix}", token=tokens[who], expect=status)
    assert [c["id"] for c in world.get("/cases", token=tokens["claimant1"])["items"]] == ["K1"]
    assert [c["id"] for c in world.get("/cases", token=tokens["mgr1"])["items"]] == ["K2"]
    assert world.get("/cases", token=tokens["claims"])["total"] == 3
    world.get("/cases", token=tokens["shop1"], expect=403)
    for token in ("", "not-a-token"):
        world.get("/cases", token=token, expect=401)
        world.get("/cases/K1", token=token, expect=401)
        world.post("/cases", case_body(id="K8", claim_id="CL-8"), token=token, expect=401)
    for who in ("claimant1", "mgr1", "shop1"):
        world.post("/cases", case_body(id="K8", claim_id="CL-8"), token=tokens[who], expect=403)
        world.get("/cases/nps", token=tokens[who], expect=403)
    world.post("/cases", case_body(id="K8", claim_id="CL-8"), token=tokens["claims"])
    world.post("/cases/K1/links", {"job_id": "J1"}, token=tokens["claimant1"], expect=403)
    world.post("/cases/K1/services/repair", {"status": "done"}, token=tokens["claimant1"], expect=403)
    world.post("/cases/K1/subrogation", {"third_party": {"name": "X"}}, token=tokens["claimant1"], expect=403)
    world.patch("/cases/K2/plan", {"home_visits": True}, token=tokens["mgr1"], expect=403)
    world.patch("/cases/K1/plan", {"courtesy_car": False}, token=tokens["claimant1"])
    world.patch("/cases/K2/plan", {"home_visits": True}, token=tokens["claimant1"], expect=403)


def test_concurrent_changes_to_a_case_never_overwrite_each_other(world: World) -> None:
    world.post("/cases", case_body())
    state = world.stores.state
    with state.sessions() as first, state.sessions() as second:
        mine, theirs = first.get(Case, "K1"), second.get(Case, "K1")
        assert mine is not None
        assert theirs is not None
        mine.services = {"repair": {"status": "active", "at_ms": 1, "by": "first"}}
        first.commit()
        theirs.services = {"repair": {"status": "done", "at_ms": 2, "by": "second"}}
        with pytest.raises(StaleDataError):
            second.commit()
    assert world.get("/cases/K1")["services"]["repair"]["by"] == "first"
