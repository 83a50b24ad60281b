"""`eldercare-scheduler`: the one scheduler process (APScheduler 3.11), never inside API workers."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from prometheus_client import Counter
from sqlalchemy import Engine

from eldercare_common.logging import configure_logging, get_logger
from eldercare_common.ops_server import OpsServer
from eldercare_common.settings import load_settings
from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.core.db import engine_for
from eldercare_platform.planning.solver import travel_model
from eldercare_platform.scheduler.once import run_jobs_once
from eldercare_platform.scheduler.registry import declared_jobs
from eldercare_platform.scheduler.runner import JobFn, run_once, slot_start
from eldercare_platform.system.service import database_check
from eldercare_platform.tasks import service as tasks_service

log = get_logger(__name__)
JOB_RUNS = Counter("scheduler_job_runs_total", "Job firings", ["job", "outcome"])


def _fire(engine: Engine, name: str, interval: timedelta, work: JobFn, clock: Clock) -> Callable[[], None]:
    def fire() -> None:
        ran = run_once(engine, job=name, fire_time=slot_start(clock.now(), interval), work=work, clock=clock)
        JOB_RUNS.labels(name, "ran" if ran else "skipped").inc()

    return fire


def build_scheduler(settings: SchedulerSettings, engine: Engine, *, clock: Clock = SYSTEM_CLOCK) -> BlockingScheduler:
    """The scheduler with every enabled job its domains declare (`scheduler/registry.py`), each one idempotent
    through `run_once`.

    Every job reads "now" from `clock` (APScheduler only decides *when* to fire).
    """
    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.misfire_grace_seconds},
    )
    for spec in declared_jobs():
        if not spec.enabled(settings):
            log.info("job disabled by its setting", job=spec.name, setting=spec.enabled_setting)
            continue
        work = spec.build(settings, clock)
        if work is None:
            continue  # not configured in this deployment
        interval = spec.interval(settings)
        scheduler.add_job(
            _fire(engine, spec.name, interval, work, clock),
            "interval",
            seconds=interval.total_seconds(),
            id=spec.name,
            next_run_time=clock.now(),
        )
    return scheduler


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eldercare-scheduler", description="The one scheduler process.")
    parser.add_argument(
        "--once",
        nargs="*",
        metavar="JOB",
        default=None,
        help="run these declared jobs once now, in this order, and exit (none named: every declared job);"
        " names no domain declares are skipped",
    )
    return parser


def run_once_and_exit(settings: SchedulerSettings, engine: Engine, names: list[str]) -> int:
    """`--once`: run the jobs, print one line per job; exit status 1 if one failed."""
    results = run_jobs_once(settings, engine, names or None)
    for result in results:
        print(f"  {result.job:<28} {result.outcome:<15} {result.detail[:100]}", flush=True)
    return 1 if any(result.outcome == "failed" for result in results) else 0


def main(argv: list[str] | None = None) -> None:
    """Run the scheduler until SIGTERM/SIGINT (or, with `--once`, the named jobs once)."""
    args = _parser().parse_args(argv)
    settings = load_settings(SchedulerSettings)
    configure_logging(process="scheduler", level=settings.log_level, json=settings.log_json)
    engine = engine_for(settings.sqlalchemy_url, 4)
    # an urgent task a job creates is inserted on the same travel model as the API's and the planner's
    tasks_service.configure_urgent_routing(travel=travel_model(settings))
    if args.once is not None:
        sys.exit(run_once_and_exit(settings, engine, args.once))
    scheduler = build_scheduler(settings, engine)

    def health() -> dict[str, str]:
        return {"database": database_check(engine), "scheduler": "ok" if scheduler.running else "stopped"}

    ops = OpsServer(host=settings.metrics_host, port=settings.metrics_port, health_check=health).start()

    def on_signal(signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("scheduler starting", metrics_port=ops.port)
    scheduler.start()
    ops.stop()
    log.info("scheduler stopped")


if __name__ == "__main__":
    main()
