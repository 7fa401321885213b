"""MQTT credentials of devices, hashed in Mosquitto 2's own password-file format (PBKDF2-SHA512).

Storing the hash as Mosquitto writes it (``$7$<iterations>$<salt>$<hash>``) lets the platform write
the broker's password file itself, without the plain password ever being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101  # what mosquitto_passwd uses by default


def new_password() -> str:
    return secrets.token_urlsafe(24)


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(password: str, encoded: str) -> bool:
    try:
        _, kind, iterations, salt_b64, hash_b64 = encoded.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt_b64), int(iterations))
    return hmac.compare_digest(digest, base64.b64decode(hash_b64))
