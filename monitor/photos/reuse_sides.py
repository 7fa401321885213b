"""The two sides of a photo reuse, and what a shop may know of the other side.

A reused photo is found by matching it against every earlier photo, whoever took it. The match records
both sides (the alert's details and the photo's checks keep the earlier photo's id, job, stage and shop)
for claims staff; a shop may see a match's ids only when the earlier photo is its own. Otherwise it
learns that a photo of another shop matched, how closely and whether mirrored, nothing that names it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: what a shop sees of a match on another shop's photo
OTHER_SHOP_FIELDS = ("distance", "mirrored")


def hides(match: Mapping[str, Any], viewer_shop: str | None) -> bool:
    """Whether a shop ``viewer_shop`` (``None``: a caller with no shop, e.g. a claimant) must not see the
    ids of ``match``; a match recorded without its shop (before it was recorded) is hidden."""
    return viewer_shop is None or match.get("shop_id") != viewer_shop


def own_side(matches: Sequence[Mapping[str, Any]], viewer_shop: str | None) -> list[dict[str, Any]]:
    """The matches with those on other shops' photos reduced to how close they were."""
    return [
        dict(m) if not hides(m, viewer_shop) else {"other_shop": True, **{k: m[k] for k in OTHER_SHOP_FIELDS if k in m}}
        for m in matches
    ]


def scrub(text: str, matches: Sequence[Mapping[str, Any]], viewer_shop: str | None) -> str:
    """``text`` without the ids of the matches ``viewer_shop`` may not see (messages written before the
    monitor stopped naming the other side in them)."""
    for m in matches:
        if not hides(m, viewer_shop):
            continue
        photo, job, stage = (str(m.get(k, "")) for k in ("photo_id", "job_id", "stage"))
        if photo and job:
            text = text.replace(f"photo {photo} ({job} {stage})", "a photo of another shop")
        for ident in (photo, job):
            if ident:
                text = text.replace(ident, "another shop's")
    return text


def redacted_details(details: Mapping[str, Any], viewer_shop: str | None) -> dict[str, Any]:
    """An alert's or photo check's ``details`` as ``viewer_shop`` may see them."""
    matches = details.get("reuse")
    if not isinstance(matches, list) or not matches:
        return dict(details)
    out = {**details, "reuse": own_side(matches, viewer_shop)}
    reasons = details.get("reasons")
    if isinstance(reasons, list):
        out["reasons"] = [scrub(r, matches, viewer_shop) if isinstance(r, str) else r for r in reasons]
    return out
