"""TLS on every link: `mqtts://` URLs verify the broker against a CA file, `aftercare certs dev` makes one."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from pydantic import ValidationError

from aftercare.certs import DEFAULT_HOSTS, make_dev_certs
from aftercare.settings import Settings
from devices.broker_url import BrokerUrl, BrokerUrlError


def test_mqtts_url_verifies_the_broker_with_the_ca_file(tmp_path: Path) -> None:
    certs = make_dev_certs(tmp_path)
    broker = BrokerUrl.parse("mqtts://dev:pw@mosquitto", ca_file=certs.ca_cert)
    assert (broker.host, broker.port, broker.tls) == ("mosquitto", 8883, True)
    context = broker.tls_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert any(c["subject"] == ((("commonName", "Aftercare development CA"),),) for c in context.get_ca_certs())


def test_plain_mqtt_has_no_tls_context_and_refuses_a_ca_file(tmp_path: Path) -> None:
    assert BrokerUrl.parse("mqtt://127.0.0.1:1883").tls_context() is None
    with pytest.raises(BrokerUrlError, match="mqtts://"):
        BrokerUrl.parse("mqtt://127.0.0.1:1883", ca_file=tmp_path / "ca.pem")


def test_a_missing_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BrokerUrlError, match="AFTERCARE_MQTT_CA_FILE"):
        BrokerUrl.parse("mqtts://host", ca_file=tmp_path / "missing.pem")


def test_tls_settings_exist_and_go_in_pairs(tmp_path: Path) -> None:
    certs = make_dev_certs(tmp_path / "certs")
    settings = Settings(mqtt_url="mqtts://u:p@mosquitto:8883", mqtt_ca_file=certs.ca_cert, data_dir=tmp_path)
    assert settings.mqtt_ca_file == certs.ca_cert
    with pytest.raises(ValidationError, match="use mqtts://"):
        Settings(mqtt_url="mqtt://u:p@mosquitto:1883", mqtt_ca_file=certs.ca_cert, data_dir=tmp_path)
    with pytest.raises(ValidationError, match="AFTERCARE_MQTT_URL is not"):
        Settings(mqtt_ca_file=certs.ca_cert, data_dir=tmp_path)
    with pytest.raises(ValidationError, match="no such file"):
        Settings(mqtt_url="mqtts://mosquitto", mqtt_ca_file=tmp_path / "missing.pem", data_dir=tmp_path)
    with pytest.raises(ValidationError, match="AFTERCARE_API_TLS_KEY_FILE"):
        Settings(api_tls_cert_file=tmp_path / "server.pem", data_dir=tmp_path)
    with pytest.raises(ValidationError, match="AFTERCARE_API_TLS_CERT_FILE"):
        Settings(api_tls_key_file=tmp_path / "server-key.pem", data_dir=tmp_path)


def test_dev_certs_cover_the_compose_hosts_and_keys_are_private(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    certs = make_dev_certs(out, ["broker.example.org", "10.1.2.3"])
    for key in (certs.ca_key, certs.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    for public in (certs.ca_cert, certs.server_cert):
        assert stat.S_IMODE(public.stat().st_mode) == 0o644, public
    server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(san.get_values_for_type(x509.DNSName))
    addresses = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    assert {"localhost", "mosquitto", "api", "broker.example.org"} <= names
    assert addresses == {"127.0.0.1", "10.1.2.3"}
    assert set(DEFAULT_HOSTS) <= names | addresses
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)


def test_renewing_keeps_the_ca_so_devices_need_no_new_ca_file(tmp_path: Path) -> None:
    first = make_dev_certs(tmp_path)
    ca_before = first.ca_cert.read_bytes()
    server_before = first.server_cert.read_bytes()
    second = make_dev_certs(tmp_path)
    assert second.ca_cert.read_bytes() == ca_before
    assert second.server_cert.read_bytes() != server_before
    x509.load_pem_x509_certificate(second.server_cert.read_bytes()).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca_before)
    )


def test_certs_dev_command_writes_the_four_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from aftercare.cli import app

    out = tmp_path / "deploy-certs"
    result = CliRunner().invoke(app, ["certs", "dev", "--out", str(out), "--hosts", "a.example.org,10.9.8.7"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["ca-key.pem", "ca.pem", "server-key.pem", "server.pem"]
    server = x509.load_pem_x509_certificate((out / "server.pem").read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "a.example.org" in san.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("10.9.8.7") in san.get_values_for_type(x509.IPAddress)


PRODUCTION: dict[str, Any] = {
    "mode": "production",
    "admin_token": "a-production-admin-token-0123456789",
    "state_url": "postgresql://aftercare:pw@postgres:5432/aftercare",
    "spot_check_seed": "a-spot-check-secret-of-32-bytes-or-more",
}


def test_production_refuses_a_plain_text_broker_beyond_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="mqtts://"):
        Settings(**PRODUCTION, data_dir=tmp_path, mqtt_url="mqtt://aftercare-ingest:pw@mosquitto:1883")
    certs = make_dev_certs(tmp_path / "certs")
    tls = Settings(
        **PRODUCTION, data_dir=tmp_path, mqtt_url="mqtts://aftercare-ingest:pw@mosquitto", mqtt_ca_file=certs.ca_cert
    )
    assert BrokerUrl.parse(str(tls.mqtt_url)).tls
    # on this host only, nothing crosses a network
    Settings(**PRODUCTION, data_dir=tmp_path, mqtt_url="mqtt://aftercare-ingest:pw@127.0.0.1:1883")


def test_production_refuses_an_api_in_clear_beyond_loopback(tmp_path: Path) -> None:
    broker: dict[str, Any] = {"mqtt_url": "mqtt://u:p@localhost:1883"}
    with pytest.raises(ValidationError, match="AFTERCARE_API_TLS_CERT_FILE"):
        Settings(**PRODUCTION, **broker, data_dir=tmp_path, api_host="0.0.0.0")
    certs = make_dev_certs(tmp_path / "certs")
    Settings(
        **PRODUCTION,
        **broker,
        data_dir=tmp_path,
        api_host="0.0.0.0",
        api_tls_cert_file=certs.server_cert,
        api_tls_key_file=certs.server_key,
    )
    Settings(**PRODUCTION, **broker, data_dir=tmp_path, api_host="127.0.0.1")  # behind a TLS proxy on this host


@pytest.mark.parametrize(
    "url",
    [
        "mqtts://aftercare-ingest:s3cret-p@ss/word@mosquitto:8883",  # an unescaped / breaks the parse
        "mqtts://aftercare-ingest:s3cret-password@mosquitto:99999",
        "ftp://aftercare-ingest:s3cret-password@mosquitto",
    ],
)
def test_a_bad_broker_url_is_refused_without_showing_its_password(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, data_dir=tmp_path, mqtt_url=url)
    assert "s3cret" not in str(refused.value)
    assert "***" in str(refused.value)
