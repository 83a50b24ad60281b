"""The task engine's vocabulary (the `task` and `task_event` tables are written in SQL by migrations 0004 and 0007;
the API's shapes are in `schemas.py`)."""

from __future__ import annotations

from enum import StrEnum


class TaskKind(StrEnum):
    """What a task is for."""

    ALARM_RESPONSE = "alarm_response"  # someone sent to an alarm (dispatch on the console)
    URGENT_VISIT = "urgent_visit"  # a welfare call nobody answered, an urgent need found elsewhere
    VISIT = "visit"  # 探访关爱: the care plan's regular visit
    SERVICE = "service"  # 政府购买/自费上门服务: bathing, cleaning, medical escort… (`service` says which)
    MEAL_DELIVERY = "meal_delivery"  # 助餐送餐
    REASSESSMENT = "reassessment"  # 能力评估 due (6 months, or after a major event)
    FOLLOW_UP = "follow_up"  # a problem found on a visit, an alarm not reached
    MAINTENANCE = "maintenance"  # a device fault to fix
    SUBSTITUTE_COVER = "substitute_cover"  # a fault not fixed in 2 h: manual cover (JGJ/T 484)


class TaskStatus(StrEnum):
    """planned → assigned → published → en_route → checked_in → completed; or missed, cancelled, suspended."""

    PLANNED = "planned"  # generated or created, nobody yet
    ASSIGNED = "assigned"  # someone chosen, not yet sent to them
    PUBLISHED = "published"  # on the caregiver's list
    EN_ROUTE = "en_route"
    CHECKED_IN = "checked_in"  # at the home (EVV start)
    COMPLETED = "completed"  # EVV end, findings recorded
    MISSED = "missed"  # not done in time: reassigned as a new task or escalated, with a reason
    CANCELLED = "cancelled"  # with a reason (plan change, resident deceased, duplicate…)
    SUSPENDED = "suspended"  # the resident is away (hospital, family); resumes when the state ends


OPEN_STATUSES = frozenset(
    {TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED, TaskStatus.EN_ROUTE, TaskStatus.CHECKED_IN}
)
"""Statuses of a task still to be done."""

CLOSED_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.MISSED, TaskStatus.CANCELLED})


class TaskSource(StrEnum):
    """Where a task came from."""

    PLAN = "plan"  # generated from a care plan for the rolling window
    ALARM = "alarm"  # an alarm (dispatch, not reached)
    MEAL = "meal"  # a meal order (delivery)
    FINDING = "finding"  # a visit's "problem found"
    WELFARE = "welfare"  # a welfare call nobody answered
    ASSESSMENT = "assessment"  # a reassessment due
    DEVICE = "device"  # a device fault
    MANUAL = "manual"  # a coordinator made it by hand


class TaskAction(StrEnum):
    """A line of a task's trace (`task_event.action`)."""

    CREATED = "created"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    NO_ANSWER = "no_answer"  # at the door, nobody answered
    MISSED = "missed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    RESCHEDULED = "rescheduled"  # the generator moved an untouched future task after a plan change
    NOTE = "note"
    FOLLOW_UP_CREATED = "follow_up_created"
    ACKNOWLEDGED = "acknowledged"  # the caregiver saw a change of the task (its version) on the phone


# Priorities: 1 urgent (alarm, welfare), 2 high-risk, 3 normal, 4 flexible (may move within its window).
URGENT = 1
HIGH = 2
NORMAL = 3
FLEXIBLE = 4


class EngineReason(StrEnum):
    """Reason codes the task engine writes (task_event.reason, task.status_reason, alert.resolution): its jobs', and
    the caregiver's "nobody answers"; pages translate them (meta/labels.py, kind `taskEngineReason`)."""

    PLAN_CHANGED = "plan_changed"  # the care plan no longer produces this slot: cancelled
    PLAN_RESCHEDULED = "plan_rescheduled"  # the care plan moved this slot: rescheduled in place
    NOT_DONE_IN_TIME = "not_done_in_time"  # not checked in by window end + the grace: missed
    CHECKED_IN_OR_ENDED = "checked_in_or_ended"  # a late alert's condition cleared
    ASSIGNED_OR_ENDED = "assigned_or_ended"  # an unassigned alert's condition cleared
    REASSIGNED_OR_ESCALATED = "reassigned_or_escalated"  # a missed task was followed up
    COVERAGE_RECOVERED = "coverage_recovered"  # a community's visits are back above the ratio
    NO_ANSWER = "no_answer"  # the caregiver found nobody at the door: missed, a welfare call opened
    ACKNOWLEDGED_OR_MOVED_ON = "acknowledged_or_moved_on"  # an urgent task's caregiver saw it, accepted it, or it left
