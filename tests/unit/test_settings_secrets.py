"""Issue 15, finding 3: the spot-check secret has no public default that production accepts."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from aftercare.settings import Settings

PRODUCTION = {
    "mode": "production",
    "admin_token": "a" * 32,
    "mqtt_url": "mqtts://broker:8883",
    "state_url": "postgresql://db/aftercare",
}


def test_production_refuses_to_start_without_a_spot_check_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFTERCARE_SPOT_CHECK_SEED", raising=False)
    with pytest.raises(ValidationError, match="AFTERCARE_SPOT_CHECK_SEED"):
        Settings(_env_file=None, **PRODUCTION)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", ["aftercare", "x" * 31])
def test_production_refuses_a_short_spot_check_secret(seed: str) -> None:
    with pytest.raises(ValidationError, match=r"AFTERCARE_SPOT_CHECK_SEED .*32 bytes"):
        Settings(_env_file=None, spot_check_seed=seed, **PRODUCTION)  # type: ignore[arg-type]


def test_production_takes_a_long_spot_check_secret() -> None:
    secret = "s" * 32
    assert Settings(_env_file=None, spot_check_seed=secret, **PRODUCTION).ensure_spot_check_seed() == secret  # type: ignore[arg-type]


def test_development_generates_one_secret_stored_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFTERCARE_SPOT_CHECK_SEED", raising=False)
    first = Settings(_env_file=None, data_dir=tmp_path / "data").ensure_spot_check_seed()
    again = Settings(_env_file=None, data_dir=tmp_path / "data").ensure_spot_check_seed()
    assert first == again
    assert len(first.encode()) >= 32
    path = tmp_path / "data" / "spot-check-seed"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_production_sends_webhooks_over_https_only() -> None:
    secrets = "whsec_" + base64.b64encode(b"k" * 32).decode()
    base = {**PRODUCTION, "spot_check_seed": "s" * 32, "webhook_secrets": secrets}
    with pytest.raises(ValidationError, match="AFTERCARE_WEBHOOK_URL must be https://"):
        Settings(_env_file=None, webhook_url="http://gateway.example/hooks", **base)  # type: ignore[arg-type]
    https = Settings(_env_file=None, webhook_url="https://gateway.example/hooks", **base)  # type: ignore[arg-type]
    assert https.webhook_url == "https://gateway.example/hooks"
    # a gateway on this host (a local relay) crosses no network
    local = Settings(_env_file=None, webhook_url="http://127.0.0.1:9000/hooks", **base)  # type: ignore[arg-type]
    assert local.webhook_url == "http://127.0.0.1:9000/hooks"
