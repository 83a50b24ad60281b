"""Alarm states, actions and outcomes: the domain's vocabulary (the tables are created by migration 0004;
the API's request and response shapes are in `schemas.py`)."""

from __future__ import annotations

from enum import StrEnum


class AlarmState(StrEnum):
    """new → acknowledged (an operator took it) → in_progress (actions under way) → resolved."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class AlarmSource(StrEnum):
    """What raised an alarm: a device event, or a welfare call (关怀呼叫: a meal not collected, a visit nobody
    answered) with no device at all."""

    DEVICE = "device"
    WELFARE = "welfare"


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
    VISIT_PROGRESS = "visit_progress"  # a visit about this alarm: sent, accepted, en route, arrived, done, no answer


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
    RESIDENT_AWAY = "resident_away"  # in hospital or away with family: an inactivity/silence alarm is no fault


# Outcomes that tell the device its call is cancelled rather than answered.
CANCELLING_OUTCOMES = {Outcome.FALSE_ALARM, Outcome.DEVICE_TEST, Outcome.RESIDENT_CANCELLED}
