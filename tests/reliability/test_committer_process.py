"""The committer process (`ingest.committer`): killed between or during commits, nothing is lost or doubled;
its parent killed, it does not linger.

These drive `CommitterProcess` directly (no broker): the MQTT side only acknowledges what `process`
returned for, so "nothing lost" here means a batch whose `process` raised is committed whole when it is
sent again, and "nothing doubled" that the store then holds each message once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from aftercare.settings import Settings
from aftercare.wiring import committer_process, open_stores
from devices.timestamps import now_ms
from ingest.committer import CommitterProcess
from ingest.inbound import Inbound
from ingest.pipeline import BatchResult
from store.timeseries.base import StoreUnavailable
from tests.reliability.helpers import Key, hr, stored_series, telemetry_topic
from tests.support.mqtt_publisher import wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def _settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path, log_level="WARNING")
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=2, gateways=0)
    stores.close()
    return settings


def _batch(first_seq: int, count: int, samples: int = 1) -> list[Inbound]:
    """Messages ``first_seq ..`` alternating over w0 and w1, each ``samples`` seconds after the last."""
    t0 = now_ms() - 10 * 86_400_000
    batch = []
    for i in range(count):
        seq = first_seq + i
        doc = hr(seq, t0 + seq * samples * 1000, [60 + k % 40 for k in range(samples)])
        batch.append(
            Inbound(
                telemetry_topic(f"w{seq % 2}"),
                json.dumps(doc).encode(),
                mid=i + 1,
                qos=1,
                generation=1,
                received_ms=now_ms(),
            )
        )
    return batch


def _values(first_seq: int, count: int, samples: int = 1) -> dict[Key, list[float]]:
    """What `_batch` sends: each message's values by ``(device_id, seq)``."""
    return {
        (f"w{seq % 2}", seq): [float(60 + k % 40) for k in range(samples)]
        for seq in range(first_seq, first_seq + count)
    }


def _alive(pid: int) -> bool:
    """False once the process is gone or exiting (a zombie, not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_dead_committer_is_replaced_and_its_batch_committed_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    committer = committer_process(settings)
    committer.start()
    try:
        first = committer.process(_batch(0, 200))
        assert (first.stored_messages, first.points, first.duplicates) == (200, 200, 0)
        pid = committer.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 10, what="the committer gone")
        # A new child takes the next batch. Until the parent has reaped the dead one (its threads may still
        # be exiting), an attempt can be refused with StoreUnavailable; the service then retries, as here.
        second = _commit_retrying(committer, _batch(200, 200))
        assert committer.pid not in (None, pid)
        assert committer.starts == 2
        assert (second.stored_messages, second.duplicates) == (200, 0)
        again = committer.process(_batch(0, 400))  # a redelivery of both batches
        assert (again.stored_messages, again.duplicates) == (0, 400)
    finally:
        committer.close()
    assert stored_series(tmp_path / "timeseries.db") == _values(0, 400)


def test_killed_while_committing_the_batch_is_refused_then_stored_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    committer = committer_process(settings)
    committer.start()
    big = _batch(0, 6000, samples=100)
    outcome: list[BatchResult | Exception] = []
    try:
        pid = committer.pid
        assert pid is not None
        worker = threading.Thread(target=lambda: outcome.append(_try(committer, big)))
        worker.start()
        time.sleep(0.3)  # the child is decoding or writing the 600,000 samples
        os.kill(pid, signal.SIGKILL)
        worker.join(60)
        assert len(outcome) == 1
        if isinstance(outcome[0], BatchResult):  # it finished before the kill landed: still valid, but say so
            pytest.fail(f"the batch was committed within 0.3 s ({outcome[0]}); the kill came too late to test")
        assert isinstance(outcome[0], StoreUnavailable), outcome[0]
        assert "committer process" in str(outcome[0])
        retried = _commit_retrying(committer, big)  # the service retries the unacknowledged batch
        assert retried.stored_messages + retried.duplicates == 6000
    finally:
        committer.close()
    assert stored_series(tmp_path / "timeseries.db") == _values(0, 6000, samples=100)


def _commit_retrying(committer: CommitterProcess, batch: list[Inbound], attempts: int = 3) -> BatchResult:
    for _ in range(attempts - 1):
        try:
            return committer.process(batch)
        except StoreUnavailable:
            time.sleep(0.2)
    return committer.process(batch)


def _try(committer: CommitterProcess, batch: list[Inbound]) -> BatchResult | Exception:
    try:
        return committer.process(batch)
    except Exception as exc:
        return exc


def test_the_committer_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    _settings(tmp_path)
    script = textwrap.dedent(f"""
        import time
        from aftercare.settings import Settings
        from aftercare.wiring import committer_process
        c = committer_process(Settings(data_dir={str(tmp_path)!r}, log_level="WARNING"))
        c.start()
        print(c.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        wait_until(lambda: not _alive(child), 15, 0.1, what="the orphaned committer gone")
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_committer_that_cannot_open_its_stores_says_why_and_is_retried(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, timeseries_url="sqlite:////proc/no-such-folder/ts.db", log_level="WARNING")
    committer = committer_process(settings)
    with pytest.raises(StoreUnavailable, match="did not start: FileNotFoundError"):
        committer.start()
    assert committer.pid is None  # reaped, nothing left running
    with pytest.raises(StoreUnavailable, match="did not start"):  # each batch tries a new child, and says why
        committer.process(_batch(0, 10))
    assert committer.starts == 2
    committer.close()


def test_a_batch_whose_parent_is_gone_is_rolled_back_not_committed(tmp_path: Path) -> None:
    """The committer checks its parent just before the state commit (`serve` wires `_parent_check` there)."""
    from sqlalchemy import func, select

    from aftercare.wiring import build_pipeline
    from ingest.committer import ParentGone, _parent_check
    from store.state.schema import DeadLetter, DedupMark

    _parent_check(os.getppid())()  # our parent is alive: no exception
    settings = _settings(tmp_path)
    stores = open_stores(settings, migrate=False)
    try:
        pipeline = build_pipeline(settings, stores)
        pipeline.before_commit = _parent_check(os.getppid() + 1_000_000)  # a parent that is not ours: "gone"
        bad = Inbound(telemetry_topic("w0"), b"{not json", mid=99, qos=1, generation=1, received_ms=now_ms())
        with pytest.raises(ParentGone):
            pipeline.process([*_batch(0, 20), bad])

        def count(table: type) -> int:
            with stores.state.session() as s:
                return int(s.execute(select(func.count()).select_from(table)).scalar_one())

        assert (count(DedupMark), count(DeadLetter)) == (0, 0)  # nothing of the state transaction landed
        pipeline.before_commit = None  # the restarted ingestion gets the redelivery: stored once, one dead letter
        result = pipeline.process([*_batch(0, 20), bad])
        assert (result.stored_messages, result.duplicates, result.dead_letters) == (20, 0, 1)
        assert (count(DedupMark), count(DeadLetter)) == (20, 1)
    finally:
        stores.close()
