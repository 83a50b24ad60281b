"""The planning API's request and response shapes (docs/scheduling.md, "API")."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.core.params import BodyId, IsoDate


class PlanRequest(BaseModel):
    """Plan a community's local day now (a coordinator's manual plan: a draft until published)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"area_id": 5, "day": "2026-11-23"}]})

    area_id: BodyId = Field(description="A community in the user's scope (streets and districts: per community)")
    day: IsoDate = Field(description="Local day (Asia/Shanghai), today or later")


class PlanSummary(BaseModel):
    """A plan as lists show it."""

    id: int
    area_id: int
    area_name: str
    day: dt.date
    kind: str = Field(description="nightly, intraday, urgent_insertion, manual (labels: planKind)")
    status: str = Field(description="draft, published, superseded, failed (labels: planStatus)")
    solver: str
    created_at: datetime
    created_by: int | None = None
    published_at: datetime | None = None
    runtime_ms: int = Field(description="The solve's wall time")
    previous_plan_id: int | None = Field(default=None, description="The published plan `changes` compare with")
    route_count: int = Field(description="Caregivers with at least one stop")
    stop_count: int
    unassigned_count: int
    travel_km: float | None = Field(default=None, description="All routes, the ways back included")
    error: str | None = Field(default=None, description="Why a failed plan failed (its rule violations)")


class PlanStop(BaseModel):
    """A task in a route: its order, planned times, the leg that led to it, and the task as it is now."""

    task_id: int
    sequence: int
    planned_start: datetime
    planned_end: datetime
    travel_km: float = Field(description="From the previous place (the start place for the first stop)")
    travel_minutes: float
    pinned: bool = Field(description="Published or under way with this caregiver when the plan was made")
    kind: str
    service: str | None = None
    priority: int
    status: str = Field(description="The task's status now")
    resident_id: int | None = None
    resident_name: str | None = None
    address: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None


class PlanRoute(BaseModel):
    """One caregiver's shift in the plan, in order."""

    staff_id: int
    staff_name: str
    shift_id: int | None = None
    travel_mode: str | None = None
    travel_km: float = Field(description="The whole route, the way back included")
    travel_minutes: float
    stops: list[PlanStop]


class PlanUnassigned(BaseModel):
    """A task the plan could not serve, and why (labels: planUnassignedReason)."""

    task_id: int
    reason: str
    detail: dict[str, Any] = {}
    kind: str
    priority: int
    status: str = Field(description="The task's status now")
    resident_id: int | None = None
    resident_name: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None


class TaskMoved(BaseModel):
    """A task that changed caregiver since the previous published plan."""

    task_id: int
    from_staff_id: int
    to_staff_id: int


class TaskPlaced(BaseModel):
    """A task newly in a route since the previous published plan."""

    task_id: int
    staff_id: int


class TaskDropped(BaseModel):
    """A task in a route of the previous published plan that this plan could not serve."""

    task_id: int
    from_staff_id: int
    reason: str


class TimeShift(BaseModel):
    """A task whose planned start moved by more than 15 minutes."""

    task_id: int
    staff_id: int
    previous_start: datetime
    planned_start: datetime
    minutes: float = Field(description="Later (+) or earlier (−) than in the previous published plan")


class TaskLeft(BaseModel):
    """A task of the previous published plan no longer in the problem (done, cancelled, under way elsewhere…)."""

    task_id: int
    status: str | None


class PlanChanges(BaseModel):
    """What changed since the previous published plan of the community's day (none: everything is new)."""

    previous_plan_id: int | None = None
    moved: list[TaskMoved] = []
    newly_assigned: list[TaskPlaced] = []
    unassigned: list[TaskDropped] = []
    time_shifts: list[TimeShift] = []
    left: list[TaskLeft] = []
    counts: dict[str, int] = {}


class PlanDetail(PlanSummary):
    """A plan in full: routes with stops, the unassigned tasks with reasons, the cost breakdown, the changes since
    the previous published plan, the inputs (counts, what was left out, the problem's digest), the settings and
    the trigger."""

    routes: list[PlanRoute]
    unassigned: list[PlanUnassigned]
    cost: dict[str, Any]
    changes: PlanChanges
    inputs: dict[str, Any]
    settings: dict[str, Any]
    trigger: dict[str, Any]
