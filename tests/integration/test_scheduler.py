"""The scheduler's job runner: each (job, fire time) runs once, a failure is recorded and retried next slot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

import eldercare_platform
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.__main__ import build_scheduler
from eldercare_platform.scheduler.jobs import telemetry_retention
from eldercare_platform.scheduler.registry import JOB_MODULES, declared_jobs
from eldercare_platform.scheduler.runner import run_once, slot_start
from tests.conftest import TEST_NOW

pytestmark = pytest.mark.time_sensitive


def _runs(engine: Engine, job: str) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, detail FROM job_run WHERE job = :job ORDER BY id"), {"job": job})
        return [(row[0], row[1]) for row in rows]


def test_slot_start_is_the_same_on_every_replica() -> None:
    interval = timedelta(minutes=5)
    a = slot_start(datetime(2026, 11, 22, 3, 7, 59, tzinfo=UTC), interval)
    b = slot_start(datetime(2026, 11, 22, 11, 5, 1, tzinfo=UTC).astimezone(), interval)
    assert a == datetime(2026, 11, 22, 3, 5, tzinfo=UTC)
    assert b == datetime(2026, 11, 22, 11, 5, tzinfo=UTC)


def test_a_slot_runs_once_even_when_fired_concurrently(engine: Engine) -> None:
    fire = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    calls: list[int] = []
    barrier = threading.Barrier(4)

    def work(session: Session, fire_time: datetime) -> str:
        calls.append(1)
        return "done"

    def fire_it() -> None:
        barrier.wait()
        run_once(engine, job="test_concurrent", fire_time=fire, work=work)

    threads = [threading.Thread(target=fire_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert run_once(engine, job="test_concurrent", fire_time=fire, work=work) is False
    assert _runs(engine, "test_concurrent") == [("succeeded", "done")]


def test_a_failed_job_rolls_back_its_work_and_is_recorded(engine: Engine) -> None:
    fire = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)

    def work(session: Session, fire_time: datetime) -> str:
        session.execute(
            text("INSERT INTO job_run (job, fire_time, started_at, status) VALUES ('side_effect', now(), now(), 'x')")
        )
        raise RuntimeError("boom")

    assert run_once(engine, job="test_failing", fire_time=fire, work=work) is False
    assert _runs(engine, "test_failing") == [("failed", "RuntimeError: boom")]
    assert _runs(engine, "side_effect") == []
    later = fire + timedelta(minutes=5)
    assert run_once(engine, job="test_failing", fire_time=later, work=lambda s, f: "ok") is True


def test_retention_deletes_only_old_rows_on_plain_postgres(engine: Engine) -> None:
    now = TEST_NOW
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO telemetry (time, device_serial, seq, kind, data) VALUES"
                " (:old, 'RT1', 1, 'room', '{}'), (:new, 'RT1', 2, 'room', '{}')"
            ),
            {"old": now - timedelta(days=401), "new": now - timedelta(days=1)},
        )
    ran = run_once(
        engine, job="telemetry_retention_test", fire_time=slot_start(now, timedelta(hours=6)), work=telemetry_retention
    )
    assert ran
    with engine.connect() as conn:
        seqs = [row[0] for row in conn.execute(text("SELECT seq FROM telemetry WHERE device_serial = 'RT1'"))]
    assert seqs == [2]
    assert "deleted 1 telemetry rows" in str(_runs(engine, "telemetry_retention_test")[0][1])


def test_scheduler_registers_every_job(database_url: str) -> None:
    settings = SchedulerSettings(environment="test", database_url=database_url)
    from eldercare_platform.core.db import engine_for

    scheduler = build_scheduler(settings, engine_for(settings.sqlalchemy_url, 2))
    assert {job.id for job in scheduler.get_jobs()} == {
        "heartbeat",
        "telemetry_retention",
        "alarm_escalation",
        "substitute_cover",
        "shift_generation",
        "certification_alerts",
        "reassessments",
        "task_generation",
        "task_alerts",
        "coverage_alerts",
        "meal_orders",
        "meal_watch",
        "nightly_plan",
        "intraday_replan",
        "supervision_rollups",
    }


def test_every_job_declared_beside_a_domain_is_discovered_and_can_be_disabled(
    database_url: str, tmp_path: Path
) -> None:
    from eldercare_platform.core.db import engine_for

    package = Path(eldercare_platform.__file__).parent
    declaring = {f"eldercare_platform.{path.parent.name}.jobs" for path in package.glob("*/jobs.py")}
    assert declaring == set(JOB_MODULES), "every domain's jobs.py is discovered"
    specs = declared_jobs()
    names = {spec.name for spec in specs}
    assert names == {
        "heartbeat",
        "telemetry_retention",
        "alarm_escalation",
        "substitute_cover",
        "broker_credentials_sync",
        "shift_generation",
        "certification_alerts",
        "reassessments",
        "task_generation",
        "task_alerts",
        "coverage_alerts",
        "meal_orders",
        "meal_watch",
        "nightly_plan",
        "intraday_replan",
        "supervision_rollups",
    }
    base: dict[str, Any] = {"environment": "test", "database_url": database_url, "broker_auth_dir": tmp_path}
    engine = engine_for(SchedulerSettings(**base).sqlalchemy_url, 2)
    everything = build_scheduler(SchedulerSettings(**base, substitute_cover_seconds=120), engine)
    assert {job.id for job in everything.get_jobs()} == names
    substitute_cover = everything.get_job("substitute_cover")
    assert substitute_cover is not None and substitute_cover.trigger.interval == timedelta(seconds=120)
    for spec in specs:
        disabled: dict[str, Any] = {**base, spec.enabled_setting: False}
        settings = SchedulerSettings(**disabled)
        sharing = {other.name for other in specs if other.enabled_setting == spec.enabled_setting}
        assert {job.id for job in build_scheduler(settings, engine).get_jobs()} == names - sharing, spec.name
