"""The task engine's alerts on the injected clock: late, missed, unassigned, coverage; each at its threshold and
resolved when its condition clears."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.roster.models import Staff, StaffRole
from eldercare_platform.tasks.alerting import AlertRules, coverage, coverage_alerts, task_alerts
from eldercare_platform.tasks.jobs import JOBS, alert_rules
from eldercare_platform.tasks.models import TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.tasks.service import create_task, move
from tests import factories
from tests.conftest import TEST_NOW

pytestmark = pytest.mark.time_sensitive

RULES = AlertRules()  # 15 min late, 30 min missed, 2 h unassigned, coverage 0.9
START = TEST_NOW + timedelta(hours=1)  # the task's window opens an hour after "now"


@pytest.fixture
def place(db: Session) -> dict[str, Any]:
    city = factories.area(db, name="镇江市", level=AreaLevel.CITY)
    area = factories.area(db, name="幸福社区", level=AreaLevel.COMMUNITY, parent=city)
    person = factories.resident(db, community=area)
    assert area.id is not None
    staff = Staff(name="李护理", phone="13900000000", role=StaffRole.CAREGIVER, skills=["visit"], home_area_id=area.id)
    db.add(staff)
    db.flush()
    return {"area": area, "resident": person, "staff": staff}


def new_task(db: Session, place: dict[str, Any], *, staff: bool = True, priority: int = 3, **extra: Any) -> int:
    task_id = create_task(
        db,
        kind=extra.pop("kind", TaskKind.VISIT),
        source=extra.pop("source", TaskSource.MANUAL),
        now=TEST_NOW,
        window_start=extra.pop("window_start", START),
        window_end=extra.pop("window_end", START + timedelta(hours=1)),
        resident_id=place["resident"].id,
        staff_id=place["staff"].id if staff else None,
        priority=priority,
        **extra,
    )
    assert task_id is not None
    return task_id


def alert(db: Session, kind: str, task_id: int) -> Any:
    return db.execute(
        text(
            "SELECT state, owner_staff_id, area_path, severity, resolution, detail FROM alert"
            " WHERE kind = :k AND subject_key = :s ORDER BY id DESC LIMIT 1"
        ),
        {"k": kind, "s": f"task:{task_id}"},
    ).one_or_none()


def status(db: Session, task_id: int) -> str:
    return str(db.execute(text("SELECT status FROM task WHERE id = :id"), {"id": task_id}).scalar_one())


def test_late_at_15_minutes_not_14_and_resolved_at_check_in(db: Session, place: dict[str, Any]) -> None:
    task_id = new_task(db, place)
    task_alerts(db, now=START + timedelta(minutes=14, seconds=59), rules=RULES)
    assert alert(db, "task_late", task_id) is None

    task_alerts(db, now=START + timedelta(minutes=15), rules=RULES)
    late = alert(db, "task_late", task_id)
    assert late.state == "open"
    assert late.owner_staff_id == place["staff"].id  # the caregiver; the coordinator sees it by area
    assert late.area_path == place["area"].path
    assert late.detail["late_minutes"] == 15
    task_alerts(db, now=START + timedelta(minutes=16), rules=RULES)  # still late: no second alert
    assert db.execute(text("SELECT count(*) FROM alert WHERE subject_key = :s"), {"s": f"task:{task_id}"}).scalar() == 1

    move(
        db,
        task_id=task_id,
        action=TaskAction.CHECKED_IN,
        to_status=TaskStatus.CHECKED_IN,
        allowed_from={TaskStatus.ASSIGNED},
        now=START + timedelta(minutes=17),
        set_sql="checked_in_at = :now",
    )
    task_alerts(db, now=START + timedelta(minutes=18), rules=RULES)
    assert alert(db, "task_late", task_id).state == "resolved"


def test_an_urgent_task_follows_the_same_rule(db: Session, place: dict[str, Any]) -> None:
    task_id = new_task(db, place, kind=TaskKind.ALARM_RESPONSE, source=TaskSource.ALARM, priority=1)
    task_alerts(db, now=START + timedelta(minutes=14), rules=RULES)
    assert alert(db, "task_late", task_id) is None
    task_alerts(db, now=START + timedelta(minutes=15), rules=RULES)
    assert alert(db, "task_late", task_id).severity == 1


def test_missed_at_window_end_plus_30_and_resolved_by_a_follow_up(db: Session, place: dict[str, Any]) -> None:
    task_id = new_task(db, place)
    end = START + timedelta(hours=1)
    task_alerts(db, now=end + timedelta(minutes=29), rules=RULES)
    assert status(db, task_id) == "assigned"
    assert alert(db, "task_missed", task_id) is None

    result = task_alerts(db, now=end + timedelta(minutes=30), rules=RULES)
    assert result["missed"] == 1
    assert status(db, task_id) == "missed"
    line = db.execute(
        text("SELECT action, from_status, reason FROM task_event WHERE task_id = :t ORDER BY id DESC LIMIT 1"),
        {"t": task_id},
    ).one()
    assert tuple(line) == ("missed", "assigned", "not_done_in_time")
    assert alert(db, "task_missed", task_id).state == "open"
    assert alert(db, "task_late", task_id).state == "resolved"  # no longer late: it is missed

    task_alerts(db, now=end + timedelta(minutes=31), rules=RULES)
    assert alert(db, "task_missed", task_id).state == "open"  # waits for the coordinator
    new_task(db, place, staff=False, follow_up_of=task_id, window_start=end + timedelta(hours=2),
             window_end=end + timedelta(hours=3))  # fmt: skip
    task_alerts(db, now=end + timedelta(minutes=32), rules=RULES)
    assert alert(db, "task_missed", task_id).state == "resolved"


def test_unassigned_two_hours_ahead_and_resolved_when_assigned(db: Session, place: dict[str, Any]) -> None:
    task_id = new_task(db, place, staff=False)
    task_alerts(db, now=START - timedelta(hours=2, minutes=1), rules=RULES)
    assert alert(db, "task_unassigned", task_id) is None
    task_alerts(db, now=START - timedelta(hours=2), rules=RULES)
    assert alert(db, "task_unassigned", task_id).state == "open"

    move(
        db,
        task_id=task_id,
        action=TaskAction.ASSIGNED,
        to_status=TaskStatus.ASSIGNED,
        allowed_from={TaskStatus.PLANNED},
        now=START - timedelta(hours=1),
        set_sql="assignee_staff_id = :staff, assigned_at = :now",
        params={"staff": place["staff"].id},
    )
    task_alerts(db, now=START - timedelta(minutes=59), rules=RULES)
    assert alert(db, "task_unassigned", task_id).state == "resolved"


def test_the_job_reads_its_thresholds_from_the_settings(db: Session, place: dict[str, Any]) -> None:
    settings = SchedulerSettings(environment="test", database_url="postgresql://unused/db", task_late_after_minutes=5)
    assert alert_rules(settings).late_after == timedelta(minutes=5)
    from eldercare_platform.core.clock import FixedClock

    task_id = new_task(db, place)
    job = next(spec for spec in JOBS if spec.name == "task_alerts").build(
        settings, FixedClock(START + timedelta(minutes=5))
    )
    assert job is not None
    assert "'late_raised': 1" in str(job(db, START))
    assert alert(db, "task_late", task_id).state == "open"


def visits(db: Session, place: dict[str, Any], *, count: int, done: int, day: datetime) -> list[int]:
    ids = []
    for n in range(count):
        task_id = new_task(db, place, window_start=day, window_end=day + timedelta(hours=8), slot=f"visit:t{n}",
                           service="visit")  # fmt: skip
        if n < done:
            complete(db, task_id, day + timedelta(hours=1))
        ids.append(task_id)
    return ids


def complete(db: Session, task_id: int, at: datetime) -> None:
    db.execute(
        text("UPDATE task SET status = 'completed', checked_in_at = :at, completed_at = :at WHERE id = :id"),
        {"id": task_id, "at": at},
    )


def test_coverage_behind_below_the_ratio_and_resolved_on_recovery(db: Session, place: dict[str, Any]) -> None:
    area = place["area"]
    day = TEST_NOW - timedelta(days=3)
    ids = visits(db, place, count=10, done=8, day=day)
    new_task(db, place, window_start=TEST_NOW + timedelta(days=1), window_end=TEST_NOW + timedelta(days=1, hours=8))
    month = TEST_NOW.date()
    rows = {row["area_id"]: row for row in coverage(db, area_path=area.path, month=month, now=TEST_NOW)}
    assert (rows[area.id]["due"], rows[area.id]["done"], rows[area.id]["ratio"]) == (10, 8, 0.8)

    coverage_alerts(db, now=TEST_NOW, rules=RULES)
    subject = f"coverage:{area.id}:{month:%Y-%m}"
    behind = db.execute(
        text("SELECT state, detail, area_path FROM alert WHERE kind = 'coverage_behind' AND subject_key = :s"),
        {"s": subject},
    ).one()
    assert behind.state == "open" and behind.area_path == area.path
    assert (behind.detail["due"], behind.detail["done"], behind.detail["ratio"]) == (10, 8, 0.8)

    complete(db, ids[8], TEST_NOW)  # 9 of 10: exactly the ratio, no longer behind
    coverage_alerts(db, now=TEST_NOW + timedelta(hours=1), rules=RULES)
    state = db.execute(
        text("SELECT state, resolution FROM alert WHERE kind = 'coverage_behind' AND subject_key = :s"), {"s": subject}
    ).one()
    assert tuple(state) == ("resolved", "coverage_recovered")
