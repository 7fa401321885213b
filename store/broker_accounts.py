"""Broker accounts of devices and services in Mosquitto's dynamic security plugin.

Who may do what, as dynamic-security roles:
- each device is a client named by its ``device_id`` with a role of its own, ``aftercare-device-<id>``,
  that may publish (``publishClientSend``) only its own topics: Mosquitto 2.0's plugin substitutes no
  ``%u``/``%c`` in ACL topics, so one shared role cannot say "its own id";
- the ingest service user reads everything under ``aftercare/`` (its plain and ``$share/<group>/``
  subscriptions); the monitor user reads the same and ``$SYS``;
- the admin user may only talk to the plugin (``$CONTROL/dynamic-security/#``);
- by default nobody may publish, subscribe or receive: what a role does not allow is refused.

`BrokerAccounts` changes a running broker through a `DynsecClient` (registration, revocation, the
reconcile of `aftercare broker sync`); `store.dynsec_config` writes the same accounts into the plugin's
file before the broker starts. Every step is idempotent: "already exists" is success.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from devices.topics import TOPIC_PREFIX, DeviceKind, MessageKind, topic_for
from store.dynsec_client import Command, DynsecClient, DynsecError

log = logging.getLogger(__name__)

INGEST_USER = "aftercare-ingest"
MONITOR_USER = "aftercare-monitor"
DEFAULT_ADMIN_USER = "aftercare-admin"
ADMIN_ROLE = "aftercare-admin"
DEVICE_ROLE_PREFIX = "aftercare-device-"
#: ``textname`` of every client and role Aftercare manages; the others (made by an operator) are left alone.
MANAGED = "managed by aftercare"


class AccountTaken(RuntimeError):
    """A broker client of that name exists and is not a device account of Aftercare's (an operator's account, a
    service user, the admin): registering a device under its name would hand out its password."""

    def __init__(self, username: str) -> None:
        super().__init__(f"broker account {username!r} exists and is not a device account of Aftercare's")
        self.username = username


#: The message kinds each kind of device publishes; every device also publishes its status.
DEVICE_PUBLISHES: Mapping[DeviceKind, tuple[MessageKind, ...]] = {
    DeviceKind.WEARABLE: (MessageKind.TELEMETRY, MessageKind.STATUS),
    DeviceKind.SHOP_GATEWAY: (MessageKind.BEACON, MessageKind.PHOTO, MessageKind.STATUS),
}

_DATA = TOPIC_PREFIX.split("/", 1)[0] + "/#"  # aftercare/#: what ingestion subscribes to (devices.topics)


def _read(topic_filter: str) -> list[dict[str, Any]]:
    """Subscribe to ``topic_filter`` (also as a shared subscription) and receive what matches it."""
    return [
        {"acltype": "subscribePattern", "topic": topic_filter, "allow": True},
        {"acltype": "subscribePattern", "topic": f"$share/+/{topic_filter}", "allow": True},
        {"acltype": "publishClientReceive", "topic": topic_filter, "allow": True},
    ]


#: Service users and the ACLs of their roles (the role is named as the user).
SERVICE_ACLS: Mapping[str, list[dict[str, Any]]] = {
    INGEST_USER: _read(_DATA),
    MONITOR_USER: [*_read(_DATA), *_read("$SYS/#")],
}

ADMIN_ACLS: list[dict[str, Any]] = [
    {"acltype": "publishClientSend", "topic": "$CONTROL/dynamic-security/#", "allow": True},
    {"acltype": "publishClientReceive", "topic": "$CONTROL/dynamic-security/#", "allow": True},
    {"acltype": "subscribePattern", "topic": "$CONTROL/dynamic-security/#", "allow": True},
]

#: Nothing is allowed that a role does not allow.
DEFAULT_ACL_ACCESS: Mapping[str, bool] = {
    "publishClientSend": False,
    "publishClientReceive": False,
    "subscribe": False,
    "unsubscribe": True,
}


def device_role(device_id: str) -> str:
    return f"{DEVICE_ROLE_PREFIX}{device_id}"


def device_topics(device_id: str, kind: DeviceKind) -> list[str]:
    return [topic_for(message, device_id) for message in DEVICE_PUBLISHES[kind]]


def device_acls(device_id: str, kind: DeviceKind) -> list[dict[str, Any]]:
    """Publish its own topics; nothing else."""
    return [{"acltype": "publishClientSend", "topic": t, "allow": True} for t in device_topics(device_id, kind)]


class DeviceAccounts(Protocol):
    """What the API needs to give a device its broker account and take it away (injected by the wiring)."""

    def register_device(self, device_id: str, kind: DeviceKind, password: str) -> None: ...

    def remove_device(self, device_id: str) -> None: ...


@dataclass
class SyncReport:
    """What `BrokerAccounts.sync` found and did."""

    created_roles: list[str] = field(default_factory=list)
    passwords_set: list[str] = field(default_factory=list)
    deleted_orphans: list[str] = field(default_factory=list)
    missing_devices: list[str] = field(default_factory=list)  # registered, not on the broker: see sync()


class BrokerAccounts:
    """Device and service accounts on a running Mosquitto, through its dynamic security plugin."""

    def __init__(self, client: DynsecClient) -> None:
        self._client = client

    def close(self) -> None:
        self._client.close()

    def _role(self, rolename: str, acls: Sequence[Mapping[str, Any]]) -> bool:
        """Create the role with its ACLs, or add the ACLs it lacks; True when it was created."""
        created = self._client.run(
            {"command": "createRole", "rolename": rolename, "textname": MANAGED, "acls": list(acls)},
            ok_errors=("Role already exists",),
        )
        if not created.get("error"):
            return True
        answers = self._client.execute([{"command": "addRoleACL", "rolename": rolename, **acl} for acl in acls])
        for answer in answers:
            error = answer.get("error")
            if error and error != "ACL with this topic already exists":
                raise DynsecError("addRoleACL", str(error))
        return False

    def _get_client(self, username: str) -> dict[str, Any] | None:
        answer = self._client.run({"command": "getClient", "username": username}, ok_errors=("Client not found",))
        if answer.get("error"):
            return None
        client = answer.get("data", {}).get("client")
        return client if isinstance(client, dict) else None

    def _ensure_role_of(self, client: Mapping[str, Any], rolename: str) -> bool:
        """Give ``client`` the role unless it has it (adding one makes the broker disconnect the client)."""
        roles = {r.get("rolename") for r in client.get("roles", []) if isinstance(r, dict)}
        if rolename in roles:
            return False
        self._client.run({"command": "addClientRole", "username": client["username"], "rolename": rolename})
        return True

    def _client_with_role(
        self, username: str, password: str, rolename: str, *, reset_password: bool = True, device: bool = False
    ) -> None:
        """Create the client with ``password`` and ``rolename``, or (it exists) make it so. A ``device`` client
        that exists must be one of ours holding no role but its own (`AccountTaken` otherwise)."""
        created = self._client.run(
            {
                "command": "createClient",
                "username": username,
                "password": password,
                "textname": MANAGED,
                "roles": [{"rolename": rolename}],
            },
            ok_errors=("Client already exists",),
        )
        if not created.get("error"):
            return
        existing = self._get_client(username)
        if existing is None:  # deleted meanwhile by another replica: create it again
            self._client_with_role(username, password, rolename, reset_password=reset_password, device=device)
            return
        if device:
            roles = {r.get("rolename") for r in existing.get("roles", []) if isinstance(r, dict)}
            if existing.get("textname") != MANAGED or not roles <= {rolename}:
                raise AccountTaken(username)
        if reset_password:
            self._client.run({"command": "setClientPassword", "username": username, "password": password})
        self._ensure_role_of(existing, rolename)
        if existing.get("disabled"):
            self._client.run({"command": "enableClient", "username": username})

    def register_device(self, device_id: str, kind: DeviceKind, password: str) -> None:
        """The device may log in with ``password`` and publish its own topics (idempotent)."""
        self._role(device_role(device_id), device_acls(device_id, kind))
        self._client_with_role(device_id, password, device_role(device_id), device=True)
        log.info("broker account of device %s created", device_id)

    def remove_device(self, device_id: str) -> None:
        """The device can no longer log in; a connected one is disconnected by the broker (idempotent)."""
        self._client.run({"command": "deleteClient", "username": device_id}, ok_errors=("Client not found",))
        self._client.run({"command": "deleteRole", "rolename": device_role(device_id)}, ok_errors=("Role not found",))
        log.info("broker account of device %s removed", device_id)

    def ensure_services(self, service_passwords: Mapping[str, str], *, reset_passwords: bool = False) -> list[str]:
        """Service roles and users (created with the given passwords); returns the roles created.

        An existing service user keeps its password unless ``reset_passwords``: setting one makes the
        broker disconnect every client logged in as that user.
        """
        created = []
        self._client.run({"command": "setDefaultACLAccess", "acls": _default_acl_list()})
        for name, password in sorted(service_passwords.items()):
            if name not in SERVICE_ACLS:
                raise ValueError(f"unknown service user {name!r}; known: {', '.join(sorted(SERVICE_ACLS))}")
            if self._role(name, SERVICE_ACLS[name]):
                created.append(name)
            self._client_with_role(name, password, name, reset_password=reset_passwords)
        return created

    def usernames(self) -> list[str]:
        """Every client on the broker."""
        answer = self._client.run({"command": "listClients", "verbose": False, "count": -1})
        clients = answer.get("data", {}).get("clients", [])
        return [str(c) if not isinstance(c, dict) else str(c.get("username")) for c in clients]

    def sync(
        self,
        devices: Iterable[tuple[str, DeviceKind]],
        *,
        service_passwords: Mapping[str, str],
        admin_user: str,
        prune: bool = True,
        reset_passwords: bool = False,
    ) -> SyncReport:
        """Bring a running broker in line with the registry ``devices`` (id, kind).

        Service users get their roles and passwords; every registered device gets its role and ACLs;
        device accounts of ids that are not registered are deleted (``prune``): an account left by a
        registration that failed after the broker step, whose password was never shown to anyone.
        A registered device without an account is reported, not created: the registry holds only a
        hash of its password and Mosquitto 2.0's plugin takes plain passwords only. Write the plugin's
        file from the registry (`aftercare broker init`, broker stopped) or rotate the device's password.
        """
        report = SyncReport(created_roles=self.ensure_services(service_passwords, reset_passwords=reset_passwords))
        report.passwords_set = sorted(service_passwords) if reset_passwords else []
        on_broker = set(self.usernames())
        registered: set[str] = set()
        for device_id, kind in devices:
            registered.add(device_id)
            if self._role(device_role(device_id), device_acls(device_id, kind)):
                report.created_roles.append(device_role(device_id))
            existing = self._get_client(device_id) if device_id in on_broker else None
            if existing is None:
                report.missing_devices.append(device_id)
            else:
                self._ensure_role_of(existing, device_role(device_id))
        if prune:
            keep = registered | set(SERVICE_ACLS) | {admin_user}
            for username in sorted(on_broker - keep):
                if self._is_managed_device(username):
                    self.remove_device(username)
                    report.deleted_orphans.append(username)
        return report

    def _is_managed_device(self, username: str) -> bool:
        client = self._get_client(username) or {}
        roles = [r.get("rolename") for r in client.get("roles", []) if isinstance(r, dict)]
        return client.get("textname") == MANAGED and device_role(username) in roles


def _default_acl_list() -> list[Command]:
    return [{"acltype": acltype, "allow": allow} for acltype, allow in DEFAULT_ACL_ACCESS.items()]
