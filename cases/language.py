"""The language a case speaks to its claimant."""

from __future__ import annotations

from store.state.schema_cases import Case


def lang(case: Case) -> str:
    """The claimant's language (``claimant.language``), English when none is given."""
    return str((case.claimant or {}).get("language", "en"))
