"""Refusals of case operations, carrying the HTTP status and a detail that names the field or the state."""

from __future__ import annotations


class CaseError(Exception):
    """A refused case operation; the API answers `status` with `detail`."""

    status = 409

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CaseConflict(CaseError):
    """The operation does not fit the case's current state (closed, already linked, wrong stage)."""

    status = 409


class CaseInvalid(CaseError):
    """A field of the request is wrong in a way only the stored data reveal (an unknown job, a shop not offered)."""

    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
