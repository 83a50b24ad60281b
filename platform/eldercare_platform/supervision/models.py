"""The supervision domain's vocabulary (it has no tables of its own: figures are read from the other domains')."""

from __future__ import annotations

from enum import StrEnum


class ExceptionKind(StrEnum):
    """What the alarms, visits, meals and devices sections put first (`exceptions[].kind`)."""

    ALARM_UNANSWERED = "alarm_unanswered"  # still new after its acknowledge deadline
    ALARM_UNRESOLVED = "alarm_unresolved"  # not resolved by its resolve deadline
    ALARM_REPEAT_CALLER = "alarm_repeat_caller"  # a resident with ≥ 3 alarms in the period
    ALARM_ACK_60_BELOW_TARGET = "alarm_ack_within_60s_below_target"  # < 97.5 % acknowledged within 60 s
    ALARM_ACK_180_BELOW_TARGET = "alarm_ack_within_180s_below_target"  # < 99 % within 180 s
    VISIT_MISSED = "visit_missed"  # missed and not followed up by another task
    VISIT_PROBLEM_OPEN = "visit_problem_open"  # a problem found, no follow-up completed yet
    VISIT_RATE_BEHIND = "visit_rate_behind"  # a child area's 探访率 below 90 %
    MEAL_NOT_COLLECTED_NO_CALL = "meal_not_collected_no_call"  # not collected and no welfare call
    MEAL_NOT_COLLECTED_OPEN = "meal_not_collected_open"  # not collected, its welfare call still open
    MEAL_POINT_OVER_CAPACITY = "meal_point_over_capacity"  # a meal with more seats taken than the point has
    DEVICE_FAULT_UNCOVERED = "device_fault_uncovered"  # a fault open > 2 h with no substitute cover nor task
    DEVICE_SILENT_OVER_7D = "device_silent_over_7d"  # offline, last seen more than 7 days ago
