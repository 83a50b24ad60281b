"""The planning domain's scheduled jobs (see scheduler/registry.py): tomorrow's plans past the cut-off, and the
rest of today re-planned where something changed. Each takes `now` from the scheduler's clock; each community is
planned and committed on its own, so one community's failure (or a long run) holds nothing of the others."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.planning import service
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn


def _nightly(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def nightly_plan(session: Session, fire_time: datetime) -> str:
        return service.nightly(session, now=clock.now(), settings=settings).summary()

    return nightly_plan


def _intraday(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def intraday_replan(session: Session, fire_time: datetime) -> str:
        return service.intraday(session, now=clock.now(), settings=settings).summary()

    return intraday_replan


JOBS: list[JobSpec] = [
    JobSpec(
        name="nightly_plan",
        interval_setting="nightly_plan_seconds",
        enabled_setting="nightly_plan_enabled",
        build=_nightly,
    ),
    JobSpec(
        name="intraday_replan",
        interval_setting="intraday_replan_seconds",
        enabled_setting="intraday_replan_enabled",
        build=_intraday,
    ),
]
