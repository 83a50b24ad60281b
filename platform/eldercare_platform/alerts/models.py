"""Alerts: one row per exception the services find, with an owner and a state (the `alert` table is written in
SQL by migration 0007)."""

from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    """What went wrong (each has its thresholds in `ServiceRulesMixin`, docs/services.md)."""

    TASK_LATE = "task_late"  # not checked in 15 min after the planned start (else the window start): tasks/lateness.py
    TASK_MISSED = "task_missed"  # not done by window end + 30 min
    TASK_UNASSIGNED = "task_unassigned"  # due soon and nobody can take it
    CERTIFICATION_EXPIRING = "certification_expiring"  # 30 days ahead
    CERTIFICATION_EXPIRED = "certification_expired"  # not assignable for services needing it
    REASSESSMENT_OVERDUE = "reassessment_overdue"
    COVERAGE_BEHIND = "coverage_behind"  # a community's visits fall behind its plan
    MEAL_CAPACITY = "meal_capacity"  # a meal point has more orders than seats
    FOLLOW_UP_OPEN = "follow_up_open"  # a problem found and not closed
    PLAN_FAILED = "plan_failed"  # a community's plan broke a rule or the solver failed: not applied (planning)
    TASK_NOT_ACKNOWLEDGED = "task_not_acknowledged"  # an urgent task sent to a caregiver, not seen in 3 min


class AlertState(StrEnum):
    """open → acknowledged → resolved (resolved by hand with a resolution, or by the rule that raised it)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
