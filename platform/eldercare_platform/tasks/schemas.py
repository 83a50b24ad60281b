"""The task engine's request and response shapes."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from eldercare_platform.alerts.schemas import AlertPublic
from eldercare_platform.core.params import BodyId, Instant, IsoDate

IsoDay = IsoDate
"""A local day written `YYYY-MM-DD` (query or body)."""


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
    assigned_at: datetime | None = None
    published_at: datetime | None = None
    accepted_at: datetime | None = None
    en_route_at: datetime | None = None
    plan_id: int | None = Field(default=None, description="The plan that last placed it (docs/scheduling.md)")
    route_sequence: int | None = Field(default=None, description="Its place in its caregiver's route (1-based)")
    planned_start: datetime | None = Field(default=None, description="When the plan has its caregiver start it")


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


class BoardTask(TaskPublic):
    """A task on the board: in its lane's route order, and whether an urgent insertion put it there."""

    urgent_inserted: bool = Field(
        default=False, description="Sent out by an urgent insertion into its caregiver's live route (紧急插单)"
    )


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
    tasks: list[BoardTask] = Field(description="In route order: planned start (else window start), then sequence")
    travel_km: float | None = Field(
        default=None,
        description="The lane's route: from the home base through its tasks in order and back (road estimate, km);"
        " None when it has no located task or no home base",
    )


class BoardArea(BaseModel):
    """The community (or street) the board is for."""

    id: int
    name: str
    level: str


class Board(BaseModel):
    """One area's day: tasks by staff member, the unassigned lane, late and missed ids, the open alerts."""

    date: dt.date
    timezone: str
    area: BoardArea
    staff: list[BoardStaff]
    unassigned: list[BoardTask]
    late: list[int]
    missed: list[int]
    alerts: list[AlertPublic]
    counts: dict[str, int]
    version: int
    generated_at: datetime


class TaskPage(BaseModel):
    """A page of tasks and how many match the filters."""

    items: list[TaskPublic]
    total: int
    limit: int
    offset: int


class Place(BaseModel):
    """Where a step happened (WGS-84)."""

    latitude: float | None = None
    longitude: float | None = None
    distance_m: float | None = Field(default=None, description="From the home (household coordinates)")


class EvvRecord(BaseModel):
    """Electronic visit verification: the six items (service type, resident, date, location, caregiver, start
    and end), and whether the location is verified (check-in and check-out within `checkin_verified_within_m`,
    200 m, of the home)."""

    task_id: int
    service_type: str = Field(description="The task's service, else its kind")
    resident_id: int | None
    resident_name: str | None
    date: dt.date | None = Field(description="The visit's local date (Asia/Shanghai) of the check-in")
    caregiver_staff_id: int | None
    caregiver_name: str | None
    start: datetime | None = Field(description="Checked in")
    end: datetime | None = Field(description="Completed")
    home: Place
    check_in: Place
    check_out: Place
    location_verified: bool | None = Field(description="None while the home has no coordinates or no check-in")
    complete: bool = Field(description="All six items recorded")


class TaskDetail(TaskPublic):
    """A task with its full trace and its EVV block."""

    trace: list[TaskEventPublic]
    evv: EvvRecord
    photo_ids: list[int] = Field(default_factory=list, description="The visit's photos, oldest first")
    acknowledged_at: datetime | None = None
    acknowledged_version: int | None = None


class ChecklistItemPublic(BaseModel):
    """A line of a task's visit checklist (tasks/checklists.py), answered `ok`, `problem` or `na`."""

    key: str
    label_zh: str
    label_en: str
    group: Literal["wellbeing", "home_safety", "service"]


class MyTask(TaskPublic):
    """A task on a caregiver's list: what they need at the door. The list is in route order (planned start, else
    window start; then route sequence)."""

    resident_phone: str | None = None
    access_notes: str | None = None
    home_latitude: float | None = None
    home_longitude: float | None = None
    resident_age: int | None = Field(default=None, description="Whole years on the local date of the request")
    is_urgent: bool = Field(default=False, description="An urgent visit or a priority-1 task: acknowledge it at once")
    checklist: list[ChecklistItemPublic] = Field(
        default_factory=list, description="The visit record's checklist (empty for a meal delivery: outcome only)"
    )
    acknowledged_version: int | None = Field(default=None, description="The last version the caregiver acknowledged")
    acknowledged_at: datetime | None = None
    photos: list[int] = Field(default_factory=list, description="Ids of the visit's photos")
    meal_point_name: str | None = Field(default=None, description="A meal delivery: where the meal is picked up")
    meal_point_address: str | None = None
    meal_point_latitude: float | None = None
    meal_point_longitude: float | None = None
    check_in_distance_m: float | None = Field(default=None, description="The check-in's distance from the home")
    location_verified: bool | None = Field(
        default=None, description="Checked in within `checkin_verified_within_m` (None: not checked in, or no home)"
    )
    checkin_verified_within_m: float = Field(
        default=200.0, description="The deployment's threshold: a check-in farther from the home is flagged"
    )


class EmergencyContactBrief(BaseModel):
    """An emergency contact as the caregiver sees it."""

    name: str
    relation: str
    phone: str
    priority: int
    is_keyholder: bool
    lives_nearby: bool


class Keyholder(BaseModel):
    """Someone who holds a key to the home (钥匙托管)."""

    name: str
    phone: str


class ResidentEssentials(BaseModel):
    """What a caregiver needs at the door of a resident on one of their own tasks, and nothing more (no ID number,
    no categories, no consents). Every read is audited."""

    id: int
    name: str
    gender: str
    age: int = Field(description="Whole years on the local date (Asia/Shanghai)")
    phone: str | None = None
    address: str | None = None
    landline: str | None = None
    access_notes: str | None = None
    home_latitude: float | None = None
    home_longitude: float | None = None
    health_conditions: list[str] = Field(default_factory=list)
    dialect_notes: str | None = None
    capability_level: str
    care_tier: str
    emergency_contacts: list[EmergencyContactBrief] = Field(description="By priority (1 is called first)")
    keyholders: list[Keyholder]
    task_ids: list[int] = Field(description="The caller's own tasks for this resident in the current window")


class PhotoPublic(BaseModel):
    """A visit photo as stored (the bytes: `GET /api/tasks/{task_id}/photos/{id}`)."""

    id: int
    task_id: int
    size: int
    content_type: str
    sha256: str
    taken_at: datetime | None = None
    created_at: datetime


class AcknowledgeRequest(BaseModel):
    """The caregiver saw the task's change of this version (from `GET /api/me/tasks` or the live channel)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 812}]})

    version: int = Field(ge=1, le=2**62, description="The task's `version` the caregiver saw")
    at: Instant | None = None


class TaskCreate(BaseModel):
    """An ad-hoc task made by a coordinator."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "visit",
                    "resident_id": 1,
                    "window_start": "2026-11-22T07:00:00Z",
                    "window_end": "2026-11-22T09:00:00Z",
                    "priority": 3,
                    "notes": "家属来电，请上门看看",
                }
            ]
        }
    )

    kind: Literal["visit", "urgent_visit", "service", "follow_up", "reassessment"]
    resident_id: BodyId
    window_start: Instant
    window_end: Instant
    service: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    priority: int = Field(default=3, ge=1, le=4)
    duration_minutes: int = Field(default=30, ge=1, le=720)
    required_skill: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    notes: str | None = Field(default=None, max_length=1000)


class AssignRequest(BaseModel):
    """Give a task to a staff member (again: a reassignment)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"staff_id": 3, "reason": "离老人家近"}]})

    staff_id: BodyId
    reason: str | None = Field(default=None, max_length=500)


class ReasonRequest(BaseModel):
    """A change that needs a reason (cancel) or may have one (unassign)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "家属已陪同就医"}]})

    reason: str = Field(min_length=1, max_length=500)


class OptionalReason(BaseModel):
    """A change that may say why."""

    reason: str | None = Field(default=None, max_length=500)


class AreaDay(BaseModel):
    """A community (or any area in scope) and a local day."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"area_id": 5, "date": "2026-11-22"}]})

    area_id: BodyId
    date: IsoDay


class MissedRequest(BaseModel):
    """A task not done: reassign it as a new task (to `staff_id`, else nearest available) or escalate it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "护理员临时请假", "action": "reassign", "staff_id": 4}]}
    )

    reason: str = Field(min_length=1, max_length=500)
    action: Literal["reassign", "escalate"]
    staff_id: BodyId | None = None


class MissedResult(BaseModel):
    """What marking a task missed did."""

    task: TaskPublic
    new_task_id: int | None = None
    welfare_alarm_id: int | None = None
    alert_id: int | None = None


class PublishResult(BaseModel):
    """The tasks published."""

    published: list[int]


class AutoAssigned(BaseModel):
    """One assignment the assigner made."""

    task_id: int
    staff_id: int
    distance_km: float | None


class NotAssigned(BaseModel):
    """A task the assigner could not place, and why (`no_staff_on_shift`, `no_staff_with_skill`, `no_capacity`)."""

    task_id: int
    reason: str


class AutoAssignResult(BaseModel):
    """What `auto-assign` did."""

    assigner: str
    assigned: list[AutoAssigned]
    unassigned: list[NotAssigned]


class Position(BaseModel):
    """Where the caregiver's phone was, and when it happened there (`at`: default now; not in the future beyond
    2 minutes of clock skew, not older than 24 h)."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    at: Instant | None = None


class StepRequest(BaseModel):
    """A step with no data but when it happened on the phone."""

    at: Instant | None = None


class Findings(BaseModel):
    """What the visit found (structured)."""

    model_config = ConfigDict(extra="forbid")

    resident_condition: Literal["good", "fair", "poor", "emergency"] | None = None
    needs: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(default=None, max_length=2000)
    checklist: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], Literal["ok", "problem", "na"]] = (
        Field(
            default_factory=dict,
            max_length=40,
            description="The task's checklist answered (keys from `MyTask.checklist`; 422 `unknown_checklist_item`)",
        )
    )
    problem_category: Literal["health", "safety", "home_repair", "hygiene", "food", "social", "other"] | None = Field(
        default=None, description="What the problem is about; required when `problem_found`"
    )
    meal_outcome: Literal["handed_over", "left_with_neighbour"] | None = Field(
        default=None, description="A meal delivery's outcome (required to complete one; nobody home: no-answer)"
    )
    photo_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=20, description="Photos uploaded for this task"
    )


class CompleteRequest(Position):
    """Checking out: where, when, what was found, and whether a problem needs a follow-up."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "latitude": 32.2044,
                    "longitude": 119.4550,
                    "findings": {"resident_condition": "fair", "needs": ["cleaning"], "notes": "厨房漏水"},
                    "problem_found": True,
                    "problem": "厨房水管漏水，需维修",
                }
            ]
        }
    )

    findings: Findings = Field(default_factory=Findings)
    problem_found: bool = False
    problem: str | None = Field(default=None, max_length=2000)


class NoAnswerRequest(BaseModel):
    """At the door, nobody answers."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "敲门10分钟无人应答，电话未接"}]})

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    at: Instant | None = None
    note: str = Field(min_length=1, max_length=1000)


class NoAnswerResult(BaseModel):
    """The task (missed) and the welfare call opened in the operators' queue."""

    task: TaskPublic
    welfare_alarm_id: int | None
