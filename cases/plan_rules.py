"""The service plan of a case, from explainable rules: every item says which rule put it there and why.

Pure functions of the case's facts, the claimant's or staff's preferences and the ranked shop
offers, so the rules are tested without a database and a plan is regenerated identically from the
same inputs. The rules:

- motor with a vehicle: a repair at one of the three best certified shops (the first unless another
  is chosen), a courtesy car when the vehicle cannot be driven, the extended warranty (1.5 times the
  base term of the repair type and severity, `monitor.repair.warranty`);
- health, or any line whose loss records an injury: rehab enrolment with a wearable kit and the
  three-dimension plan;
- property, and any line whose cause recurs: a risk review;
- reduced mobility or age 70 and over: pick-up and delivery of the car, home rehab visits;
- every item is offered on the claimant's preferred channel;
- preferences (decline the courtesy car, choose another offered shop, ask for pick-up or home visits)
  override the defaults and are named in the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from cases.texts import joined, say
from monitor.repair.warranty import EXTENSION_FACTOR, term_months

ELDERLY_AGE: Final = 70
OFFER_RADIUS_KM: Final = 50.0
OFFERS: Final = 3

#: item key -> the item whose completion completes it
PART_OF: Final[dict[str, str]] = {
    "courtesy_car": "repair",
    "extended_warranty": "repair",
    "pickup_delivery": "repair",
    "wearable_kit": "rehab",
    "home_visits": "rehab",
}
#: item key -> the feedback milestone reached when it is done
MILESTONES: Final[dict[str, str]] = {"repair": "repair", "rehab": "rehab", "risk_review": "risk_review"}
#: preferences a change request may set (shop_id carries a shop id, the others a boolean)
PREFERENCE_KEYS: Final = ("courtesy_car", "shop_id", "pickup_delivery", "home_visits", "extended_warranty")


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the rules look at, taken from the case as opened."""

    line: str
    age: int
    mobility: str
    channel: str
    language: str
    severity: str
    cause: str
    vehicle: dict[str, Any] | None = None
    injury: dict[str, Any] | None = None
    prior_claims_same_cause: int = 0
    repair_type: str = "body"

    @classmethod
    def of(cls, claimant: dict[str, Any], loss: dict[str, Any], line: str) -> CaseFacts:
        return cls(
            line=line,
            age=int(claimant["age"]),
            mobility=claimant.get("mobility", "normal"),
            channel=claimant.get("channel", "app"),
            language=claimant.get("language", "en"),
            severity=loss["severity"],
            cause=loss["cause"],
            vehicle=loss.get("vehicle"),
            injury=loss.get("injury"),
            prior_claims_same_cause=int(loss.get("prior_claims_same_cause") or 0),
            repair_type=loss.get("repair_type") or "body",
        )

    @property
    def needs_assistance(self) -> str | None:
        """Why the claimant gets services brought to them: 'mobility', 'age' or None."""
        if self.mobility == "reduced":
            return "mobility"
        if self.age >= ELDERLY_AGE:
            return "age"
        return None


@dataclass(frozen=True, slots=True)
class Preference:
    value: bool | str
    by: str  # claimant | staff

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "by": self.by}


Preferences = dict[str, Preference]


def preferences_from_json(data: dict[str, Any] | None) -> Preferences:
    return {
        k: Preference(value=v["value"], by=v.get("by", "staff"))
        for k, v in (data or {}).items()
        if k in PREFERENCE_KEYS and isinstance(v, dict) and "value" in v
    }


def preferences_to_json(prefs: Preferences) -> dict[str, Any]:
    return {k: p.to_json() for k, p in sorted(prefs.items())}


@dataclass(frozen=True, slots=True)
class RehabOutline:
    """The three dimensions of the rehab plan as the claimant reads them, and the default plan itself."""

    dimensions: tuple[str, ...] = ()
    plan: dict[str, Any] | None = None


@dataclass
class PlanDraft:
    items: list[dict[str, Any]] = field(default_factory=list)
    omitted: list[dict[str, str]] = field(default_factory=list)

    def item_keys(self) -> list[str]:
        return [i["key"] for i in self.items]


def generate(
    facts: CaseFacts, prefs: Preferences, offers: list[dict[str, Any]], *, rehab: RehabOutline | None = None
) -> PlanDraft:
    """The plan for these facts and preferences; `offers` are the ranked shops (best first)."""
    lang = facts.language
    draft = PlanDraft()

    def add(key: str, rule: str, reason: str, details: dict[str, Any] | None = None) -> None:
        draft.items.append(
            {
                "key": key,
                "title": say(lang, f"item.{key}"),
                "reason": reason,
                "rule": rule,
                "channel": facts.channel,
                "details": details or {},
                "part_of": PART_OF.get(key),
                "milestone": MILESTONES.get(key),
            }
        )

    def omit(key: str, reason: str) -> None:
        draft.omitted.append({"key": key, "reason": reason})

    def declined(key: str) -> str | None:
        pref = prefs.get(key)
        if pref is not None and pref.value is False:
            return say(lang, "omit.declined_by_you" if pref.by == "claimant" else "omit.declined_by_staff")
        return None

    if facts.line == "motor":
        if facts.vehicle is None:
            omit("repair", say(lang, "omit.repair_no_vehicle"))
        else:
            _motor(facts, prefs, offers, add, omit, declined)
    if facts.line == "health" or facts.injury is not None:
        _rehab(facts, prefs, rehab or RehabOutline(), add, omit, declined)
    if facts.line == "property":
        add(
            "risk_review",
            "property.risk_review",
            say(lang, "reason.risk_property", cause=facts.cause),
            {"cause": facts.cause},
        )
    elif facts.prior_claims_same_cause >= 1:
        add(
            "risk_review",
            "recurring_cause.risk_review",
            say(lang, "reason.risk_recurring", n=facts.prior_claims_same_cause + 1, cause=facts.cause),
            {"cause": facts.cause, "claims_for_cause": facts.prior_claims_same_cause + 1},
        )
    else:
        omit("risk_review", say(lang, "omit.risk_not_needed"))
    return draft


def chosen_offer(offers: list[dict[str, Any]], prefs: Preferences) -> tuple[dict[str, Any] | None, str]:
    """The offer the repair goes to and who chose it: 'claimant', 'staff' or 'best'."""
    pref = prefs.get("shop_id")
    if pref is not None:
        for offer in offers:
            if offer["shop_id"] == pref.value:
                return offer, pref.by
    return (offers[0], "best") if offers else (None, "best")


def _motor(
    facts: CaseFacts, prefs: Preferences, offers: list[dict[str, Any]], add: Any, omit: Any, declined: Any
) -> None:
    lang = facts.language
    vehicle = facts.vehicle or {}
    vehicle_name = " ".join(str(vehicle.get(k, "")) for k in ("make", "model")).strip() or "vehicle"
    severity = say(lang, f"severity.{facts.severity}")
    offered = offers[:OFFERS]
    chosen, chooser = chosen_offer(offered, prefs)
    if chosen is None:
        add(
            "repair",
            "motor.repair.no_certified_shop",
            say(lang, "reason.repair_no_shop", vehicle=vehicle_name, severity=severity, radius=int(OFFER_RADIUS_KM)),
            {"offers": [], "shop_id": None, "rank": None, "severity": facts.severity},
        )
    else:
        chooser_text = say(
            lang,
            {"claimant": "reason.chosen_by_you", "staff": "reason.chosen_by_staff"}.get(chooser, "reason.chosen_best"),
        )
        add(
            "repair",
            "motor.repair.certified_offers",
            say(
                lang,
                "reason.repair",
                vehicle=vehicle_name,
                severity=severity,
                n=len(offered),
                shops=joined([f"{o.get('name') or o['shop_id']} ({o['distance_km']:.1f} km)" for o in offered], lang),
                chosen=chosen.get("name") or chosen["shop_id"],
                chooser=chooser_text,
            ),
            {
                "offers": offered,
                "shop_id": chosen["shop_id"],
                "shop_name": chosen.get("name"),
                "rank": offered.index(chosen) + 1,
                "chosen_by": chooser,
                "severity": facts.severity,
            },
        )
    if vehicle.get("drivable", True):
        omit("courtesy_car", say(lang, "omit.courtesy_car_drivable"))
    elif (why := declined("courtesy_car")) is not None:
        omit("courtesy_car", why)
    else:
        add(
            "courtesy_car",
            "motor.courtesy_car.not_drivable",
            say(lang, "reason.courtesy_car"),
            {"until": "repair delivered"},
        )
    if (why := declined("extended_warranty")) is not None:
        omit("extended_warranty", why)
    else:
        base = term_months(facts.repair_type, facts.severity)
        months = term_months(facts.repair_type, facts.severity, extended=True)
        add(
            "extended_warranty",
            "motor.extended_warranty",
            say(lang, "reason.extended_warranty", base=base, months=months),
            {"repair_type": facts.repair_type, "base_months": base, "factor": EXTENSION_FACTOR, "months": months},
        )
    _assisted("pickup_delivery", "motor.pickup_delivery", "pickup", facts, prefs, add, omit, declined)


def _rehab(facts: CaseFacts, prefs: Preferences, rehab: RehabOutline, add: Any, omit: Any, declined: Any) -> None:
    lang = facts.language
    injury = facts.injury or {}
    injury_text = str(injury.get("description") or facts.cause)
    dimensions = joined(list(rehab.dimensions), lang) if rehab.dimensions else "-"
    health = facts.line == "health"
    add(
        "rehab",
        "health.rehab" if health else "injury.rehab",
        say(
            lang, "reason.rehab_health" if health else "reason.rehab_injury", injury=injury_text, dimensions=dimensions
        ),
        {"dimensions": list(rehab.dimensions), "plan": rehab.plan, "body_part": injury.get("body_part")},
    )
    add(
        "wearable_kit",
        "rehab.wearable_kit",
        say(lang, "reason.wearable_kit"),
        {"measures": ["heart_rate", "spo2", "accelerometer", "gyroscope", "joint_angle"]},
    )
    _assisted("home_visits", "rehab.home_visits", "home", facts, prefs, add, omit, declined)


def _assisted(
    key: str, rule: str, text: str, facts: CaseFacts, prefs: Preferences, add: Any, omit: Any, declined: Any
) -> None:
    """Pick-up and delivery, or home visits: for reduced mobility, age 70+, or on request."""
    lang = facts.language
    if (why := declined(key)) is not None:
        omit(key, why)
        return
    need = facts.needs_assistance
    asked = prefs.get(key)
    if need is not None:
        add(key, f"{rule}.{need}", say(lang, f"reason.{text}_{need}", age=facts.age), {"because": need})
    elif asked is not None and asked.value is True:
        add(key, f"{rule}.requested", say(lang, f"reason.{text}_asked"), {"because": "requested"})
    else:
        omit(key, say(lang, f"omit.{text}_not_needed"))


def diff(before: list[dict[str, Any]], after: PlanDraft, lang: str) -> list[dict[str, Any]]:
    """What changed from `before` to `after`, item by item, each with its reason."""
    old = {i["key"]: i for i in before}
    new = {i["key"]: i for i in after.items}
    omitted = {o["key"]: o["reason"] for o in after.omitted}
    changes: list[dict[str, Any]] = []
    for key, item in new.items():
        prior = old.get(key)
        if prior is None:
            changes.append(
                {"key": key, "change": "added", "reason": item["reason"], "before": None, "after": _brief(item)}
            )
        elif (prior["rule"], _comparable(prior["details"])) != (item["rule"], _comparable(item["details"])):
            reason = item["reason"]
            if key == "repair" and prior["details"].get("shop_id") != item["details"].get("shop_id"):
                reason = (
                    say(
                        lang,
                        "diff.shop",
                        before=prior["details"].get("shop_name") or prior["details"].get("shop_id"),
                        after=item["details"].get("shop_name") or item["details"].get("shop_id"),
                    )
                    + " "
                    + reason
                )
            changes.append(
                {"key": key, "change": "changed", "reason": reason, "before": _brief(prior), "after": _brief(item)}
            )
    for key, item in old.items():
        if key not in new:
            changes.append(
                {"key": key, "change": "removed", "reason": omitted.get(key, ""), "before": _brief(item), "after": None}
            )
    return changes


def _comparable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k != "offers"}


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    return {"title": item["title"], "rule": item["rule"], "details": _comparable(item["details"])}
