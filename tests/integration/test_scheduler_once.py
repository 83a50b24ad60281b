"""`python -m eldercare_platform.scheduler --once`: declared jobs run once now by name, unknown names are skipped."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.__main__ import run_once_and_exit
from eldercare_platform.scheduler.once import run_jobs_once
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import slot_start
from tests.conftest import TEST_NOW

pytestmark = pytest.mark.time_sensitive


def _runs(engine: Engine, job: str) -> list[tuple[datetime, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT fire_time, status FROM job_run WHERE job = :job ORDER BY id"), {"job": job})
        return [(row[0], row[1]) for row in rows]


def _spec(name: str, work: object, enabled: str = "heartbeat_enabled") -> JobSpec:
    return JobSpec(name=name, interval_setting="heartbeat_seconds", enabled_setting=enabled, build=lambda s, c: work)  # type: ignore[arg-type,return-value]


def test_named_jobs_run_once_in_order_and_unknown_names_are_skipped(database_url: str, engine: Engine) -> None:
    settings = SchedulerSettings(environment="test", database_url=database_url)
    clock = FixedClock(TEST_NOW + timedelta(days=3, seconds=7))
    calls: list[tuple[str, datetime]] = []

    def job(name: str) -> object:
        def work(session: Session, fire_time: datetime) -> str:
            calls.append((name, fire_time))
            return f"{name} done"

        return work

    def broken(session: Session, fire_time: datetime) -> str:
        raise RuntimeError("boom")

    specs = [
        _spec("once_test_b", job("once_test_b")),
        _spec("once_test_a", job("once_test_a")),
        _spec("once_test_broken", broken),
        _spec("once_test_unconfigured", None),
        _spec("once_test_off", job("off"), enabled="broker_credentials_sync_enabled"),
    ]
    off = SchedulerSettings(environment="test", database_url=database_url, broker_credentials_sync_enabled=False)
    names = ["once_test_a", "no_such_job", "once_test_b", "once_test_broken", "once_test_unconfigured"]
    results = run_jobs_once(settings, engine, names, clock=clock, specs=specs)
    assert [(r.job, r.outcome) for r in results] == [
        ("once_test_a", "ran"),
        ("no_such_job", "not_declared"),
        ("once_test_b", "ran"),
        ("once_test_broken", "failed"),
        ("once_test_unconfigured", "not_configured"),
    ]
    assert results[0].detail == "once_test_a done"
    assert "boom" in results[3].detail
    fire = slot_start(clock.now(), timedelta(seconds=settings.heartbeat_seconds))
    assert calls == [("once_test_a", fire), ("once_test_b", fire)], "in the order named, at the scheduler's slot"
    again = run_jobs_once(settings, engine, ["once_test_a"], clock=clock, specs=specs)
    assert [(r.job, r.outcome) for r in again] == [("once_test_a", "already_ran")]
    assert len(calls) == 2 and _runs(engine, "once_test_a") == [(fire, "succeeded")]
    disabled = run_jobs_once(off, engine, ["once_test_off"], clock=clock, specs=specs)
    assert [(r.job, r.outcome) for r in disabled] == [("once_test_off", "disabled")]


def test_every_declared_job_by_default_and_the_command_line(
    database_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = SchedulerSettings(environment="test", database_url=database_url)
    clock = FixedClock(TEST_NOW + timedelta(days=5))
    ran: list[str] = []

    def job(name: str) -> object:
        def work(session: Session, fire_time: datetime) -> None:
            ran.append(name)

        return work

    specs = [_spec("once_all_1", job("once_all_1")), _spec("once_all_2", job("once_all_2"))]
    results = run_jobs_once(settings, engine, None, clock=clock, specs=specs)
    assert [(r.job, r.outcome) for r in results] == [("once_all_1", "ran"), ("once_all_2", "ran")]
    assert ran == ["once_all_1", "once_all_2"]
    # The command line reads the real registry: the heartbeat is declared, the other name is not.
    assert run_once_and_exit(settings, engine, ["heartbeat", "not_a_job"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]  # not the log
    assert [line.split()[:2] for line in printed] == [["heartbeat", "ran"], ["not_a_job", "not_declared"]]
