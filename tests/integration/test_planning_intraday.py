"""The rest of today re-planned around what is fixed: a sick call mid-day moves that caregiver's remaining tasks to
the others and leaves everyone's started tasks alone; a caregiver whose shift is gone loses their published tasks
with the reason on the trace; a cancelled task leaves the plan; nothing changed, nothing written."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.planning import service as planning
from eldercare_platform.planning.models import PlanKind
from eldercare_platform.planning.solver import travel_model
from eldercare_platform.roster import service as roster_service
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.pyvrp_planner import PyVRPPlanner
from eldercare_platform.tasks import service as tasks_service
from eldercare_platform.tasks.models import TaskAction, TaskStatus
from tests.conftest import TEST_NOW
from tests.integration.planning_support import (
    SETTINGS,
    TODAY,
    PlanWorld,
    add_task,
    at,
    build,
    counts,
    plan_row,
    publish_to,
    task_row,
    trace,
)

PLANNER = GreedyPlanner(travel_model(SETTINGS))


def step(db: Session, task_id: int, status: TaskStatus, when: datetime, column: str) -> None:
    previous = {TaskStatus.EN_ROUTE: TaskStatus.PUBLISHED, TaskStatus.CHECKED_IN: TaskStatus.EN_ROUTE}[status]
    assert tasks_service.move(
        db,
        task_id=task_id,
        action=TaskAction(str(status)),
        to_status=status,
        allowed_from={previous},
        now=when,
        set_sql=f"{column} = :now",
    )


def live_day(db: Session) -> tuple[PlanWorld, dict[str, int], int]:
    """Today: each caregiver has published tasks; the morning's plan is published; at 14:00 the nurse is at a
    home (checked in 13:40), the visitor on the way to another (en route), the rest waits."""
    w = build(db, day=TODAY)
    r = w.residents
    tasks = {
        "started": add_task(db, r[0].id, TODAY, (13, 30), (15, 0)),
        "on_the_way": add_task(db, r[1].id, TODAY, (14, 0), (15, 0)),
        "later_1": add_task(db, r[2].id, TODAY, (14, 30), (16, 0)),
        "later_2": add_task(db, r[3].id, TODAY, (15, 0), (16, 30)),
        "meals_staff": add_task(db, r[4].id, TODAY, (15, 0), (17, 0)),
    }
    for name, staff in [
        ("started", "nurse"),
        ("on_the_way", "visitor"),
        ("later_1", "visitor"),
        ("later_2", "visitor"),
        ("meals_staff", "meals"),
    ]:
        publish_to(db, tasks[name], w.staff[staff], when=at(TODAY, 7))
    morning = planning.run_plan(
        db,
        area_id=w.community.id,
        day=TODAY,
        kind=PlanKind.NIGHTLY,
        now=at(TODAY, 7, 30),
        settings=SETTINGS,
        planner=PLANNER,
    )
    assert plan_row(db, morning).status == "published"
    step(db, tasks["started"], TaskStatus.EN_ROUTE, at(TODAY, 13, 20), "en_route_at")
    step(db, tasks["started"], TaskStatus.CHECKED_IN, at(TODAY, 13, 40), "checked_in_at")
    step(db, tasks["on_the_way"], TaskStatus.EN_ROUTE, at(TODAY, 13, 55), "en_route_at")
    return w, tasks, morning


def test_nothing_changed_nothing_is_written(db: Session) -> None:
    w, _, _ = live_day(db)
    before = counts(db)
    outcome = planning.intraday(db, now=TEST_NOW, settings=SETTINGS, within=w.street.path, planner=PLANNER)
    assert outcome.planned == [] and outcome.skipped == 1 and counts(db) == before


@pytest.mark.parametrize("solver", ["greedy", "pyvrp"])
def test_a_sick_call_moves_the_rest_of_that_caregivers_day_and_leaves_started_tasks_alone(
    db: Session, solver: str
) -> None:
    w, tasks, morning = live_day(db)
    started_trace = trace(db, tasks["started"])
    roster_service.record_leave(
        db,
        staff_id=w.staff["visitor"],
        kind="sick",
        starts_at=TEST_NOW,
        ends_at=at(TODAY, 23, 59),
        reason="发烧",
        now=TEST_NOW,
    )
    planner = PLANNER if solver == "greedy" else PyVRPPlanner(travel_model(SETTINGS))
    outcome = planning.intraday(
        db, now=TEST_NOW + timedelta(minutes=1), settings=SETTINGS, within=w.street.path, planner=planner
    )
    assert len(outcome.planned) == 1 and outcome.failed == [] and outcome.errors == []
    plan = plan_row(db, outcome.planned[0])
    assert (plan.kind, plan.status, plan.previous_plan_id) == ("intraday", "published", morning)
    others = {w.staff["nurse"], w.staff["meals"]}
    for name in ("later_1", "later_2"):
        row = task_row(db, tasks[name])
        assert row.status == "published" and row.assignee_staff_id in others and row.plan_id == plan.id, name
        assert row.planned_start >= TEST_NOW
        actions = [(e.action, e.reason) for e in trace(db, tasks[name])]
        assert ("unassigned", "staff_leave:sick: 发烧") in actions and actions[-2:] == [
            ("assigned", "planned"),
            ("published", "plan_published"),
        ]
    moved = {item["task_id"] for item in plan.changes["moved"]}
    assert moved == {tasks["later_1"], tasks["later_2"]}
    # Started tasks never move: the nurse's visit in progress, and the sick caregiver's trip under way.
    started = task_row(db, tasks["started"])
    assert (started.status, started.assignee_staff_id) == ("checked_in", w.staff["nurse"])
    assert trace(db, tasks["started"]) == started_trace
    on_the_way = task_row(db, tasks["on_the_way"])
    assert (on_the_way.status, on_the_way.assignee_staff_id) == ("en_route", w.staff["visitor"])
    assert plan.inputs["left_out"] == {str(tasks["on_the_way"]): "under_way_off_shift"}
    assert plan.inputs["unavailable_staff"] == {str(w.staff["visitor"]): "on_leave"}
    pinned = db.execute(
        text("SELECT task_id, staff_id, planned_start FROM plan_stop WHERE plan_id = :p AND pinned"), {"p": plan.id}
    ).all()
    assert [(p.task_id, p.staff_id, p.planned_start) for p in pinned if p.task_id == tasks["started"]] == [
        (tasks["started"], w.staff["nurse"], at(TODAY, 13, 40))
    ]
    assert plan_row(db, morning).status == "superseded"


def test_a_published_task_whose_caregiver_has_no_shift_any_more_moves_and_says_why(db: Session) -> None:
    w, tasks, _ = live_day(db)
    db.execute(text("DELETE FROM shift WHERE staff_id = :s"), {"s": w.staff["meals"]})
    outcome = planning.intraday(db, now=TEST_NOW, settings=SETTINGS, within=w.street.path, planner=PLANNER)
    assert len(outcome.planned) == 1
    row = task_row(db, tasks["meals_staff"])
    assert row.status == "published" and row.assignee_staff_id == w.staff["nurse"]
    moved = [e for e in trace(db, tasks["meals_staff"]) if e.action == "assigned"][-1]
    assert moved.reason == "caregiver_unavailable" and moved.detail["from_staff_id"] == w.staff["meals"]
    assert moved.detail["caregiver_unavailable"] == "not_on_shift" and moved.detail["plan_id"] == outcome.planned[0]
    assert any(
        e.action == "note" and e.detail.get("notify_staff_id") == w.staff["meals"]
        for e in trace(db, tasks["meals_staff"])
    )


def test_a_cancelled_task_leaves_the_plan(db: Session) -> None:
    w, tasks, _ = live_day(db)
    tasks_service.move(
        db,
        task_id=tasks["later_2"],
        action=TaskAction.CANCELLED,
        to_status=TaskStatus.CANCELLED,
        allowed_from={TaskStatus.PUBLISHED},
        now=TEST_NOW,
        reason="老人住院",
    )
    outcome = planning.intraday(
        db, now=TEST_NOW + timedelta(minutes=1), settings=SETTINGS, within=w.street.path, planner=PLANNER
    )
    assert len(outcome.planned) == 1
    plan = plan_row(db, outcome.planned[0])
    stops = set(db.execute(text("SELECT task_id FROM plan_stop WHERE plan_id = :p"), {"p": plan.id}).scalars())
    assert tasks["later_2"] not in stops and tasks["later_1"] in stops
    assert {"task_id": tasks["later_2"], "status": "cancelled"} in plan.changes["left"]
    cancelled = task_row(db, tasks["later_2"])
    assert cancelled.route_sequence is None and cancelled.planned_start is None
    assert task_row(db, tasks["later_1"]).assignee_staff_id == w.staff["visitor"]  # published: stays
    assert plan.changes["moved"] == []
    again = planning.intraday(
        db, now=TEST_NOW + timedelta(minutes=2), settings=SETTINGS, within=w.street.path, planner=PLANNER
    )
    assert again.planned == [] and again.skipped == 1
