"""Issue 15, finding 10: the data folder is 0700 and every file the platform creates in it 0600.

A real `aftercare up` (embedded broker, SQLite stores) under the usual umask 022, a photo uploaded through
the API, then every entry under the data folder is checked, while it runs (SQLite's -wal and -shm files
exist then) and after Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from aftercare.embedded_broker import free_port
from simulators.photos import checkpoint_photo

pytestmark = pytest.mark.integration


def _loose_modes(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (and root itself) whose mode is not 0700 (folders) or 0600 (files)."""
    loose: dict[str, str] = {}
    for entry in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(entry.lstat().st_mode)
        wanted = 0o700 if entry.is_dir() else 0o600
        if mode != wanted:
            loose[str(entry.relative_to(root.parent))] = oct(mode)
    return loose


def _wait_for_line(proc: subprocess.Popen[str], sentinel: str, seen: list[str]) -> None:
    """Read the process's output until a line holds ``sentinel`` (the process ending first fails)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if sentinel in line:
            return
    pytest.fail(f"`aftercare up` ended before printing {sentinel!r}:\n{''.join(seen)[-3000:]}")


def test_everything_under_the_data_folder_is_private_from_creation(tmp_path: Path) -> None:
    api = free_port()
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aftercare.cli", "up"],
        cwd=tmp_path,
        text=True,
        env={
            **os.environ,
            "AFTERCARE_DATA_DIR": str(data),
            "AFTERCARE_EMBEDDED_MQTT_PORT": str(free_port()),
            "AFTERCARE_API_PORT": str(api),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask: the platform must not rely on it
    )
    watchdog = threading.Timer(120, proc.kill)  # a hung start fails the test instead of blocking it
    watchdog.start()
    seen: list[str] = []
    try:
        _wait_for_line(proc, "Aftercare is up", seen)
        admin = {"Authorization": f"Bearer {(data / 'admin-token').read_text().strip()}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{api}/api/v1", headers=admin, timeout=30) as client:
            shop = {
                "id": "S1",
                "name": "S1",
                "lat": 31.2,
                "lon": 121.4,
                "makes": ["Toyota"],
                "capacity": 2,
                "severities": ["minor"],
            }
            assert client.post("/shops", json=shop).status_code == 201
            job = {
                "id": "J1",
                "claim_id": "C1",
                "shop_id": "S1",
                "severity": "minor",
                "vehicle": {"make": "Toyota", "model": "Yaris", "year": 2021, "drivable": True},
            }
            assert client.post("/repair-jobs", json=job).status_code == 201
            photo = checkpoint_photo(3, taken_at_ms=None, lat=31.2, lon=121.4).data
            answer = client.post(
                "/repair-jobs/J1/photos", files={"file": ("p.jpg", photo, "image/jpeg")}, data={"stage": "intake"}
            )
            assert answer.status_code == 201, answer.text
        names = {p.name for p in data.rglob("*")}
        assert {"admin-token", "state.db", "state.db-wal", "timeseries.db", "photos"} <= names, names
        assert any(p.suffix == ".jpg" for p in (data / "photos").rglob("*")), names
        running = _loose_modes(data)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        watchdog.cancel()
    assert proc.returncode == 0, "".join(seen) + out[-2000:]
    assert running == {}, running
    assert _loose_modes(data) == {}
