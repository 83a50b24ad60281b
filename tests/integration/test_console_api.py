"""What the console needs from the API (issue 9, findings 4 and 6): permissions that match the guards, refused
alarm requests with a code and structured context, and system trace reasons written as codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.alarms.jobs import EscalationPolicy, escalate, flag_substitute_cover
from eldercare_platform.users.models import Role
from eldercare_platform.users.permissions import ROLE_PERMISSIONS, Permission
from tests.integration.test_alarms import T0, auth, open_sos, raise_event, world

__all__ = ["world"]  # the fixture, shared with test_alarms.py

# One request per permission: a role gets 403 exactly when /api/auth/me does not list the permission.
GUARDED = [
    ("get", "/api/alarms", Permission.ALARMS_READ),
    ("get", "/api/alarms/handover", Permission.ALARMS_READ),
    ("post", "/api/alarms/{alarm}/acknowledge", Permission.ALARMS_HANDLE),
    ("post", "/api/alarms/{alarm}/notes", Permission.ALARMS_HANDLE),
    ("put", "/api/alarm-types/low_battery", Permission.ALARM_TYPES_EDIT),
    ("get", "/api/residents", Permission.RESIDENTS_READ),
    ("get", "/api/devices", Permission.DEVICES_READ),
    ("get", "/api/device-events", Permission.DEVICES_READ),
    ("post", "/api/devices/999999/commands", Permission.DEVICES_COMMAND),
    ("post", "/api/devices", Permission.DEVICES_ADMIN),
    ("get", "/api/users", Permission.USERS_ADMIN),
    ("get", "/api/system/status", Permission.SYSTEM_STATUS),
    ("get", "/api/residents/999999/assessments", Permission.CARE_PLANS_READ),
    ("post", "/api/residents/999999/care-plans", Permission.CARE_PLANS_EDIT),
    ("get", "/api/roster/staff", Permission.ROSTER_READ),
    ("post", "/api/roster/staff/999999/leave", Permission.ROSTER_EDIT),
    ("get", "/api/meals/orders", Permission.MEALS_READ),
    ("post", "/api/meals/orders/999999999/collected", Permission.MEALS_MANAGE),
    ("get", "/api/tasks", Permission.TASKS_READ),
    ("get", "/api/tasks/999999", Permission.TASKS_READ),
    ("get", "/api/tasks/999999/evv", Permission.TASKS_READ),
    ("post", "/api/tasks", Permission.TASKS_MANAGE),
    ("post", "/api/tasks/999999/assign", Permission.TASKS_MANAGE),
    ("post", "/api/tasks/999999/unassign", Permission.TASKS_MANAGE),
    ("post", "/api/tasks/999999/cancel", Permission.TASKS_MANAGE),
    ("post", "/api/tasks/999999/missed", Permission.TASKS_MANAGE),
    ("post", "/api/tasks/publish", Permission.TASKS_MANAGE),
    ("post", "/api/tasks/auto-assign", Permission.TASKS_MANAGE),
    ("get", "/api/me/tasks", Permission.TASKS_WORK),
    ("post", "/api/tasks/999999/accept", Permission.TASKS_WORK),
    ("post", "/api/tasks/999999/en-route", Permission.TASKS_WORK),
    ("post", "/api/tasks/999999/check-in", Permission.TASKS_WORK),
    ("post", "/api/tasks/999999/complete", Permission.TASKS_WORK),
    ("post", "/api/tasks/999999/no-answer", Permission.TASKS_WORK),
    ("post", "/api/tasks/999999/acknowledge", Permission.TASKS_WORK),
    ("get", "/api/me/residents", Permission.TASKS_WORK),
    ("get", "/api/supervision/alarms", Permission.SUPERVISION_READ),
    ("post", "/api/me/tasks/999999/photos", Permission.TASKS_WORK),
]


@pytest.mark.parametrize("role", list(Role))
def test_me_lists_exactly_what_the_guards_let_through(
    client: TestClient, db: Session, world: dict[str, Any], role: Role
) -> None:
    user = {
        Role.OPERATOR: world["operator"],
        Role.SUPERVISOR: world["supervisor_a"],
        Role.CAREGIVER: world["caregiver"],
        Role.COORDINATOR: world["coordinator_a"],
        Role.ADMIN: world["admin"],
    }[role]
    alarm_id = open_sos(db, world)
    db.commit()
    headers = auth(client, user)
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["permissions"] == sorted(ROLE_PERMISSIONS[role])
    for method, path, permission in GUARDED:
        body = {"text": "x"} if path.endswith("notes") else {"priority": 5} if "alarm-types" in path else None
        response = client.request(method, path.format(alarm=alarm_id), headers=headers, json=body)
        assert (response.status_code == 403) == (permission not in me["permissions"]), (role, path, response.text)


def test_me_tells_who_and_what_the_records_cover(client: TestClient, world: dict[str, Any]) -> None:
    supervisor = client.get("/api/auth/me", headers=auth(client, world["supervisor_a"])).json()
    assert supervisor["scope"] == {"kind": "area", "name": "雕庄街道"}
    assert "alarms.read" in supervisor["permissions"] and "alarms.handle" not in supervisor["permissions"]
    operator = client.get("/api/auth/me", headers=auth(client, world["operator"])).json()
    assert operator["scope"] == {"kind": "all", "name": None}
    assert {"alarms.read", "alarms.handle"} <= set(operator["permissions"])
    caregiver = client.get("/api/auth/me", headers=auth(client, world["caregiver"])).json()
    assert caregiver["role"] == "caregiver" and "alarms.read" not in caregiver["permissions"]


def test_a_lost_race_says_who_took_the_alarm_and_when_as_data(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    alarm_id = open_sos(db, world)
    taken_at = T0 + timedelta(seconds=7)
    service.acknowledge(db, user=world["operator2"], alarm_id=alarm_id, now=taken_at)
    db.commit()
    response = client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=auth(client, world["operator"]))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "alarm_already_acknowledged"
    assert body["by"] == world["operator2"].full_name and body["state"] == "acknowledged"
    assert datetime.fromisoformat(body["at"]) == taken_at  # a page shows it in its own time zone
    assert f"alarm {alarm_id}" in body["detail"]


@pytest.mark.parametrize(
    ("steps", "final", "status", "code"),
    [
        ([], ("resolve", {"outcome": "false_alarm", "reach_method": "phone"}), 409, "alarm_state_conflict"),
        (["acknowledge", "resolve"], ("acknowledge", None), 409, "alarm_resolved"),
        (
            ["acknowledge"],
            ("resolve", {"outcome": "referred", "reach_method": "not_reached"}),
            422,
            "dispatch_required",
        ),
        (["acknowledge"], ("actions", {"action": "call_back"}), 422, "result_required"),
        (["acknowledge"], ("actions", {"action": "call_emergency"}), 422, "service_required"),
    ],
)
def test_refusals_carry_a_code_pages_translate(
    client: TestClient,
    db: Session,
    world: dict[str, Any],
    steps: list[str],
    final: tuple[str, Any],
    status: int,
    code: str,
) -> None:
    alarm_id = open_sos(db, world)
    db.commit()
    op = auth(client, world["operator"])
    for step in steps:
        body = {"outcome": "assisted_by_phone", "reach_method": "phone"} if step == "resolve" else None
        assert client.post(f"/api/alarms/{alarm_id}/{step}", headers=op, json=body).status_code == 200
    path, body = final
    response = client.post(f"/api/alarms/{alarm_id}/{path}", headers=op, json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert isinstance(response.json()["detail"], str)


def test_an_unknown_alarm_is_not_found_with_a_code(client: TestClient, world: dict[str, Any]) -> None:
    response = client.get("/api/alarms/987654321/card", headers=auth(client, world["operator"]))
    assert response.status_code == 404
    assert response.json()["code"] == "alarm_not_found"


def test_system_reasons_are_codes_with_parameters(db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    raise_event(db, world["unit_a"], "cancel", at=T0 + timedelta(seconds=5))
    intake_pending(db, now=T0)
    escalate(db, now=T0 + timedelta(seconds=300), policy=EscalationPolicy())
    db.execute(
        text("INSERT INTO device_status (device_serial, online, last_seen_at) VALUES (:s, false, :seen)"),
        {"s": world["unit_b"], "seen": T0 - timedelta(hours=3)},
    )
    raise_event(db, world["unit_b"], "device_silent")
    [silent] = intake_pending(db, now=T0)
    flag_substitute_cover(db, now=T0)
    system = [t for t in service.trace(db, alarm_id=alarm_id) if t.user_name is None and t.reason]
    system += [t for t in service.trace(db, alarm_id=silent) if t.reason]
    assert [(t.reason, t.detail.get("reason_code")) for t in system] == [
        ("resident_pressed_cancel", "resident_pressed_cancel"),
        ("escalation_realert", "escalation_realert"),
        ("escalation_supervisor", "escalation_supervisor"),
        ("device_silent_substitute_cover", "device_silent_substitute_cover"),
    ]
    assert [t.detail.get("after_s") for t in system[1:3]] == [30, 90]
    assert system[3].detail["silent_for_s"] == 7200


@pytest.mark.parametrize("role", list(Role))
def test_every_role_gets_the_labels_pages_show(client: TestClient, world: dict[str, Any], role: Role) -> None:
    user = {
        Role.OPERATOR: world["operator"],
        Role.SUPERVISOR: world["supervisor_a"],
        Role.CAREGIVER: world["caregiver"],
        Role.COORDINATOR: world["coordinator_a"],
        Role.ADMIN: world["admin"],
    }[role]
    body = client.get("/api/meta/labels", headers=auth(client, user)).json()
    assert body["locales"] == ["zh-CN", "en"]
    assert body["labels"]["alarmState"]["new"] == {"zh-CN": "待接警", "en": "New"}
    assert body["labels"]["role"][role.value]["zh-CN"]
    refused = client.get("/api/meta/labels")
    assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
