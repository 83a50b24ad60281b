"""The task generator: the rolling window from care plans, idempotent reruns, plan changes, temporary states."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.care_plans.models import PurchasedService
from eldercare_platform.core.clock import LOCAL_TIMEZONE, FixedClock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.runner import run_once, slot_start
from eldercare_platform.tasks.generation import generate_tasks
from eldercare_platform.tasks.jobs import JOBS
from eldercare_platform.tasks.slots import SESSION_MINUTES, local_instant, session_days
from tests import factories
from tests.conftest import TEST_NOW, migrated_database, unpooled_engine

pytestmark = pytest.mark.time_sensitive

TODAY = TEST_NOW.astimezone(LOCAL_TIMEZONE).date()  # Sunday 2026-11-22, 14:00 in Shanghai
WINDOW = [TODAY + timedelta(days=n) for n in range(14)]


def community(db: Session) -> Any:
    city = factories.area(db, name="镇江市", level=AreaLevel.CITY)
    return factories.area(db, name="幸福社区", level=AreaLevel.COMMUNITY, parent=city)


def plan(
    db: Session,
    resident_id: int,
    *,
    tier: str,
    services: list[dict[str, Any]] | None = None,
    valid_from: date = TODAY - timedelta(days=60),
    valid_to: date | None = None,
    version: int = 1,
) -> int:
    """A care-plan version written straight into `care_plan` (columns of migration 0007)."""
    return int(
        db.execute(
            text(
                "INSERT INTO care_plan (resident_id, version, valid_from, valid_to, visit_tier, proposed_tier,"
                " services, created_at) VALUES (:r, :v, :f, :t, :tier, :tier, CAST(:s AS jsonb), :now) RETURNING id"
            ),
            {
                "r": resident_id,
                "v": version,
                "f": valid_from,
                "t": valid_to,
                "tier": tier,
                "s": json.dumps(services or []),
                "now": TEST_NOW,
            },
        ).scalar_one()
    )


def change_plan(db: Session, resident_id: int, *, tier: str, services: list[dict[str, Any]] | None = None) -> int:
    """A new version from tomorrow: the open one ends today."""
    version = db.execute(
        text("UPDATE care_plan SET valid_to = :today WHERE resident_id = :r AND valid_to IS NULL RETURNING version"),
        {"r": resident_id, "today": TODAY},
    ).scalar_one()
    return plan(
        db, resident_id, tier=tier, services=services, valid_from=TODAY + timedelta(days=1), version=version + 1
    )


def tasks_of(db: Session, resident_id: int) -> list[Any]:
    return list(
        db.execute(
            text(
                "SELECT id, kind, service, slot, status, status_reason, window_start, window_end, priority,"
                " required_skill, duration_minutes, area_path FROM task WHERE resident_id = :r"
                " ORDER BY window_start, slot"
            ),
            {"r": resident_id},
        ).all()
    )


def totals(db: Session) -> tuple[int, int, int]:
    row = db.execute(
        text("SELECT (SELECT count(*) FROM task), (SELECT count(*) FROM task_event), (SELECT max(version) FROM task)")
    ).one()
    return int(row[0]), int(row[1]), int(row[2] or 0)


def events_of(db: Session, task_id: int) -> list[Any]:
    return list(
        db.execute(
            text(
                "SELECT action, from_status, to_status, reason, detail FROM task_event WHERE task_id = :t ORDER BY id"
            ),
            {"t": task_id},
        ).all()
    )


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIMEZONE).date()


def test_the_window_is_generated_once_and_a_rerun_writes_nothing(db: Session) -> None:
    area = community(db)
    high = factories.resident(db, community=area)
    regular = factories.resident(db, community=area, name="张桂兰")
    assert high.id is not None and regular.id is not None
    plan(
        db, high.id, tier="high_risk", services=[{"service": "cleaning", "hours_per_month": 8, "funder": "government"}]
    )
    plan(db, regular.id, tier="regular")

    first = generate_tasks(db, now=TEST_NOW, window_days=14)

    rows = tasks_of(db, high.id)
    visits = [row for row in rows if row.kind == "visit"]
    # Weekly: this ISO week's visit day (Mon–Fri) is already past on Sunday; the next two weeks are in the window.
    assert [row.slot for row in visits] == ["visit:2026-W48", "visit:2026-W49"]
    for row in visits:
        assert local_day(row.window_start).isoweekday() <= 5
        assert row.window_start.astimezone(LOCAL_TIMEZONE).time() == time(9, 0)
        assert row.window_end.astimezone(LOCAL_TIMEZONE).time() == time(17, 0)
        assert (row.priority, row.required_skill, row.status, row.service) == (2, "visit", "planned", "visit")
        assert row.area_path == area.path
    cleaning = [row for row in rows if row.kind == "service"]
    expected = [
        (f"cleaning:{day:%Y-%m}:{n}", day)
        for month in (date(2026, 11, 1), date(2026, 12, 1))
        for n, day in enumerate(session_days(high.id, month, 8, SESSION_MINUTES[PurchasedService.CLEANING]), 1)
        if day in WINDOW
    ]
    assert [(row.slot, local_day(row.window_start)) for row in cleaning] == sorted(expected, key=lambda e: e[1])
    assert all(row.duration_minutes == 120 and row.required_skill == "cleaning" for row in cleaning)
    assert first.created == len(rows) + len(tasks_of(db, regular.id))
    for row in rows:
        assert [(e.action, e.to_status) for e in events_of(db, row.id)] == [("created", "planned")]

    before = totals(db)
    again = generate_tasks(db, now=TEST_NOW, window_days=14)
    assert (again.created, again.cancelled, again.rescheduled) == (0, 0, 0)
    assert again.unchanged == first.created
    assert totals(db) == before  # no row, no trace line, no version


def test_an_hour_later_the_job_writes_nothing_new(db: Session) -> None:
    area = community(db)
    person = factories.resident(db, community=area)
    assert person.id is not None
    plan(db, person.id, tier="key", services=[{"service": "bathing", "hours_per_month": 4, "funder": "self_paid"}])
    clock = FixedClock(TEST_NOW)
    settings = SchedulerSettings(environment="test", database_url="postgresql://unused/db")
    job = next(spec for spec in JOBS if spec.name == "task_generation").build(settings, clock)
    assert job is not None
    assert "created=" in str(job(db, TEST_NOW))
    before = totals(db)
    clock.set(TEST_NOW + timedelta(hours=1))
    assert str(job(db, TEST_NOW + timedelta(hours=1))).startswith("created=0 cancelled=0 rescheduled=0")
    assert totals(db) == before


def test_a_tier_change_cancels_untouched_future_visits_and_leaves_touched_ones(db: Session) -> None:
    area = community(db)
    person = factories.resident(db, community=area)
    assert person.id is not None
    plan(db, person.id, tier="high_risk")
    generate_tasks(db, now=TEST_NOW, window_days=14)
    weekly = [row for row in tasks_of(db, person.id) if row.kind == "visit"]
    assert len(weekly) == 2
    touched = weekly[1]
    db.execute(text("UPDATE task SET status = 'assigned' WHERE id = :id"), {"id": touched.id})

    change_plan(db, person.id, tier="key")
    result = generate_tasks(db, now=TEST_NOW, window_days=14)

    assert result.cancelled == 1
    cancelled = db.execute(text("SELECT status, status_reason FROM task WHERE id = :id"), {"id": weekly[0].id}).one()
    assert tuple(cancelled) == ("cancelled", "plan_changed")
    trace = events_of(db, weekly[0].id)
    assert [(e.action, e.from_status, e.to_status, e.reason) for e in trace][-1] == (
        "cancelled",
        "planned",
        "cancelled",
        "plan_changed",
    )
    assert db.execute(text("SELECT status FROM task WHERE id = :id"), {"id": touched.id}).scalar_one() == "assigned"
    monthly = [row for row in tasks_of(db, person.id) if row.slot and row.slot.startswith("visit:2026-1")]
    for row in monthly:  # the key tier's monthly visit, when its day falls in the window, is new
        assert row.status == "planned" and row.priority == 3
    before = totals(db)
    assert generate_tasks(db, now=TEST_NOW, window_days=14).cancelled == 0
    assert totals(db) == before


def test_a_removed_service_is_cancelled_and_a_changed_one_rescheduled(db: Session) -> None:
    area = community(db)
    person = factories.resident(db, community=area)
    assert person.id is not None
    rid = person.id
    # Find an hours change that moves one of this resident's nursing sessions to another day inside the window.
    minutes = SESSION_MINUTES[PurchasedService.NURSING]
    december = date(2026, 12, 1)
    old_hours = 8.0
    old = session_days(rid, december, old_hours, minutes)
    new_hours = next(
        hours
        for hours in (9.0, 10.0, 11.0, 12.0, 14.0, 16.0, 6.0, 7.0)
        if session_days(rid, december, hours, minutes)[0] != old[0]
        and session_days(rid, december, hours, minutes)[0] in WINDOW
        and old[0] in WINDOW
    )
    plan(
        db,
        rid,
        tier="regular",
        services=[
            {"service": "nursing", "hours_per_month": old_hours, "funder": "government"},
            {"service": "shopping", "hours_per_month": 4, "funder": "self_paid"},
        ],
    )
    generate_tasks(db, now=TEST_NOW, window_days=14)
    shopping = [row for row in tasks_of(db, rid) if row.service == "shopping"]
    assert shopping
    first_december = next(row for row in tasks_of(db, rid) if row.slot == "nursing:2026-12:1")

    change_plan(
        db, rid, tier="regular", services=[{"service": "nursing", "hours_per_month": new_hours, "funder": "government"}]
    )
    result = generate_tasks(db, now=TEST_NOW, window_days=14)

    assert result.rescheduled >= 1
    for row in shopping:
        assert (
            db.execute(text("SELECT status_reason FROM task WHERE id = :id"), {"id": row.id}).scalar() == "plan_changed"
        )
    moved = db.execute(text("SELECT status, window_start FROM task WHERE id = :id"), {"id": first_december.id}).one()
    assert moved.status == "planned"
    assert local_day(moved.window_start) == session_days(rid, december, new_hours, minutes)[0]
    line = events_of(db, first_december.id)[-1]
    assert (line.action, line.from_status, line.to_status) == ("rescheduled", "planned", "planned")
    assert datetime.fromisoformat(line.detail["old_window_start"]) == first_december.window_start
    assert datetime.fromisoformat(line.detail["window_start"]) == moved.window_start
    # Every untouched future nursing task left is where the new plan wants it.
    for row in tasks_of(db, rid):
        if row.service == "nursing" and row.status == "planned":
            number = int(row.slot.rsplit(":", 1)[1])
            month = local_day(row.window_start).replace(day=1)
            assert local_day(row.window_start) == session_days(rid, month, new_hours, minutes)[number - 1]
    before = totals(db)
    assert generate_tasks(db, now=TEST_NOW, window_days=14).summary().startswith("created=0 cancelled=0 rescheduled=0")
    assert totals(db) == before


def test_days_of_a_temporary_state_get_no_tasks(db: Session) -> None:
    area = community(db)
    away = factories.resident(db, community=area)
    gone = factories.resident(db, community=area, name="赵淑珍")
    assert away.id is not None and gone.id is not None
    daily = [{"service": "nursing", "hours_per_month": 31, "funder": "government"}]  # a session every day
    plan(db, away.id, tier="high_risk", services=daily)
    plan(db, gone.id, tier="high_risk", services=daily)
    hospital_from, hospital_to = TODAY + timedelta(days=2), TODAY + timedelta(days=6)
    db.execute(
        text(
            "INSERT INTO resident_state (resident_id, kind, starts_at, ends_at, reason, recorded_at) VALUES"
            " (:a, 'hospital', :s, :e, '住院', :now), (:g, 'deceased', :d, NULL, '去世', :now)"
        ),
        {
            "a": away.id,
            "s": local_instant(hospital_from, time(10)),  # part of a day counts as the day
            "e": local_instant(hospital_to, time(8)),
            "g": gone.id,
            "d": local_instant(TODAY + timedelta(days=3), time(6)),
            "now": TEST_NOW,
        },
    )
    generate_tasks(db, now=TEST_NOW, window_days=14)

    days = {local_day(row.window_start) for row in tasks_of(db, away.id)}
    blocked = {hospital_from + timedelta(days=n) for n in range(5)}
    assert not days & blocked
    assert {TODAY + timedelta(days=1), hospital_to + timedelta(days=1)} <= days
    assert max(local_day(row.window_start) for row in tasks_of(db, gone.id)) < TODAY + timedelta(days=3)


def test_the_benchmark_runs_small_and_writes_its_json(postgres: PostgresInstance, tmp_path: Path) -> None:
    from bench.tasks import main

    postgres.drop_database("eldercare_bench_tasks")
    postgres.create_database("eldercare_bench_tasks")
    path = main(
        [
            "--residents", "500", "--baseline-sample", "50", "--now", TEST_NOW.isoformat(),
            "--url", postgres.url_for("eldercare_bench_tasks"), "--results-dir", str(tmp_path),
        ]
    )  # fmt: skip
    results = json.loads(path.read_text())["results"]
    assert results["generate"]["created"] > 0
    assert results["rerun"]["written"] == {"task": 0, "task_event": 0}
    assert results["rerun"]["version_bump"] == 0
    assert results["change"]["residents_changed"] == results["rerun"]["residents"] // 100  # 1 in 100
    postgres.drop_database("eldercare_bench_tasks")


def test_the_job_through_the_runner_runs_once_per_firing_and_a_rerun_writes_nothing(
    postgres: PostgresInstance,
) -> None:
    url = migrated_database(postgres, "eldercare_engine_jobs")
    engine = unpooled_engine(url)
    try:
        with Session(engine) as session:
            person = factories.resident(session, community=community(session))
            assert person.id is not None
            plan(session, person.id, tier="high_risk")
            session.commit()
        clock = FixedClock(TEST_NOW)
        settings = SchedulerSettings(environment="test", database_url=url)
        job = next(spec for spec in JOBS if spec.name == "task_generation").build(settings, clock)
        assert job is not None
        fire = slot_start(TEST_NOW, timedelta(seconds=settings.task_generation_seconds))
        assert run_once(engine, job="task_generation", fire_time=fire, work=job, clock=clock) is True
        assert run_once(engine, job="task_generation", fire_time=fire, work=job, clock=clock) is False
        with Session(engine) as session:
            before = totals(session)
        assert before[0] == 2
        clock.advance(timedelta(minutes=15))
        later = fire + timedelta(seconds=settings.task_generation_seconds)
        assert run_once(engine, job="task_generation", fire_time=later, work=job, clock=clock) is True
        with Session(engine) as session:
            assert totals(session) == before
            details = (
                session.execute(text("SELECT detail FROM job_run WHERE job = 'task_generation' ORDER BY fire_time"))
                .scalars()
                .all()
            )
        assert details[0].startswith("created=2 ") and details[1].startswith("created=0 cancelled=0 rescheduled=0")
    finally:
        engine.dispose()
        postgres.drop_database("eldercare_engine_jobs")
