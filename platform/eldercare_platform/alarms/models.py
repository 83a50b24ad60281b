"""Alarm states, actions, outcomes and the shapes the API returns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.core.params import BodyId


class AlarmState(StrEnum):
    """new → acknowledged (an operator took it) → in_progress (actions under way) → resolved."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class Action(StrEnum):
    """What an operator can do while an alarm is being handled."""

    CALL_BACK = "call_back"  # 回拨老人
    NOTIFY_CONTACTS = "notify_contacts"  # 通知紧急联系人
    DISPATCH = "dispatch"  # 派人上门
    CALL_EMERGENCY = "call_emergency"  # 呼叫120/119/110


class TraceAction(StrEnum):
    """What a line of an alarm's trace (`alarm_transition.action`) records: the operator's actions above plus
    what the platform itself does."""

    OPENED = "opened"
    EVENT_ATTACHED = "event_attached"  # the same source pressed again while the alarm was open
    ACKNOWLEDGE = "acknowledge"
    CALL_BACK = "call_back"
    NOTIFY_CONTACTS = "notify_contacts"
    DISPATCH = "dispatch"
    CALL_EMERGENCY = "call_emergency"
    ESCALATE = "escalate"
    RESIDENT_CANCELLED = "resident_cancelled"
    SUBSTITUTE_COVER = "substitute_cover"
    NOTE = "note"
    RESOLVE = "resolve"


class CallResult(StrEnum):
    """How a call went."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"


class ReachMethod(StrEnum):
    """How the resident was reached (required to resolve)."""

    PHONE = "phone"
    DEVICE_VOICE = "device_voice"
    STAFF_AT_HOME = "staff_at_home"
    CONTACT_AT_HOME = "contact_at_home"
    EMERGENCY_SERVICES = "emergency_services"
    NOT_REACHED = "not_reached"  # allowed only once someone was dispatched


class Outcome(StrEnum):
    """How an alarm ended."""

    ASSISTED_BY_PHONE = "assisted_by_phone"
    ASSISTED_AT_HOME = "assisted_at_home"
    TAKEN_TO_HOSPITAL = "taken_to_hospital"
    FALSE_ALARM = "false_alarm"
    DEVICE_TEST = "device_test"
    RESIDENT_CANCELLED = "resident_cancelled"
    DEVICE_FIXED = "device_fixed"
    REFERRED = "referred"


# Outcomes that tell the device its call is cancelled rather than answered.
CANCELLING_OUTCOMES = {Outcome.FALSE_ALARM, Outcome.DEVICE_TEST, Outcome.RESIDENT_CANCELLED}


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
    device_serial: str
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
