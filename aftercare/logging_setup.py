"""Structured logging, the same in every component: one line per record.

``human`` (the default): ``ts=... level=... logger=... msg=...``. ``json`` (`AFTERCARE_LOG_FORMAT=json`): one
JSON object per line with ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, every extra field of
the record, ``request_id`` while an API request is served (`api.request_id`) and ``exception`` (the traceback).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Literal

from api.request_id import current_request_id

LogFormat = Literal["human", "json"]

HUMAN = "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"

#: attributes every LogRecord has; anything else on a record came from ``extra=``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: str = "INFO", log_format: LogFormat = "human") -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), format=HUMAN, force=True)
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    for noisy in ("amqtt", "transitions", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
