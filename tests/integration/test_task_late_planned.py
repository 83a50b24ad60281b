"""Late counts from the planned start (tasks/lateness.py): the TASK_LATE rule, the coordinator's board and the
supervision visits figure read one deadline — planned start + 15 min (at the latest the window end), else window
start + 15 min — and a re-plan, an unassignment move it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.core.scope import Scope, ScopeKind
from eldercare_platform.roster.models import Staff, StaffRole
from eldercare_platform.supervision.visit_facts import classified
from eldercare_platform.tasks import lifecycle
from eldercare_platform.tasks.alerting import AlertRules, raise_late
from eldercare_platform.tasks.board import board
from eldercare_platform.tasks.models import TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.tasks.service import create_task, move, set_route
from eldercare_platform.users.models import Role
from tests import factories
from tests.conftest import TEST_NOW

pytestmark = pytest.mark.time_sensitive

RULES = AlertRules()  # late after 15 min
START = TEST_NOW + timedelta(hours=1)  # a care-plan visit's wide window: START .. START + 8 h
END = START + timedelta(hours=8)
PLANNED = START + timedelta(hours=3)  # where the caregiver's route of the day places it


@pytest.fixture
def place(db: Session) -> dict[str, Any]:
    city = factories.area(db, name="镇江市", level=AreaLevel.CITY)
    area = factories.area(db, name="晚到社区", level=AreaLevel.COMMUNITY, parent=city)
    person = factories.resident(db, community=area)
    assert area.id is not None
    staff = Staff(name="周护理", phone="13900000001", role=StaffRole.CAREGIVER, skills=["visit"], home_area_id=area.id)
    db.add(staff)
    db.flush()
    plan_id = db.execute(
        text(
            "INSERT INTO plan (area_id, area_path, day, kind, status, solver, created_at, published_at)"
            " VALUES (:area, :path, :day, 'nightly', 'published', 'test', :now, :now) RETURNING id"
        ),
        {"area": area.id, "path": area.path, "day": START.astimezone(LOCAL_TIMEZONE).date(), "now": TEST_NOW},
    ).scalar_one()
    return {"area": area, "resident": person, "staff": staff, "plan": int(plan_id)}


def visit(db: Session, place: dict[str, Any], *, planned: datetime | None) -> int:
    """A visit with a wide window assigned to the caregiver; `planned`: the plan's planned start (through the
    task engine's service, as planning writes it)."""
    task_id = create_task(
        db,
        kind=TaskKind.VISIT,
        source=TaskSource.PLAN,
        now=TEST_NOW,
        window_start=START,
        window_end=END,
        resident_id=place["resident"].id,
        staff_id=place["staff"].id,
    )
    assert task_id is not None
    if planned is not None:
        assert set_route(db, task_id=task_id, plan_id=place["plan"], sequence=4, planned_start=planned)
    return task_id


def late_alert(db: Session, task_id: int) -> Any:
    return db.execute(
        text("SELECT state, detail FROM alert WHERE kind = 'task_late' AND subject_key = :s ORDER BY id DESC LIMIT 1"),
        {"s": f"task:{task_id}"},
    ).one_or_none()


def board_late(db: Session, place: dict[str, Any], now: datetime) -> set[int]:
    day = board(
        db,
        scope=Scope(ScopeKind.ALL),
        area_id=int(place["area"].id),
        day=START.astimezone(LOCAL_TIMEZONE).date(),
        now=now,
        zone=str(LOCAL_TIMEZONE),
        late_after_minutes=15,
        missed_after_minutes=30,
    )
    return set(day.late)


def supervision_late(db: Session, task_ids: list[int], now: datetime) -> dict[int, bool]:
    rows = db.execute(
        text(f"WITH RECURSIVE {classified('t.id = ANY(:ids)')} SELECT id, late FROM x"),
        {"ids": task_ids, "now": now, "late_after": RULES.late_after},
    ).all()
    return {int(r.id): bool(r.late) for r in rows}


def check_in(db: Session, task_id: int, at: datetime) -> None:
    assert move(
        db,
        task_id=task_id,
        action=TaskAction.CHECKED_IN,
        to_status=TaskStatus.CHECKED_IN,
        allowed_from={TaskStatus.ASSIGNED},
        now=at,
        set_sql="checked_in_at = :now",
    )
    assert move(
        db,
        task_id=task_id,
        action=TaskAction.COMPLETED,
        to_status=TaskStatus.COMPLETED,
        allowed_from={TaskStatus.CHECKED_IN},
        now=at + timedelta(minutes=30),
        set_sql="completed_at = :now",
    )


def test_planned_visit_is_late_from_its_planned_start_alert_board_and_supervision_agree(
    db: Session, place: dict[str, Any]
) -> None:
    planned = visit(db, place, planned=PLANNED)
    unplanned = visit(db, place, planned=None)

    at_window = START + timedelta(minutes=15)  # the old rule: every visit late at window start + 15
    raise_late(db, now=at_window, rules=RULES)
    assert late_alert(db, planned) is None
    assert late_alert(db, unplanned).state == "open"  # no plan: the window start, as before
    assert board_late(db, place, at_window) == {unplanned}

    before = PLANNED + timedelta(minutes=14, seconds=59)
    raise_late(db, now=before, rules=RULES)
    assert late_alert(db, planned) is None
    assert planned not in board_late(db, place, before)

    at_planned = PLANNED + timedelta(minutes=15)
    raise_late(db, now=at_planned, rules=RULES)
    alert = late_alert(db, planned)
    assert alert.state == "open" and alert.detail["late_minutes"] == 15
    assert planned in board_late(db, place, at_planned)

    # Checked in 10 min after the planned start: on time for supervision; 20 min after: late — as the board said.
    on_time, late = planned, visit(db, place, planned=PLANNED)
    check_in(db, on_time, PLANNED + timedelta(minutes=10))
    check_in(db, late, PLANNED + timedelta(minutes=20))
    check_in(db, unplanned, START + timedelta(minutes=20))
    assert supervision_late(db, [on_time, late, unplanned], END + timedelta(hours=1)) == {
        on_time: False,
        late: True,
        unplanned: True,
    }


def test_never_later_than_the_window_end(db: Session, place: dict[str, Any]) -> None:
    """A planned start in the window's last quarter hour: late at the window end, not at planned start + 15."""
    task_id = visit(db, place, planned=END - timedelta(minutes=5))
    raise_late(db, now=END - timedelta(seconds=1), rules=RULES)
    assert late_alert(db, task_id) is None
    raise_late(db, now=END, rules=RULES)
    assert late_alert(db, task_id).state == "open"
    check_in(db, task_id, END + timedelta(minutes=1))
    assert supervision_late(db, [task_id], END + timedelta(hours=1)) == {task_id: True}


def test_a_replan_moves_the_deadline_and_an_unassignment_clears_it(db: Session, place: dict[str, Any]) -> None:
    task_id = visit(db, place, planned=START)
    version = db.execute(text("SELECT version FROM task WHERE id = :id"), {"id": task_id}).scalar_one()
    now = START + timedelta(minutes=30)
    raise_late(db, now=now, rules=RULES)
    assert late_alert(db, task_id).state == "open"

    # The intraday re-plan puts it later in the route: the alert resolves, the board no longer says late, and the
    # task's version moved (the visit rollup reclassifies it at its next refresh).
    assert set_route(db, task_id=task_id, plan_id=place["plan"], sequence=6, planned_start=PLANNED)
    assert db.execute(text("SELECT version FROM task WHERE id = :id"), {"id": task_id}).scalar_one() > version
    raise_late(db, now=now, rules=RULES)
    assert late_alert(db, task_id).state == "resolved"
    assert task_id not in board_late(db, place, now)

    # Unassigned by the coordinator: nobody is planned to arrive; late counts from the window start again.
    admin = factories.user(db, role=Role.ADMIN)
    lifecycle.unassign(db, user=admin, task_id=task_id, reason="test", now=now)
    assert db.execute(text("SELECT planned_start FROM task WHERE id = :id"), {"id": task_id}).scalar_one() is None
    assert task_id in board_late(db, place, now)
