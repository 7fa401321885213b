"""`AFTERCARE_LOG_FORMAT=json`: one JSON object per line, each line of a request carrying its request id,
and an access line per API request; the id is taken from a sane X-Request-ID and echoed in the response."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftercare.logging_setup import configure
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext

TOKEN = "json-logs-admin-token-0123456789abcdef"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}"))
    app = create_app(AppContext(stores=stores, admin_token=TOKEN))

    @app.get("/test-logs-inside")
    def inside() -> dict[str, str]:
        logging.getLogger("aftercare.test").info("working on %s", "P1", extra={"patient_id": "P1"})
        return {"ok": "yes"}

    try:
        yield app
    finally:
        stores.close()
        configure("INFO")  # back to the human format for the tests that follow


def json_lines(err: str) -> list[dict[str, object]]:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_every_line_of_a_request_carries_its_request_id(app: FastAPI, capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "json")
    with TestClient(app) as client:
        capsys.readouterr()
        response = client.get("/test-logs-inside", headers={"X-Request-ID": "client-req-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "client-req-42"
    records = json_lines(capsys.readouterr().err)
    mine = [r for r in records if r.get("request_id") == "client-req-42"]
    inside = next(r for r in mine if r["logger"] == "aftercare.test")
    assert inside["message"] == "working on P1"
    assert inside["level"] == "INFO"
    assert inside["patient_id"] == "P1"  # extra fields are kept
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(inside["time"]))
    access = next(r for r in mine if r["logger"] == "aftercare.access")
    assert (access["method"], access["path"], access["status"]) == ("GET", "/test-logs-inside", 200)
    assert isinstance(access["duration_ms"], float)


@pytest.mark.parametrize("offered", [None, "", "has spaces", "x" * 200, "semi;colon", "new\nline"])
def test_a_missing_or_insane_request_id_is_replaced_by_a_generated_one(
    app: FastAPI, capsys: pytest.CaptureFixture[str], offered: str | None
) -> None:
    configure("INFO", "json")
    with TestClient(app) as client:
        capsys.readouterr()
        headers = {} if offered is None else {"X-Request-ID": offered}
        response = client.get("/api/v1/no-such-route", headers=headers)
    assert response.status_code == 404
    assert "detail" in response.json()
    rid = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    access = [r for r in json_lines(capsys.readouterr().err) if r["logger"] == "aftercare.access"]
    assert [(r["request_id"], r["status"]) for r in access] == [(rid, 404)]


def test_each_request_has_its_own_id(app: FastAPI) -> None:
    with TestClient(app) as client:
        ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_the_default_format_stays_human(app: FastAPI, capsys: pytest.CaptureFixture[str]) -> None:
    assert Settings().log_format == "human"
    configure("INFO")
    logging.getLogger("aftercare.test").info("plain %s", "line")
    err = capsys.readouterr().err
    assert re.search(r"^ts=\S+ \S+ level=INFO logger=aftercare\.test msg=plain line$", err, re.MULTILINE), err


def test_an_exception_is_one_line_with_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "json")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("aftercare.test").exception("failed")
        (record,) = json_lines(capsys.readouterr().err)
    finally:
        configure("INFO")
    assert record["message"] == "failed"
    assert "ValueError: boom" in str(record["exception"])


def test_a_refused_body_still_gets_an_id_and_an_access_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}"))
    try:
        app = create_app(AppContext(stores=stores, admin_token=TOKEN), max_request_bytes=1024)
        configure("INFO", "json")
        with TestClient(app) as client:
            capsys.readouterr()
            response = client.post(
                "/api/v1/patients",
                content=b"x" * 4096,
                headers={"X-Request-ID": "too-big-1", "Authorization": f"Bearer {TOKEN}"},
            )
        assert response.status_code == 413
        assert response.headers["X-Request-ID"] == "too-big-1"
        access = [r for r in json_lines(capsys.readouterr().err) if r["logger"] == "aftercare.access"]
        assert [(r["request_id"], r["status"]) for r in access] == [("too-big-1", 413)]
    finally:
        stores.close()
        configure("INFO")
