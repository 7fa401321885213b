"""`aftercare up`: a taken port is a clear message naming the setting; with --simulate, telemetry becomes
readable through the API (the time it took is printed, not asserted: timings belong to benchmarks); SIGINT
stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aftercare.embedded_broker import free_port

pytestmark = pytest.mark.integration


def _up(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aftercare.cli", "up", *args],
        cwd=tmp_path,
        text=True,
        env={**os.environ, "AFTERCARE_DATA_DIR": str(tmp_path / "data"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("variable", ["AFTERCARE_EMBEDDED_MQTT_PORT", "AFTERCARE_API_PORT"])
def test_a_taken_port_names_the_setting(tmp_path: Path, variable: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = {"AFTERCARE_EMBEDDED_MQTT_PORT": str(free_port()), "AFTERCARE_API_PORT": str(free_port())}
        ports[variable] = str(taken)
        proc = _up(tmp_path, **ports)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert variable in out
    assert f"port {taken} is already in use" in out
    assert "Traceback" not in out


def test_without_the_embedded_extra_one_line_says_how_to_install_it(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "amqtt"  # amqtt as if not installed: its import fails
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'amqtt'\", name='amqtt')\n")
    path = os.pathsep.join(p for p in (str(shadow.parent), os.environ.get("PYTHONPATH", "")) if p)
    proc = _up(
        tmp_path,
        PYTHONPATH=path,
        AFTERCARE_EMBEDDED_MQTT_PORT=str(free_port()),
        AFTERCARE_API_PORT=str(free_port()),
    )
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "pip install -e '.[embedded]'" in lines[0]
    assert "AFTERCARE_MQTT_URL" in lines[0]


def test_simulated_telemetry_is_readable_within_30_seconds_and_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    api = free_port()
    proc = _up(
        tmp_path,
        "--simulate",
        "--patients",
        "2",
        "--shops",
        "1",
        "--history-days",
        "0",
        AFTERCARE_EMBEDDED_MQTT_PORT=str(free_port()),
        AFTERCARE_API_PORT=str(api),
    )
    started = time.monotonic()
    base = f"http://127.0.0.1:{api}"
    try:
        token_file = tmp_path / "data" / "admin-token"
        found = 0
        while time.monotonic() - started < 60 and not found:
            time.sleep(0.5)
            if not token_file.exists():
                continue
            try:
                answer = httpx.get(
                    f"{base}/api/v1/patients/sim-P1/series/heart_rate",
                    headers={"Authorization": f"Bearer {token_file.read_text().strip()}"},
                )
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                found = len(answer.json()["t"])
        assert found > 0, "no telemetry through the API within a minute"
        print(f"first telemetry through the API {time.monotonic() - started:.1f} s after `aftercare up --simulate`")
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-2000:]
    assert "stopped cleanly" in out
    assert "Traceback" not in out
