"""Urgent insertion on PostgreSQL (issue 12): an urgent task goes into the live route of the caregiver who absorbs it
cheapest, only that caregiver's later stops move (and stay inside their windows), nobody else's task changes, the
insertion is recorded as a plan, and nobody qualified leaves it planned with an alert that says why in words.

The world (tests/integration/urgent_support.py): three caregivers with published routes in three corners of a
community, the urgent resident in 甲's corner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

import eldercare_platform.planning  # noqa: F401 - registers the plan recorder, as the API and the scheduler do
from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_platform.alarms import service as alarm_service
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import TaskKind, TaskSource
from tests import factories as f
from tests.conftest import TEST_NOW, migrated_database, platform_settings, unpooled_engine
from tests.integration.lifecycle_support import build
from tests.integration.urgent_support import (
    STARTS,
    ServedApi,
    UrgentWorld,
    build_urgent_world,
    messages_until,
    published_plan,
    snapshot,
)

LIVE = "/api/me/tasks/live"


@pytest.fixture
def w(db: Session) -> UrgentWorld:
    return build_urgent_world(db)


def urgent(db: Session, w: UrgentWorld, **extra: Any) -> int:
    task_id = tasks.create_urgent_task(
        db,
        kind=TaskKind.URGENT_VISIT,
        source=TaskSource.WELFARE,
        now=TEST_NOW,
        within=timedelta(minutes=30),
        resident_id=w.resident.id,
        reason="welfare call: nobody answered",
        **extra,
    )
    assert task_id is not None
    return task_id


def task(db: Session, task_id: int) -> Any:
    return db.execute(
        text(
            "SELECT id, status, assignee_staff_id, route_sequence, planned_start, plan_id, window_start, window_end"
            " FROM task WHERE id = :id"
        ),
        {"id": task_id},
    ).one()


def test_the_urgent_task_goes_into_the_route_that_absorbs_it_cheapest(db: Session, w: UrgentWorld) -> None:
    nightly = published_plan(db, w)
    others = w.routes["乙"] + w.routes["丙"]
    before = snapshot(db, others)
    first = task(db, w.routes["甲"][0])
    task_id = urgent(db, w)
    mine = task(db, task_id)
    assert (mine.status, mine.assignee_staff_id) == ("published", w.staff["甲"])
    assert mine.route_sequence == 1 and TEST_NOW <= mine.planned_start <= mine.window_end
    # 甲's later stops: one place down the route, never earlier, still inside their windows
    route = [task(db, task_id) for task_id in w.routes["甲"]]
    assert [stop.route_sequence for stop in route] == [2, 3, 4]
    assert all(stop.window_start <= stop.planned_start <= stop.window_end for stop in route)
    assert route[0].planned_start > first.planned_start  # the first visit starts a few minutes later…
    assert route[0].planned_start - first.planned_start < timedelta(minutes=10)
    assert [stop.planned_start for stop in route[1:]] == [TEST_NOW + STARTS[1], TEST_NOW + STARTS[2]]  # …the rest not
    assert {stop.plan_id for stop in route} == {mine.plan_id}
    moved = db.execute(
        text("SELECT detail FROM task_event WHERE task_id = :id AND action = 'rescheduled'"), {"id": route[0].id}
    ).scalar_one()
    assert moved["urgent_task_id"] == task_id and moved["delay_minutes"] > 0
    # …and every other caregiver's tasks are exactly as they were (staff, order, planned start, plan, version)
    assert snapshot(db, others) == before
    # the plan row: who, the added km, the delays, what changed since the nightly plan, the whole day's stops
    plan = db.execute(text("SELECT * FROM plan WHERE id = :id"), {"id": mine.plan_id}).one()
    assert (plan.kind, plan.status, plan.area_id, plan.previous_plan_id) == (
        "urgent_insertion",
        "published",
        w.community.id,
        nightly,
    )
    assert plan.solver == "greedy.insert" and plan.changes["newly_assigned"] == [
        {"task_id": task_id, "staff_id": w.staff["甲"]}
    ]
    assert [shift["task_id"] for shift in plan.changes["time_shifts"]] == [w.routes["甲"][0]]
    assert 0 < plan.cost["added_km"] < 1.0 and plan.cost["delayed_tasks"] == 1
    assert plan.cost["travel_km"] == round(12.5 + plan.cost["added_km"], 3)
    assert plan.inputs["candidates"] == 3 and plan.inputs["stops_considered"] == 9
    stops = db.execute(
        text("SELECT task_id, staff_id, sequence FROM plan_stop WHERE plan_id = :p ORDER BY staff_id, sequence"),
        {"p": plan.id},
    ).all()
    expected = [(tid, w.staff["甲"], n) for n, tid in enumerate([task_id, *w.routes["甲"]], start=1)]
    for name in ("乙", "丙"):
        expected += [(tid, w.staff[name], n) for n, tid in enumerate(w.routes[name], start=1)]
    assert [(s.task_id, s.staff_id, s.sequence) for s in stops] == sorted(expected, key=lambda s: (s[1], s[2]))
    assigned = db.execute(
        text("SELECT detail FROM task_event WHERE task_id = :id AND action = 'assigned'"), {"id": task_id}
    ).scalar_one()
    assert assigned["chosen_by"] == "urgent_insertion" and assigned["added_km"] == plan.cost["added_km"]


def test_a_caregiver_busy_past_the_window_is_not_chosen(db: Session, w: UrgentWorld) -> None:
    """甲 checked in at a long visit until 15:00: the urgent visit (14:00–14:30) goes to the next cheapest."""
    busy = w.routes["甲"][0]
    db.execute(
        text(
            "UPDATE task SET status = 'checked_in', checked_in_at = :at, duration_minutes = 90, window_start = :at"
            " WHERE id = :id"
        ),
        {"at": TEST_NOW - timedelta(minutes=30), "id": busy},
    )
    before = snapshot(db, w.routes["甲"])
    task_id = urgent(db, w)
    assert task(db, task_id).assignee_staff_id in (w.staff["乙"], w.staff["丙"])
    assert snapshot(db, w.routes["甲"]) == before


@pytest.mark.parametrize(
    ("how", "reason", "words"),
    [
        ("declined", "declined_by_all", "回避"),
        ("off_shift", "no_staff_on_shift", "无人在班"),
        ("busy", "window_infeasible", "赶到"),
    ],
)
def test_nobody_qualified_leaves_it_planned_with_an_alert_in_words(
    db: Session, w: UrgentWorld, how: str, reason: str, words: str
) -> None:
    everyone = list(w.staff.values())
    if how == "declined":
        for staff_id in everyone:
            db.execute(
                text(
                    "INSERT INTO staff_preference (staff_id, resident_id, kind, recorded_at)"
                    " VALUES (:s, :r, 'declined', :now)"
                ),
                {"s": staff_id, "r": w.resident.id, "now": TEST_NOW},
            )
    elif how == "off_shift":
        db.execute(text("UPDATE shift SET ends_at = :t WHERE staff_id = ANY(:s)"), {"t": TEST_NOW, "s": everyone})
    else:  # everyone checked in at a visit that lasts past the urgent window
        for name in w.staff:
            db.execute(
                text(
                    "UPDATE task SET status = 'checked_in', checked_in_at = :at, duration_minutes = 120,"
                    " window_start = :at WHERE id = :id"
                ),
                {"at": TEST_NOW - timedelta(minutes=10), "id": w.routes[name][0]},
            )
    everything = [tid for route in w.routes.values() for tid in route]
    before = snapshot(db, everything)
    task_id = urgent(db, w)
    row = task(db, task_id)
    assert (row.status, row.assignee_staff_id) == ("planned", None)
    alert = db.execute(
        text("SELECT kind, severity, message, detail FROM alert WHERE subject_key = :k"), {"k": f"task:{task_id}"}
    ).one()
    assert (alert.kind, alert.severity, alert.detail["reason"]) == ("task_unassigned", 1, reason)
    assert words in alert.message and reason not in alert.message
    unassigned = db.execute(
        text("SELECT reason FROM plan_unassigned WHERE plan_id = :p AND task_id = :t"),
        {"p": alert.detail["plan_id"], "t": task_id},
    ).scalar_one()
    assert unassigned == reason
    assert snapshot(db, everything) == before


def test_without_live_routes_insertion_is_the_nearest_available(db: Session) -> None:
    lw = build(db)  # two caregivers on shift, no tasks: the near one is nearest
    task_id = tasks.create_urgent_task(
        db,
        kind=TaskKind.URGENT_VISIT,
        source=TaskSource.WELFARE,
        now=TEST_NOW,
        within=timedelta(minutes=60),
        resident_id=lw.resident.id,
    )
    assert task_id is not None
    row = task(db, task_id)
    assert (row.status, row.assignee_staff_id, row.route_sequence) == ("published", lw.near_staff, None)
    plan = db.execute(text("SELECT solver, cost FROM plan WHERE id = :id"), {"id": row.plan_id}).one()
    assert plan.solver == "nearest_available" and plan.cost["distance_km"] < 1


def test_a_dispatch_from_the_console_inserts_into_the_route(client: TestClient, db: Session, w: UrgentWorld) -> None:
    alarm_id = alarm_service.open_welfare_call(
        db, alarm_type="visit_no_answer", resident_id=w.resident.id, now=TEST_NOW, reason="visit_no_answer"
    )
    db.commit()
    operator = f.login(client, w.operator.username)
    assert client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=operator).status_code == 200
    sent = client.post(f"/api/alarms/{alarm_id}/actions", headers=operator, json={"action": "dispatch"})
    assert sent.status_code == 200, sent.text
    task_id = sent.json()["task_id"]
    row = task(db, task_id)
    assert (row.status, row.assignee_staff_id, row.route_sequence) == ("published", w.staff["甲"], 1)
    # the coordinator's board: 甲's lane in route order with planned starts, the urgent one flagged, the lane's km
    coordinator = f.login(client, w.coordinator.username)
    board = client.get(f"/api/tasks/board?area_id={w.community.id}", headers=coordinator).json()
    lanes = {lane["id"]: lane for lane in board["staff"]}
    mine = lanes[w.staff["甲"]]
    assert [t["id"] for t in mine["tasks"]] == [task_id, *w.routes["甲"]]
    assert [t["route_sequence"] for t in mine["tasks"]] == [1, 2, 3, 4]
    assert [t["urgent_inserted"] for t in mine["tasks"]] == [True, False, False, False]
    assert all(t["planned_start"] for t in mine["tasks"])
    assert 1.0 < mine["travel_km"] < lanes[w.staff["乙"]]["travel_km"] + 1.0
    assert not any(t["urgent_inserted"] for t in lanes[w.staff["乙"]]["tasks"])


# --- the push: the caregiver's live channel on the real API ------------------------------------------------------


@dataclass
class Live:
    api: ServedApi
    world: UrgentWorld
    url: str


@pytest.fixture(scope="module")
def live(postgres: PostgresInstance, mosquitto: MosquittoInstance) -> Iterator[Live]:
    """The urgent world committed in a database of its own, served by the real API (uvicorn) on TEST_NOW."""
    url = migrated_database(postgres, "urgent_live")
    engine = unpooled_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        world = build_urgent_world(session)
        alarm_id = alarm_service.open_welfare_call(
            session, alarm_type="visit_no_answer", resident_id=world.resident.id, now=TEST_NOW, reason="visit_no_answer"
        )
        session.commit()
    engine.dispose()
    world.alarm_id = alarm_id
    api = ServedApi(platform_settings(url, mosquitto), FixedClock(TEST_NOW))
    try:
        yield Live(api=api, world=world, url=url)
    finally:
        api.stop()


def test_a_dispatch_from_an_alarm_ends_on_the_caregivers_live_channel(live: Live) -> None:
    w, api = live.world, live.api
    chosen, other = w.caregivers["甲"], w.caregivers["乙"]
    with (
        api.socket(LIVE, api.token(chosen.username)) as (socket, hello),
        api.socket(LIVE, api.token(other.username)) as (other_socket, other_hello),
    ):
        assert hello["type"] == "hello" and hello["staff_id"] == w.staff["甲"]
        assert {m["task_id"] for m in hello["missed"]} == set(w.routes["甲"])  # their route, nobody else's
        assert {m["task_id"] for m in other_hello["missed"]} == {w.routes["乙"][0], w.routes["乙"][2]}  # published
        operator = api.token(w.operator.username)
        api.post(f"/api/alarms/{w.alarm_id}/acknowledge", operator)
        task_id = api.post(f"/api/alarms/{w.alarm_id}/actions", operator, {"action": "dispatch"})["task_id"]
        pushed = messages_until(socket, lambda m: m.get("task_id") == task_id)
        if len({m.get("task_id") for m in pushed} & set(w.routes["甲"])) < 3:
            pushed += messages_until(socket, lambda m: m.get("task_id") == w.routes["甲"][-1])
        urgent = next(m for m in pushed if m.get("task_id") == task_id)
        assert (urgent["change"], urgent["task"]["status"], urgent["task"]["kind"]) == (
            "published",
            "published",
            "alarm_response",
        )
        assert urgent["route"]["sequence"] == 1 and urgent["task"]["home_latitude"] is not None
        moved = {m["task_id"]: m for m in pushed if m.get("task_id") in w.routes["甲"]}
        assert {m["change"] for m in moved.values()} == {"moved"}
        assert [moved[tid]["route"]["sequence"] for tid in w.routes["甲"]] == [2, 3, 4]
        # the other caregiver hears nothing: their next message is the answer to a ping
        other_socket.send("ping")
        assert json.loads(other_socket.recv(timeout=5)) == {"type": "pong"}
    # a reconnect after the hello's version gets what happened meanwhile, and only that
    with api.socket(LIVE, api.token(chosen.username), since=hello["version"]) as (_, resumed):
        assert {m["task_id"] for m in resumed["missed"]} == {task_id, *w.routes["甲"]}
        assert resumed["version"] > hello["version"]


def test_only_a_caregiver_with_a_staff_record_has_a_task_channel(live: Live) -> None:
    api = live.api
    with ws_connect(api.url.replace("http://", "ws://") + LIVE, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "token": api.token(live.world.coordinator.username)}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
