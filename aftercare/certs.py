"""`aftercare certs dev`: a local certificate authority and a server certificate for development and compose.

The CA (``ca.pem``, ``ca-key.pem``) is made once and kept: running again issues a new server certificate
(``server.pem``, ``server-key.pem``) from the same CA, so devices and services keep their CA file. Keys are
written 0600, certificates 0644. Production may use certificates from any CA instead (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

# What the platform's own clients and docker-compose.yml connect to.
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "mosquitto", "api")
CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate


@dataclass(frozen=True, slots=True)
class DevCerts:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def make_dev_certs(out: Path, hosts: Iterable[str] = (), *, server_days: int = SERVER_DAYS) -> DevCerts:
    """Write (or reuse) the CA in ``out`` and issue a server certificate for ``DEFAULT_HOSTS`` and ``hosts``."""
    out.mkdir(parents=True, exist_ok=True)
    certs = DevCerts(out / "ca.pem", out / "ca-key.pem", out / "server.pem", out / "server-key.pem")
    if certs.ca_cert.exists() and certs.ca_key.exists():
        ca_cert = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
        loaded = serialization.load_pem_private_key(certs.ca_key.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{certs.ca_key}: expected an EC private key")
        ca_key = loaded
        log.info("reusing the CA in %s", certs.ca_cert)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key)
        _write(certs.ca_key, _key_pem(ca_key), 0o600)
        _write(certs.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        log.info("made a new CA in %s", certs.ca_cert)
    names = list(dict.fromkeys([*DEFAULT_HOSTS, *(h.strip() for h in hosts if h.strip())]))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, names, ca_cert, ca_key, server_days)
    _write(certs.server_key, _key_pem(server_key), 0o600)
    _write(certs.server_cert, server_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    log.info("issued %s for %s", certs.server_cert, ", ".join(names))
    return certs


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Aftercare development CA")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    names: list[str],
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    days: int,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write through a temporary file created with ``mode`` and rename it over ``path`` (never briefly readable)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask must not widen or narrow it
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
