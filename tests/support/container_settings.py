"""`Settings` as a container of docker-compose.yml builds them: the image's `ENV` (Dockerfile) under the service's
own environment, with the certificates mounted from ./deploy/certs replaced by a folder of this machine."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from aftercare.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def image_env(dockerfile: Path = ROOT / "Dockerfile") -> dict[str, str]:
    """Every `ENV key=value` of the Dockerfile (continuation lines joined)."""
    env: dict[str, str] = {}
    logical = dockerfile.read_text().replace("\\\n", " ").splitlines()
    for line in logical:
        if line.startswith("ENV "):
            for word in shlex.split(line[4:]):
                key, sep, value = word.partition("=")
                assert sep, f"Dockerfile: ENV in the key=value form only: {line!r}"
                env[key] = value
    return env


def container_settings(environment: Mapping[str, object], *, certs_mount: Path, certs_here: Path) -> Settings:
    """The settings `aftercare` reads in the container: image ENV, then `environment` (compose's, resolved)."""
    values = {**image_env(), **{str(k): str(v) for k, v in environment.items()}}
    fields = {
        key.removeprefix("AFTERCARE_").lower(): value.replace(str(certs_mount), str(certs_here))
        for key, value in values.items()
        if key.startswith("AFTERCARE_")
    }
    return Settings(_env_file=None, **fields)  # type: ignore[arg-type]
