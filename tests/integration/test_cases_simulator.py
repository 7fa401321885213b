"""`aftercare simulate cases` against a real API server: cases of all three lines driven to closure over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from simulators.cases import run_cases
from store.state.schema_cases import Case, CaseFeedback, CaseNotification, Subrogation
from store.stores import Stores

pytestmark = pytest.mark.integration
ADMIN = "simulator-admin-token-0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path, state_url: str) -> Iterator[tuple[str, Stores]]:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = uvicorn.Server(
        uvicorn.Config(
            create_app(AppContext(stores=stores, admin_token=ADMIN)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=api.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not api.started:
        assert time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", stores
    api.should_exit = True
    thread.join(30)
    stores.close()


def test_simulated_cases_of_every_line_reach_closure(server: tuple[str, Stores]) -> None:
    url, stores = server
    run_cases(api_url=url, admin_token=ADMIN, count=6, seed=11)
    with stores.state.session() as s:
        cases = list(s.execute(select(Case)).scalars())
        assert sorted(c.line for c in cases) == ["health", "health", "motor", "motor", "property", "property"]
        assert {c.state for c in cases} == {"closed"}
        assert all(c.figures is not None and c.risk_report is not None for c in cases)
        motor = [c for c in cases if c.line == "motor"]
        assert all(c.job_id is not None and c.figures and c.figures["days_to_keys"] is not None for c in motor)
        assert all(c.patient_id is not None for c in cases if c.line == "health")
        answers = s.execute(select(CaseFeedback)).scalars().all()
        assert {a.milestone for a in answers} >= {"repair", "rehab", "risk_review", "closure"}
        kinds = set(s.execute(select(CaseNotification.kind)).scalars())
        assert {"payment_notice", "plan_ready", "feedback_request", "case_closed"} <= kinds
        for file in s.execute(select(Subrogation)).scalars():
            assert file.stage == "closed"
            assert file.recovered == pytest.approx(file.claimed)
    run_cases(api_url=url, admin_token=ADMIN, count=1, seed=11)  # a second run reuses the shops, new ids
    with stores.state.session() as s:
        assert len(s.execute(select(Case.id)).all()) == 7
