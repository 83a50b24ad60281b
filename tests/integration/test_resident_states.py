"""Temporary states and their effects: tasks, meal orders, plan, devices, alarms (same transaction)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_platform.tasks.service import create_task
from tests import factories as f
from tests.conftest import TEST_NOW
from tests.integration.care_support import care_world
from tests.integration.test_alarms import raise_event


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    return care_world(db)


def _visit(db: Session, resident_id: int, days: int, slot: str) -> int:
    task_id = create_task(
        db,
        kind=TaskKind.VISIT,
        source=TaskSource.PLAN,
        now=TEST_NOW,
        window_start=TEST_NOW + timedelta(days=days),
        window_end=TEST_NOW + timedelta(days=days, hours=2),
        resident_id=resident_id,
        service="visit",
        slot=slot,
    )
    assert task_id is not None
    return task_id


def _order(db: Session, world: dict[str, Any], days: int) -> int:
    return int(
        db.execute(
            text(
                "INSERT INTO meal_order (resident_id, meal_point_id, service_date, meal, mode, source, deadline,"
                " ordered_at) VALUES (:r, :p, :d, 'lunch', 'delivery', 'plan', :dl, :now) RETURNING id"
            ),
            {
                "r": world["resident"].id,
                "p": world["meal_point"],
                "d": (TEST_NOW + timedelta(days=days)).date(),
                "dl": TEST_NOW + timedelta(days=days),
                "now": TEST_NOW,
            },
        ).scalar_one()
    )


def _status(db: Session, table: str, row_id: int) -> str:
    return str(db.execute(text(f"SELECT status FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one())


def test_a_hospital_stay_suspends_tasks_cancels_orders_and_discharge_brings_a_visit(
    client: TestClient, db: Session, clock: Any, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    inside, after = _visit(db, rid, 1, "w1"), _visit(db, rid, 9, "w2")
    order = _order(db, world, 2)
    db.commit()
    headers = f.login(client, world["coordinator"].username)
    body = {"kind": "hospital", "starts_at": TEST_NOW.isoformat(), "reason": "肺炎住院"}
    started = client.post(f"/api/residents/{rid}/states", json=body, headers=headers)
    assert started.status_code == 201, started.text
    state_id = started.json()["id"]
    assert (_status(db, "task", inside), _status(db, "task", after)) == ("suspended", "suspended")
    assert _status(db, "meal_order", order) == "cancelled"
    overlap = client.post(f"/api/residents/{rid}/states", json=body, headers=headers)
    assert overlap.status_code == 409 and overlap.json()["code"] == "state_overlaps"
    clock.advance(timedelta(days=3))
    headers = f.login(client, world["coordinator"].username)  # a token lasts one shift
    discharge = TEST_NOW + timedelta(days=3)
    ended = client.post(
        f"/api/residents/{rid}/states/{state_id}/end", json={"ends_at": discharge.isoformat()}, headers=headers
    )
    assert ended.status_code == 200, ended.text
    assert (_status(db, "task", inside), _status(db, "task", after)) == ("suspended", "planned")  # w1's window passed
    due = db.execute(text("SELECT reassessment_due_on FROM resident WHERE id = :r"), {"r": rid}).scalar_one()
    assert due == discharge.date()
    visit = db.execute(
        text("SELECT priority, window_start, window_end FROM task WHERE resident_id = :r AND slot = :s"),
        {"r": rid, "s": f"discharge:{state_id}"},
    ).one()
    assert visit.priority == 2 and visit.window_end - visit.window_start == timedelta(hours=24)
    again = client.post(
        f"/api/residents/{rid}/states/{state_id}/end", json={"ends_at": discharge.isoformat()}, headers=headers
    )
    assert again.status_code == 409 and again.json()["code"] == "state_ended"


def test_death_ends_everything_retires_devices_and_notes_open_alarms(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    task = _visit(db, rid, 1, "w1")
    raise_event(db, world["unit"], "sos", at=TEST_NOW - timedelta(minutes=5))
    [alarm_id] = intake_pending(db, now=TEST_NOW - timedelta(minutes=5))
    headers = f.login(client, world["coordinator"].username)
    plan = {"valid_from": "2026-11-22", "visit_tier": "key"}
    assert client.post(f"/api/residents/{rid}/care-plans", json=plan, headers=headers).status_code == 201
    body = {"kind": "deceased", "starts_at": TEST_NOW.isoformat(), "reason": "家属告知"}
    response = client.post(f"/api/residents/{rid}/states", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert db.execute(text("SELECT status FROM resident WHERE id = :r"), {"r": rid}).scalar_one() == "deceased"
    assert _status(db, "task", task) == "cancelled"
    assert (
        db.execute(text("SELECT state FROM device WHERE serial = :s"), {"s": world["unit"]}).scalar_one() == "retired"
    )
    valid_to = db.execute(text("SELECT valid_to FROM care_plan WHERE resident_id = :r"), {"r": rid}).scalar_one()
    assert valid_to is not None
    (state,) = db.execute(text("SELECT state FROM alarm WHERE id = :id"), {"id": alarm_id}).one()
    assert state == "new"  # an operator closes it
    notes = (
        db.execute(
            text("SELECT reason FROM alarm_transition WHERE alarm_id = :id AND action = 'note'"), {"id": alarm_id}
        )
        .scalars()
        .all()
    )
    assert notes == ["resident_deceased"]
    ended = client.post(
        f"/api/residents/{rid}/states/{response.json()['id']}/end",
        json={"ends_at": TEST_NOW.isoformat()},
        headers=headers,
    )
    assert ended.status_code == 409 and ended.json()["code"] == "state_final"


def test_inactivity_of_a_resident_in_hospital_is_closed_by_the_system_but_an_sos_opens(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    db.execute(
        text(
            "INSERT INTO resident_state (resident_id, kind, starts_at, reason, recorded_at)"
            " VALUES (:r, 'hospital', :at, '住院', :at)"
        ),
        {"r": rid, "at": TEST_NOW - timedelta(days=1)},
    )
    raise_event(db, world["unit"], "inactivity", at=TEST_NOW)
    raise_event(db, world["unit"], "sos", at=TEST_NOW)
    quiet, sos = intake_pending(db, now=TEST_NOW)
    rows = {
        r.type: r
        for r in db.execute(
            text("SELECT id, type, state, outcome FROM alarm WHERE id IN (:a, :b)"), {"a": quiet, "b": sos}
        )
    }
    assert (rows["inactivity"].state, rows["inactivity"].outcome) == ("resolved", "resident_away")
    assert rows["sos"].state == "new"
    reason, detail = db.execute(
        text("SELECT reason, detail FROM alarm_transition WHERE alarm_id = :id AND action = 'resolve'"), {"id": quiet}
    ).one()
    assert reason == "resident_away" and detail["state_kind"] == "hospital"
    db.commit()
    card = client.get(f"/api/alarms/{sos}/card", headers=f.login(client, world["operator"].username))
    assert card.status_code == 200, card.text
    assert card.json()["resident_state"]["kind"] == "hospital"
