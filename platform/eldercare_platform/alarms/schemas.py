"""The alarm center's API shapes: requests, the queue row, the card, the trace and the priority table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.alarms.models import Action, AlarmSource, AlarmState, CallResult, Outcome, ReachMethod
from eldercare_platform.care_plans.schemas import StateBrief
from eldercare_platform.core.params import BodyId
from eldercare_platform.devices.schemas import DeviceStatusOut
from eldercare_platform.meals.schemas import WelfareMealOrder
from eldercare_platform.residents.schemas import ResidentCard
from eldercare_platform.tasks.schemas import TaskPublic


class ActionRequest(BaseModel):
    """An action on an alarm."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"action": "call_back", "result": "no_answer", "note": "响铃无人接听"},
                {"action": "dispatch", "staff_id": 1, "note": "派护理员上门"},
                {"action": "call_emergency", "service": "120"},
            ]
        }
    )

    action: Action
    result: CallResult | None = Field(default=None, description="For call_back and notify_contacts")
    contact_ids: list[BodyId] = Field(default_factory=list, max_length=50, description="For notify_contacts")
    staff_id: BodyId | None = Field(default=None, description="For dispatch: who goes (an active staff id)")
    service: str | None = Field(default=None, pattern=r"^(120|119|110)$", description="For call_emergency")
    note: str | None = Field(default=None, max_length=1000)


class ResolveRequest(BaseModel):
    """Closing an alarm."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"outcome": "assisted_by_phone", "reach_method": "phone", "notes": "老人误按"}]}
    )

    outcome: Outcome
    reach_method: ReachMethod
    notes: str | None = Field(default=None, max_length=2000)
    follow_up: bool = Field(
        default=False,
        strict=True,
        description="A follow-up visit is needed (also automatic when not reached, taken to hospital or referred)",
    )


class NoteRequest(BaseModel):
    """A note on an alarm (hand-over, context)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "家属已到场 the daughter has arrived"}]})

    text: str = Field(min_length=1, max_length=2000)


class PriorityUpdate(BaseModel):
    """An admin's change to an alarm type."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"priority": 2, "ack_within_s": 120}]})

    priority: int = Field(ge=1, le=5)
    ack_within_s: int | None = Field(default=None, ge=10, le=86_400)
    reach_within_s: int | None = Field(default=None, ge=10, le=604_800)
    resolve_within_s: int | None = Field(default=None, ge=10, le=2_592_000)


class AlarmOut(BaseModel):
    """An alarm in the queue."""

    id: int
    type: str
    type_label_zh: str
    type_label_en: str
    priority: int
    state: AlarmState
    incident_id: int | None
    resident_id: int | None
    resident_name: str | None
    resident_age: int | None
    household_id: int | None
    area_path: str | None
    institution_id: int | None = Field(default=None, description="The institution whose device raised it, if any")
    address: str | None
    community: str | None
    source: AlarmSource = Field(
        default=AlarmSource.DEVICE, description="device, or welfare: a welfare call (关怀呼叫) with no device"
    )
    device_serial: str | None = Field(description="The device that raised it; none for a welfare call")
    task_id: int | None = Field(default=None, description="Welfare call: the task (visit) that raised it")
    meal_order_id: int | None = Field(default=None, description="Welfare call: the meal order not collected")
    opened_at: datetime
    last_event_at: datetime
    event_count: int
    ack_due_at: datetime
    reach_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_name: str | None
    reached_at: datetime | None
    dispatched: bool
    resolved_at: datetime | None
    outcome: str | None
    escalation_level: int
    substitute_cover_required: bool
    version: int
    linked: list[int] = Field(default_factory=list, description="Open alarms of other types for the same resident")


class TransitionOut(BaseModel):
    """One line of an alarm's trace (全程留痕)."""

    at: datetime
    action: str
    from_state: str | None
    to_state: str
    user_name: str | None
    reason: str | None
    detail: dict[str, Any]


class Changes(BaseModel):
    """Alarms changed since a version, for a console catching up."""

    alarms: list[AlarmOut]
    version: int


class TaskCreated(BaseModel):
    """The result of an action."""

    alarm: AlarmOut
    task_id: int | None = None


class HandoverItem(BaseModel):
    """One open alarm at shift hand-over (交接班) with the last lines of its trace."""

    alarm: AlarmOut
    recent: list[TransitionOut]


class Caregiver(BaseModel):
    """A field staff member near the alarm's home (on shift now first, then by distance)."""

    id: int
    name: str
    phone: str
    role: str
    skills: list[str]
    zone: str
    on_shift: bool
    distance_km: float | None


class RecentEvent(BaseModel):
    """A device event of the home in the last 24 h."""

    device_serial: str
    event_type: str
    received_at: datetime
    device_time: datetime | None
    clock_suspect: bool


class RecentVitals(BaseModel):
    """A vitals or mattress reading of the home in the last 24 h."""

    device_serial: str
    kind: str
    time: datetime
    data: dict[str, Any]


class LastDay(BaseModel):
    """The home's devices in the last 24 hours."""

    events: list[RecentEvent]
    vitals: list[RecentVitals]
    device_status: list[DeviceStatusOut]


class AlarmCard(BaseModel):
    """Everything an operator needs beside an alarm."""

    alarm: AlarmOut
    resident: ResidentCard | None
    resident_state: StateBrief | None = Field(
        default=None, description="The resident's temporary state now (住院中, away with family…), if any"
    )
    caregivers: list[Caregiver]
    last_24h: LastDay = Field(description="The home's devices in the last 24 h; empty for a welfare call")
    meal_order: WelfareMealOrder | None = Field(default=None, description="Welfare call: the meal not collected")
    task: TaskPublic | None = Field(default=None, description="Welfare call: the task (visit) that raised it")


class AlarmType(BaseModel):
    """A row of the priority table: how urgent a type is and its service levels."""

    type: str
    priority: int
    label_zh: str
    label_en: str
    ack_within_s: int
    reach_within_s: int
    resolve_within_s: int
    is_device_fault: bool
    updated_at: datetime
    updated_by: int | None
