"""The coordinator's board (GET /api/tasks/board) and the alerts API (list, acknowledge, resolve): contents, the
scope rule (another community's coordinator sees nothing), and refusals in the one error shape.

The API stands at TEST_NOW (2026-11-22 14:00 in Shanghai); the tasks sit around it on that local day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alerts
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.roster.models import Shift, Staff, StaffRole
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_platform.users.models import Role
from tests import factories
from tests.conftest import TEST_NOW

H = timedelta(hours=1)


def _staff(db: Session, *, name: str, zone: int | None, max_tasks: int = 8) -> Staff:
    assert zone is not None
    row = Staff(
        name=name, phone="13900000000", role=StaffRole.CAREGIVER, skills=["visit"], home_area_id=zone,
        max_tasks_per_shift=max_tasks,
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    street = factories.area(db, name="测试街道", level=AreaLevel.STREET)
    east = factories.area(db, name="东社区", level=AreaLevel.COMMUNITY, parent=street)
    west = factories.area(db, name="西社区", level=AreaLevel.COMMUNITY, parent=street)
    wang = factories.resident(db, community=east, name="王秀英")
    li = factories.resident(db, community=west, name="李桂兰")
    zhang = _staff(db, name="张护理", zone=east.id, max_tasks=2)
    zhao = _staff(db, name="赵护理", zone=east.id)
    _staff(db, name="钱休班", zone=east.id)  # no shift that day: not on the board
    assert zhang.id is not None and zhao.id is not None
    db.add(Shift(staff_id=zhang.id, starts_at=TEST_NOW - 6 * H, ends_at=TEST_NOW + 2 * H))
    db.add(Shift(staff_id=zhao.id, starts_at=TEST_NOW - 1 * H, ends_at=TEST_NOW + 7 * H))
    db.flush()

    def task(resident: Any, start: timedelta, *, staff: int | None = None, kind: TaskKind = TaskKind.VISIT) -> int:
        task_id = tasks.create_task(
            db, kind=kind, source=TaskSource.MANUAL, now=TEST_NOW - 8 * H, window_start=TEST_NOW + start,
            window_end=TEST_NOW + start + H, resident_id=resident.id, staff_id=staff,
        )  # fmt: skip
        assert task_id is not None
        return task_id

    ids = {
        "done_soon": task(wang, 1 * H, staff=zhang.id),
        "late": task(wang, -30 * timedelta(minutes=1), staff=zhang.id),  # window opened 30 min ago
        "missed": task(wang, -3 * H),  # window closed 2 h ago, nobody
        "unassigned": task(wang, 2 * H),
        "tomorrow": task(wang, 20 * H),
        "west": task(li, 1 * H),
    }
    alert_id = alerts.raise_alert(
        db, kind=AlertKind.TASK_UNASSIGNED, subject_key=f"task:{ids['unassigned']}", message="无人可派",
        now=TEST_NOW, task_id=ids["unassigned"], severity=2,
    )  # fmt: skip
    west_alert = alerts.raise_alert(
        db, kind=AlertKind.TASK_UNASSIGNED, subject_key=f"task:{ids['west']}", message="无人可派",
        now=TEST_NOW, task_id=ids["west"],
    )  # fmt: skip
    coordinator = factories.user(db, role=Role.COORDINATOR, scope_area=east)
    west_coordinator = factories.user(db, role=Role.COORDINATOR, scope_area=west)
    street_supervisor = factories.user(db, role=Role.SUPERVISOR, scope_area=street)
    db.flush()
    return {
        "street": street, "east": east, "west": west, "zhang": zhang, "zhao": zhao, "tasks": ids,
        "alert": alert_id, "west_alert": west_alert, "coordinator": coordinator.username,
        "west_coordinator": west_coordinator.username, "supervisor": street_supervisor.username,
    }  # fmt: skip


def _board(client: TestClient, world: dict[str, Any], who: str = "coordinator", **params: Any) -> Any:
    headers = factories.login(client, world[who])
    return client.get("/api/tasks/board", params={"area_id": world["east"].id, **params}, headers=headers)


def test_the_board_shows_the_day_by_caregiver_with_the_unassigned_lane(
    client: TestClient, world: dict[str, Any]
) -> None:
    answer = _board(client, world)
    assert answer.status_code == 200, answer.text
    board = answer.json()
    ids = world["tasks"]
    assert board["date"] == "2026-11-22"
    assert board["timezone"] == "Asia/Shanghai"
    assert board["area"] == {"id": world["east"].id, "name": "东社区", "level": "community"}
    staff = {s["name"]: s for s in board["staff"]}
    assert set(staff) == {"张护理", "赵护理"}  # 钱休班 has no shift that day
    assert [t["id"] for t in staff["张护理"]["tasks"]] == [ids["late"], ids["done_soon"]]
    assert staff["张护理"]["load"] == 2
    assert staff["张护理"]["max_tasks_per_shift"] == 2
    assert staff["张护理"]["shifts"][0]["on_call"] is False
    assert staff["赵护理"]["tasks"] == []
    assert [t["id"] for t in board["unassigned"]] == [ids["missed"], ids["unassigned"]]
    assert board["unassigned"][0]["resident_name"] == "王秀英"
    assert board["late"] == [ids["late"]]
    assert board["missed"] == [ids["missed"]]
    assert board["counts"] == {"assigned": 2, "planned": 2}
    assert [a["id"] for a in board["alerts"]] == [world["alert"]]  # the west community's alert is not here
    assert board["version"] >= max(t["version"] for t in board["unassigned"])


def test_tomorrow_and_a_street_board(client: TestClient, world: dict[str, Any]) -> None:
    tomorrow = _board(client, world, date="2026-11-23").json()
    assert [t["id"] for t in tomorrow["unassigned"]] == [world["tasks"]["tomorrow"]]
    assert tomorrow["late"] == [] and tomorrow["missed"] == []
    headers = factories.login(client, world["supervisor"])
    street = client.get("/api/tasks/board", params={"area_id": world["street"].id}, headers=headers).json()
    assert world["tasks"]["west"] in [t["id"] for t in street["unassigned"]]
    assert {a["id"] for a in street["alerts"]} == {world["alert"], world["west_alert"]}


def test_another_communitys_coordinator_sees_nothing(client: TestClient, world: dict[str, Any]) -> None:
    refused = _board(client, world, who="west_coordinator")
    assert refused.status_code == 404
    assert refused.json()["code"] == "area_not_found"
    headers = factories.login(client, world["west_coordinator"])
    street = client.get("/api/tasks/board", params={"area_id": world["street"].id}, headers=headers)
    assert street.status_code == 404, "a coordinator's street is above their community: not theirs"
    listed = client.get("/api/alerts", headers=headers).json()
    assert [a["id"] for a in listed] == [world["west_alert"]]
    other = client.post(f"/api/alerts/{world['alert']}/acknowledge", headers=headers)
    assert other.status_code == 404
    assert other.json()["code"] == "alert_not_found"


def test_alerts_are_acknowledged_then_resolved_with_a_resolution(client: TestClient, world: dict[str, Any]) -> None:
    headers = factories.login(client, world["coordinator"])
    alert_id = world["alert"]
    listed = client.get("/api/alerts", params={"area_id": world["east"].id, "kind": "task_unassigned"}, headers=headers)
    assert [a["id"] for a in listed.json()] == [alert_id]
    taken = client.post(f"/api/alerts/{alert_id}/acknowledge", headers=headers)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "acknowledged"
    assert taken.json()["acknowledged_by_name"] == "测试coordinator"
    again = client.post(f"/api/alerts/{alert_id}/acknowledge", headers=headers)
    assert again.status_code == 409
    assert again.json()["code"] == "alert_state_conflict"
    assert again.json()["state"] == "acknowledged"
    done = client.post(f"/api/alerts/{alert_id}/resolve", json={"resolution": "已改派赵护理"}, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "resolved"
    assert done.json()["resolution"] == "已改派赵护理"
    assert client.get("/api/alerts", headers=headers).json() == []
    resolved = client.get("/api/alerts", params={"state": "resolved"}, headers=headers).json()
    assert [a["id"] for a in resolved] == [alert_id]
    late = client.post(f"/api/alerts/{alert_id}/resolve", json={"resolution": "again"}, headers=headers)
    assert late.status_code == 409
    assert _board(client, world).json()["alerts"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/tasks/board", {}, 422, "validation_error"),
        ("/api/tasks/board", {"area_id": "x"}, 422, "validation_error"),
        ("/api/tasks/board", {"area_id": 2**31 - 1}, 404, "area_not_found"),
        ("/api/tasks/board", {"area_id": 1, "date": "2026-13-01"}, 422, "validation_error"),
        ("/api/tasks/board", {"area_id": 1, "date": "1900-01-01"}, 422, "validation_error"),
        ("/api/alerts", {"state": "gone"}, 422, "validation_error"),
        ("/api/alerts", {"kind": "nope"}, 422, "validation_error"),
        ("/api/alerts", {"area_id": 2**31 - 1}, 404, "area_not_found"),
    ],
)
def test_bad_requests_are_refused_in_the_one_shape(
    client: TestClient, world: dict[str, Any], path: str, params: dict[str, Any], status: int, code: str
) -> None:
    answer = client.get(path, params=params, headers=factories.login(client, world["coordinator"]))
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert answer.json()["detail"]


def test_refusals_on_alert_actions(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    headers = factories.login(client, world["coordinator"])
    blank = client.post(f"/api/alerts/{world['alert']}/resolve", json={"resolution": "   "}, headers=headers)
    assert blank.status_code == 422
    assert blank.json()["code"] == "validation_error"
    missing = client.post("/api/alerts/999999999/acknowledge", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "alert_not_found"
    caregiver = factories.user(db, role=Role.CAREGIVER)
    forbidden = client.get("/api/tasks/board", params={"area_id": world["east"].id},
                           headers=factories.login(client, caregiver.username))  # fmt: skip
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    state = db.execute(text("SELECT state FROM alert WHERE id = :id"), {"id": world["alert"]}).scalar()
    assert state == "open"
