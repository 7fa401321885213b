"""Standard Webhooks signing and verification (cases/webhook_signing.py), and the settings that configure it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as OfficialVerificationError

from aftercare.settings import Settings
from cases.webhook_signing import (
    WebhookSecretError,
    WebhookVerificationError,
    generate_secret,
    parse_secret,
    parse_secrets,
    sign_headers,
    signature,
    verify,
)
from tests.support.production_settings import PRODUCTION

# The test vector of the Standard Webhooks reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
NOW = 1_700_000_000


def test_the_reference_vector() -> None:
    assert signature(parse_secret(VECTOR_SECRET), VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_headers_verify_with_ours_and_the_official_package() -> None:
    body = b'{"id":"N-1","text":"\xe4\xbd\xa0\xe5\xa5\xbd"}'
    headers = sign_headers(parse_secrets(NEW), "N-1", NOW, body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert verify(NEW, headers, body, now_s=NOW) == "N-1"
    official = Webhook(NEW)
    assert official.sign("N-1", _utc(NOW), body) == headers["webhook-signature"]


def test_every_secret_signs_so_a_rotation_loses_nothing() -> None:
    headers = sign_headers(parse_secrets(f"{NEW} {OLD}"), "N-2", NOW, b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(OLD, headers, b"{}", now_s=NOW) == "N-2"
    assert verify(NEW, headers, b"{}", now_s=NOW) == "N-2"
    assert verify([OLD, generate_secret()], headers, b"{}", now_s=NOW) == "N-2"
    with pytest.raises(WebhookVerificationError, match="no webhook-signature"):
        verify(generate_secret(), headers, b"{}", now_s=NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b + b" "), "no webhook-signature"),  # the body changed
        (lambda h, b: ({**h, "webhook-id": "N-other"}, b), "no webhook-signature"),  # passed off as another
        (lambda h, b: ({**h, "webhook-timestamp": str(NOW + 1)}, b), "no webhook-signature"),  # re-stamped
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not unix seconds"),
    ],
)
def test_a_tampered_delivery_is_refused(change: object, reason: str) -> None:
    headers = sign_headers(parse_secrets(NEW), "N-3", NOW, b'{"a":1}')
    assert callable(change)
    changed_headers, changed_body = change(headers, b'{"a":1}')
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(NEW, changed_headers, changed_body, now_s=NOW)


def test_a_replay_after_five_minutes_is_refused() -> None:
    headers = sign_headers(parse_secrets(NEW), "N-4", NOW, b"{}")
    assert verify(NEW, headers, b"{}", now_s=NOW + 300) == "N-4"
    with pytest.raises(WebhookVerificationError, match="more than 300 s"):
        verify(NEW, headers, b"{}", now_s=NOW + 301)
    with pytest.raises(WebhookVerificationError, match="more than 300 s"):
        verify(NEW, headers, b"{}", now_s=NOW - 301)
    with pytest.raises(OfficialVerificationError):  # the official package agrees: the stamp is too old
        Webhook(NEW).verify(b"{}", headers)


def test_header_names_are_case_insensitive() -> None:
    headers = sign_headers(parse_secrets(NEW), "N-5", NOW, b"{}")
    assert verify(NEW, {k.title(): v for k, v in headers.items()}, b"{}", now_s=NOW) == "N-5"


@pytest.mark.parametrize("bad", ["plain-secret", "whsec_not*base64", "whsec_"])
def test_malformed_secrets_are_refused(bad: str) -> None:
    with pytest.raises(WebhookSecretError):
        parse_secret(bad)


def test_generated_secrets_are_32_bytes() -> None:
    assert len(parse_secret(generate_secret(), min_bytes=24)) == 32


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_production_refuses_a_webhook_url_without_secrets() -> None:
    with pytest.raises(ValidationError, match="AFTERCARE_WEBHOOK_SECRETS"):
        Settings(**PRODUCTION, webhook_url="https://gateway.example/hooks", _env_file=None)  # type: ignore[arg-type]


def test_production_refuses_a_short_secret() -> None:
    short = "whsec_" + base64.b64encode(b"s" * 16).decode()
    with pytest.raises(ValidationError, match="at least 24 bytes"):
        Settings(
            **PRODUCTION,  # type: ignore[arg-type]
            webhook_url="https://gateway.example/hooks",
            webhook_secrets=f"{NEW} {short}",
            _env_file=None,
        )


def test_production_accepts_two_long_secrets_and_embedded_mode_a_short_one() -> None:
    ok = Settings(
        **PRODUCTION,  # type: ignore[arg-type]
        webhook_url="https://gateway.example/hooks",
        webhook_secrets=f"{NEW} {OLD}",
        _env_file=None,
    )
    assert len(parse_secrets(ok.webhook_secrets)) == 2
    assert ok.webhook_max_age_s == 24 * 3600
    short = "whsec_" + base64.b64encode(b"dev").decode()
    assert Settings(webhook_secrets=short, _env_file=None).webhook_secrets == short
    with pytest.raises(ValidationError, match="whsec_"):
        Settings(webhook_secrets="not-a-whsec", _env_file=None)
