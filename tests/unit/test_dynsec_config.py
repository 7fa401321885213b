"""The dynamic security plugin's file from registry hashes, and the broker-account settings."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pydantic import ValidationError

from aftercare.settings import Settings
from devices.credentials import mosquitto_hash
from devices.topics import DeviceKind
from store.broker_accounts import ADMIN_ROLE, INGEST_USER, MANAGED, MONITOR_USER, device_acls
from store.dynsec_config import DeviceAccount, DynsecConfigError, hash_fields, render_config

SERVICES = {INGEST_USER: "ingest-pw", MONITOR_USER: "monitor-pw"}


def test_hash_fields_are_the_parts_of_the_mosquitto_hash_the_plugin_verifies() -> None:
    salt = bytes(range(12))
    fields = hash_fields(mosquitto_hash("s3cret", salt=salt))

    assert fields["iterations"] == 101
    assert base64.b64decode(fields["salt"]) == salt
    # what the plugin computes at login: PBKDF2-SHA512 of the password with that salt and count
    assert base64.b64decode(fields["password"]) == hashlib.pbkdf2_hmac("sha512", b"s3cret", salt, 101)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain-text",
        "$6$101$c2FsdA==$aGFzaA==",  # another scheme
        "$7$x$AAECAwQFBgcICQoL$" + "A" * 88,  # iterations not a number
        "$7$0$AAECAwQFBgcICQoL$" + "A" * 88,
        "$7$101$c2FsdA==$" + "A" * 88,  # 4-byte salt: the plugin needs 12
        "$7$101$AAECAwQFBgcICQoL$aGFzaA==",  # 4-byte digest: the plugin needs 64
        "$7$101$!!!$" + "A" * 88,
    ],
)
def test_unusable_hashes_are_refused(encoded: str) -> None:
    with pytest.raises(DynsecConfigError):
        hash_fields(encoded)


def test_render_keeps_usable_devices_and_leaves_out_the_others() -> None:
    good = mosquitto_hash("pw")
    config = render_config(
        admin_user="aftercare-admin",
        admin_password="admin-pw",
        service_passwords=SERVICES,
        devices=[
            DeviceAccount("W-1", "wearable", good),
            DeviceAccount("G-1", "shop_gateway", good),
            DeviceAccount("bad id", "wearable", good),
            DeviceAccount(INGEST_USER, "wearable", good),  # never shadows a service user
            DeviceAccount("W-2", "toaster", good),
            DeviceAccount("W-3", "wearable", "$7$broken"),
        ],
    )

    clients = {c["username"]: c for c in config["clients"]}
    assert sorted(clients) == ["G-1", "W-1", "aftercare-admin", INGEST_USER, MONITOR_USER]
    assert all(c["textname"] == MANAGED for c in clients.values())
    assert clients["aftercare-admin"]["roles"] == [{"rolename": ADMIN_ROLE}]
    roles = {r["rolename"]: r for r in config["roles"]}
    assert roles["aftercare-device-G-1"]["acls"] == device_acls("G-1", DeviceKind.SHOP_GATEWAY)
    assert [a["topic"] for a in roles["aftercare-device-G-1"]["acls"]] == [
        "aftercare/v1/shops/G-1/beacon",
        "aftercare/v1/shops/G-1/photo",
        "aftercare/v1/devices/G-1/status",
    ]
    assert all(a["acltype"] == "publishClientSend" for a in roles["aftercare-device-W-1"]["acls"])


def test_render_refuses_missing_secrets_and_unknown_service_users() -> None:
    with pytest.raises(DynsecConfigError, match="admin user needs a password"):
        render_config(admin_user="a", admin_password="", service_passwords=SERVICES, devices=[])
    with pytest.raises(DynsecConfigError, match="unknown service user"):
        render_config(admin_user="a", admin_password="x", service_passwords={"aftercare-api": "x"}, devices=[])
    with pytest.raises(DynsecConfigError, match="needs a password"):
        render_config(admin_user="a", admin_password="x", service_passwords={INGEST_USER: ""}, devices=[])


def test_production_refuses_a_short_broker_admin_password() -> None:
    base = {
        "mode": "production",
        "admin_token": "t" * 32,
        "mqtt_url": "mqtt://127.0.0.1:1883",  # plain text only on loopback in production
        "state_url": "postgresql://x@db/aftercare",
        "spot_check_seed": "s" * 32,
    }
    with pytest.raises(ValidationError, match="AFTERCARE_BROKER_ADMIN_PASSWORD must be at least 16"):
        Settings(**base, broker_admin_password="short")  # type: ignore[arg-type]
    assert Settings(**base, broker_admin_password="p" * 16).broker_admin_password == "p" * 16  # type: ignore[arg-type]
