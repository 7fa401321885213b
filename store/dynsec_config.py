"""The dynamic security plugin's file (``dynamic-security.json``), written from the device registry.

Written before Mosquitto starts (docker-compose's ``broker-init`` runs ``aftercare broker init``): the
plugin reads the file at start and from then on saves it itself after every change made through its
API. The file holds PBKDF2-SHA512 hashes as ``password`` (base64 of the 64-byte digest), ``salt``
(base64 of 12 bytes) and ``iterations``: the parts of the ``$7$`` hash the registry already stores
(`devices.credentials`), so every registered device keeps its password, which the plugin's API
(plain passwords only, in Mosquitto 2.0) could not restore.

Clients and roles not made by Aftercare (``textname`` other than `MANAGED`, e.g. an operator's, made
with ``mosquitto_ctrl``) are kept from an existing file; Aftercare's own are rebuilt from the registry.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.credentials import mosquitto_hash
from devices.topics import DEVICE_ID_RE, DeviceKind
from store.broker_accounts import (
    ADMIN_ACLS,
    ADMIN_ROLE,
    DEFAULT_ACL_ACCESS,
    DEVICE_PUBLISHES,
    MANAGED,
    SERVICE_ACLS,
    device_acls,
    device_role,
)
from store.state.schema import Device

log = logging.getLogger(__name__)

SALT_BYTES = 12
DIGEST_BYTES = 64


class DynsecConfigError(ValueError):
    """The file cannot be written as asked (a bad hash, an unknown service user, an unreadable file)."""


@dataclass(frozen=True, slots=True)
class DeviceAccount:
    device_id: str
    kind: str
    password_hash: str  # Mosquitto's $7$ format


def registered_accounts(session: Session) -> Iterator[DeviceAccount]:
    """Every registered device that has MQTT credentials, in id order."""
    rows = session.execute(
        select(Device.device_id, Device.kind, Device.password_hash)
        .where(Device.password_hash.is_not(None))
        .order_by(Device.device_id)
        .execution_options(yield_per=1000)
    )
    for device_id, kind, password_hash in rows:
        if password_hash:
            yield DeviceAccount(device_id, kind, password_hash)


def hash_fields(encoded: str) -> dict[str, Any]:
    """``$7$<iterations>$<salt>$<digest>`` as the plugin's ``password``, ``salt`` and ``iterations``."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7" or not parts[2].isdigit() or int(parts[2]) < 1:
        raise DynsecConfigError("not a $7$<iterations>$<salt>$<digest> hash")
    try:
        salt = base64.b64decode(parts[3], validate=True)
        digest = base64.b64decode(parts[4], validate=True)
    except binascii.Error as exc:
        raise DynsecConfigError(f"bad base64 in the hash: {exc}") from exc
    if len(salt) != SALT_BYTES or len(digest) != DIGEST_BYTES:
        raise DynsecConfigError(f"the plugin needs a {SALT_BYTES}-byte salt and a {DIGEST_BYTES}-byte digest")
    return {"password": parts[4], "salt": parts[3], "iterations": int(parts[2])}


def _client(username: str, encoded_hash: str, rolename: str) -> dict[str, Any]:
    return {"username": username, "textname": MANAGED, **hash_fields(encoded_hash), "roles": [{"rolename": rolename}]}


def _role(rolename: str, acls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rolename": rolename, "textname": MANAGED, "acls": acls}


def render_config(
    *,
    admin_user: str,
    admin_password: str,
    service_passwords: Mapping[str, str],
    devices: Iterable[DeviceAccount],
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The plugin's configuration: the admin, service users, every usable device, and what others made."""
    if not admin_password:
        raise DynsecConfigError("the broker admin user needs a password")
    clients = [_client(admin_user, mosquitto_hash(admin_password), ADMIN_ROLE)]
    roles = [_role(ADMIN_ROLE, list(ADMIN_ACLS))]
    reserved = {admin_user, *SERVICE_ACLS}
    for name, password in sorted(service_passwords.items()):
        if name not in SERVICE_ACLS:
            raise DynsecConfigError(f"unknown service user {name!r}; known: {', '.join(sorted(SERVICE_ACLS))}")
        if not password:
            raise DynsecConfigError(f"service user {name!r} needs a password")
        clients.append(_client(name, mosquitto_hash(password), name))
        roles.append(_role(name, list(SERVICE_ACLS[name])))
    for device in devices:
        reason = _unusable(device, reserved)
        if reason is not None:
            log.warning("device %r left out of the broker's accounts: %s", device.device_id[:80], reason)
            continue
        kind = DeviceKind(device.kind)
        clients.append(_client(device.device_id, device.password_hash, device_role(device.device_id)))
        roles.append(_role(device_role(device.device_id), device_acls(device.device_id, kind)))
    ours = {c["username"] for c in clients}
    our_roles = {r["rolename"] for r in roles}
    kept_clients, kept_roles, groups = _not_managed(existing or {}, ours, our_roles)
    return {
        "clients": clients + kept_clients,
        "roles": roles + kept_roles,
        "groups": groups,
        "defaultACLAccess": dict(DEFAULT_ACL_ACCESS),
    }


def _unusable(device: DeviceAccount, reserved: set[str]) -> str | None:
    if not DEVICE_ID_RE.match(device.device_id):
        return "its id is not 1-64 characters of A-Z a-z 0-9 _ -"
    if device.device_id in reserved:
        return "its id is the name of a platform user"
    if device.kind not in {k.value for k in DEVICE_PUBLISHES}:
        return f"unknown kind {device.kind!r}"
    try:
        hash_fields(device.password_hash)
    except DynsecConfigError as exc:
        return f"its password hash is unusable: {exc}"
    return None


def _not_managed(
    existing: Mapping[str, Any], ours: set[str], our_roles: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Clients, roles and groups of an existing file that Aftercare did not make."""
    clients = [
        c
        for c in existing.get("clients", [])
        if isinstance(c, dict) and c.get("textname") != MANAGED and c.get("username") not in ours
    ]
    roles = [
        r
        for r in existing.get("roles", [])
        if isinstance(r, dict) and r.get("textname") != MANAGED and r.get("rolename") not in our_roles
    ]
    groups = [g for g in existing.get("groups", []) if isinstance(g, dict)]
    return clients, roles, groups


def read_config(path: Path) -> dict[str, Any] | None:
    """The plugin's file as it is, or None when there is none."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DynsecConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise DynsecConfigError(f"{path} does not hold a JSON object")
    return loaded


def write_config(path: Path, config: Mapping[str, Any], *, mode: int = 0o600) -> None:
    """Replace ``path`` atomically (temporary file, fsync, rename) with ``config``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
