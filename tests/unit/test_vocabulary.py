"""`GET /api/v1/vocabulary` answers the names of `cases.texts` and the alert table, to any authenticated role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from cases.texts import STAGE_NAMES, SUBROGATION_STAGE_NAMES, TEXTS, say
from monitor.repair.stages import Stage
from store.state.alert_kinds import ALERT_KINDS

ADMIN = "vocabulary-admin-token-0123456789abcdef"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    stores = open_stores(Settings(data_dir=tmp_path))
    with TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN))) as c:
        yield c
    stores.close()


def _get(client: TestClient, token: str, **params: str) -> dict[str, Any]:
    r = client.get("/api/v1/vocabulary", params=params, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_route_answers_the_names_of_cases_texts(client: TestClient, lang: str) -> None:
    answer = _get(client, ADMIN, lang=lang)
    assert answer["lang"] == lang
    assert answer["stages"] == STAGE_NAMES[lang]
    assert answer["recovery_stages"] == SUBROGATION_STAGE_NAMES[lang]
    keys = [k.removeprefix("item.") for k in TEXTS["en"] if k.startswith("item.")]
    assert answer["items"] == {k: say(lang, f"item.{k}") for k in keys}
    assert set(answer["stages"]) == {str(s) for s in Stage}


def test_stage_names_differ_by_language_where_cases_texts_says_so(client: TestClient) -> None:
    zh = _get(client, ADMIN, lang="zh")["stages"]
    assert (zh["estimate"], zh["reassembly"]) == ("定损", "装配")


def test_alert_kinds_come_with_their_flags(client: TestClient) -> None:
    kinds = _get(client, ADMIN)["alert_kinds"]
    assert set(kinds) == set(ALERT_KINDS)
    late = sorted(k for k, v in kinds.items() if v["late"])
    assert late == ["long_hold", "sla_breach", "stall"]
    assert kinds["photo_reuse"]["fraud"]
    assert kinds["photo_reuse"]["severity"] == "critical"
    assert kinds["fall"]["safety"]
    assert kinds["photo_reuse"]["closed_by"] == ["admin", "claims_handler"]
    assert kinds["stall"]["closed_by"] is None
    assert kinds["fall"]["subject_type"] == "patient"
    assert not kinds["not_worn"]["safety"]
    assert kinds["subrogation_deadline"]["subject_type"] == "case"


def test_any_role_may_read_it_and_no_token_may_not(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    # a claimant token needs an existing case (issue 15, finding 7); a manager token names no stored resource
    r = client.post("/api/v1/tokens", json={"role": "rehab_manager", "manager_id": "M-any"}, headers=auth)
    assert r.status_code in (200, 201), r.text
    assert _get(client, r.json()["token"], lang="zh")["lang"] == "zh"
    assert client.get("/api/v1/vocabulary").status_code == 401
    bad = client.get("/api/v1/vocabulary", params={"lang": "fr"}, headers=auth)
    assert bad.status_code == 422
