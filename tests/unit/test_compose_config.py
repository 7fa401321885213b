"""`docker-compose config` (Debian's Compose, installed by .ci/services) accepts docker-compose.yml with a .env of
test values made from .env.example, refuses it while a secret is empty, and every aftercare service's resolved
environment is a valid production `Settings` (webhook secrets included)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftercare.certs import make_dev_certs
from aftercare.settings import Settings
from cases.webhook_signing import parse_secrets
from tests.support.container_settings import container_settings

ROOT = Path(__file__).resolve().parents[2]
AFTERCARE_SERVICES = ("broker-init", "api", "ingest-1", "ingest-2", "ingest-3", "monitor-1", "monitor-2")
WHSEC_NEW = "whsec_" + base64.b64encode(b"N" * 32).decode()
WHSEC_OLD = "whsec_" + base64.b64encode(b"O" * 32).decode()


def filled_env() -> dict[str, str]:
    """.env.example with every empty value filled in (secrets URL-safe, as the example asks)."""
    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value or f"test-{key.lower().replace('_', '-')}-0123456789abcdef"
    values["WEBHOOK_URL"] = "https://gateway.example/hooks/aftercare"
    values["WEBHOOK_SECRETS"] = f'"{WHSEC_NEW} {WHSEC_OLD}"'
    return values


def compose_config(tmp_path: Path, values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary is not None, "docker-compose is missing: `bash .ci/services` installs Debian's package"
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    compose_file = str(ROOT / "docker-compose.yml")
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", compose_file, "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # only what compose needs: a variable of the caller's environment would override the .env file
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    done = compose_config(tmp_path_factory.mktemp("compose"), filled_env())
    assert done.returncode == 0, done.stderr
    loaded = yaml.safe_load(done.stdout)
    assert isinstance(loaded, dict)
    return loaded


def test_compose_accepts_the_file_with_test_values(resolved: dict[str, Any]) -> None:
    assert set(AFTERCARE_SERVICES) <= set(resolved["services"])


@pytest.fixture(scope="module")
def certs_here(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stands in for ./deploy/certs (what `aftercare certs dev` makes)."""
    return make_dev_certs(tmp_path_factory.mktemp("certs")).ca_cert.parent


def settings_of(service: dict[str, Any], certs_here: Path) -> Settings:
    """What `aftercare` in that container reads: the image's ENV, then the service's resolved environment."""
    mounts = [v.split(":") if isinstance(v, str) else [v["source"], v["target"]] for v in service.get("volumes", [])]
    certs_mount = next(Path(m[1]) for m in mounts if Path(m[0]).name == "certs")
    return container_settings(service.get("environment") or {}, certs_mount=certs_mount, certs_here=certs_here)


def test_every_aftercare_service_gets_valid_production_settings(resolved: dict[str, Any], certs_here: Path) -> None:
    """Each container would start: the production checks (secrets, TLS beyond loopback) pass on what it reads."""
    for name in AFTERCARE_SERVICES:
        settings = settings_of(resolved["services"][name], certs_here)
        assert settings.mode == "production", name
        assert settings.webhook_url == "https://gateway.example/hooks/aftercare", name
        assert len(parse_secrets(settings.webhook_secrets, min_bytes=24)) == 2, name
        assert settings.webhook_max_age_s == 86400, name


@pytest.mark.parametrize("empty", ["WEBHOOK_SECRETS", "ADMIN_TOKEN", "POSTGRES_PASSWORD"])
def test_compose_refuses_an_empty_secret(tmp_path: Path, empty: str) -> None:
    values = filled_env()
    values[empty] = ""
    done = compose_config(tmp_path, values)
    assert done.returncode != 0
    assert f"set {empty} in .env" in done.stderr


def test_without_a_webhook_url_notifications_stay_queued(tmp_path: Path, certs_here: Path) -> None:
    values = filled_env()
    values["WEBHOOK_URL"] = ""
    done = compose_config(tmp_path, values)
    assert done.returncode == 0, done.stderr
    monitor = yaml.safe_load(done.stdout)["services"]["monitor-1"]
    assert settings_of(monitor, certs_here).webhook_url is None
