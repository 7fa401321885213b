"""Mosquitto's password file and ACL file, written from the device registry.

Each registered device is an MQTT user named by its ``device_id`` (the hash is already in
Mosquitto's ``$7$`` format, see `devices.credentials`) and may publish only the topics of its own
kind under its own id, plus its status. Service users (ingestion, monitoring) get read access.
Anonymous clients get nothing. Both files are replaced atomically (temporary file, fsync, rename)
with mode 0600, so the writer must run as the broker's user (docker-compose: uid 1883); then
Mosquitto is sent SIGHUP, which makes it reread both files without dropping any connection.

``python -m store.broker_files`` writes the files once (docker-compose runs it before Mosquitto starts).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.credentials import mosquitto_hash
from devices.topics import DEVICE_ID_RE, TOPIC_PREFIX, DeviceKind, MessageKind, topic_for
from store.state.schema import Device

log = logging.getLogger(__name__)

INGEST_USER = "aftercare-ingest"
MONITOR_USER = "aftercare-monitor"

#: What each service user may do. Mosquitto checks a shared subscription
#: (``$share/ingest/aftercare/v1/...``) against the underlying topic, so ``read`` covers it.
SERVICE_ACCESS: Mapping[str, tuple[str, ...]] = {
    INGEST_USER: (f"read {TOPIC_PREFIX}/#",),
    MONITOR_USER: (f"read {TOPIC_PREFIX}/#", "read $SYS/#"),
}

#: The message kinds each kind of device publishes; every device also publishes its status.
DEVICE_PUBLISHES: Mapping[DeviceKind, tuple[MessageKind, ...]] = {
    DeviceKind.WEARABLE: (MessageKind.TELEMETRY, MessageKind.STATUS),
    DeviceKind.SHOP_GATEWAY: (MessageKind.BEACON, MessageKind.PHOTO, MessageKind.STATUS),
}

_HEADER = (
    "# Written by Aftercare (store/broker_files.py) from the device registry: do not edit,\n"
    "# it is rewritten whenever a device is registered.\n"
)


_WRITE_LOCK = threading.Lock()


class BrokerFilesError(ValueError):
    """The broker files cannot be written as asked (an unknown service user, a bad password)."""


@dataclass(frozen=True, slots=True)
class BrokerUser:
    """One line of the password file and its block of the ACL file."""

    username: str
    password_hash: str
    rules: tuple[str, ...]  # "read <filter>" / "write <topic>"


def device_rules(device_id: str, kind: DeviceKind) -> tuple[str, ...]:
    """The ACL rules of a device: write on its own topics, nothing else."""
    return tuple(f"write {topic_for(message, device_id)}" for message in DEVICE_PUBLISHES[kind])


def service_broker_users(passwords: Mapping[str, str]) -> list[BrokerUser]:
    """Users of the platform's own services, with hashes made from the given plain passwords."""
    users = []
    for name, password in sorted(passwords.items()):
        if name not in SERVICE_ACCESS:
            raise BrokerFilesError(f"unknown service user {name!r}; known: {', '.join(sorted(SERVICE_ACCESS))}")
        if not password:
            raise BrokerFilesError(f"service user {name!r} needs a password")
        users.append(BrokerUser(name, mosquitto_hash(password), SERVICE_ACCESS[name]))
    return users


def device_broker_users(session: Session, *, reserved: Iterable[str] = ()) -> Iterable[BrokerUser]:
    """Users of the registered devices that have credentials; odd rows are left out with a warning."""
    taken = set(reserved)
    rows = session.execute(
        select(Device.device_id, Device.kind, Device.password_hash)
        .order_by(Device.device_id)
        .execution_options(yield_per=1000)
    )
    for device_id, kind, password_hash in rows:
        if not password_hash:
            continue  # registered without MQTT credentials: it cannot log in
        reason = _unusable(device_id, kind, password_hash, taken)
        if reason is not None:
            log.warning("device %r left out of the broker files: %s", device_id[:80], reason)
            continue
        yield BrokerUser(device_id, password_hash, device_rules(device_id, DeviceKind(kind)))


def _unusable(device_id: str, kind: str, password_hash: str, taken: set[str]) -> str | None:
    if not DEVICE_ID_RE.match(device_id):
        return "its id is not 1-64 characters of A-Z a-z 0-9 _ -"
    if device_id in taken:
        return "its id is the name of a service user"
    if kind not in {k.value for k in DEVICE_PUBLISHES}:
        return f"unknown kind {kind!r}"
    if not password_hash.startswith("$7$") or any(c in password_hash for c in ":\n\r "):
        return "its password hash is not in Mosquitto's $7$ format"
    return None


def render_password_file(users: Sequence[BrokerUser]) -> str:
    return "".join(f"{u.username}:{u.password_hash}\n" for u in users)


def render_acl_file(users: Sequence[BrokerUser]) -> str:
    blocks = [_HEADER, "# Anonymous clients: nothing (no rules before the first user line).\n"]
    for user in users:
        blocks.append(f"\nuser {user.username}\n")
        blocks.extend(f"topic {rule}\n" for rule in user.rules)
    return "".join(blocks)


def write_broker_files(
    session: Session,
    *,
    passwd_path: Path,
    acl_path: Path,
    service_users: Mapping[str, str],
    pid_file: Path | None = None,
    mode: int = 0o600,
) -> int:
    """Write Mosquitto's password and ACL files from the registry and signal Mosquitto to reload.

    ``service_users`` maps service user names (`SERVICE_ACCESS`) to their plain passwords. The ACL
    file is replaced before the password file, so no user exists without its rules. Returns the
    number of users written.
    """
    users = service_broker_users(service_users)
    with _WRITE_LOCK:  # a later call reads the registry later, so the last file written is the newest
        users.extend(device_broker_users(session, reserved=[u.username for u in users]))
        _write_atomically(acl_path, render_acl_file(users), mode)
        _write_atomically(passwd_path, render_password_file(users), mode)
    log.info("wrote %s broker users to %s and %s", len(users), passwd_path, acl_path)
    if pid_file is not None:
        reload_mosquitto(pid_file)
    return len(users)


def reload_mosquitto(pid_file: Path) -> bool:
    """Send SIGHUP to the Mosquitto whose pid ``pid_file`` holds; False when there is none to signal.

    A missing pid file or a stale pid is not an error: the files are in place, and a Mosquitto that
    starts later reads them.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except FileNotFoundError:
        log.warning("Mosquitto not signalled to reload: no pid file at %s", pid_file)
        return False
    except ValueError:
        log.warning("Mosquitto not signalled to reload: %s does not hold a pid", pid_file)
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        log.warning("Mosquitto not signalled to reload: no process %s (stale pid file %s)", pid, pid_file)
        return False
    log.info("signalled Mosquitto (pid %s) to reload its password and ACL files", pid)
    return True


def _write_atomically(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m store.broker_files``: write the files once, from the state store named by the URL."""
    from store.state.engine import StateStore

    parser = argparse.ArgumentParser(prog="python -m store.broker_files", description=main.__doc__)
    parser.add_argument(
        "--state-url",
        default=os.environ.get("AFTERCARE_STATE_URL"),
        help="state store URL (default: $AFTERCARE_STATE_URL)",
    )
    parser.add_argument(
        "--passwd",
        type=Path,
        default=_env_path("AFTERCARE_MOSQUITTO_PASSWD_FILE"),
        help="password file (default: $AFTERCARE_MOSQUITTO_PASSWD_FILE)",
    )
    parser.add_argument(
        "--acl",
        type=Path,
        default=_env_path("AFTERCARE_MOSQUITTO_ACL_FILE"),
        help="ACL file (default: $AFTERCARE_MOSQUITTO_ACL_FILE)",
    )
    parser.add_argument(
        "--pid-file",
        type=Path,
        default=_env_path("AFTERCARE_MOSQUITTO_PID_FILE"),
        help="Mosquitto's pid file, signalled to reload (default: $AFTERCARE_MOSQUITTO_PID_FILE)",
    )
    args = parser.parse_args(argv)
    missing = [
        name
        for name, value in (("--state-url", args.state_url), ("--passwd", args.passwd), ("--acl", args.acl))
        if not value
    ]
    if missing:
        parser.error(f"missing {', '.join(missing)} (or the environment variables named in --help)")
    passwords = {
        INGEST_USER: os.environ.get("AFTERCARE_MQTT_INGEST_PASSWORD", ""),
        MONITOR_USER: os.environ.get("AFTERCARE_MQTT_MONITOR_PASSWORD", ""),
    }
    unset = [name for name, password in passwords.items() if not password]
    if unset:
        parser.error(
            "AFTERCARE_MQTT_INGEST_PASSWORD and AFTERCARE_MQTT_MONITOR_PASSWORD must be set "
            f"(no password for {', '.join(unset)})"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = StateStore(args.state_url)
    try:
        with state.session() as session:
            write_broker_files(
                session, passwd_path=args.passwd, acl_path=args.acl, service_users=passwords, pid_file=args.pid_file
            )
    finally:
        state.close()
    return 0


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


if __name__ == "__main__":
    raise SystemExit(main())
