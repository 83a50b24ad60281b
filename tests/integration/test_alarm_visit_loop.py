"""The alarm ↔ visit loop (闭环) on PostgreSQL: a dispatch is a task of the task engine whose progress shows on
the alarm's trace; an alarm closed as not reached (or needing it) gets one follow-up visit within 24 h; a welfare
call nobody answers gets exactly one urgent visit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service as alarm_service
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from tests import factories as f
from tests.conftest import TEST_NOW
from tests.integration.lifecycle_support import HOME, World, auth, build
from tests.integration.test_alarms import raise_event, settle_others_events


@pytest.fixture
def w(db: Session) -> World:
    settle_others_events(db)
    return build(db)


def open_alarm(db: Session, w: World) -> tuple[int, dict[str, str]]:
    unit = f.device(db, household_id=w.resident.household_id)
    raise_event(db, unit.serial, "sos")
    [alarm_id] = intake_pending(db, now=TEST_NOW)
    db.commit()
    return alarm_id, {}


def handle(client: TestClient, w: World, alarm_id: int) -> dict[str, str]:
    op = auth(client, w.operator)
    assert client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=op).status_code == 200
    return op


def task_row(db: Session, task_id: int) -> Any:
    return db.execute(
        text(
            "SELECT kind, source, priority, status, assignee_staff_id, alarm_id, window_start, window_end, slot"
            " FROM task WHERE id = :id"
        ),
        {"id": task_id},
    ).one()


def progress(client: TestClient, headers: dict[str, str], alarm_id: int) -> list[dict[str, Any]]:
    trace = client.get(f"/api/alarms/{alarm_id}/trace", headers=headers).json()
    return [line["detail"] for line in trace if line["action"] == "visit_progress"]


def test_dispatch_creates_the_task_and_its_progress_shows_on_the_alarm(
    client: TestClient, db: Session, w: World
) -> None:
    alarm_id, _ = open_alarm(db, w)
    op = handle(client, w, alarm_id)
    sent = client.post(
        f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "dispatch", "staff_id": w.far_staff}
    )
    assert sent.status_code == 200, sent.text
    task_id = sent.json()["task_id"]
    task = task_row(db, task_id)
    assert (task.kind, task.source, task.priority, task.status) == ("alarm_response", "alarm", 1, "published")
    assert task.assignee_staff_id == w.far_staff and task.alarm_id == alarm_id
    assert (task.window_start, task.window_end) == (TEST_NOW, TEST_NOW + timedelta(minutes=30))
    caregiver = auth(client, w.far_caregiver)
    for step, body in (
        ("accept", None),
        ("en-route", None),
        ("check-in", {"latitude": HOME[0], "longitude": HOME[1]}),
        (
            "complete",
            {
                "latitude": HOME[0],
                "longitude": HOME[1],
                "findings": {"resident_condition": "fair", "needs": ["nursing"], "notes": "摔倒后可自行站立"},
            },
        ),
    ):
        response = client.post(f"/api/tasks/{task_id}/{step}", headers=caregiver, json=body)
        assert response.status_code == 200, (step, response.text)
    lines = progress(client, op, alarm_id)
    assert [(line["task_id"], line["status"]) for line in lines] == [
        (task_id, "published"),
        (task_id, "en_route"),
        (task_id, "checked_in"),
        (task_id, "completed"),
    ]
    assert lines[0]["step"] == "accepted" and lines[0]["staff"] == {"id": w.far_staff, "name": "周护理"}
    assert lines[-1]["findings"]["resident_condition"] == "fair"
    assert lines[2]["location_verified"] is True


def test_dispatch_without_a_name_sends_the_nearest_on_shift(client: TestClient, db: Session, w: World) -> None:
    alarm_id, _ = open_alarm(db, w)
    op = handle(client, w, alarm_id)
    sent = client.post(f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "dispatch"})
    task = task_row(db, sent.json()["task_id"])
    assert task.assignee_staff_id == w.near_staff and task.status == "published"


def test_dispatch_with_nobody_on_shift_stays_planned_with_an_alert(client: TestClient, db: Session, w: World) -> None:
    db.execute(text("DELETE FROM shift WHERE staff_id IN (:a, :b)"), {"a": w.near_staff, "b": w.far_staff})
    alarm_id, _ = open_alarm(db, w)
    op = handle(client, w, alarm_id)
    sent = client.post(f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "dispatch"})
    task_id = sent.json()["task_id"]
    assert task_row(db, task_id).status == "planned"
    alert = db.execute(
        text("SELECT state, severity FROM alert WHERE kind = 'task_unassigned' AND subject_key = :s"),
        {"s": f"task:{task_id}"},
    ).one()
    assert tuple(alert) == ("open", 1)


@pytest.mark.parametrize(
    ("resolution", "follows_up"),
    [
        ({"outcome": "referred", "reach_method": "not_reached"}, True),
        ({"outcome": "taken_to_hospital", "reach_method": "emergency_services"}, True),
        ({"outcome": "assisted_at_home", "reach_method": "staff_at_home", "follow_up": True}, True),
        ({"outcome": "assisted_at_home", "reach_method": "staff_at_home"}, False),
    ],
)
def test_closing_not_reached_or_needing_it_books_one_follow_up_visit_within_24h(
    client: TestClient, db: Session, w: World, resolution: dict[str, Any], follows_up: bool
) -> None:
    alarm_id, _ = open_alarm(db, w)
    op = handle(client, w, alarm_id)
    client.post(f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "dispatch", "staff_id": w.near_staff})
    closed = client.post(f"/api/alarms/{alarm_id}/resolve", headers=op, json=resolution)
    assert closed.status_code == 200, closed.text
    rows = db.execute(
        text(
            "SELECT id, source, priority, status, window_end, slot FROM task WHERE alarm_id = :a AND kind = 'follow_up'"
        ),
        {"a": alarm_id},
    ).all()
    if not follows_up:
        assert rows == []
        return
    [row] = rows
    assert (row.source, row.priority, row.status, row.slot) == ("alarm", 2, "planned", f"alarm:{alarm_id}:follow_up")
    assert row.window_end <= TEST_NOW + timedelta(hours=24)
    last = progress(client, op, alarm_id)[-1]
    assert (last["task_id"], last["status"], last["kind"]) == (row.id, "planned", "follow_up")


def test_a_welfare_call_nobody_answers_gets_exactly_one_urgent_visit(client: TestClient, db: Session, w: World) -> None:
    welfare_id = alarm_service.open_welfare_call(
        db, alarm_type="visit_no_answer", resident_id=w.resident.id, now=TEST_NOW, reason="上门无人应答"
    )
    assert welfare_id is not None
    db.commit()
    op = handle(client, w, welfare_id)
    first = client.post(
        f"/api/alarms/{welfare_id}/actions", headers=op, json={"action": "call_back", "result": "no_answer"}
    )
    assert first.status_code == 200, first.text
    second = client.post(
        f"/api/alarms/{welfare_id}/actions", headers=op, json={"action": "call_back", "result": "no_answer"}
    )
    assert second.status_code == 200
    visits = (
        db.execute(text("SELECT id FROM task WHERE alarm_id = :a AND kind = 'urgent_visit'"), {"a": welfare_id})
        .scalars()
        .all()
    )
    assert len(visits) == 1 and first.json()["task_id"] == visits[0]
    task = task_row(db, visits[0])
    assert (task.source, task.priority, task.slot, task.status) == ("welfare", 1, f"welfare:{welfare_id}", "published")
    assert task.assignee_staff_id == w.near_staff
    assert task.window_end == TEST_NOW + timedelta(minutes=60)
    assert first.json()["alarm"]["dispatched"] is True and first.json()["alarm"]["device_serial"] is None
    [line] = progress(client, op, welfare_id)
    assert line["task_id"] == visits[0] and line["kind"] == "urgent_visit"
    # a reached call-back makes no visit
    reached = client.post(
        f"/api/alarms/{welfare_id}/actions", headers=op, json={"action": "call_back", "result": "reached"}
    )
    assert reached.status_code == 200 and reached.json()["task_id"] is None


@pytest.mark.parametrize(
    ("alarm_type", "outcome", "due_now"),
    [("fall", "taken_to_hospital", True), ("sos", "taken_to_hospital", False), ("fall", "assisted_by_phone", False)],
)
def test_a_fall_taken_to_hospital_makes_the_reassessment_due_today(
    client: TestClient, db: Session, w: World, alarm_type: str, outcome: str, due_now: bool
) -> None:
    later = (TEST_NOW + timedelta(days=120)).date()
    db.execute(text("UPDATE resident SET reassessment_due_on = :d WHERE id = :r"), {"d": later, "r": w.resident.id})
    unit = f.device(db, household_id=w.resident.household_id, kind="fall_detector")  # type: ignore[arg-type]
    raise_event(db, unit.serial, alarm_type)
    [alarm_id] = intake_pending(db, now=TEST_NOW)
    db.commit()
    op = handle(client, w, alarm_id)
    closed = client.post(
        f"/api/alarms/{alarm_id}/resolve", headers=op, json={"outcome": outcome, "reach_method": "phone"}
    )
    assert closed.status_code == 200, closed.text
    due = db.execute(text("SELECT reassessment_due_on FROM resident WHERE id = :r"), {"r": w.resident.id}).scalar()
    today = TEST_NOW.astimezone(LOCAL_TIMEZONE).date()
    assert due == (today if due_now else later)
