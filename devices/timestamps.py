"""Contract timestamps: RFC 3339 with a zone, or integer epoch milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator


def to_aware_datetime(value: object) -> datetime:
    """A contract time field as a zone-aware datetime (an RFC 3339 string keeps its offset; epoch
    milliseconds are UTC), raising ValueError with a plain reason."""
    if isinstance(value, bool):
        raise ValueError("a time must be an RFC 3339 string or epoch milliseconds, not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if not 0 <= value < 10**14:
            raise ValueError(f"epoch milliseconds {value} out of range")
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a time needs a zone")
        return value
    if isinstance(value, str):
        if len(value) > 40:
            raise ValueError("time string too long for RFC 3339")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an RFC 3339 time") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone (RFC 3339 needs Z or an offset)")
        return parsed
    raise ValueError(f"a time must be an RFC 3339 string or epoch milliseconds, got {type(value).__name__}")


def to_epoch_ms(value: object) -> int:
    """Convert a contract time field to epoch milliseconds, raising ValueError with a plain reason."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 10**14:
            raise ValueError(f"epoch milliseconds {value} out of range")
        return value  # the common case, without a datetime
    return int(to_aware_datetime(value).timestamp() * 1000)


def ms_to_iso(ms: int) -> str:
    """Epoch milliseconds as an RFC 3339 UTC string with milliseconds."""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (ValueError, OverflowError, OSError):
        return f"{ms} ms since 1970"  # beyond what a calendar date can show


def now_ms() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 1000)


EpochMs = Annotated[int, BeforeValidator(to_epoch_ms)]
