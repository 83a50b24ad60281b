"""The alarm center's API and jobs on PostgreSQL: intake, grouping, every transition, rules, escalation, scope.

Events are raised at T0, the instant the API under test stands at (the `clock` fixture): nothing here
depends on today's date.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_platform.alarms import service
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.alarms.jobs import EscalationPolicy, escalate, flag_substitute_cover
from eldercare_platform.alarms.schemas import ResolveRequest
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import TEST_NOW

T0 = TEST_NOW  # 2026-11-22 14:00 in Shanghai; the API's FixedClock stands here


def raise_event(db: Session, serial: str, event_type: str, *, at: datetime = T0, event_id: str | None = None) -> int:
    """What the gateway does for an uplink event: a device_event row and an outbox row."""
    device_event_id = db.execute(
        text(
            "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)"
            " VALUES (:s, :e, :t, :at, :at) RETURNING id"
        ),
        {"s": serial, "e": event_id or f"{event_type}-{at.timestamp()}-{serial}", "t": event_type, "at": at},
    ).scalar_one()
    db.execute(
        text(
            "INSERT INTO outbox (topic, payload) VALUES ('device_event', jsonb_build_object("
            "'device_event_id', CAST(:id AS bigint)))"
        ),
        {"id": device_event_id},
    )
    return int(device_event_id)


def alarms_of(db: Session, serial: str) -> list[Any]:
    return list(db.execute(text("SELECT * FROM alarm WHERE device_serial = :s ORDER BY id"), {"s": serial}).mappings())


def downlinks(db: Session, serial: str) -> list[str]:
    rows = db.execute(
        text("SELECT payload FROM outbox WHERE topic = 'downlink' AND payload->>'serial' = :s ORDER BY id"),
        {"s": serial},
    ).scalars()
    return [row["body"]["state"] for row in rows]


def settle_others_events(session: Session) -> None:
    """Mark events other tests left pending as done: their gateways wrote here and no platform consumed them."""
    session.execute(text("UPDATE outbox SET processed_at = now() WHERE processed_at IS NULL"))


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    settle_others_events(db)
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    street_a = f.area(db, name="雕庄街道", level=AreaLevel.STREET, parent=district)
    street_b = f.area(db, name="红梅街道", level=AreaLevel.STREET, parent=district)
    community_a = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=street_a)
    community_b = f.area(db, name="红梅新村社区", level=AreaLevel.COMMUNITY, parent=street_b)
    resident_a = f.resident(db, community=community_a, name="张桂英")
    resident_b = f.resident(db, community=community_b, name="陈建国")
    assert resident_a.household_id is not None and resident_b.household_id is not None
    unit_a = f.device(db, household_id=resident_a.household_id)
    fall_a = f.device(db, household_id=resident_a.household_id, kind="fall_detector")  # type: ignore[arg-type]
    unit_b = f.device(db, household_id=resident_b.household_id)
    return {
        "resident_a": resident_a,
        "unit_a": unit_a.serial,
        "fall_a": fall_a.serial,
        "unit_b": unit_b.serial,
        "operator": f.user(db, role=Role.OPERATOR),
        "operator2": f.user(db, role=Role.OPERATOR),
        "caregiver": f.user(db, role=Role.CAREGIVER),
        "admin": f.user(db, role=Role.ADMIN),
        "supervisor_a": f.user(db, role=Role.SUPERVISOR, scope_area=street_a),
        "coordinator_a": f.user(db, role=Role.COORDINATOR, scope_area=community_a),
    }


def auth(client: TestClient, user: User) -> dict[str, str]:
    return f.login(client, user.username)


def open_sos(db: Session, world: dict[str, Any], serial_key: str = "unit_a") -> int:
    raise_event(db, world[serial_key], "sos")
    [alarm_id] = intake_pending(db, now=T0)
    return alarm_id


# --- intake and grouping ---


def test_an_sos_opens_a_new_alarm_with_priority_and_sla(db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    [alarm] = alarms_of(db, world["unit_a"])
    assert alarm["id"] == alarm_id and alarm["state"] == "new" and alarm["priority"] == 1
    assert alarm["resident_id"] == world["resident_a"].id
    assert alarm["ack_due_at"] - alarm["opened_at"] == timedelta(seconds=60)
    assert [t.action for t in service.trace(db, alarm_id=alarm_id)] == ["opened"]


def test_repeated_presses_attach_instead_of_flooding(db: Session, world: dict[str, Any]) -> None:
    for minute in range(3):
        raise_event(db, world["unit_a"], "sos", at=T0 + timedelta(minutes=minute))
    assert len(set(intake_pending(db, now=T0))) == 1
    [alarm] = alarms_of(db, world["unit_a"])
    assert alarm["event_count"] == 3 and alarm["last_event_at"] == T0 + timedelta(minutes=2)
    assert [t.action for t in service.trace(db, alarm_id=alarm["id"])] == ["opened", "event_attached", "event_attached"]


def test_a_different_type_for_the_same_resident_is_linked_not_merged(
    db: Session, world: dict[str, Any], client: TestClient
) -> None:
    sos = open_sos(db, world)
    raise_event(db, world["fall_a"], "fall")
    [fall] = intake_pending(db, now=T0)
    assert fall != sos
    rows = {
        r["id"]: r
        for r in db.execute(
            text("SELECT id, incident_id FROM alarm WHERE id IN (:a, :b)"), {"a": sos, "b": fall}
        ).mappings()
    }
    assert rows[fall]["incident_id"] == rows[sos]["incident_id"] == sos
    queue = client.get("/api/alarms", headers=auth(client, world["operator"])).json()
    by_id = {a["id"]: a for a in queue}
    assert by_id[sos]["linked"] == [fall] and by_id[fall]["linked"] == [sos]


def test_after_resolution_a_new_press_opens_a_new_alarm(db: Session, world: dict[str, Any]) -> None:
    first = open_sos(db, world)
    service.acknowledge(db, user=world["operator"], alarm_id=first, now=T0)
    service.resolve(
        db,
        user=world["operator"],
        alarm_id=first,
        now=T0,
        request=ResolveRequest.model_validate({"outcome": "device_test", "reach_method": "device_voice"}),
    )
    raise_event(db, world["unit_a"], "sos", at=T0 + timedelta(minutes=5))
    [second] = intake_pending(db, now=T0)
    assert second != first


def test_device_faults_open_low_priority_alarms_with_a_maintenance_task(db: Session, world: dict[str, Any]) -> None:
    raise_event(db, world["unit_b"], "low_battery")
    [alarm_id] = intake_pending(db, now=T0)
    [alarm] = alarms_of(db, world["unit_b"])
    assert alarm["priority"] == 5 and alarm["type"] == "low_battery"
    tasks = db.execute(text("SELECT kind, status FROM task WHERE alarm_id = :a"), {"a": alarm_id}).all()
    assert [tuple(t) for t in tasks] == [("maintenance", "planned")]


def test_bed_exit_raises_an_alarm_only_at_night(db: Session, world: dict[str, Any]) -> None:
    raise_event(db, world["unit_b"], "bed_exit", at=T0)  # 14:00 local
    assert intake_pending(db, now=T0) == []
    raise_event(db, world["unit_b"], "bed_exit", at=datetime(2026, 11, 22, 18, 30, tzinfo=UTC))  # 02:30 local
    assert len(intake_pending(db, now=T0)) == 1


def test_resident_cancel_is_noted_on_the_open_sos(db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    raise_event(db, world["unit_a"], "cancel", at=T0 + timedelta(seconds=20))
    assert intake_pending(db, now=T0) == [alarm_id]
    assert service.trace(db, alarm_id=alarm_id)[-1].action == "resident_cancelled"
    assert alarms_of(db, world["unit_a"])[0]["state"] == "new", "an operator still confirms"


# --- transitions ---


def test_the_whole_legal_path_and_device_feedback(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    op = auth(client, world["operator"])
    acked = client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=op)
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by_name"] == world["operator"].full_name
    called = client.post(
        f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "call_back", "result": "no_answer"}
    )
    assert called.status_code == 200 and called.json()["alarm"]["state"] == "in_progress"
    notified = client.post(
        f"/api/alarms/{alarm_id}/actions",
        headers=op,
        json={"action": "notify_contacts", "result": "reached", "contact_ids": [1]},
    )
    assert notified.status_code == 200
    dispatched = client.post(
        f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "dispatch", "note": "护理员上门"}
    )
    assert dispatched.status_code == 200 and dispatched.json()["task_id"] is not None
    assert dispatched.json()["alarm"]["dispatched"] is True
    noted = client.post(f"/api/alarms/{alarm_id}/notes", headers=op, json={"text": "邻居已在门口"})
    assert noted.status_code == 200
    resolved = client.post(
        f"/api/alarms/{alarm_id}/resolve",
        headers=op,
        json={"outcome": "assisted_at_home", "reach_method": "staff_at_home", "notes": "扶起"},
    )
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    assert resolved.json()["reached_at"] is not None
    trace = client.get(f"/api/alarms/{alarm_id}/trace", headers=op).json()
    assert [t["action"] for t in trace] == [
        "opened",
        "acknowledge",
        "call_back",
        "notify_contacts",
        "dispatch",
        "note",
        "resolve",
    ]
    assert all(t["user_name"] == world["operator"].full_name for t in trace[1:])
    assert downlinks(db, world["unit_a"]) == ["call_received", "help_on_the_way"]
    task = db.execute(
        text("SELECT kind, alarm_id FROM task WHERE id = :id"), {"id": dispatched.json()["task_id"]}
    ).one()
    assert tuple(task) == ("alarm_response", alarm_id)


def test_calling_emergency_services_counts_as_dispatch(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    op = auth(client, world["operator"])
    client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=op)
    assert (
        client.post(f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "call_emergency"}).status_code == 422
    ), "which service must be said"
    assert (
        client.post(
            f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "call_emergency", "service": "120"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/alarms/{alarm_id}/resolve",
            headers=op,
            json={"outcome": "taken_to_hospital", "reach_method": "emergency_services"},
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("steps", "final", "expected"),
    [
        ([], ("resolve", {"outcome": "false_alarm", "reach_method": "phone"}), 409),
        ([], ("actions", {"action": "call_back", "result": "reached"}), 409),
        (["acknowledge"], ("acknowledge", None), 409),
        (["acknowledge", "resolve"], ("resolve", {"outcome": "false_alarm", "reach_method": "phone"}), 409),
        (["acknowledge", "resolve"], ("actions", {"action": "dispatch"}), 409),
        (["acknowledge", "resolve"], ("acknowledge", None), 409),
        (["acknowledge", "resolve"], ("notes", {"text": "补记: 家属已确认"}), 200),
        (["acknowledge"], ("resolve", {"outcome": "false_alarm", "reach_method": "not_reached"}), 422),
        (["acknowledge"], ("actions", {"action": "call_back"}), 422),
        (["acknowledge"], ("resolve", {"outcome": "vanished", "reach_method": "phone"}), 422),
    ],
    ids=[
        "resolve-new",
        "act-on-new",
        "ack-twice",
        "resolve-twice",
        "dispatch-resolved",
        "ack-resolved",
        "note-resolved",
        "unreached-undispatched",
        "call-without-result",
        "unknown-outcome",
    ],
)
def test_illegal_transitions_are_refused_clearly(
    client: TestClient, db: Session, world: dict[str, Any], steps: list[str], final: tuple[str, Any], expected: int
) -> None:
    alarm_id = open_sos(db, world)
    op = auth(client, world["operator"])
    for step in steps:
        body = {"outcome": "assisted_by_phone", "reach_method": "phone"} if step == "resolve" else None
        assert client.post(f"/api/alarms/{alarm_id}/{step}", headers=op, json=body).status_code == 200
    path, body = final
    response = client.post(f"/api/alarms/{alarm_id}/{path}", headers=op, json=body)
    assert response.status_code == expected, response.text
    body = response.json()
    if expected == 409:
        assert f"alarm {alarm_id}" in body["detail"]
        assert body["code"] in {"alarm_resolved", "alarm_already_acknowledged", "alarm_state_conflict"}
    if expected == 422:
        assert body["code"] in {"dispatch_required", "result_required", "validation_error"}


def test_not_reached_can_close_once_someone_was_dispatched(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    alarm_id = open_sos(db, world)
    op = auth(client, world["operator"])
    client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=op)
    refused = client.post(
        f"/api/alarms/{alarm_id}/resolve", headers=op, json={"outcome": "referred", "reach_method": "not_reached"}
    )
    assert refused.status_code == 422 and "dispatch" in refused.json()["detail"]
    assert refused.json()["code"] == "dispatch_required"
    client.post(f"/api/alarms/{alarm_id}/actions", headers=op, json={"action": "dispatch"})
    assert (
        client.post(
            f"/api/alarms/{alarm_id}/resolve", headers=op, json={"outcome": "referred", "reach_method": "not_reached"}
        ).status_code
        == 200
    )


def test_cancelling_outcomes_tell_the_device(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    op = auth(client, world["operator"])
    client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=op)
    client.post(f"/api/alarms/{alarm_id}/resolve", headers=op, json={"outcome": "false_alarm", "reach_method": "phone"})
    assert downlinks(db, world["unit_a"]) == ["call_received", "cancelled"]


def test_two_operators_acknowledging_at_once_exactly_one_wins(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as setup:
        district = f.area(setup, name="竞速区", level=AreaLevel.DISTRICT)
        community = f.area(setup, name="竞速社区", level=AreaLevel.COMMUNITY, parent=district)
        resident = f.resident(setup, community=community)
        assert resident.household_id is not None
        unit = f.device(setup, household_id=resident.household_id)
        operators = [f.user(setup, role=Role.OPERATOR), f.user(setup, role=Role.OPERATOR)]
        settle_others_events(setup)
        raise_event(setup, unit.serial, "sos")
        setup.commit()
        [alarm_id] = intake_pending(setup, now=T0)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def take(user: User) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                service.acknowledge(session, user=user, alarm_id=alarm_id, now=T0)
                session.commit()
                results.append("won")
            except service.AlarmConflictError as exc:
                session.rollback()
                results.append(str(exc))

    threads = [threading.Thread(target=take, args=(u,)) for u in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results)[-1] == "won" and results.count("won") == 1
    loser = next(r for r in results if r != "won")
    assert "already acknowledged by" in loser
    with Session(engine) as check:
        acks = check.execute(
            text("SELECT count(*) FROM alarm_transition WHERE alarm_id = :a AND action = 'acknowledge'"),
            {"a": alarm_id},
        ).scalar_one()
    assert acks == 1


# --- escalation with a controllable clock ---


def test_unacknowledged_alarms_escalate_on_time(db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    other = open_sos(db, world, "unit_b")
    service.acknowledge(db, user=world["operator"], alarm_id=other, now=T0 + timedelta(seconds=5))
    policy = EscalationPolicy(realert_after=timedelta(seconds=30), supervisor_after=timedelta(seconds=90))
    assert escalate(db, now=T0 + timedelta(seconds=29), policy=policy) == {"realerted": 0, "supervisor": 0}
    assert escalate(db, now=T0 + timedelta(seconds=30), policy=policy) == {"realerted": 1, "supervisor": 0}
    assert escalate(db, now=T0 + timedelta(seconds=60), policy=policy) == {"realerted": 0, "supervisor": 0}
    assert escalate(db, now=T0 + timedelta(seconds=90), policy=policy) == {"realerted": 0, "supervisor": 1}
    assert escalate(db, now=T0 + timedelta(seconds=300), policy=policy) == {"realerted": 0, "supervisor": 0}
    levels = dict(
        db.execute(
            text("SELECT id, escalation_level FROM alarm WHERE id IN (:a, :b)"), {"a": alarm_id, "b": other}
        ).all()
    )
    assert levels == {alarm_id: 2, other: 0}
    told = set(db.execute(text("SELECT user_id FROM notification WHERE alarm_id = :a"), {"a": alarm_id}).scalars())
    assert world["supervisor_a"].id in told and world["admin"].id in told
    assert world["operator"].id not in told
    escalations = [t for t in service.trace(db, alarm_id=alarm_id) if t.action == "escalate"]
    assert [t.detail["level"] for t in escalations] == [1, 2]
    assert escalations[0].at == T0 + timedelta(seconds=30)


def test_a_device_silent_for_two_hours_needs_substitute_cover(db: Session, world: dict[str, Any]) -> None:
    db.execute(
        text("INSERT INTO device_status (device_serial, online, last_seen_at) VALUES (:s, false, :seen)"),
        {"s": world["unit_b"], "seen": T0 - timedelta(hours=1)},
    )
    raise_event(db, world["unit_b"], "device_silent")
    [alarm_id] = intake_pending(db, now=T0)
    assert flag_substitute_cover(db, now=T0) == 0
    assert flag_substitute_cover(db, now=T0 + timedelta(hours=1, minutes=1)) == 1
    assert flag_substitute_cover(db, now=T0 + timedelta(hours=3)) == 0, "once"
    kinds = set(db.execute(text("SELECT kind FROM task WHERE alarm_id = :a"), {"a": alarm_id}).scalars())
    assert kinds == {"maintenance", "substitute_cover"}


# --- who sees and does what ---


def test_caregivers_never_see_the_queue(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    alarm_id = open_sos(db, world)
    care = auth(client, world["caregiver"])
    for path in (
        "/api/alarms",
        f"/api/alarms/{alarm_id}",
        f"/api/alarms/{alarm_id}/card",
        "/api/alarms/handover",
        "/api/alarms/changes",
        "/api/alarm-types",
    ):
        assert client.get(path, headers=care).status_code == 403, path
    # The live socket refuses caregivers too (close code 4403): tests/integration/test_scope.py, whose
    # users are committed where the socket's own database session can read them.


def test_a_supervisor_sees_only_their_area_and_cannot_act(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    mine = open_sos(db, world)
    theirs = open_sos(db, world, "unit_b")
    sup = auth(client, world["supervisor_a"])
    assert [a["id"] for a in client.get("/api/alarms", headers=sup).json()] == [mine]
    assert client.get(f"/api/alarms/{theirs}", headers=sup).status_code == 404
    assert client.get(f"/api/alarms/{mine}/trace", headers=sup).status_code == 200
    assert client.post(f"/api/alarms/{mine}/acknowledge", headers=sup).status_code == 403
    everything = client.get("/api/alarms", headers=auth(client, world["operator"])).json()
    assert {a["id"] for a in everything} >= {mine, theirs}


def test_admins_change_the_priority_table_for_new_alarms(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    admin, op = auth(client, world["admin"]), auth(client, world["operator"])
    body = {"priority": 2, "ack_within_s": 300}
    assert client.put("/api/alarm-types/door_open", headers=op, json=body).status_code == 403
    assert client.put("/api/alarm-types/earthquake", headers=admin, json=body).status_code == 404
    updated = client.put("/api/alarm-types/door_open", headers=admin, json=body)
    assert updated.status_code == 200 and updated.json()["priority"] == 2
    raise_event(db, world["unit_b"], "door_open")
    intake_pending(db, now=T0)
    [alarm] = alarms_of(db, world["unit_b"])
    assert alarm["priority"] == 2 and alarm["ack_due_at"] - alarm["opened_at"] == timedelta(seconds=300)


def test_queue_order_card_and_catch_up(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    raise_event(db, world["unit_b"], "low_battery", at=T0 - timedelta(minutes=10))
    raise_event(db, world["unit_a"], "sos", at=T0)
    intake_pending(db, now=T0)
    op = auth(client, world["operator"])
    version = client.get("/api/alarms/changes?since=0", headers=op).json()["version"]
    mine = {world["unit_a"], world["unit_b"]}
    queue = [a for a in client.get("/api/alarms", headers=op).json() if a["device_serial"] in mine]
    assert [a["type"] for a in queue] == ["sos", "low_battery"], "priority before waiting time"
    sos = queue[0]
    card = client.get(f"/api/alarms/{sos['id']}/card", headers=op).json()
    assert card["resident"]["resident"]["name"] == "张桂英"
    assert card["resident"]["contacts"][0]["is_keyholder"] is True
    assert card["last_24h"]["events"][0]["event_type"] == "sos"
    client.post(f"/api/alarms/{sos['id']}/acknowledge", headers=op)
    changed = client.get(f"/api/alarms/changes?since={version}", headers=op).json()
    assert [a["id"] for a in changed["alarms"]] == [sos["id"]] and changed["version"] > version
    audit = db.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE entity = 'resident' AND action = 'read' AND detail->>'via' = 'alarm'"
        )
    ).scalar_one()
    assert audit == 1
