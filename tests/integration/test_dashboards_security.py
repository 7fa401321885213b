"""Dashboards and photos over a real uvicorn server: demo tokens only for a local Host, security headers everywhere.

Issue 15, finding 9: with `--simulate` the demo tokens were served whatever the Host header (DNS rebinding: a
page of evil.example resolving to 127.0.0.1 could read them). Finding 11: no Content-Security-Policy, nosniff or
frame-ancestors on the dashboards and photos.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from dashboards.mount import STATIC, mount_dashboards
from store.stores import Stores
from tests.support.api_server import running
from tests.support.seed import seed_registry

pytestmark = pytest.mark.integration
ADMIN = "dashboards-admin-token-0123456789abcdef"
DEMO = {"Rehab manager M1": "act_demo_manager_token", "Shop S1": "act_demo_shop_token"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@dataclass
class Server:
    base: str
    port: int
    stores: Stores


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(data_dir=tmp_path)
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=0, gateways=1, jobs=1)
    (tmp_path / "demo-tokens.json").write_text(json.dumps(DEMO))
    ctx = AppContext(stores=stores, admin_token=ADMIN)
    ctx.extras["mount_dashboards"] = mount_dashboards
    ctx.extras["settings"] = settings
    with running(create_app(ctx)) as base:
        yield Server(base, int(base.rsplit(":", 1)[1]), stores)
    stores.close()


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "localhost", "[::1]:{port}", "LocalHost"])
def test_demo_tokens_for_a_local_host_header(server: Server, host: str) -> None:
    answer = httpx.get(f"{server.base}/dashboards/demo-tokens", headers={"Host": host.format(port=server.port)})
    assert answer.status_code == 200
    assert answer.json() == {"tokens": DEMO}


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.nip.io:{port}",
        "localhost.evil.example",
        "[::1].evil.example",
        "localhost:80@evil.example",
        "",
    ],
)
def test_no_demo_tokens_for_any_other_host_header(server: Server, host: str) -> None:
    """A rebinding page's requests reach 127.0.0.1 with its own name in Host: they get nothing."""
    answer = httpx.get(f"{server.base}/dashboards/demo-tokens", headers={"Host": host.format(port=server.port)})
    assert answer.status_code == 404
    assert "act_demo" not in answer.text
    assert answer.json()["detail"]


def _assert_common(headers: httpx.Headers, where: str) -> str:
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    csp = str(headers.get("content-security-policy", ""))
    assert "frame-ancestors 'none'" in csp, where
    return csp


def _directive(csp: str, name: str) -> str:
    return next((d.strip() for d in csp.split(";") if d.strip().split(" ")[0] == name), "")


def test_every_dashboard_page_and_file_has_security_headers(server: Server) -> None:
    paths = ["/", "/dashboards/demo-tokens"]
    paths += ["/static/" + p.relative_to(STATIC).as_posix() for p in sorted(STATIC.rglob("*")) if p.is_file()]
    assert len(paths) > 10
    with httpx.Client(base_url=server.base) as c:
        for path in paths:
            answer = c.get(path)
            assert answer.status_code == 200, path
            csp = _assert_common(answer.headers, path)
            assert _directive(csp, "default-src") == "default-src 'self'", path
            script = _directive(csp, "script-src")
            assert script == "script-src 'self'", f"{path}: {script}"
            assert "object-src 'none'" in csp, path
            assert "base-uri 'none'" in csp, path


def test_photos_are_served_sandboxed(server: Server) -> None:
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        made = c.post(
            "/api/v1/repair-jobs/J0-0/photos", data={"stage": "body"}, files={"file": ("p.png", PNG, "image/png")}
        )
        assert made.status_code == 201, made.text
        photo = c.get(f"/api/v1/repair-jobs/J0-0/photos/{made.json()['id']}")
    assert photo.status_code == 200
    assert photo.content == PNG
    csp = _assert_common(photo.headers, "photo")
    assert _directive(csp, "default-src") == "default-src 'none'"
    assert _directive(csp, "sandbox") == "sandbox"


def test_api_answers_have_security_headers_too(server: Server) -> None:
    with httpx.Client(base_url=server.base) as c:
        for path, status in (("/api/v1/me", 401), ("/healthz", 200), ("/api/v1/nope", 404)):
            answer = c.get(path, headers={"Authorization": f"Bearer {ADMIN}"} if status == 200 else {})
            assert answer.status_code == status, path
            csp = _assert_common(answer.headers, path)
            assert _directive(csp, "default-src") == "default-src 'none'", path
