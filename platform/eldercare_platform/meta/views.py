"""`GET /api/meta/labels`: the words for every code a page shows, loaded once after sign-in."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.core.deps import CurrentUser
from eldercare_platform.core.errors import errors
from eldercare_platform.meta.labels import LOCALES, all_labels

router = APIRouter(prefix="/meta", tags=["meta"])


class Label(BaseModel):
    """One value's words."""

    model_config = ConfigDict(populate_by_name=True)

    zh_cn: str = Field(alias="zh-CN", description="Simplified Chinese (the pages' first language)")
    en: str = Field(description="English")


class Labels(BaseModel):
    """Labels by kind, then by value."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "locales": ["zh-CN", "en"],
                    "labels": {"alarmState": {"new": {"zh-CN": "待接警", "en": "New"}}},
                }
            ]
        }
    )

    locales: list[str] = Field(description="The languages every label has, the first one first")
    labels: dict[str, dict[str, Label]] = Field(
        description="kind (alarmState, traceAction, callResult, outcome, reachMethod, eventType, deviceKind,"
        " deviceState, role, permission, scope, gender, capability, careTier, residentCategory, residentStatus)"
        " → value → label"
    )


@router.get("/labels", response_model=Labels, responses=errors(401))
def labels(user: CurrentUser) -> Labels:
    """Every enum value a page shows, in zh-CN and English (any signed-in role). Error-code texts are not here:
    they are UI sentences with placeholders and live with the pages (dashboards/shared/i18n.js)."""
    return Labels.model_validate({"locales": list(LOCALES), "labels": all_labels()})
