"""When a caregiver's step happened: the phone's `at` (the app syncs later when offline), checked against the
server's clock: within [now − 24 h, now + 2 min] and not before the task's previous step."""

from __future__ import annotations

from datetime import datetime, timedelta

from eldercare_platform.tasks.service import TaskRuleError

CLOCK_SKEW = timedelta(minutes=2)
MAX_DELAY = timedelta(hours=24)


def when(at: datetime | None, *, now: datetime, after: datetime | None = None) -> datetime:
    """The moment a step happened: `at` from the phone (checked), else now."""
    moment = at or now
    if moment > now + CLOCK_SKEW or moment < now - MAX_DELAY:
        raise TaskRuleError(
            "at must be within the last 24 hours and not in the future",
            code="event_time_out_of_range",
            at=moment.isoformat(),
            now=now.isoformat(),
        )
    if after is not None and moment < after:
        raise TaskRuleError(
            "at is before the task's previous step", code="event_time_before_previous_step", previous=after.isoformat()
        )
    return moment
