"""The task engine's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class TaskPublic(BaseModel):
    """A task as the board, the caregiver's list and the alarm's trace show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    source: str
    service: str | None = None
    slot: str | None = None
    priority: int
    resident_id: int | None = None
    resident_name: str | None = None
    household_id: int | None = None
    address: str | None = None
    area_id: int | None = None
    alarm_id: int | None = None
    meal_order_id: int | None = None
    follow_up_of: int | None = None
    assignee_staff_id: int | None = None
    assignee_name: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    duration_minutes: int
    required_skill: str | None = None
    status_reason: str | None = None
    notes: str | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    problem_found: bool = False
    findings: dict[str, Any] = {}
    version: int


class TaskEventPublic(BaseModel):
    """A line of a task's trace (全程留痕)."""

    id: int
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    reason: str | None
    detail: dict[str, Any]
    user_id: int | None
    user_name: str | None
    staff_id: int | None
    staff_name: str | None
