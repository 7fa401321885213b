"""The operator documentation stays true: every setting is in the reference, every route in the API doc."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext

DOCS = Path(__file__).resolve().parents[2] / "docs"
PREFIX = "/api/v1"
_PARAM = re.compile(r"\{[^}/]*\}")


def _normalised(text: str) -> str:
    """Path parameters by position only: `/patients/{patient_id}` and `/patients/{id}` read alike."""
    return _PARAM.sub("{}", text)


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, object]]]:
    data = tmp_path_factory.mktemp("docs")
    stores = open_stores(Settings(data_dir=data, state_url=f"sqlite:///{data / 'state.db'}"))
    try:
        yield create_app(AppContext(stores=stores, admin_token="docs-test-admin-token-0123456789")).openapi()["paths"]
    finally:
        stores.close()


def routes_in(paths: dict[str, dict[str, object]]) -> list[str]:
    """Every `METHOD /path` of the schema, the API prefix left off as the doc writes it."""
    return [f"{method.upper()} {path.removeprefix(PREFIX)}" for path, item in paths.items() for method in item]


def documented(route: str, text: str) -> bool:
    """`route` is written out in `text` (not only as the start of a longer path)."""
    return re.search(re.escape(_normalised(route)) + r"(?![\w/{.-])", _normalised(text)) is not None


def test_every_route_of_the_app_is_in_the_api_doc(openapi: dict[str, dict[str, object]]) -> None:
    routes = routes_in(openapi)
    assert len(routes) > 50  # the schema was read: every router, cases included
    assert any(r.startswith("PATCH /cases/") for r in routes)
    text = (DOCS / "api.md").read_text()
    assert [route for route in routes if not documented(route, text)] == []


def test_a_route_is_documented_only_when_written_out() -> None:
    text = "| `GET /patients/{id}/plans`, `POST /alerts/{id}/ack` | `GET /alerts?state` |"
    assert documented("GET /patients/{patient_id}/plans", text)
    assert documented("GET /alerts", text)
    assert not documented("GET /patients/{patient_id}", text)  # only the start of a longer path
    assert not documented("POST /patients/{patient_id}/plans", text)  # another method
    assert not documented("POST /alerts/{alert_id}/resolve", text)


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operations.md").read_text()
    missing = [
        f"AFTERCARE_{name.upper()}" for name in Settings.model_fields if f"`AFTERCARE_{name.upper()}`" not in text
    ]
    assert missing == []


def test_every_contract_topic_has_a_mosquitto_pub_example() -> None:
    commands = (DOCS / "device-contract.md").read_text().replace("\\\n", " ").splitlines()
    for leaf in ("telemetry", "beacon", "photo", "status"):
        assert any("mosquitto_pub" in line and f"/{leaf} " in line for line in commands), leaf


def test_every_mosquitto_pub_example_speaks_tls() -> None:
    commands = (DOCS / "device-contract.md").read_text().replace("\\\n", " ").splitlines()
    examples = [line for line in commands if line.startswith("mosquitto_pub")]
    assert examples
    for line in examples:
        assert " -p 8883 " in line, line
        assert " --cafile ca.pem " in line, line
