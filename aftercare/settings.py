"""All configuration in one place: environment variables prefixed ``AFTERCARE_`` (and an optional ``.env``)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cases.webhook_signing import MIN_SECRET_BYTES, WebhookSecretError, parse_secrets
from devices.broker_url import BrokerUrl
from store.private_files import private_data_dir, write_private

Mode = Literal["embedded", "production"]
#: the shortest spot-check secret production accepts
MIN_SPOT_CHECK_SEED_BYTES = 32


def is_loopback(host: str) -> bool:
    """``host`` names this machine only (a plain-text link to it crosses no network)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every setting of the platform; `docs/operations.md` lists each one."""

    model_config = SettingsConfigDict(env_prefix="AFTERCARE_", env_file=".env", extra="ignore")

    mode: Mode = Field("embedded", description="embedded: development defaults; production: refuse unsafe ones")
    data_dir: Path = Field(Path("./data"), description="embedded stores, photos, generated secrets")

    mqtt_url: str | None = Field(None, description="external broker mqtt://user:pass@host:1883; unset: embedded")
    embedded_mqtt_port: int | None = Field(None, description="port of the embedded broker (default 1883)")
    mqtt_client_id: str = Field("aftercare-ingest", description="MQTT client id of ingestion (persistent session)")
    mqtt_shared_group: str | None = Field(None, description="subscribe as $share/<group>/... to split load")
    mqtt_keepalive: int = Field(30, ge=5, le=3600, description="MQTT keep-alive in seconds")
    mqtt_receive_maximum: int = Field(
        1000,
        ge=1,
        le=65535,
        description="MQTT 5 receive maximum: unacknowledged "
        "messages the broker may send before it waits; bounds ingestion's buffer",
    )
    mqtt_backoff_min_s: float = Field(0.5, gt=0, description="first reconnect delay (full jitter, doubling)")
    mqtt_backoff_max_s: float = Field(30.0, gt=0, description="cap of the reconnect delay")

    timeseries_url: str | None = Field(None, description="sqlite:///path or influxdb://...; unset: SQLite in data_dir")
    state_url: str | None = Field(None, description="sqlite:///path or postgresql://...; unset: SQLite in data_dir")
    influx_token: str | None = Field(None, description="InfluxDB 2.x token (with influxdb2:// URLs)")
    influx_org: str | None = Field(None, description="InfluxDB 2.x organization")

    ingest_committer: Literal["process", "thread"] = Field(
        "process",
        description="where ingestion decodes and commits: a child process on its own core (default), "
        "or a thread beside the MQTT client",
    )
    batch_max_messages: int = Field(500, ge=1, le=65535, description="commit after this many messages")
    batch_max_seconds: float = Field(0.05, gt=0, le=10, description="or after this long")
    stats_interval_s: float = Field(60.0, gt=0, description="how often ingestion logs what it has committed")
    retention_days: int = Field(400, ge=1, description="older telemetry is refused and may be dropped")
    max_future_s: float = Field(300.0, ge=0, description="how far ahead of our clock a timestamp may be")

    api_host: str = Field("127.0.0.1", description="address the API listens on")
    api_port: int = Field(8000, ge=0, le=65535, description="port the API listens on")
    admin_token: str | None = Field(None, description="bootstrap admin bearer token; generated in embedded mode")
    max_photo_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="largest photo accepted (413 above)")
    max_request_bytes: int = Field(
        1024 * 1024, ge=1024, description="largest HTTP request body but a photo upload (413 as soon as it is passed)"
    )

    # --- API hardening (issue 15, helper A): upload body limit, live event streams ---
    max_upload_bytes: int = Field(
        9 * 1024 * 1024,
        ge=1024,
        description="largest body of a photo upload, multipart framing included (413 as soon as it is passed); "
        "must exceed AFTERCARE_MAX_PHOTO_BYTES",
    )
    events_max_streams_per_token: int = Field(
        5, ge=1, le=1000, description="open /api/v1/events streams one token may hold (429 beyond)"
    )
    events_token_recheck_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="how often an open event stream re-checks its token (ends when revoked/expired)",
    )
    events_poll_s: float = Field(
        0.25, gt=0, le=10, description="how often the API process's one event poller reads new events"
    )

    monitor_interval_s: float = Field(
        5.0,
        gt=0,
        description="how often the time-driven rules run (not_worn, "
        "stalls, day metrics, the cases' feed, notification delivery)",
    )
    monitor_poll_s: float = Field(
        0.1,
        gt=0,
        le=5,
        description="how often a monitor worker looks for newly committed data (the safety rules run on it at once)",
    )
    day_recompute_s: float = Field(
        60.0,
        gt=0,
        description="how often a patient's day metrics are brought up to date "
        "with new data (at most this far behind it)",
    )
    spot_check_rate: float = Field(0.1, ge=0, le=1, description="base share of checkpoints sampled for inspection")
    # security hardening (issue 15, finding 3): the spot-check draw is keyed by a secret of its own
    spot_check_seed: str | None = Field(
        None,
        min_length=1,
        description="secret key of the auditable spot-check draw (at least 32 bytes in production; "
        "generated into the data folder in embedded mode)",
    )

    # --- notifications: Standard Webhooks delivery to the insurer's gateway (cases/outbox_worker.py) ---
    webhook_url: str | None = Field(None, description="insurer messaging gateway for claimant notifications")
    webhook_secrets: str | None = Field(
        None,
        description="Standard Webhooks secrets whsec_<base64>, space-separated (newest first); each signs every "
        "delivery, so the gateway can rotate; production: each at least 24 bytes decoded",
    )
    webhook_max_age_s: float = Field(
        24 * 3600.0,
        gt=0,
        description="a notification not delivered by this age is given up: state failed, metric, live event",
    )
    # --- end of notifications ---

    # -- broker accounts (Mosquitto's dynamic security plugin; store/broker_accounts.py) --------------
    broker_admin_user: str = Field(
        "aftercare-admin", min_length=1, description="the broker's dynamic-security admin user the API logs in as"
    )
    broker_admin_password: str | None = Field(
        None,
        description="its password; set: device accounts are created on the broker at registration; "
        "unset: not managed (the embedded broker admits anonymous clients on loopback)",
    )
    broker_admin_timeout_s: float = Field(
        5.0, gt=0, le=60, description="how long a dynamic-security command may wait for the broker's answer"
    )
    broker_dynsec_file: Path | None = Field(
        None, description="dynamic-security.json that `aftercare broker init` writes (broker stopped)"
    )
    mqtt_ingest_password: str | None = Field(None, description="broker password of the aftercare-ingest user")
    mqtt_monitor_password: str | None = Field(None, description="broker password of the aftercare-monitor user")

    # TLS on every link (issue 15): mqtts:// broker URLs are verified against this CA; the API serves HTTPS
    # when given a certificate and its key (both or neither).
    mqtt_ca_file: Path | None = Field(
        None, description="CA certificate (PEM) that signed the broker's; with mqtts:// URLs (unset: system CAs)"
    )
    api_tls_cert_file: Path | None = Field(None, description="the API's certificate chain (PEM): serve HTTPS")
    api_tls_key_file: Path | None = Field(None, description="the private key of AFTERCARE_API_TLS_CERT_FILE (PEM)")

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    # -- observability (issue 15, item 4): health ports of `aftercare ingest` / `aftercare monitor`, log format --
    health_host: str = Field(
        "127.0.0.1", description="address the health/metrics server of `aftercare ingest` and `monitor` listens on"
    )
    ingest_health_port: int = Field(
        9101, ge=0, le=65535, description="`aftercare ingest` serves /healthz, /readyz, /metrics here (0: off)"
    )
    monitor_health_port: int = Field(
        9102, ge=0, le=65535, description="`aftercare monitor` serves /healthz, /readyz, /metrics here (0: off)"
    )
    log_format: Literal["human", "json"] = Field(
        "human", description="human: key=value lines; json: one JSON object per line (with the request id)"
    )

    @field_validator(
        "mqtt_url",
        "timeseries_url",
        "state_url",
        "webhook_url",
        "webhook_secrets",
        "spot_check_seed",
        "mqtt_ca_file",
        "api_tls_cert_file",
        "api_tls_key_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.mode == "production":
            missing = [
                name
                for name, value in (
                    ("AFTERCARE_ADMIN_TOKEN", self.admin_token),
                    ("AFTERCARE_MQTT_URL", self.mqtt_url),
                    ("AFTERCARE_STATE_URL", self.state_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production mode needs {', '.join(missing)}; there are no defaults for them")
            if len((self.spot_check_seed or "").encode()) < MIN_SPOT_CHECK_SEED_BYTES:
                raise ValueError(
                    f"production mode needs AFTERCARE_SPOT_CHECK_SEED of at least {MIN_SPOT_CHECK_SEED_BYTES} bytes "
                    "(a random secret: whoever knows it can tell which checkpoints will be inspected)"
                )
            if self.admin_token is not None and len(self.admin_token) < 24:
                raise ValueError("AFTERCARE_ADMIN_TOKEN must be at least 24 characters in production")
            if self.broker_admin_password is not None and len(self.broker_admin_password) < 16:
                raise ValueError("AFTERCARE_BROKER_ADMIN_PASSWORD must be at least 16 characters in production")
            if self.webhook_url and not self.webhook_secrets:
                raise ValueError(
                    "AFTERCARE_WEBHOOK_URL needs AFTERCARE_WEBHOOK_SECRETS in production (deliveries are signed)"
                )
            if self.webhook_url:
                hook = urlsplit(self.webhook_url)
                if hook.scheme != "https" and not is_loopback(hook.hostname or ""):
                    raise ValueError(
                        f"AFTERCARE_WEBHOOK_URL must be https:// in production (deliveries carry the claimant's "
                        f"contact and messages; a signature is not encryption): {hook.scheme}://{hook.hostname}"
                    )
        if self.max_upload_bytes <= self.max_photo_bytes:
            raise ValueError("AFTERCARE_MAX_UPLOAD_BYTES must exceed AFTERCARE_MAX_PHOTO_BYTES (multipart framing)")
        if self.mqtt_url:
            broker = BrokerUrl.parse(self.mqtt_url, ca_file=self.mqtt_ca_file)  # its errors name the setting to fix
            if self.mode == "production" and not broker.tls and not is_loopback(broker.host):
                raise ValueError(
                    f"AFTERCARE_MQTT_URL={broker} is plain text in production: use mqtts://...:8883 "
                    "(with AFTERCARE_MQTT_CA_FILE), so passwords and health data cross the network encrypted"
                )
        elif self.mqtt_ca_file is not None:
            raise ValueError("AFTERCARE_MQTT_CA_FILE is set but AFTERCARE_MQTT_URL is not (an mqtts:// broker)")
        if (self.api_tls_cert_file is None) != (self.api_tls_key_file is None):
            absent = "AFTERCARE_API_TLS_KEY_FILE" if self.api_tls_key_file is None else "AFTERCARE_API_TLS_CERT_FILE"
            raise ValueError(f"{absent} is needed too: the API's certificate and key go together")
        if self.mode == "production" and self.api_tls_cert_file is None and not is_loopback(self.api_host):
            raise ValueError(
                f"AFTERCARE_API_HOST={self.api_host} serves plain HTTP beyond this host in production: set "
                "AFTERCARE_API_TLS_CERT_FILE and AFTERCARE_API_TLS_KEY_FILE (bearer tokens must not cross the "
                "network in clear), or listen on 127.0.0.1 behind a TLS proxy"
            )
        self._check_webhook_secrets()
        if self.mqtt_backoff_min_s > self.mqtt_backoff_max_s:
            raise ValueError("AFTERCARE_MQTT_BACKOFF_MIN_S must not exceed AFTERCARE_MQTT_BACKOFF_MAX_S")
        return self

    def _check_webhook_secrets(self) -> None:
        """Refuse at start a secret that is not whsec_<base64>, or (in production) shorter than 24 bytes."""
        minimum = MIN_SECRET_BYTES if self.mode == "production" else 1
        try:
            parse_secrets(self.webhook_secrets, min_bytes=minimum)
        except WebhookSecretError as exc:
            raise ValueError(f"AFTERCARE_WEBHOOK_SECRETS: {exc}") from None

    @cached_property
    def resolved_timeseries_url(self) -> str:
        return self.timeseries_url or f"sqlite:///{(self.data_dir / 'timeseries.db').as_posix()}"

    @cached_property
    def resolved_state_url(self) -> str:
        return self.state_url or f"sqlite:///{(self.data_dir / 'state.db').as_posix()}"

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    def ensure_admin_token(self) -> tuple[str, bool]:
        """The admin token, generating and storing one in the data folder in embedded mode.

        Returns the token and whether it was generated just now (so it is printed once).
        """
        if self.admin_token:
            return self.admin_token, False
        if self.mode == "production":
            raise ValueError("AFTERCARE_ADMIN_TOKEN is required in production")
        token, fresh = self._embedded_secret("admin-token")
        self.admin_token = token
        return token, fresh

    def ensure_spot_check_seed(self) -> str:
        """The spot-check secret, generating and storing one in the data folder in embedded mode."""
        if self.spot_check_seed:
            return self.spot_check_seed
        if self.mode == "production":
            raise ValueError("AFTERCARE_SPOT_CHECK_SEED is required in production")
        self.spot_check_seed, _ = self._embedded_secret("spot-check-seed")
        return self.spot_check_seed

    def _embedded_secret(self, name: str) -> tuple[str, bool]:
        """The secret kept in the data folder file ``name``, made (0600 from its creation) if there is none;
        and whether it was made just now."""
        path = private_data_dir(self.data_dir) / name
        made = not path.exists() and write_private(path, (secrets.token_urlsafe(32) + "\n").encode(), exclusive=True)
        return path.read_text().strip(), made
