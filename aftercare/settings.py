"""All configuration in one place: environment variables prefixed ``AFTERCARE_`` (and an optional ``.env``)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cases.webhook_signing import MIN_SECRET_BYTES, WebhookSecretError, parse_secrets

Mode = Literal["embedded", "production"]


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
    max_request_bytes: int = Field(12 * 1024 * 1024, ge=1024, description="largest HTTP request body (413 above)")

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
    spot_check_seed: str = Field("aftercare", min_length=1, description="seed of the auditable spot-check draw")

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

    mosquitto_passwd_file: Path | None = Field(None, description="password file the platform writes for devices")
    mosquitto_acl_file: Path | None = Field(None, description="ACL file the platform writes")
    mosquitto_pid_file: Path | None = Field(None, description="Mosquitto's pid file, signalled to reload")
    mqtt_ingest_password: str | None = Field(None, description="broker password of the aftercare-ingest user")
    mqtt_monitor_password: str | None = Field(None, description="broker password of the aftercare-monitor user")

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    @field_validator("mqtt_url", "timeseries_url", "state_url", "webhook_url", "webhook_secrets", mode="before")
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
            if self.admin_token is not None and len(self.admin_token) < 24:
                raise ValueError("AFTERCARE_ADMIN_TOKEN must be at least 24 characters in production")
            if self.webhook_url and not self.webhook_secrets:
                raise ValueError(
                    "AFTERCARE_WEBHOOK_URL needs AFTERCARE_WEBHOOK_SECRETS in production (deliveries are signed)"
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
        path = self.data_dir / "admin-token"
        if path.exists():
            self.admin_token = path.read_text().strip()
            return self.admin_token, False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        path.write_text(token + "\n")
        path.chmod(0o600)
        self.admin_token = token
        return token, True
