"""The roster domain's scheduled jobs (see scheduler/registry.py): shifts for the rolling window from the
patterns, and certificate expiry alerts. Both take "now" from the scheduler's clock."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from eldercare_platform.core.clock import Clock, local_date
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.roster.certifications import certification_alerts
from eldercare_platform.roster.shifts import generate_shifts
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn


def _shift_generation(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def shift_generation(session: Session, fire_time: datetime) -> str:
        now = clock.now()
        counts = generate_shifts(session, today=local_date(now), days=settings.roster_window_days, now=now)
        return str(counts)

    return shift_generation


def _certification_alerts(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def certification_alerts_job(session: Session, fire_time: datetime) -> str:
        now = clock.now()
        counts = certification_alerts(
            session, today=local_date(now), warn_days=settings.certification_warn_days, now=now
        )
        return str(counts)

    return certification_alerts_job


JOBS: list[JobSpec] = [
    JobSpec(
        name="shift_generation",
        interval_setting="shift_generation_seconds",
        enabled_setting="shift_generation_enabled",
        build=_shift_generation,
    ),
    JobSpec(
        name="certification_alerts",
        interval_setting="daily_alerts_seconds",
        enabled_setting="daily_alerts_enabled",
        build=_certification_alerts,
    ),
]
