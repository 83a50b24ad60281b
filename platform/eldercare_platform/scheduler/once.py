"""Run declared jobs once, now, by name: `python -m eldercare_platform.scheduler --once [NAME ...]`.

`make demo` uses it after seeding so today's shifts, tasks and meal orders exist before the pages open. Each job
runs through the idempotent `run_once` runner with the fire time of the slot containing "now" (the scheduler's
own), so the scheduler started right after does not repeat it in the same slot. A name no domain declares is
skipped and reported (the step keeps working whichever jobs a deployment has); so are disabled jobs and jobs
not configured here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, text

from eldercare_common.logging import get_logger
from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.registry import JobSpec, declared_jobs
from eldercare_platform.scheduler.runner import run_once, slot_start

log = get_logger(__name__)


@dataclass(frozen=True)
class OnceResult:
    """What became of one requested job: ran, already_ran, failed, disabled, not_configured or not_declared."""

    job: str
    outcome: str
    detail: str = ""


def run_jobs_once(
    settings: SchedulerSettings,
    engine: Engine,
    names: Sequence[str] | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    specs: Sequence[JobSpec] | None = None,
) -> list[OnceResult]:
    """Run the named jobs (all declared jobs when `names` is None), in the order given; one result per name.

    `specs` defaults to the registry's `declared_jobs()` (tests pass their own).
    """
    declared = {spec.name: spec for spec in (declared_jobs() if specs is None else specs)}
    results: list[OnceResult] = []
    for name in list(declared) if names is None else names:
        spec = declared.get(name)
        if spec is None:
            results.append(OnceResult(name, "not_declared"))
        elif not spec.enabled(settings):
            results.append(OnceResult(name, "disabled", spec.enabled_setting))
        elif (work := spec.build(settings, clock)) is None:
            results.append(OnceResult(name, "not_configured"))
        else:
            fire_time = slot_start(clock.now(), spec.interval(settings))
            ran = run_once(engine, job=name, fire_time=fire_time, work=work, clock=clock)
            status, detail = _job_run(engine, name, fire_time)
            if ran:
                results.append(OnceResult(name, "ran", detail))
            elif status == "failed":
                results.append(OnceResult(name, "failed", detail))
            else:
                results.append(OnceResult(name, "already_ran", detail))
        log.info("job run once", job=name, outcome=results[-1].outcome, detail=results[-1].detail[:200])
    return results


def _job_run(engine: Engine, job: str, fire_time: object) -> tuple[str | None, str]:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, coalesce(detail, '') FROM job_run WHERE job = :job AND fire_time = :fire"),
            {"job": job, "fire": fire_time},
        ).first()
    return (str(row[0]), str(row[1])) if row else (None, "")
