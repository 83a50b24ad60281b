"""The task lifecycle on PostgreSQL: every transition with its trace, the 409s, scope and ownership, the caregiver's
steps with `at` bounds, EVV, far check-ins, problems found → follow-up + alert, nobody answers → welfare call,
missed → reassign / escalate, auto-assign. The API stands at TEST_NOW (FixedClock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from tests.conftest import TEST_NOW
from tests.integration.lifecycle_support import (
    FAR,
    HOME,
    NEAR,
    TODAY,
    World,
    auth,
    build,
    iso,
    new_task,
    published_task,
)


@pytest.fixture
def w(db: Session) -> World:
    return build(db)


def actions(client: TestClient, headers: dict[str, str], task_id: int) -> list[str]:
    return [line["action"] for line in client.get(f"/api/tasks/{task_id}", headers=headers).json()["trace"]]


def post(client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> Any:
    return client.post(path, headers=headers, json=body)


def test_the_whole_life_of_a_visit_with_its_trace_and_evv(client: TestClient, w: World) -> None:
    coordinator, caregiver = auth(client, w.coordinator), auth(client, w.near_caregiver)
    task = new_task(client, coordinator, w.resident.id, notes="家属来电")
    assert (task["status"], task["source"], task["kind"]) == ("planned", "manual", "visit")
    task_id = task["id"]
    assigned = post(client, f"/api/tasks/{task_id}/assign", coordinator, {"staff_id": w.near_staff, "reason": "近"})
    assert assigned.json()["status"] == "assigned" and assigned.json()["assignee_staff_id"] == w.near_staff
    assert client.get("/api/me/tasks", headers=caregiver).json() == []  # not published yet
    published = post(client, "/api/tasks/publish", coordinator, {"area_id": w.community.id, "date": TODAY})
    assert published.json()["published"] == [task_id]
    [mine] = client.get("/api/me/tasks", headers=caregiver).json()
    assert mine["id"] == task_id and mine["access_notes"] == "钥匙在邻居家" and mine["resident_name"] == "赵玉兰"
    assert post(client, f"/api/tasks/{task_id}/accept", caregiver).json()["accepted_at"] is not None
    assert post(client, f"/api/tasks/{task_id}/en-route", caregiver).json()["status"] == "en_route"
    checked = post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": NEAR[0], "longitude": NEAR[1]})
    assert checked.json()["status"] == "checked_in" and checked.json()["checked_in_at"] == iso(TEST_NOW)
    done = post(
        client,
        f"/api/tasks/{task_id}/complete",
        caregiver,
        {
            "latitude": HOME[0],
            "longitude": HOME[1],
            "findings": {"resident_condition": "good", "needs": [], "notes": "精神好"},
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["findings"]["resident_condition"] == "good"
    detail = client.get(f"/api/tasks/{task_id}", headers=coordinator).json()
    assert [line["action"] for line in detail["trace"]] == [
        "created",
        "assigned",
        "published",
        "accepted",
        "en_route",
        "checked_in",
        "completed",
    ]
    assert detail["trace"][1]["reason"] == "近" and detail["trace"][1]["user_name"] == w.coordinator.full_name
    assert detail["trace"][3]["staff_id"] == w.near_staff
    evv = client.get(f"/api/tasks/{task_id}/evv", headers=coordinator).json()
    assert evv == detail["evv"]
    assert evv["complete"] is True and evv["location_verified"] is True
    assert (evv["service_type"], evv["resident_id"], evv["caregiver_staff_id"]) == (
        "visit",
        w.resident.id,
        w.near_staff,
    )
    assert evv["date"] == TODAY and evv["start"] == iso(TEST_NOW) and evv["end"] == iso(TEST_NOW)
    assert 100 < evv["check_in"]["distance_m"] < 200 and evv["check_out"]["distance_m"] == 0


@pytest.mark.parametrize(
    ("steps", "final", "status"),
    [
        ([], ("complete", {"latitude": 32.2, "longitude": 119.45}), "published"),
        (["accept"], ("accept", None), "published"),
        (["cancel"], ("assign", "staff"), "cancelled"),
        (["cancel"], ("cancel", {"reason": "again"}), "cancelled"),
        ([], ("check-in-twice", None), "checked_in"),
    ],
)
def test_transitions_the_status_does_not_allow_are_409(
    client: TestClient, w: World, steps: list[str], final: tuple[str, Any], status: str
) -> None:
    coordinator, caregiver = auth(client, w.coordinator), auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    for step in steps:
        if step == "cancel":
            assert post(client, f"/api/tasks/{task_id}/cancel", coordinator, {"reason": "家属接走"}).status_code == 200
        else:
            assert post(client, f"/api/tasks/{task_id}/{step}", caregiver).status_code == 200
    name, body = final
    if name == "assign":
        response = post(client, f"/api/tasks/{task_id}/assign", coordinator, {"staff_id": w.far_staff})
    elif name == "cancel":
        response = post(client, f"/api/tasks/{task_id}/cancel", coordinator, body)
    elif name == "check-in-twice":
        position = {"latitude": HOME[0], "longitude": HOME[1]}
        assert post(client, f"/api/tasks/{task_id}/check-in", caregiver, position).status_code == 200
        response = post(client, f"/api/tasks/{task_id}/check-in", caregiver, position)
    else:
        response = post(client, f"/api/tasks/{task_id}/{name}", caregiver, body)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "task_state_conflict" and response.json()["task_status"] == status


def test_unassign_and_reassign_tell_the_previous_assignee(client: TestClient, w: World) -> None:
    coordinator = auth(client, w.coordinator)
    task_id = published_task(client, w)
    moved = post(client, f"/api/tasks/{task_id}/assign", coordinator, {"staff_id": w.far_staff, "reason": "调班"})
    assert moved.json()["status"] == "published" and moved.json()["assignee_staff_id"] == w.far_staff
    trace = client.get(f"/api/tasks/{task_id}", headers=coordinator).json()["trace"]
    reassigned, told = trace[-2], trace[-1]
    assert (reassigned["detail"]["from_staff_id"], reassigned["detail"]["to_staff_id"]) == (w.near_staff, w.far_staff)
    assert told["action"] == "note" and told["detail"]["notify_staff_id"] == w.near_staff
    back = post(client, f"/api/tasks/{task_id}/unassign", coordinator, {"reason": "重新安排"})
    assert back.json()["status"] == "planned" and back.json()["assignee_staff_id"] is None
    assert actions(client, coordinator, task_id)[-2:] == ["unassigned", "note"]
    again = post(client, f"/api/tasks/{task_id}/unassign", coordinator)
    assert again.status_code == 409 and again.json()["task_status"] == "planned"
    assert post(client, f"/api/tasks/{task_id}/cancel", coordinator, {}).status_code == 422  # reason required


def test_a_staff_member_who_cannot_take_it_is_refused_with_reasons(client: TestClient, db: Session, w: World) -> None:
    from tests.integration.lifecycle_support import staff

    off_shift = staff(db, name="吴护理", area_id=w.community.id, at=NEAR, skills=["cleaning"], shift=False)
    coordinator = auth(client, w.coordinator)
    task = new_task(client, coordinator, w.resident.id, required_skill="visit")
    refused = post(client, f"/api/tasks/{task['id']}/assign", coordinator, {"staff_id": off_shift})
    assert refused.status_code == 422
    assert refused.json()["code"] == "staff_not_assignable"
    assert {"not_on_shift", "missing_skill"} <= set(refused.json()["reasons"])


def test_scope_and_ownership_answer_404(client: TestClient, w: World) -> None:
    task_id = published_task(client, w)
    other = auth(client, w.other_coordinator)
    missing = client.get(f"/api/tasks/{task_id}", headers=other)
    assert missing.status_code == 404 and missing.json()["code"] == "task_not_found"
    assert post(client, f"/api/tasks/{task_id}/cancel", other, {"reason": "x"}).status_code == 404
    assert client.get("/api/tasks", headers=other).json()["total"] == 0
    far = auth(client, w.far_caregiver)
    assert client.get("/api/me/tasks", headers=far).json() == []
    for step in ("accept", "en-route"):
        response = post(client, f"/api/tasks/{task_id}/{step}", far)
        assert response.status_code == 404 and response.json()["code"] == "task_not_found"
    listed = client.get(
        "/api/tasks", headers=auth(client, w.coordinator), params={"date": TODAY, "staff_id": w.near_staff}
    ).json()
    assert [t["id"] for t in listed["items"]] == [task_id] and listed["total"] == 1


def test_phone_times_are_bounded_and_kept_beside_the_server_time(client: TestClient, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    future = post(client, f"/api/tasks/{task_id}/accept", caregiver, {"at": iso(TEST_NOW + timedelta(minutes=5))})
    assert future.status_code == 422 and future.json()["code"] == "event_time_out_of_range"
    stale = post(client, f"/api/tasks/{task_id}/accept", caregiver, {"at": iso(TEST_NOW - timedelta(hours=25))})
    assert stale.status_code == 422 and stale.json()["code"] == "event_time_out_of_range"
    skewed = post(client, f"/api/tasks/{task_id}/accept", caregiver, {"at": iso(TEST_NOW + timedelta(minutes=1))})
    assert skewed.status_code == 200
    synced = post(
        client,
        f"/api/tasks/{task_id}/check-in",
        caregiver,
        {"latitude": HOME[0], "longitude": HOME[1], "at": iso(TEST_NOW - timedelta(minutes=10))},
    )
    assert synced.status_code == 422 and synced.json()["code"] == "event_time_before_previous_step"
    ok = post(
        client,
        f"/api/tasks/{task_id}/check-in",
        caregiver,
        {"latitude": HOME[0], "longitude": HOME[1], "at": iso(TEST_NOW + timedelta(minutes=2))},
    )
    assert ok.status_code == 200 and ok.json()["checked_in_at"] == iso(TEST_NOW + timedelta(minutes=2))
    line = client.get(f"/api/tasks/{task_id}", headers=auth(client, w.coordinator)).json()["trace"][-1]
    assert line["at"] == iso(TEST_NOW + timedelta(minutes=2)) and line["detail"]["received_at"] == TEST_NOW.isoformat()


def test_a_far_check_in_is_accepted_but_not_location_verified(client: TestClient, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    far = post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": FAR[0], "longitude": FAR[1]})
    assert far.status_code == 200 and far.json()["status"] == "checked_in"
    coordinator = auth(client, w.coordinator)
    detail = client.get(f"/api/tasks/{task_id}", headers=coordinator).json()
    assert detail["trace"][-1]["detail"]["location_verified"] is False
    assert detail["trace"][-1]["detail"]["distance_m"] > 5000
    assert detail["evv"]["location_verified"] is False and detail["evv"]["complete"] is False


def test_a_problem_found_opens_a_follow_up_tracked_until_closed(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    unexplained = post(
        client,
        f"/api/tasks/{task_id}/complete",
        caregiver,
        {"latitude": HOME[0], "longitude": HOME[1], "problem_found": True},
    )
    assert unexplained.status_code == 422 and unexplained.json()["code"] == "problem_required"
    record: dict[str, Any] = {
        "latitude": HOME[0],
        "longitude": HOME[1],
        "findings": {"resident_condition": "poor", "needs": ["cleaning"], "notes": "厨房漏水"},
        "problem_found": True,
        "problem": "水管漏水",
    }
    uncategorised = post(client, f"/api/tasks/{task_id}/complete", caregiver, record)
    assert uncategorised.status_code == 422 and uncategorised.json()["code"] == "problem_category_required"
    record["findings"] |= {"problem_category": "home_repair", "checklist": {"gas_off": "ok", "floors_clear": "problem"}}
    done = post(client, f"/api/tasks/{task_id}/complete", caregiver, record)
    assert done.status_code == 200 and done.json()["problem_found"] is True
    assert done.json()["findings"]["checklist"] == {"gas_off": "ok", "floors_clear": "problem"}
    follow_up = db.execute(
        text(
            "SELECT id, kind, source, priority, window_end, follow_up_of, status, notes FROM task"
            " WHERE follow_up_of = :id"
        ),
        {"id": task_id},
    ).one()
    assert follow_up.notes == "[home_repair] 水管漏水"
    assert (follow_up.kind, follow_up.source, follow_up.priority, follow_up.status) == (
        "follow_up",
        "finding",
        2,
        "planned",
    )
    assert follow_up.window_end == TEST_NOW + timedelta(hours=24)
    alert = db.execute(
        text("SELECT state, task_id FROM alert WHERE kind = 'follow_up_open' AND subject_key = :s"),
        {"s": f"task:{follow_up.id}"},
    ).one()
    assert alert.state == "open"
    # the follow-up is done without a new problem: the alert closes
    coordinator = auth(client, w.coordinator)
    post(client, f"/api/tasks/{follow_up.id}/assign", coordinator, {"staff_id": w.near_staff})
    post(client, "/api/tasks/publish", coordinator, {"area_id": w.community.id, "date": TODAY})
    post(client, f"/api/tasks/{follow_up.id}/check-in", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    closed = post(client, f"/api/tasks/{follow_up.id}/complete", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    assert closed.status_code == 200
    state = db.execute(
        text("SELECT state FROM alert WHERE kind = 'follow_up_open' AND subject_key = :s"),
        {"s": f"task:{follow_up.id}"},
    ).scalar_one()
    assert state == "resolved"


def test_nobody_answers_at_the_door_the_operators_get_a_welfare_call(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    post(client, f"/api/tasks/{task_id}/en-route", caregiver)
    answer = post(client, f"/api/tasks/{task_id}/no-answer", caregiver, {"note": "敲门无人应答"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["task"]["status"] == "missed" and body["task"]["status_reason"] == "no_answer"
    alarm = db.execute(
        text("SELECT type, source, task_id, resident_id, state FROM alarm WHERE id = :id"),
        {"id": body["welfare_alarm_id"]},
    ).one()
    assert tuple(alarm) == ("visit_no_answer", "welfare", task_id, w.resident.id, "new")
    queue = client.get("/api/alarms", headers=auth(client, w.operator))
    assert queue.status_code == 200 and body["welfare_alarm_id"] in [a["id"] for a in queue.json()]
    assert post(client, f"/api/tasks/{task_id}/no-answer", caregiver, {"note": "again"}).status_code == 409


def test_missed_reassign_makes_a_new_task_and_escalate_raises_an_alert(
    client: TestClient, db: Session, w: World
) -> None:
    coordinator = auth(client, w.coordinator)
    task_id = published_task(client, w)
    reassigned = post(
        client, f"/api/tasks/{task_id}/missed", coordinator, {"reason": "护理员病假", "action": "reassign"}
    )
    assert reassigned.status_code == 200, reassigned.text
    new_id = reassigned.json()["new_task_id"]
    assert reassigned.json()["task"]["status"] == "missed"
    new = db.execute(
        text("SELECT follow_up_of, status, assignee_staff_id FROM task WHERE id = :id"), {"id": new_id}
    ).one()
    assert (
        new.follow_up_of == task_id
        and new.status == "assigned"
        and new.assignee_staff_id in (w.near_staff, w.far_staff)
    )
    twice = post(client, f"/api/tasks/{task_id}/missed", coordinator, {"reason": "x", "action": "reassign"})
    assert twice.status_code == 409 and twice.json()["code"] == "task_already_reassigned"
    other = new_task(client, coordinator, w.resident.id)
    escalated = post(
        client, f"/api/tasks/{other['id']}/missed", coordinator, {"reason": "无人可派", "action": "escalate"}
    )
    assert escalated.status_code == 200 and escalated.json()["alert_id"] is not None
    alert = db.execute(
        text("SELECT kind, severity FROM alert WHERE id = :id"), {"id": escalated.json()["alert_id"]}
    ).one()
    assert tuple(alert) == ("task_missed", 1)
    done = post(client, f"/api/tasks/{other['id']}/cancel", coordinator, {"reason": "x"})
    assert done.status_code == 409 and done.json()["task_status"] == "missed"


def test_auto_assign_gives_each_task_to_the_nearest_who_can(client: TestClient, w: World) -> None:
    coordinator = auth(client, w.coordinator)
    near = new_task(client, coordinator, w.resident.id, priority=2)
    nursing = new_task(client, coordinator, w.resident.id, required_skill="nursing")
    nobody = new_task(client, coordinator, w.resident.id, required_skill="bathing")
    result = post(client, "/api/tasks/auto-assign", coordinator, {"area_id": w.community.id, "date": TODAY})
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["assigner"] == "NearestAvailableAssigner"
    assert {(a["task_id"], a["staff_id"]) for a in body["assigned"]} == {
        (near["id"], w.near_staff),
        (nursing["id"], w.near_staff),
    }
    assert body["unassigned"] == [{"task_id": nobody["id"], "reason": "no_staff_on_shift"}]
    assert (
        post(
            client,
            "/api/tasks/auto-assign",
            auth(client, w.other_coordinator),
            {"area_id": w.community.id, "date": TODAY},
        ).status_code
        == 404
    )
