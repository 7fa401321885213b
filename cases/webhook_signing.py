"""Standard Webhooks signatures (https://www.standardwebhooks.com/): signing our deliveries, verifying them.

A delivery carries three headers:

- ``webhook-id``: the notification's id, the same on every retry (receivers deduplicate on it);
- ``webhook-timestamp``: when this attempt was signed, in integer unix seconds;
- ``webhook-signature``: ``v1,<base64 of HMAC-SHA256 over "{id}.{timestamp}.{raw body}">``, one entry per
  configured secret, separated by spaces, so a receiver holding either the old or the new secret
  accepts a delivery while the secret is being rotated.

Secrets are written ``whsec_<base64 of the key bytes>``. The id and timestamp are signed with the body,
so a captured delivery cannot be replayed later (receivers refuse a timestamp more than
`TOLERANCE_S` from their clock) nor passed off as another notification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
MIN_SECRET_BYTES: Final = 24
TOLERANCE_S: Final = 5 * 60
ID_HEADER: Final = "webhook-id"
TIMESTAMP_HEADER: Final = "webhook-timestamp"
SIGNATURE_HEADER: Final = "webhook-signature"
_SEPARATORS: Final = re.compile(r"[\s,]+")


class WebhookSecretError(ValueError):
    """A configured secret that is not ``whsec_<base64>``, or too short."""


class WebhookVerificationError(Exception):
    """A delivery that does not verify: a missing header, a timestamp out of tolerance, no matching signature."""


def parse_secret(value: str, *, min_bytes: int = 1) -> bytes:
    """The key bytes of ``whsec_<base64>``; refuses anything else and keys shorter than `min_bytes`."""
    if not value.startswith(SECRET_PREFIX):
        raise WebhookSecretError(f"a webhook secret starts with {SECRET_PREFIX} followed by base64")
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookSecretError(f"a webhook secret's part after {SECRET_PREFIX} must be base64: {exc}") from None
    if len(key) < min_bytes:
        raise WebhookSecretError(f"a webhook secret must decode to at least {min_bytes} bytes, not {len(key)}")
    return key


def parse_secrets(value: str | None, *, min_bytes: int = 1) -> tuple[bytes, ...]:
    """Every key of a list of secrets separated by spaces or commas (the newest first, by convention)."""
    if not value:
        return ()
    return tuple(parse_secret(part, min_bytes=min_bytes) for part in _SEPARATORS.split(value.strip()) if part)


def generate_secret(n_bytes: int = 32) -> str:
    """A new random secret in the ``whsec_`` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode()


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature entry."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def sign_headers(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with every key."""
    if not keys:
        raise WebhookSecretError("signing needs at least one webhook secret")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(key, msg_id, timestamp, body) for key in keys),
    }


def verify(
    secrets_: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now_s: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """For receivers: check a delivery; returns its ``webhook-id`` or raises `WebhookVerificationError`.

    `secrets_` is one ``whsec_`` secret or several (during a rotation, the old and the new); `headers`
    may be any mapping whose keys differ only in case; `body` is the raw request body, byte for byte.
    A timestamp more than `tolerance_s` (5 minutes) away from `now_s` is refused, against replays;
    keep the ids seen within that window to refuse a replay inside it too.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get(ID_HEADER)
    stamp = lowered.get(TIMESTAMP_HEADER)
    sent = lowered.get(SIGNATURE_HEADER)
    if not msg_id or not stamp or not sent:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError(f"webhook-timestamp is not unix seconds: {stamp[:40]!r}") from None
    now = time.time() if now_s is None else now_s
    if abs(now - timestamp) > tolerance_s:
        raise WebhookVerificationError(f"webhook-timestamp {timestamp} is more than {tolerance_s} s from now")
    keys = [parse_secret(s) for s in ([secrets_] if isinstance(secrets_, str) else secrets_)]
    expected = [signature(key, msg_id, timestamp, body).encode() for key in keys]
    for entry in sent.split(" "):
        if any(hmac.compare_digest(entry.encode(), candidate) for candidate in expected):
            return msg_id
    raise WebhookVerificationError("no webhook-signature matches the secrets")
