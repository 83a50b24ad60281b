"""Jobs are declared beside their domain; the scheduler discovers them here.

Each domain with jobs has a `jobs.py` whose `JOBS` lists `JobSpec`s: a name (the `job_run.job` key and
the APScheduler id), the `SchedulerSettings` fields holding its interval in seconds and its `enabled` flag,
and a builder that makes the job body from the settings and the clock (None when the job is not
configured in this deployment, e.g. no broker auth directory). The scheduler imports the modules named in
`JOB_MODULES` and registers every enabled job through the idempotent `run_once` runner.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.runner import JobFn

JOB_MODULES = (
    "eldercare_platform.scheduler.jobs",  # platform-wide: liveness, retention
    "eldercare_platform.alarms.jobs",
    "eldercare_platform.devices.jobs",
    "eldercare_platform.roster.jobs",
    "eldercare_platform.care_plans.jobs",
    "eldercare_platform.tasks.jobs",
    "eldercare_platform.alerts.jobs",
    "eldercare_platform.meals.jobs",
    "eldercare_platform.planning.jobs",
    "eldercare_platform.supervision.jobs",
)
"""Where jobs are declared: a new domain with jobs adds its `jobs` module here."""


@dataclass(frozen=True)
class JobSpec:
    """A job as its domain declares it."""

    name: str
    interval_setting: str
    enabled_setting: str
    build: Callable[[SchedulerSettings, Clock], JobFn | None]

    def interval(self, settings: SchedulerSettings) -> timedelta:
        """How often it fires, from its setting."""
        return timedelta(seconds=float(getattr(settings, self.interval_setting)))

    def enabled(self, settings: SchedulerSettings) -> bool:
        """Whether its `enabled` setting is on."""
        return bool(getattr(settings, self.enabled_setting))


def declared_jobs() -> list[JobSpec]:
    """Every job declared in `JOB_MODULES`, in declaration order; names and settings are checked."""
    specs: list[JobSpec] = []
    for module in JOB_MODULES:
        specs.extend(importlib.import_module(module).JOBS)
    names = [spec.name for spec in specs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"job names declared twice: {', '.join(duplicated)}")
    for spec in specs:
        for setting in (spec.interval_setting, spec.enabled_setting):
            if setting not in SchedulerSettings.model_fields:
                raise ValueError(f"job {spec.name}: SchedulerSettings has no field {setting}")
    return specs
