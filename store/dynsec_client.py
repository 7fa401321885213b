"""A client of Mosquitto's dynamic security plugin: JSON commands over MQTT, answers matched by correlation.

The plugin listens on ``$CONTROL/dynamic-security/v1`` for ``{"commands": [...]}`` from a client whose
role may publish there, and answers every command on ``$CONTROL/dynamic-security/v1/response`` as
``{"responses": [{"command", "error"?, "data"?, "correlationData"?}]}``. Every admin client connected
to the broker receives every answer (several API replicas share one broker), so each command carries a
``correlationData`` of its own and an answer is handed only to the caller that waits for it.

The connection is opened on first use and kept; paho reconnects it in the background. A refused login
or a broker that does not answer in ``timeout_s`` raises `DynsecUnavailable` at once, never a hang.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

REQUEST_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response"

Command = Mapping[str, Any]
Response = dict[str, Any]


class DynsecError(RuntimeError):
    """The plugin answered a command with an error (``error`` is its text, e.g. ``Client not found``)."""

    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"dynamic security {command}: {error}")
        self.command = command
        self.error = error


class DynsecUnavailable(RuntimeError):
    """The broker could not be asked: unreachable, the admin login refused, or no answer in time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DynsecClient:
    """Sends dynamic-security commands as the broker's admin user and waits for the correlated answers."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        timeout_s: float = 5.0,
        tls_context: ssl.SSLContext | None = None,
        client_id_prefix: str = "aftercare-dynsec",
    ) -> None:
        self._host, self._port = host, port
        self._timeout_s = timeout_s
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{client_id_prefix}-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        self._client.username_pw_set(username, password)
        if tls_context is not None:
            self._client.tls_set_context(tls_context)  # mqtts: the broker's certificate and host name verified
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._subscribed = False
        self._refused: str | None = None
        self._started = False
        self._pending: dict[str, Response | None] = {}
        self._answered = threading.Condition(self._lock)

    # -- connection ------------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        if rc.is_failure:
            with self._ready:
                self._refused = f"the broker refused the dynamic-security admin login: {rc.getName()}"
                self._ready.notify_all()
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)  # again on every reconnect

    def _on_subscribe(self, _c: mqtt.Client, _u: object, _mid: int, rcs: list[ReasonCode], _p: object) -> None:
        with self._ready:
            if any(rc.is_failure for rc in rcs):
                self._refused = f"the admin user may not subscribe to {RESPONSE_TOPIC}: {rcs[0].getName()}"
            else:
                self._subscribed = True
            self._ready.notify_all()

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        with self._ready:
            self._subscribed = False
        log.info("dynamic-security client disconnected from %s:%s: %s", self._host, self._port, rc.getName())

    def _ensure_connected(self) -> None:
        with self._ready:
            if self._subscribed:
                return
            if not self._started:
                self._refused = None
                try:
                    self._client.connect(self._host, self._port, keepalive=30)
                except OSError as exc:
                    raise DynsecUnavailable(f"cannot reach the broker at {self._host}:{self._port}: {exc}") from exc
                self._client.loop_start()
                self._started = True
            ready = self._ready.wait_for(lambda: self._subscribed or self._refused is not None, self._timeout_s)
            refused = self._refused
        if refused is not None:
            self._stop_loop()  # paho would retry a refused login forever
            raise DynsecUnavailable(refused)
        if not ready:
            self._stop_loop()
            raise DynsecUnavailable(
                f"no answer from the broker at {self._host}:{self._port} within {self._timeout_s:g} s"
            )

    def _stop_loop(self) -> None:
        with self._ready:
            started, self._started, self._subscribed = self._started, False, False
        if started:
            self._client.disconnect()
            self._client.loop_stop()

    def close(self) -> None:
        self._stop_loop()

    # -- commands --------------------------------------------------------------------------------

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            responses = json.loads(message.payload)["responses"]
        except (ValueError, KeyError, TypeError):
            log.warning("dynamic-security answer that is not JSON responses: %r", message.payload[:200])
            return
        with self._answered:
            for response in responses:
                key = response.get("correlationData") if isinstance(response, dict) else None
                if key in self._pending:
                    self._pending[key] = response
            self._answered.notify_all()

    def execute(self, commands: Sequence[Command]) -> list[Response]:
        """Send ``commands`` in one request; return each one's answer, in order (errors not raised)."""
        if not commands:
            return []
        self._ensure_connected()
        batch = uuid.uuid4().hex
        keys = [f"{batch}:{i}" for i in range(len(commands))]
        payload = {
            "commands": [{**command, "correlationData": key} for command, key in zip(commands, keys, strict=True)]
        }
        with self._answered:
            for key in keys:
                self._pending[key] = None
        try:
            self._client.publish(REQUEST_TOPIC, json.dumps(payload), qos=1)
            with self._answered:
                done = self._answered.wait_for(
                    lambda: all(self._pending[k] is not None for k in keys), timeout=self._timeout_s
                )
                answers = [self._pending[k] for k in keys]
        finally:
            with self._answered:
                for key in keys:
                    self._pending.pop(key, None)
        if not done:
            names = ", ".join(str(c.get("command")) for c in commands)
            raise DynsecUnavailable(
                f"the broker at {self._host}:{self._port} did not answer {names} within {self._timeout_s:g} s "
                "(is the dynamic security plugin loaded, and may the admin user publish to $CONTROL/#?)"
            )
        return [a for a in answers if a is not None]

    def run(self, command: Command, *, ok_errors: Sequence[str] = ()) -> Response:
        """One command; raise `DynsecError` when it fails with an error not in ``ok_errors``."""
        (answer,) = self.execute([command])
        error = answer.get("error")
        if error and error not in ok_errors:
            raise DynsecError(str(command.get("command")), str(error))
        return answer
