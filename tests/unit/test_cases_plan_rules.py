"""The service-plan rules: which items each line gets, how the profile personalises them, and plan diffs."""

from __future__ import annotations

from typing import Any

from cases.plan_rules import CaseFacts, PlanDraft, Preference, RehabOutline, diff, generate
from monitor.repair.warranty import term_months

OFFERS = [
    {"shop_id": f"S{i}", "name": f"Garage {i}", "score": 0.9 - i / 10, "distance_km": 2.0 + i, "reasons": []}
    for i in range(1, 4)
]
REHAB = RehabOutline(dimensions=("medical", "psychological", "daily life"), plan={"medical": {}})


def facts(
    line: str = "motor",
    *,
    age: int = 40,
    mobility: str = "normal",
    channel: str = "app",
    language: str = "en",
    drivable: bool = True,
    vehicle: bool = True,
    injury: bool = False,
    prior: int = 0,
    cause: str = "collision",
    severity: str = "moderate",
) -> CaseFacts:
    return CaseFacts(
        line=line,
        age=age,
        mobility=mobility,
        channel=channel,
        language=language,
        severity=severity,
        cause=cause,
        prior_claims_same_cause=prior,
        vehicle={"make": "Toyota", "model": "Yaris", "year": 2021, "drivable": drivable} if vehicle else None,
        injury={"description": "whiplash", "body_part": "neck"} if injury else None,
    )


def plan(
    f: CaseFacts, prefs: dict[str, Preference] | None = None, offers: list[dict[str, Any]] | None = None
) -> PlanDraft:
    return generate(f, prefs or {}, OFFERS if offers is None else offers, rehab=REHAB)


def item(draft: PlanDraft, key: str) -> dict[str, Any]:
    return next(i for i in draft.items if i["key"] == key)


def omitted(draft: PlanDraft, key: str) -> str:
    return next(o["reason"] for o in draft.omitted if o["key"] == key)


def test_motor_drivable_gets_repair_at_best_shop_and_warranty_but_no_courtesy_car() -> None:
    draft = plan(facts())
    assert draft.item_keys() == ["repair", "extended_warranty"]
    repair = item(draft, "repair")
    assert repair["rule"] == "motor.repair.certified_offers"
    assert repair["details"]["shop_id"] == "S1"
    assert [o["shop_id"] for o in repair["details"]["offers"]] == ["S1", "S2", "S3"]
    assert "Garage 1" in repair["reason"]
    assert "best match" in repair["reason"]
    assert omitted(draft, "courtesy_car") == "Your vehicle can still be driven."
    assert "risk_review" not in draft.item_keys()


def test_not_drivable_brings_a_courtesy_car() -> None:
    draft = plan(facts(drivable=False))
    car = item(draft, "courtesy_car")
    assert car["rule"] == "motor.courtesy_car.not_drivable"
    assert car["part_of"] == "repair"
    assert "cannot be driven" in car["reason"]


def test_extended_warranty_is_one_and_a_half_times_the_base_term() -> None:
    details = item(plan(facts(severity="minor")), "extended_warranty")["details"]
    assert details["base_months"] == term_months("body", "minor")
    assert details["months"] == term_months("body", "minor", extended=True)
    assert details["months"] == 18
    assert item(plan(facts(severity="severe")), "extended_warranty")["details"]["months"] == 36


def test_age_70_or_reduced_mobility_brings_pick_up_and_delivery() -> None:
    assert item(plan(facts(age=70)), "pickup_delivery")["rule"] == "motor.pickup_delivery.age"
    assert "70" in item(plan(facts(age=70)), "pickup_delivery")["reason"]
    assert item(plan(facts(mobility="reduced")), "pickup_delivery")["rule"] == "motor.pickup_delivery.mobility"
    young = plan(facts(age=69))
    assert "pickup_delivery" not in young.item_keys()
    assert "from age 70" in omitted(young, "pickup_delivery")


def test_health_gets_rehab_with_a_wearable_kit_and_the_three_dimension_plan() -> None:
    draft = plan(facts("health", vehicle=False, injury=True, cause="fall"))
    assert draft.item_keys() == ["rehab", "wearable_kit"]
    rehab = item(draft, "rehab")
    assert rehab["rule"] == "health.rehab"
    assert rehab["details"]["dimensions"] == ["medical", "psychological", "daily life"]
    assert "medical, psychological, daily life" in rehab["reason"]
    assert rehab["milestone"] == "rehab"
    assert item(draft, "wearable_kit")["part_of"] == "rehab"
    assert omitted(draft, "home_visits") == "Offered when mobility is reduced, from age 70, or on request."


def test_elderly_or_reduced_mobility_health_claimant_gets_home_visits() -> None:
    assert item(plan(facts("health", vehicle=False, age=78)), "home_visits")["rule"] == "rehab.home_visits.age"
    draft = plan(facts("health", vehicle=False, mobility="reduced"))
    assert item(draft, "home_visits")["rule"] == "rehab.home_visits.mobility"
    assert "mobility is reduced" in item(draft, "home_visits")["reason"]


def test_a_motor_loss_with_an_injury_also_gets_rehab() -> None:
    draft = plan(facts(injury=True))
    assert item(draft, "rehab")["rule"] == "injury.rehab"
    assert "whiplash" in item(draft, "rehab")["reason"]
    assert {"repair", "rehab", "wearable_kit"} <= set(draft.item_keys())


def test_property_and_recurring_causes_get_a_risk_review() -> None:
    prop = plan(facts("property", vehicle=False, cause="water leak"))
    assert prop.item_keys() == ["risk_review"]
    assert item(prop, "risk_review")["rule"] == "property.risk_review"
    assert "water leak" in item(prop, "risk_review")["reason"]
    recurring = plan(facts(prior=2, cause="parking"))
    review = item(recurring, "risk_review")
    assert review["rule"] == "recurring_cause.risk_review"
    assert review["details"]["claims_for_cause"] == 3
    assert "claim number 3" in review["reason"]


def test_every_item_follows_the_preferred_channel_and_language() -> None:
    draft = plan(facts(channel="sms", language="zh", drivable=False, age=75))
    assert {i["channel"] for i in draft.items} == {"sms"}
    assert item(draft, "courtesy_car")["title"] == "代步车"
    assert "75岁" in item(draft, "pickup_delivery")["reason"]


def test_no_certified_shop_in_reach_is_explained() -> None:
    repair = item(plan(facts(), offers=[]), "repair")
    assert repair["rule"] == "motor.repair.no_certified_shop"
    assert repair["details"]["shop_id"] is None
    assert "50 km" in repair["reason"]


def test_motor_without_vehicle_plans_no_repair() -> None:
    draft = plan(facts(vehicle=False))
    assert "repair" not in draft.item_keys()
    assert omitted(draft, "repair") == "The loss report names no vehicle."


def test_preferences_change_the_plan_and_the_diff_says_why() -> None:
    before = plan(facts(drivable=False))
    prefs = {
        "courtesy_car": Preference(False, "claimant"),
        "shop_id": Preference("S2", "claimant"),
        "pickup_delivery": Preference(True, "claimant"),
    }
    after = plan(facts(drivable=False), prefs)
    assert "courtesy_car" not in after.item_keys()
    assert omitted(after, "courtesy_car") == "You declined it."
    repair = item(after, "repair")
    assert repair["details"]["shop_id"] == "S2"
    assert repair["details"]["rank"] == 2
    assert "as you asked" in repair["reason"]
    assert item(after, "pickup_delivery")["rule"] == "motor.pickup_delivery.requested"
    changes = {c["key"]: c for c in diff(before.items, after, "en")}
    assert set(changes) == {"repair", "courtesy_car", "pickup_delivery"}
    assert changes["courtesy_car"]["change"] == "removed"
    assert changes["courtesy_car"]["reason"] == "You declined it."
    assert changes["repair"]["change"] == "changed"
    assert changes["repair"]["reason"].startswith("Shop changed from Garage 1 to Garage 2.")
    assert changes["repair"]["before"]["details"]["shop_id"] == "S1"
    assert changes["pickup_delivery"]["change"] == "added"
    assert changes["pickup_delivery"]["reason"] == "You asked for your car to be collected and brought back."


def test_staff_declining_is_named_as_staff() -> None:
    draft = plan(facts(drivable=False), {"courtesy_car": Preference(False, "staff")})
    assert omitted(draft, "courtesy_car") == "Declined by your claims handler."


def test_a_plan_regenerated_from_the_same_inputs_has_no_diff() -> None:
    draft = plan(facts(drivable=False, age=80))
    assert diff(draft.items, plan(facts(drivable=False, age=80)), "en") == []
