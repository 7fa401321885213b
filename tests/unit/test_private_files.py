"""Issue 15, finding 10: the stores create their files 0600 and folders 0700 whatever the umask (the serving
commands' umask 077 is a second guard, not what these modes rely on)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftercare.settings import Settings
from aftercare.wiring import open_stores


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_stores_and_photos_are_private_under_umask_022(tmp_path: Path, usual_umask: None) -> None:
    data = tmp_path / "nested" / "data"
    stores = open_stores(Settings(_env_file=None, data_dir=data))
    try:
        stores.photos.save(b"\xff\xd8\xff" + b"0" * 100, "image/jpeg")
        with stores.state.session() as s:
            s.connection()  # the WAL and shared-memory files exist while a connection is open
            entries = [data, *data.rglob("*")]
            assert {"state.db-wal", "state.db-shm", "timeseries.db", "photos"} <= {p.name for p in entries}
            modes = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in entries}
    finally:
        stores.close()
    assert modes == {k: ("0o700" if (tmp_path / k).is_dir() else "0o600") for k in modes}
    assert oct(stat.S_IMODE((tmp_path / "nested").stat().st_mode)) == "0o700"  # a missing parent too
