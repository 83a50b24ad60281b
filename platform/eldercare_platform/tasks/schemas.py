"""The task engine's request and response shapes."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from eldercare_platform.alerts.schemas import AlertPublic


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


# --- the coordinator's board (GET /api/tasks/board; tasks/board.py) -- pages helper, issue 11 -------------------


class BoardShift(BaseModel):
    """A shift of a staff member that overlaps the board's day."""

    starts_at: datetime
    ends_at: datetime
    on_call: bool


class BoardStaff(BaseModel):
    """A staff member on the board: on shift in the area that day, or holding one of its tasks."""

    id: int
    name: str
    role: str
    phone: str | None
    shifts: list[BoardShift]
    on_leave: bool = False
    load: int = 0
    max_tasks_per_shift: int
    tasks: list[TaskPublic]


class BoardArea(BaseModel):
    """The community (or street) the board is for."""

    id: int
    name: str
    level: str


class Board(BaseModel):
    """One area's day: tasks by staff member, the unassigned lane, late and missed ids, the open alerts."""

    date: date_type
    timezone: str
    area: BoardArea
    staff: list[BoardStaff]
    unassigned: list[TaskPublic]
    late: list[int]
    missed: list[int]
    alerts: list[AlertPublic]
    counts: dict[str, int]
    version: int
    generated_at: datetime
