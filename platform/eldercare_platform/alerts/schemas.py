"""The alerts domain's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.alerts.models import AlertKind, AlertState


class AlertPublic(BaseModel):
    """An alert as the coordinator's board and the alerts list show it."""

    id: int
    kind: AlertKind
    state: AlertState
    severity: int = Field(description="1 most urgent … 4")
    message: str = Field(description="What the rule found, in words (the page shows `kind`'s label first)")
    subject_key: str
    task_id: int | None
    staff_id: int | None
    staff_name: str | None
    resident_id: int | None
    resident_name: str | None
    area_id: int | None
    area_name: str | None
    owner_user_id: int | None
    owner_staff_id: int | None
    detail: dict[str, Any]
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_name: str | None
    resolved_at: datetime | None
    resolved_by_name: str | None
    resolution: str | None
    version: int


class AlertResolve(BaseModel):
    """Closing an alert by hand: what was done about it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"resolution": "已改派张护理员 reassigned to Zhang"}]})

    resolution: str = Field(min_length=1, max_length=1000, pattern=r"\S")
