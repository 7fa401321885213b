"""The id of the HTTP request being served, for every log line written while serving it.

Kept apart from the middleware (`api.request_log`) so the logging set-up reads it without importing Starlette.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

#: the id of the request this task or thread works for; None outside a request
REQUEST_ID: ContextVar[str | None] = ContextVar("aftercare_request_id", default=None)

_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def accepted_or_new(offered: str | None) -> str:
    """The client's X-Request-ID when it is sane (1-128 of letters, digits, ``. _ : -``), else a new one."""
    if offered is not None and _SANE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return REQUEST_ID.get()
