"""Browser-test fixtures: `aftercare up --simulate` as a subprocess, and Debian's Chromium driven by Playwright.

``platform`` (module scope) starts the whole platform in a temporary data folder on free ports, waits
for ``/healthz``, the demo tokens and the first telemetry, and stops it with SIGINT at the end (its
log is printed when a test fails to start it). ``browser`` launches /usr/bin/chromium (never a
downloaded browser); ``page`` is a fresh page that fails the test on any uncaught JavaScript error or
Content-Security-Policy violation. The pages are served with a CSP without 'unsafe-eval': give
``wait_for_function`` an arrow function (``"() => ..."``), since a bare expression is evaluated as a string.
Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from aftercare.settings import Settings
from monitor import alerts
from monitor.alerts import AlertInput
from store.state.engine import StateStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path | None = None) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` (and the platform log's tail)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(1.0)
    tail = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
    pytest.fail(
        f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})\n--- platform log ---\n{tail}"
    )


@dataclass
class Platform:
    base: str
    data_dir: Path
    log: Path
    admin_token: str
    tokens: dict[str, str]
    proc: subprocess.Popen[bytes]
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=30)

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return self.http.get(
            f"/api/v1/{path}", params=params, headers={"Authorization": f"Bearer {token or self.admin_token}"}
        )

    def post(self, path: str, body: Any = None, token: str | None = None) -> httpx.Response:
        return self.http.post(
            f"/api/v1/{path}", json=body, headers={"Authorization": f"Bearer {token or self.admin_token}"}
        )

    @contextmanager
    def state(self) -> Iterator[Session]:
        """A session of the platform's own state store (SQLite in its data folder unless the environment
        names another), for a test that makes something happen the way a monitor or a gateway would."""
        store = StateStore(Settings(data_dir=self.data_dir).resolved_state_url)
        try:
            with store.session() as session:
                yield session
        finally:
            store.close()

    def raise_alert(self, item: AlertInput) -> str:
        """Open an alert (and its live event) through the state store, as a monitor does; its id."""
        with self.state() as s:
            alert, opened = alerts.raise_alert(s, item)
            assert opened, f"an alert {item.kind} of {item.subject} was already active"
            return alert.id

    def token(self, label: str) -> str:
        if label not in self.tokens:
            pytest.fail(f"demo token {label!r} missing; demo-tokens.json has {sorted(self.tokens)}")
        return self.tokens[label]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=45)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp("aftercare-data")
    port = free_port()
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_API_PORT": str(port),
        "AFTERCARE_API_HOST": "127.0.0.1",
        "AFTERCARE_EMBEDDED_MQTT_PORT": str(free_port()),
    }
    # The platform runs the code of this checkout (the installed `aftercare` may be another checkout's).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.pop("AFTERCARE_MQTT_URL", None)
    env.pop("AFTERCARE_ADMIN_TOKEN", None)
    log = data_dir / "platform.log"
    exe = Path(sys.executable).parent / "aftercare"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "aftercare.cli"]
    with log.open("wb") as out:
        proc = subprocess.Popen([*cmd, "up", "--simulate"], cwd=data_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"`aftercare up --simulate` exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200

        wait_for("/healthz", healthy, 90, log)
        admin = wait_for("the admin token", lambda: (data_dir / "admin-token").read_text().strip(), 30, log)
        tokens = wait_for("demo-tokens.json", lambda: json.loads((data_dir / "demo-tokens.json").read_text()), 120, log)
        p = Platform(base=base, data_dir=data_dir, log=log, admin_token=admin, tokens=tokens, proc=proc)

        def has_series() -> bool:
            end = int(time.time() * 1000)
            r = p.get("patients/sim-P1/series/heart_rate", start=end - 3_600_000, end=end, every="5s")
            return r.status_code == 200 and len(r.json().get("t", [])) > 10

        wait_for("heart-rate data of sim-P1", has_series, 180, log)
        yield p
        p.http.close()
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: apt-get install -y chromium (never `playwright install`)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # anything the Content-Security-Policy blocked (an inline style or script, an image source) fails the test too
    pg.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert not errors, f"uncaught JavaScript errors or CSP violations: {errors}"


@pytest.fixture
def shoot() -> Callable[[Any, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take
