"""Reading one resource by id behind the tenant wall.

A resource that does not exist is 404 for staff (who could see it if it did) and 403 for everyone
else, the same answer as for a resource that exists but is not theirs, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from api.auth import Caller
from api.deps import forbid, not_found

M = TypeVar("M")


def get_visible(
    session: Session, model: type[M], key: str, caller: Caller, *, what: str, sees: Callable[[M], bool]
) -> M:
    """The row of `model` with primary key `key` if `sees(row)`; `what` names it in the error detail."""
    row = session.get(model, key)
    if row is None:
        raise not_found(what) if caller.is_staff else forbid(what)
    if not sees(row):
        raise forbid(what)
    return row
