"""Device provisioning, credential rotation, commands and feedback through the API (rolled back per test)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from eldercare_common.mqtt_auth import verify_password
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.audit.models import AuditLog
from eldercare_platform.devices.models import DeviceCredential, DeviceKind, DeviceState
from eldercare_platform.users.models import Role
from tests import factories as f


@pytest.fixture
def setup(db: Session) -> dict[str, object]:
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    community = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=district)
    resident = f.resident(db, community=community)
    return {
        "household_id": resident.household_id,
        "admin": f.user(db, role=Role.ADMIN),
        "operator": f.user(db, role=Role.OPERATOR),
        "caregiver": f.user(db, role=Role.CAREGIVER),
        "supervisor": f.user(db, role=Role.SUPERVISOR, scope_area=district),
    }


def headers(client: TestClient, user: object) -> dict[str, str]:
    return f.login(client, user.username)  # type: ignore[attr-defined]


def provision(client: TestClient, setup: dict[str, object], serial: str = "HA7000001") -> dict[str, object]:
    response = client.post(
        "/api/devices",
        headers=headers(client, setup["admin"]),
        json={"serial": serial, "kind": "home_alarm_unit", "model": "YK-100", "household_id": setup["household_id"]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_provisioning_returns_the_password_once_and_stores_only_a_hash(
    client: TestClient, db: Session, setup: dict[str, object]
) -> None:
    body = provision(client, setup)
    mqtt = body["mqtt"]
    assert isinstance(mqtt, dict)
    credential = db.exec(select(DeviceCredential).where(DeviceCredential.username == "HA7000001")).one()
    assert credential.password_hash.startswith("$7$") and mqtt["password"] not in credential.password_hash
    assert verify_password(mqtt["password"], credential.password_hash)
    assert mqtt["uplink_prefix"] == "eldercare/v1/dev/HA7000001/up/"
    listed = client.get(
        "/api/devices?household_id={}".format(setup["household_id"]), headers=headers(client, setup["admin"])
    )
    assert "password" not in listed.text
    device_id = body["device"]["id"]  # type: ignore[index]
    # This device's row: other test modules commit audit rows of their own to the same database.
    assert db.exec(
        select(AuditLog).where(
            AuditLog.entity == "device", AuditLog.action == "create", AuditLog.entity_id == device_id
        )
    ).one()


def test_rotation_revokes_the_old_password(client: TestClient, db: Session, setup: dict[str, object]) -> None:
    body = provision(client, setup)
    device_id = body["device"]["id"]  # type: ignore[index]
    rotated = client.post(f"/api/devices/{device_id}/credentials", headers=headers(client, setup["admin"]))
    assert rotated.status_code == 200
    credentials = db.exec(
        select(DeviceCredential).where(DeviceCredential.username == "HA7000001").order_by(col(DeviceCredential.id))
    ).all()
    assert [c.revoked_at is not None for c in credentials] == [True, False]
    assert verify_password(rotated.json()["password"], credentials[1].password_hash)


def test_duplicate_serial_and_missing_owner_are_409(client: TestClient, setup: dict[str, object]) -> None:
    provision(client, setup)
    admin = headers(client, setup["admin"])
    again = client.post(
        "/api/devices",
        headers=admin,
        json={
            "serial": "HA7000001",
            "kind": "home_alarm_unit",
            "model": "YK-100",
            "household_id": setup["household_id"],
        },
    )
    assert again.status_code == 409 and "serial" in again.json()["detail"]
    assert again.json()["code"] == "serial_taken"
    orphan = client.post(
        "/api/devices", headers=admin, json={"serial": "HA7000002", "kind": "home_alarm_unit", "model": "YK-100"}
    )
    assert orphan.status_code == 409 and "owner" in orphan.json()["detail"]
    assert orphan.json()["code"] == "device_owner_required"


def test_bad_serial_or_kind_is_422(client: TestClient, setup: dict[str, object]) -> None:
    response = client.post(
        "/api/devices",
        headers=headers(client, setup["admin"]),
        json={"serial": "HA 7/1", "kind": "toaster", "model": "x", "household_id": setup["household_id"]},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert {e["loc"][-1] for e in response.json()["errors"]} == {"serial", "kind"}


@pytest.mark.parametrize("role", ["operator", "caregiver", "supervisor"])
def test_only_admins_provision_or_configure(client: TestClient, setup: dict[str, object], role: str) -> None:
    device_id = provision(client, setup)["device"]["id"]  # type: ignore[index]
    mine = headers(client, setup[role])
    body = {"serial": "HA7000009", "kind": "home_alarm_unit", "model": "x", "household_id": setup["household_id"]}
    assert client.post("/api/devices", headers=mine, json=body).status_code == 403
    assert client.post(f"/api/devices/{device_id}/credentials", headers=mine).status_code == 403
    assert (
        client.put(f"/api/devices/{device_id}/config", headers=mine, json={"heartbeat_interval_s": 30}).status_code
        == 403
    )


def test_commands_and_config_go_through_the_outbox(client: TestClient, db: Session, setup: dict[str, object]) -> None:
    device_id = provision(client, setup)["device"]["id"]  # type: ignore[index]
    command = client.post(
        f"/api/devices/{device_id}/commands",
        headers=headers(client, setup["operator"]),
        json={"command": "locate", "command_id": "loc-1"},
    )
    assert command.status_code == 202
    config = client.put(
        f"/api/devices/{device_id}/config", headers=headers(client, setup["admin"]), json={"heartbeat_interval_s": 30}
    )
    assert config.status_code == 202
    rows = (
        db.connection()
        .exec_driver_sql(
            "SELECT payload FROM outbox WHERE topic = 'downlink' AND payload->>'serial' = 'HA7000001' ORDER BY id"
        )
        .fetchall()
    )
    assert [(r[0]["channel"], r[0]["serial"]) for r in rows] == [("command", "HA7000001"), ("config", "HA7000001")]
    assert rows[0][0]["body"]["command"] == "locate"
    assert rows[1][0]["body"] == {"heartbeat_interval_s": 30}
    bad = client.post(
        f"/api/devices/{device_id}/commands",
        headers=headers(client, setup["operator"]),
        json={"command": "self_destruct", "command_id": "x"},
    )
    assert bad.status_code == 422


def test_feedback_for_a_missing_event_is_404_and_caregivers_see_no_events(
    client: TestClient, setup: dict[str, object]
) -> None:
    operator = headers(client, setup["operator"])
    assert (
        client.post(
            "/api/device-events/999999999/feedback", headers=operator, json={"state": "call_received"}
        ).status_code
        == 404
    )
    assert client.get("/api/device-events", headers=headers(client, setup["caregiver"])).status_code == 403
    assert (
        client.post(
            "/api/device-events/1/feedback",
            headers=headers(client, setup["supervisor"]),
            json={"state": "call_received"},
        ).status_code
        == 403
    )


def test_device_events_are_listed_newest_first_by_receive_time(
    client: TestClient, db: Session, setup: dict[str, object]
) -> None:
    provision(client, setup)
    db.connection().exec_driver_sql(
        "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at) VALUES"
        " ('HA7000001', 'old-clock', 'sos', '1970-01-01Z', now()),"
        " ('HA7000001', 'earlier', 'fall', now(), now() - interval '1 minute')"
    )
    events = client.get("/api/device-events", headers=headers(client, setup["operator"])).json()
    mine = [e["event_id"] for e in events if e["device_serial"] == "HA7000001"]
    assert mine == ["old-clock", "earlier"]
    assert events[0]["resident_name"] == "王秀英" and events[0]["community"] == "丽华社区"


def test_feedback_is_queued_for_the_device(client: TestClient, db: Session, setup: dict[str, object]) -> None:
    provision(client, setup)
    event_id = (
        db.connection()
        .exec_driver_sql(
            "INSERT INTO device_event (device_serial, event_id, event_type, device_time)"
            " VALUES ('HA7000001', 'e-77', 'sos', now()) RETURNING id"
        )
        .scalar()
    )
    response = client.post(
        f"/api/device-events/{event_id}/feedback",
        headers=headers(client, setup["operator"]),
        json={"state": "help_on_the_way", "message": "护理员10分钟内到达"},
    )
    assert response.status_code == 202
    payload = (
        db.connection()
        .exec_driver_sql("SELECT payload FROM outbox WHERE id = %(id)s", {"id": response.json()["outbox_id"]})
        .scalar()
    )
    assert payload is not None
    assert payload["body"]["state"] == "help_on_the_way" and payload["body"]["event_id"] == "e-77"


def test_the_device_list_filters_by_serial_and_the_other_columns(
    client: TestClient, db: Session, setup: dict[str, object]
) -> None:
    """`?serial=` used to be ignored (every device came back); each documented filter must narrow the list."""
    household = setup["household_id"]
    assert isinstance(household, int)
    other_home = f.resident(db, community=f.area(db, name="红梅社区", level=AreaLevel.COMMUNITY)).household_id
    alarm = f.device(db, household_id=household, serial="HA7100001")
    smoke = f.device(db, household_id=household, serial="SM7100001", kind=DeviceKind.SMOKE_SENSOR)
    elsewhere = f.device(db, household_id=other_home, serial="HA7100002")
    elsewhere.state = DeviceState.MAINTENANCE
    db.add(elsewhere)
    db.flush()
    admin = headers(client, setup["admin"])

    def serials(query: str) -> list[str]:
        response = client.get(f"/api/devices?{query}", headers=admin)
        assert response.status_code == 200, response.text
        return [d["serial"] for d in response.json() if d["serial"] in {"HA7100001", "SM7100001", "HA7100002"}]

    assert serials("serial=HA7100002") == ["HA7100002"]
    assert [d["serial"] for d in client.get("/api/devices?serial=HA7100002", headers=admin).json()] == ["HA7100002"]
    assert client.get("/api/devices?serial=NOSUCH1", headers=admin).json() == []
    assert serials("kind=smoke_sensor") == ["SM7100001"]
    assert serials("state=maintenance") == ["HA7100002"]
    assert serials(f"household_id={household}&kind=home_alarm_unit") == ["HA7100001"]
    assert serials(f"household_id={household}&serial=HA7100002") == []
    assert alarm.id and smoke.id


@pytest.mark.parametrize(
    ("query", "field"),
    [("serail=HA7100001", "serail"), ("kind=toaster", "kind"), ("state=lost", "state"), ("serial=HA 1", "serial")],
)
def test_a_misspelt_filter_or_bad_value_is_422_not_ignored(
    client: TestClient, setup: dict[str, object], query: str, field: str
) -> None:
    response = client.get(f"/api/devices?{query}", headers=headers(client, setup["admin"]))
    assert response.status_code == 422, response.text
    assert field in response.text


def test_unknown_filters_do_not_leak_past_authentication(client: TestClient) -> None:
    assert client.get("/api/devices?serail=HA7100001").status_code == 401
