"""`GET /vocabulary`: the names of stages, plan items and alert kinds in the caller's language, for the pages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CallerDep
from api.errors import ERROR_RESPONSES
from cases.vocabulary import vocabulary

router = APIRouter(tags=["vocabulary"], responses=ERROR_RESPONSES)


class AlertKindPublic(BaseModel):
    label: str
    severity: Literal["info", "warning", "critical"]
    subject_type: Literal["patient", "job", "shop", "case"]
    late: bool
    fraud: bool
    safety: bool
    closed_by: list[str] | None = Field(
        None,
        description="the roles that may resolve or shelve an alert of this kind; null: any role that may act on it",
    )


class VocabularyPublic(BaseModel):
    lang: str
    languages: list[str]
    stages: dict[str, str]
    recovery_stages: dict[str, str]
    items: dict[str, str]
    severities: list[str]
    alert_kinds: dict[str, AlertKindPublic]


@router.get("/vocabulary", response_model=VocabularyPublic)
def get_vocabulary(
    _caller: CallerDep,
    lang: Annotated[Literal["en", "zh"], Query(description="the language of the names")] = "en",
) -> VocabularyPublic:
    """Repair and recovery stage names, service-plan item names and alert kinds (label, severity, subject
    type, the late / fraud / safety flags and who closes them), for any authenticated caller."""
    return VocabularyPublic.model_validate(vocabulary(lang))
