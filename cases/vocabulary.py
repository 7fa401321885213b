"""The words the pages show, from their one home each: stage and plan-item names (`cases.texts`) and the
alert kinds with their flags (`store.state.alert_kinds`), in one answer per language.

`GET /api/v1/vocabulary` serves this, so the dashboards name a stage the way the notice and the
notifications do instead of keeping a copy of their own.
"""

from __future__ import annotations

from typing import Any

from cases.texts import LANGUAGES, STAGE_NAMES, SUBROGATION_STAGE_NAMES, item_names, lang_of
from store.state.alert_kinds import ALERT_KINDS, Severity


def vocabulary(lang: str) -> dict[str, Any]:
    """Stage names (repair and recovery), plan item names and alert kinds in ``lang`` (``en`` or ``zh``)."""
    lg = lang_of(lang)
    return {
        "lang": lg,
        "languages": list(LANGUAGES),
        "stages": dict(STAGE_NAMES[lg]),
        "recovery_stages": dict(SUBROGATION_STAGE_NAMES[lg]),
        "items": item_names(lg),
        "severities": [s.value for s in Severity],
        "alert_kinds": {
            k.name: {
                "label": k.label(lg),
                "severity": k.severity.value,
                "subject_type": k.subject_type.value,
                "late": k.late,
                "fraud": k.fraud,
                "safety": k.safety,
                "closed_by": sorted(k.closed_by) if k.closed_by is not None else None,
            }
            for k in ALERT_KINDS.values()
        },
    }
