"""The tasks domain's scheduled jobs (see scheduler/registry.py): the rolling task window, the task alerts and the
communities' visit coverage. Each takes `now` from the scheduler's clock and runs through `run_once`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings, ServiceRulesMixin
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn
from eldercare_platform.tasks.alerting import AlertRules, coverage_alerts, task_alerts
from eldercare_platform.tasks.generation import generate_tasks


def alert_rules(settings: ServiceRulesMixin) -> AlertRules:
    """The alert thresholds of a deployment's settings."""
    return AlertRules(
        late_after=timedelta(minutes=settings.task_late_after_minutes),
        missed_after=timedelta(minutes=settings.task_missed_after_minutes),
        coverage_behind_ratio=settings.coverage_behind_ratio,
        urgent_ack=timedelta(minutes=settings.urgent_ack_minutes),
    )


def _generation(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def task_generation(session: Session, fire_time: datetime) -> str:
        return generate_tasks(session, now=clock.now(), window_days=settings.task_window_days).summary()

    return task_generation


def _task_alerts(settings: SchedulerSettings, clock: Clock) -> JobFn:
    rules = alert_rules(settings)

    def task_alerts_job(session: Session, fire_time: datetime) -> str:
        return str(task_alerts(session, now=clock.now(), rules=rules))

    return task_alerts_job


def _coverage_alerts(settings: SchedulerSettings, clock: Clock) -> JobFn:
    rules = alert_rules(settings)

    def coverage_alerts_job(session: Session, fire_time: datetime) -> str:
        return str(coverage_alerts(session, now=clock.now(), rules=rules))

    return coverage_alerts_job


JOBS: list[JobSpec] = [
    JobSpec(
        name="task_generation",
        interval_setting="task_generation_seconds",
        enabled_setting="task_generation_enabled",
        build=_generation,
    ),
    JobSpec(
        name="task_alerts",
        interval_setting="task_alerts_seconds",
        enabled_setting="task_alerts_enabled",
        build=_task_alerts,
    ),
    JobSpec(
        name="coverage_alerts",
        interval_setting="daily_alerts_seconds",
        enabled_setting="daily_alerts_enabled",
        build=_coverage_alerts,
    ),
]
