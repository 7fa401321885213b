"""Every route's role and tenant checks, table-driven over roles x routes (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from store.state.schema import Alert, PlanAdjustment
from tests.integration.test_cases_api import case_body, health_body

pytestmark = pytest.mark.integration
ADMIN = "admin-token-for-tests-0123456789"
ROLES = ("anonymous", "bad", "admin", "claims", "mgr1", "shop1", "claimant_job1", "claimant_p1")


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    client = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN)))
    admin = {"Authorization": f"Bearer {ADMIN}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = client.post(f"/api/v1{path}", json=body, headers=admin)
        assert answer.status_code == 201, (path, answer.text)
        result: dict[str, Any] = answer.json()
        return result

    for pid, mgr in (("P1", "M1"), ("P2", "M2")):
        post("/patients", {"id": pid, "name": pid, "manager_id": mgr, "resting_hr": 60, "max_hr": 170})
        post(f"/patients/{pid}/plans", {})
    for sid in ("S1", "S2"):
        post(
            "/shops",
            {
                "id": sid,
                "name": sid,
                "lat": 31.2,
                "lon": 121.4,
                "makes": ["Toyota"],
                "capacity": 5,
                "severities": ["minor", "moderate"],
            },
        )
    for jid, sid in (("J1", "S1"), ("J2", "S2")):
        post(
            "/repair-jobs",
            {
                "id": jid,
                "claim_id": f"C-{jid}",
                "shop_id": sid,
                "severity": "minor",
                "vehicle": {"make": "Toyota", "model": "Yaris", "year": 2021, "drivable": True},
            },
        )
    with stores.state.session() as s:
        # kinds of the table whose closing is open to whoever sees them (a delay of a job, a patient's heart rate)
        for aid, kind, field, value in (
            ("A-P1", "hr_over_cap", "patient_id", "P1"),
            ("A-P2", "hr_over_cap", "patient_id", "P2"),
            ("A-J1", "stall", "job_id", "J1"),
            ("A-J2", "stall", "job_id", "J2"),
        ):
            s.add(
                Alert(
                    id=aid,
                    kind=kind,
                    subject=value,
                    subject_type="x",
                    severity="warning",
                    state="open",
                    message="m",
                    details={},
                    occurrences=1,
                    opened_ms=1,
                    updated_ms=1,
                    **{field: value},
                )
            )
        s.add(
            PlanAdjustment(
                id="ADJ-P2",
                patient_id="P2",
                base_version=1,
                direction="progression",
                changes=[],
                new_content={},
                rationale="r",
                state="proposed",
                created_ms=1,
            )
        )
    tokens = {"anonymous": "", "bad": "not-a-token", "admin": ADMIN}
    for name, body in (
        ("claims", {"role": "claims_handler"}),
        ("mgr1", {"role": "rehab_manager", "manager_id": "M1"}),
        ("shop1", {"role": "shop", "shop_id": "S1"}),
        ("claimant_job1", {"role": "claimant", "job_id": "J1"}),
        ("claimant_p1", {"role": "claimant", "patient_id": "P1"}),
    ):
        tokens[name] = post("/tokens", body)["token"]
    yield client, tokens
    stores.close()


def _row(
    method: str, path: str, body: dict[str, Any] | None, ok: set[str], ok_code: int = 200, forbidden: int = 403
) -> tuple[str, str, dict[str, Any] | None, dict[str, int]]:
    expected = {"anonymous": 401, "bad": 401}
    for role in ROLES[2:]:
        expected[role] = ok_code if role in ok else forbidden
    return method, path, body, expected


STAFF = {"admin", "claims"}
PATIENT = {"name": "New", "resting_hr": 60, "max_hr": 170}
SHOP = {"name": "New shop", "lat": 31, "lon": 121, "makes": ["BMW"], "capacity": 2, "severities": ["minor"]}
JOB = {
    "claim_id": "C9",
    "shop_id": "S1",
    "severity": "minor",
    "vehicle": {"make": "BMW", "model": "X1", "year": 2020, "drivable": True},
}
TABLE = [
    _row("GET", "/api/v1/me", None, set(ROLES[2:])),
    _row("GET", "/api/v1/patients", None, STAFF | {"mgr1", "claimant_job1", "claimant_p1"}),
    _row("POST", "/api/v1/patients", PATIENT, STAFF | {"mgr1"}, 201),
    _row("GET", "/api/v1/patients/P1", None, STAFF | {"mgr1", "claimant_p1"}),
    _row("GET", "/api/v1/patients/P2", None, STAFF),
    _row("GET", "/api/v1/patients/P1/series/heart_rate", None, STAFF | {"mgr1", "claimant_p1"}),
    _row("GET", "/api/v1/patients/P2/series/heart_rate", None, STAFF),
    _row("GET", "/api/v1/patients/P1/metrics", None, STAFF | {"mgr1", "claimant_p1"}),
    _row("GET", "/api/v1/patients/P1/plans/current", None, STAFF | {"mgr1", "claimant_p1"}),
    _row("GET", "/api/v1/patients/P1/plans", None, STAFF | {"mgr1", "claimant_p1"}),
    _row("POST", "/api/v1/patients/P1/plans", {"reason": "table test"}, STAFF | {"mgr1"}, 201),
    _row("POST", "/api/v1/patients/P2/plans", {"reason": "table test"}, STAFF, 201),
    _row("GET", "/api/v1/patients/P2/plan-adjustments", None, STAFF),
    _row(
        "POST", "/api/v1/patients/P1/checkins", {"held_at": 1_700_000_000_000, "outcome": "good"}, STAFF | {"mgr1"}, 201
    ),
    _row("GET", "/api/v1/patients/P1/checkins", None, STAFF | {"mgr1", "claimant_p1"}),
    _row("POST", "/api/v1/plan-adjustments/ADJ-P2/reject", None, {"admin"}),  # admin or P2's manager (M2)
    _row("GET", "/api/v1/shops", None, STAFF | {"shop1"}),
    _row("POST", "/api/v1/shops", SHOP, STAFF, 201),
    _row("GET", "/api/v1/shops/S1", None, STAFF | {"shop1"}),
    _row("GET", "/api/v1/shops/S2", None, STAFF),
    _row("POST", "/api/v1/devices", {"device_id": "dev-x", "kind": "wearable", "patient_id": "P1"}, STAFF, 201),
    _row("POST", "/api/v1/tokens", {"role": "claims_handler"}, {"admin"}, 201),
    _row("GET", "/api/v1/repair-jobs", None, STAFF | {"shop1", "claimant_job1", "claimant_p1"}),
    _row("POST", "/api/v1/repair-jobs", JOB, STAFF, 201),
    _row("GET", "/api/v1/repair-jobs/J1", None, STAFF | {"shop1", "claimant_job1"}),
    _row("GET", "/api/v1/repair-jobs/J2", None, STAFF),
    _row("GET", "/api/v1/alerts", None, set(ROLES[2:])),
    _row("POST", "/api/v1/alerts/A-P2/ack", None, STAFF),
    _row("POST", "/api/v1/alerts/A-P1/ack", None, STAFF | {"mgr1"}),
    _row("POST", "/api/v1/alerts/A-J2/ack", None, STAFF),
    _row("POST", "/api/v1/alerts/A-J1/shelve", {"reason": "parts", "for_seconds": 3600}, STAFF | {"shop1"}),
    _row("GET", "/api/v1/dead-letters", None, {"admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), TABLE, ids=[f"{r[0]} {r[1]}" for r in TABLE])
def test_roles_and_tenants(
    world: tuple[TestClient, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    client, tokens = world
    got = {}
    for role in ROLES:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
        if path == "/api/v1/devices" and body is not None:
            body = {**body, "device_id": f"dev-{role}"}
        answer = client.request(method, path, json=body, headers=headers)
        got[role] = answer.status_code
        assert answer.headers["content-type"].startswith("application/json"), (role, answer.text[:200])
    assert got == expected


def test_lists_show_only_the_tenant(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world

    def ids(path: str, role: str) -> list[str]:
        answer = client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
        assert answer.status_code == 200
        return sorted(item.get("id") for item in answer.json()["items"])

    assert ids("/api/v1/patients", "mgr1") == ["P1"]
    assert ids("/api/v1/patients", "claimant_p1") == ["P1"]
    assert ids("/api/v1/repair-jobs", "shop1") == ["J1"]
    assert ids("/api/v1/repair-jobs", "claimant_job1") == ["J1"]
    assert ids("/api/v1/shops", "shop1") == ["S1"]
    assert ids("/api/v1/alerts", "mgr1") == ["A-P1"]
    assert ids("/api/v1/alerts", "shop1") == ["A-J1"]
    assert ids("/api/v1/alerts", "claimant_job1") == ["A-J1"]


def test_revoked_and_expired_tokens_are_refused(world: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = world
    admin = {"Authorization": f"Bearer {ADMIN}"}
    made = client.post("/api/v1/tokens", json={"role": "claims_handler", "expires_in": 60}, headers=admin).json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/me", headers=mine).status_code == 200
    assert client.delete(f"/api/v1/tokens/{made['id']}", headers=admin).status_code == 204
    refused = client.get("/api/v1/me", headers=mine)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "unknown or revoked token"}


def test_bad_input_is_a_clear_422(world: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = world
    admin = {"Authorization": f"Bearer {ADMIN}"}
    answer = client.post("/api/v1/shops", json={**SHOP, "lat": 200}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "lat"]
    answer = client.post("/api/v1/tokens", json={"role": "shop"}, headers=admin)
    assert answer.status_code == 422
    assert "needs shop_id" in str(answer.json()["detail"])
    answer = client.get("/api/v1/patients/P1/series/heart_rate?every=fortnight", headers=admin)
    assert answer.status_code == 422
    assert "every" in answer.json()["detail"]
    answer = client.post("/api/v1/patients", content=b"{nope", headers={**admin, "content-type": "application/json"})
    assert answer.status_code == 422
    answer = client.post("/api/v1/patients", json={"id": "P1", "name": "dup"}, headers=admin)
    assert answer.status_code == 409


# --- post-claim cases -------------------------------------------------------------------------------------------
# K1: a health case of patient P1 (manager M1) with a recovery file; K2: another claimant's motor case.
CASE_ROLES = ("anonymous", "bad", "admin", "claims", "mgr1", "shop1", "claimant_k1", "claimant_k2")
K1_READERS = STAFF | {"mgr1", "claimant_k1"}


@pytest.fixture
def case_world(world: tuple[TestClient, dict[str, str]]) -> tuple[TestClient, dict[str, str]]:
    client, tokens = world
    admin = {"Authorization": f"Bearer {ADMIN}"}

    def call(method: str, path: str, body: dict[str, Any], expect: int) -> dict[str, Any]:
        answer = client.request(method, f"/api/v1{path}", json=body, headers=admin)
        assert answer.status_code == expect, (path, answer.text)
        result: dict[str, Any] = answer.json()
        return result

    call("POST", "/cases", health_body("K1", "CL-K1", **{"loss.third_party_liable": True}), 201)
    call("POST", "/cases/K1/links", {"patient_id": "P1"}, 200)
    call("POST", "/cases/K1/subrogation", {"third_party": {"name": "Other Driver"}}, 201)
    call("POST", "/cases", case_body(id="K2", claim_id="CL-K2"), 201)
    cased = {
        name: call("POST", "/tokens", {"role": "claimant", "case_id": case_id}, 201)["token"]
        for name, case_id in (("claimant_k1", "K1"), ("claimant_k2", "K2"))
    }
    return client, {**tokens, **cased}


def _case_row(
    method: str, path: str, body: dict[str, Any] | None, ok: set[str], ok_code: int = 200, **codes: int
) -> tuple[str, str, dict[str, Any] | None, dict[str, int]]:
    """`ok` roles get `ok_code`, the others 403 (a missing or bad token 401); `codes` overrides single roles."""
    expected = {"anonymous": 401, "bad": 401}
    for role in CASE_ROLES[2:]:
        expected[role] = codes.get(role, ok_code if role in ok else 403)
    return method, path, body, expected


def _new_case(role: str) -> dict[str, Any]:
    return case_body(id=f"K-{role}", claim_id=f"CL-{role}")


CASE_TABLE = [
    _case_row("POST", "/api/v1/cases", {}, STAFF, 201),  # the body is `_new_case(role)`: one case per caller
    _case_row("GET", "/api/v1/cases", None, STAFF | {"mgr1", "claimant_k1", "claimant_k2"}),
    _case_row("GET", "/api/v1/cases/nps", None, STAFF),
    _case_row("GET", "/api/v1/cases/K1", None, K1_READERS),
    _case_row("GET", "/api/v1/cases/K2", None, STAFF | {"claimant_k2"}),
    _case_row("GET", "/api/v1/cases/K-none", None, set(), admin=404, claims=404),  # others cannot probe ids
    _case_row("POST", "/api/v1/cases/K1/links", {"patient_id": "P1"}, STAFF),
    _case_row("GET", "/api/v1/cases/K1/notice", None, K1_READERS),
    _case_row("GET", "/api/v1/cases/K1/plan", None, K1_READERS),
    _case_row("GET", "/api/v1/cases/K1/plan/versions", None, K1_READERS),
    _case_row("PATCH", "/api/v1/cases/K1/plan", {"home_visits": True}, STAFF | {"claimant_k1"}),
    # a manager may mark the rehab of their patient's case; the repair is not theirs (and not in a health plan)
    _case_row("POST", "/api/v1/cases/K1/services/rehab", {"status": "active"}, STAFF | {"mgr1"}),
    _case_row("POST", "/api/v1/cases/K1/services/repair", {"status": "done"}, STAFF, 422),
    _case_row("GET", "/api/v1/cases/K1/timeline", None, K1_READERS),
    _case_row("GET", "/api/v1/cases/K1/notifications", None, K1_READERS),
    _case_row("POST", "/api/v1/cases/K1/subrogation", {"third_party": {"name": "X"}}, STAFF, 409),  # it exists
    _case_row("GET", "/api/v1/cases/K1/subrogation", None, K1_READERS),
    _case_row("POST", "/api/v1/cases/K1/subrogation/events", {"claimed": 9000}, STAFF, 201),
    # only the claimant answers; the rehab milestone is not reached yet (409)
    _case_row(
        "POST",
        "/api/v1/cases/K1/feedback",
        {"milestone": "rehab", "satisfaction": 5, "would_recommend": 9},
        {"claimant_k1"},
        409,
    ),
    _case_row("GET", "/api/v1/cases/K1/feedback", None, K1_READERS),
    _case_row("GET", "/api/v1/cases/K1/risk-report", None, K1_READERS),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), CASE_TABLE, ids=[f"{r[0]} {r[1]}" for r in CASE_TABLE])
def test_case_roles_and_tenants(
    case_world: tuple[TestClient, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    client, tokens = case_world
    got = {}
    for role in CASE_ROLES:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
        sent = _new_case(role) if path == "/api/v1/cases" and method == "POST" else body
        answer = client.request(method, path, json=sent, headers=headers)
        got[role] = answer.status_code
        assert answer.headers["content-type"].startswith("application/json"), (role, answer.text[:200])
    assert got == expected


def test_case_table_covers_every_case_route() -> None:
    app = create_app(AppContext(stores=None, admin_token=ADMIN))  # type: ignore[arg-type]  # the schema only
    routes = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/v1/cases")
        for method in item
    ]
    missing = [
        f"{method} {path}"
        for method, path in routes
        if not any(m == method and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", path), p) for m, p, _, _ in CASE_TABLE)
    ]
    assert len(routes) >= 18  # the schema was read
    assert missing == []


def test_case_lists_show_only_the_tenant(case_world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = case_world

    def ids(role: str) -> list[str]:
        answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert answer.status_code == 200
        return sorted(item["id"] for item in answer.json()["items"])

    assert ids("admin") == ["K1", "K2"]
    assert ids("mgr1") == ["K1"]
    assert ids("claimant_k1") == ["K1"]
    assert ids("claimant_k2") == ["K2"]
