"""Issue 15, finding 6: a shop sees the ids of a reuse match only when the earlier photo is its own."""

from __future__ import annotations

from monitor.photos.reuse_sides import own_side, redacted_details, scrub

MINE = {"photo_id": "ph_1", "job_id": "J-1", "stage": "body", "shop_id": "S-a", "distance": 2, "mirrored": False}
THEIRS = {"photo_id": "ph_9", "job_id": "J-9", "stage": "paint", "shop_id": "S-b", "distance": 0, "mirrored": True}
OLD = {"photo_id": "ph_7", "job_id": "J-7", "stage": "paint", "distance": 1, "mirrored": False}  # no shop recorded


def test_a_shop_keeps_its_own_matches_and_loses_the_ids_of_others() -> None:
    assert own_side([MINE, THEIRS, OLD], "S-a") == [
        MINE,
        {"other_shop": True, "distance": 0, "mirrored": True},
        {"other_shop": True, "distance": 1, "mirrored": False},
    ]


def test_a_caller_without_a_shop_sees_no_ids() -> None:
    assert all(m.get("other_shop") for m in own_side([MINE, THEIRS], None))


def test_old_messages_and_reasons_lose_the_other_sides_ids() -> None:
    message = "photo ph_2 (J-2 paint) nearly duplicates photo ph_9 (J-9 paint), 0 bits apart"
    assert (
        scrub(message, [THEIRS], "S-a")
        == "photo ph_2 (J-2 paint) nearly duplicates a photo of another shop, 0 bits apart"
    )
    assert scrub(message, [THEIRS], "S-b") == message
    details = {"photo_id": "ph_2", "reuse": [THEIRS], "reasons": [message, "blurry"]}
    redacted = redacted_details(details, "S-a")
    assert "ph_9" not in str(redacted)
    assert "J-9" not in str(redacted)
    assert redacted["reasons"][1] == "blurry"
    assert details["reuse"] == [THEIRS]  # the stored details are not changed


def test_details_without_a_reuse_are_served_as_they_are() -> None:
    assert redacted_details({"photo_id": "ph_2", "reuse": []}, "S-a") == {"photo_id": "ph_2", "reuse": []}
