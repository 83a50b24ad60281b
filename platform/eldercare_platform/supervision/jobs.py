"""The supervision domain's scheduled jobs (see scheduler/registry.py): the rollup refresh.

`supervision_rollups` brings the dashboards' rollup tables up to date (supervision/rollups.py, migration 0014):
alarms by hour and tasks by local day wherever a row changed since the last run, the visits' classification
(migration 0016, with the deployment's `task_late_after_minutes`), and on plain PostgreSQL the hourly telemetry;
on TimescaleDB the telemetry rollup is a continuous aggregate refreshed by its own policy. It takes `now` from the
injected clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn
from eldercare_platform.supervision.rollups import refresh_rollups


def _supervision_rollups(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def supervision_rollups(session: Session, fire_time: datetime) -> str:
        late_after = timedelta(minutes=settings.task_late_after_minutes)
        return str(
            refresh_rollups(
                session,
                now=clock.now(),
                late_after=late_after,
                verified_within_m=settings.checkin_verified_within_m,
            )
        )

    return supervision_rollups


JOBS: list[JobSpec] = [
    JobSpec(
        name="supervision_rollups",
        interval_setting="supervision_rollups_seconds",
        enabled_setting="supervision_rollups_enabled",
        build=_supervision_rollups,
    ),
]
