"""Request bodies are limited while they stream in, before authentication, over a real uvicorn server.

Issue 15, finding 1: a chunked body had no size limit and was read whole before the token was checked
(64 MiB to `POST /patients` with no token: 401 after all of it; to the photo route, all of it spooled to disk).
Each request here is written by hand on a socket and left unfinished: an answer can only arrive because the
server refused the request before reading the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from store.stores import Stores
from tests.support.api_server import RawRequest, running
from tests.support.seed import seed_registry

pytestmark = pytest.mark.integration
ADMIN = "body-limit-admin-token-0123456789abcdef"
LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    opened = open_stores(Settings(data_dir=tmp_path))
    seed_registry(opened.state, wearables=0, gateways=1, jobs=1)
    yield opened
    opened.close()


@pytest.fixture
def base(stores: Stores) -> Iterator[str]:
    app = create_app(
        AppContext(stores=stores, admin_token=ADMIN, max_photo_bytes=128 * 1024),
        max_request_bytes=LIMIT,
        max_upload_bytes=UPLOAD_LIMIT,
    )
    with running(app) as url:
        yield url


def _photo_files(stores: Stores) -> list[Path]:
    root = stores.photos.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _multipart_head(boundary: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="stage"\r\n\r\nbody\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + PNG


def test_chunked_json_over_the_limit_is_refused_before_it_ends(base: str) -> None:
    request = RawRequest(
        base,
        "POST",
        "/api/v1/patients",
        {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    try:
        request.send_chunks_past(LIMIT, b" " * 8192)
        answer = request.answer()
    finally:
        request.close()
    assert answer.status == 413
    assert "larger than" in str(answer.json())
    assert answer.headers.get("connection") == "close"


def test_chunked_body_without_a_token_is_refused_before_any_body(base: str) -> None:
    request = RawRequest(
        base, "POST", "/api/v1/patients", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    try:
        request.send_chunk(b'{"id": "P9", ')  # and never the rest
        answer = request.answer()
    finally:
        request.close()
    assert answer.status == 401
    assert answer.json() == {"detail": "missing bearer token"}
    assert answer.headers.get("www-authenticate") == "Bearer"


def test_sized_body_over_the_limit_is_refused_from_its_header(base: str) -> None:
    request = RawRequest(
        base,
        "POST",
        "/api/v1/patients",
        {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json", "Content-Length": str(64 << 20)},
    )
    try:
        answer = request.answer()  # not one byte of the body sent
    finally:
        request.close()
    assert answer.status == 413
    assert answer.json() == {"detail": f"request body larger than {LIMIT} bytes"}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
def test_photo_upload_without_a_valid_token_writes_nothing(
    base: str, stores: Stores, authorization: str | None
) -> None:
    boundary = uuid.uuid4().hex
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = RawRequest(base, "POST", "/api/v1/repair-jobs/J0-0/photos", headers)
    try:
        request.send_chunk(_multipart_head(boundary))
        answer = request.answer()
    finally:
        request.close()
    assert answer.status == 401
    assert isinstance(answer.json(), dict)
    assert _photo_files(stores) == []


def test_photo_upload_over_the_upload_limit_is_refused_while_streaming(base: str, stores: Stores) -> None:
    boundary = uuid.uuid4().hex
    request = RawRequest(
        base,
        "POST",
        "/api/v1/repair-jobs/J0-0/photos",
        {
            "Authorization": f"Bearer {ADMIN}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Transfer-Encoding": "chunked",
        },
    )
    try:
        request.send_chunk(_multipart_head(boundary))
        request.send_chunks_past(UPLOAD_LIMIT, b"\0" * 16384)
        answer = request.answer()
    finally:
        request.close()
    assert answer.status == 413
    assert "larger than" in str(answer.json())
    assert _photo_files(stores) == []


def test_bodies_within_the_limits_still_work(base: str, stores: Stores) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10) as c:
        chunked = c.post(
            "/api/v1/patients",
            content=iter([b'{"id": "P7", "name": "P7", ', b'"manager_id": "M1"}']),
            headers={"Content-Type": "application/json"},
        )
        assert chunked.status_code == 201, chunked.text
        photo = c.post(
            "/api/v1/repair-jobs/J0-0/photos",
            data={"stage": "body"},
            files={"file": ("p.png", PNG + b"\0" * (100 * 1024), "image/png")},
        )
        assert photo.status_code == 201, photo.text
        # larger than the general limit, yet within the upload route's own
        assert len(PNG) + 100 * 1024 > LIMIT
    assert len(_photo_files(stores)) == 1


def test_upload_token_check_with_the_state_store_down_is_503_not_500(tmp_path: Path, pg_url: str) -> None:
    """The middleware's token check reads the store before any route does: its failure is a clear 503."""
    opened = open_stores(Settings(data_dir=tmp_path, state_url=pg_url))
    try:
        with running(create_app(AppContext(stores=opened, admin_token=ADMIN))) as url:
            name = pg_url.rsplit("/", 1)[1]
            with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            boundary = uuid.uuid4().hex
            request = RawRequest(
                url,
                "POST",
                "/api/v1/repair-jobs/J0-0/photos",
                {
                    "Authorization": "Bearer act_some_token",
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Transfer-Encoding": "chunked",
                },
            )
            try:
                answer = request.answer()
            finally:
                request.close()
    finally:
        opened.close()
    assert answer.status == 503
    assert answer.json() == {"detail": "state store unavailable, retry later"}
    assert answer.headers.get("retry-after") == "5"
