"""The API's one error shape, and the garbage that used to answer 500 (issue 9, finding 5).

Every 4xx/5xx is `{"detail": str, "code": str}` (+ `errors` for validation failures, + context fields);
ids beyond their column's range, NUL characters, Unix times where an ISO time is meant, and dispatching to
a staff id that does not exist are 4xx with a code. tests/integration/test_api_fuzz.py fuzzes the lot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.deps import get_db
from eldercare_platform.core.errors import MAX_BODY_BYTES
from eldercare_platform.main import create_app
from eldercare_platform.roster.models import Staff, StaffRole
from eldercare_platform.users.models import Role
from tests import factories as f
from tests.integration.test_alarms import T0, raise_event, settle_others_events


@pytest.fixture
def town(db: Session, client: TestClient) -> dict[str, Any]:
    """A community with one resident whose alarm unit has raised an SOS; an operator and an admin, signed in."""
    settle_others_events(db)
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    community = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=district)
    resident = f.resident(db, community=community, name="张桂英")
    assert resident.household_id is not None and community.id is not None
    unit = f.device(db, household_id=resident.household_id)
    raise_event(db, unit.serial, "sos")
    [alarm_id] = intake_pending(db, now=T0)
    caregiver = Staff(name="王护理", phone="13900000000", role=StaffRole.CAREGIVER, home_area_id=community.id)
    retired = Staff(name="李退休", phone="13900000001", role=StaffRole.CAREGIVER, home_area_id=community.id)
    retired.active = False
    db.add_all([caregiver, retired])
    db.flush()
    operator = f.user(db, role=Role.OPERATOR)
    admin = f.user(db, role=Role.ADMIN)
    return {
        "alarm_id": alarm_id,
        "household_id": resident.household_id,
        "caregiver_id": caregiver.id,
        "retired_id": retired.id,
        "op": f.login(client, operator.username),
        "admin": f.login(client, admin.username),
    }


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is `status` in the one error shape with this code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    assert body["code"] == code, body
    if code in ("validation_error", "nul_character"):
        assert body["errors"] and all(set(error) == {"loc", "msg", "type"} for error in body["errors"]), body
    else:
        assert "errors" not in body, body
    return body


# --- the shape of the errors every route shares ---


def test_missing_token_is_401_in_the_one_shape(client: TestClient) -> None:
    response = client.get("/api/alarms")
    assert assert_error(response, 401, "not_authenticated") == {
        "detail": "Not authenticated",
        "code": "not_authenticated",
    }
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_password_is_401_invalid_credentials(client: TestClient) -> None:
    response = client.post("/api/auth/token", data={"username": "nobody", "password": "wrong-password"})
    assert_error(response, 401, "invalid_credentials")
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_route_and_wrong_method_are_in_the_one_shape(client: TestClient, town: dict[str, Any]) -> None:
    assert_error(client.get("/api/no-such-thing", headers=town["op"]), 404, "not_found")
    response = client.delete("/api/alarms", headers=town["op"])
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


def test_a_missing_resident_is_404_with_its_code(client: TestClient, town: dict[str, Any]) -> None:
    assert_error(client.get("/api/residents/2147483647", headers=town["op"]), 404, "resident_not_found")
    assert_error(client.get("/api/alarms/987654321", headers=town["op"]), 404, "alarm_not_found")


def test_validation_errors_list_every_reason_without_the_input(client: TestClient, town: dict[str, Any]) -> None:
    body = {"username": "x", "full_name": "x", "role": "operator", "password": "secret-but-short"[:5]}
    response = client.post("/api/users", json=body, headers=town["admin"])
    error = assert_error(response, 422, "validation_error")
    assert error["detail"].startswith("invalid request: body.password:")
    assert [e["loc"] for e in error["errors"]] == [["body", "password"]]
    assert "secre" not in response.text  # the refused value is never echoed


def test_taking_a_taken_alarm_is_409_with_who_and_when(client: TestClient, town: dict[str, Any], db: Session) -> None:
    alarm = town["alarm_id"]
    assert client.post(f"/api/alarms/{alarm}/acknowledge", headers=town["op"]).status_code == 200
    body = assert_error(
        client.post(f"/api/alarms/{alarm}/acknowledge", headers=town["admin"]), 409, "alarm_already_acknowledged"
    )
    acknowledged_at = db.execute(text("SELECT acknowledged_at FROM alarm WHERE id = :id"), {"id": alarm}).scalar_one()
    assert datetime.fromisoformat(body["at"]) == acknowledged_at and body["at"].endswith("Z")
    assert body["by"].startswith("测试") and body["state"] == "acknowledged"


# --- the garbage schemathesis found ---


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/api/areas?parent_id=33694542718", "query"),
        ("/api/residents/2704556324695078", "path"),
        ("/api/residents/2147483648", "path"),
        ("/api/residents?area_id=2147483648", "query"),
        ("/api/residents?offset=99999999999999999999", "query"),
        ("/api/devices?household_id=-1", "query"),
        ("/api/devices?offset=9223372036854775808", "query"),
        ("/api/alarms/9223372036854775808", "path"),
        ("/api/alarms/9223372036854775808/trace", "path"),
        ("/api/alarms/changes?since=9223372036854775808", "query"),
        ("/api/alarms/changes?since=0.5", "query"),
        ("/api/alarms/changes?since=1.0", "query"),
        ("/api/alarms/1.0", "path"),
        ("/api/device-events?since=0.5", "query"),
        ("/api/device-events?since=2026-11-22T06:00:00", "query"),
    ],
)
def test_out_of_range_or_sloppy_numbers_are_422(
    client: TestClient, town: dict[str, Any], path: str, where: str
) -> None:
    body = assert_error(client.get(path, headers=town["op"]), 422, "validation_error")
    assert body["errors"][0]["loc"][0] == where


def test_out_of_range_ids_in_bodies_are_422(client: TestClient, town: dict[str, Any]) -> None:
    alarm = town["alarm_id"]
    client.post(f"/api/alarms/{alarm}/acknowledge", headers=town["op"])
    for action in (
        {"action": "dispatch", "staff_id": 2**31},
        {"action": "dispatch", "staff_id": 1.0},
        {"action": "notify_contacts", "result": "reached", "contact_ids": [2**40]},
    ):
        assert_error(
            client.post(f"/api/alarms/{alarm}/actions", json=action, headers=town["op"]), 422, "validation_error"
        )
    device = {"serial": "HA-RANGE-1", "kind": "home_alarm_unit", "model": "YK-100", "household_id": 2**31}
    assert_error(client.post("/api/devices", json=device, headers=town["admin"]), 422, "validation_error")


def test_a_nul_in_a_note_is_refused_and_nothing_is_written(
    client: TestClient, town: dict[str, Any], db: Session
) -> None:
    alarm = town["alarm_id"]
    response = client.post(f"/api/alarms/{alarm}/notes", json={"text": "家属\x00已到"}, headers=town["op"])
    body = assert_error(response, 422, "nul_character")
    assert body["errors"] == [
        {"loc": ["body", "text"], "msg": "Text must not contain NUL (\\u0000) characters", "type": "nul_character"}
    ]
    notes = db.execute(
        text("SELECT count(*) FROM alarm_transition WHERE alarm_id = :id AND action = 'note'"), {"id": alarm}
    )
    assert notes.scalar_one() == 0
    # The six characters backslash-u-0-0-0-0 are text like any other.
    typed = client.post(f"/api/alarms/{alarm}/notes", json={"text": r"path C:\u0000"}, headers=town["op"])
    assert typed.status_code == 200, typed.text


def test_a_nul_anywhere_else_is_refused_too(client: TestClient, town: dict[str, Any]) -> None:
    alarm = town["alarm_id"]
    client.post(f"/api/alarms/{alarm}/acknowledge", headers=town["op"])
    cases = [
        (client.get("/api/residents?name=%E5%BC%A0%00", headers=town["op"]), ["query", "name"]),
        (client.get("/api/devices?kind=a%00", headers=town["op"]), ["query", "kind"]),
        (client.post("/api/auth/token", data={"username": "admin\x00", "password": "x"}), ["body", "username"]),
        (
            client.post(
                f"/api/alarms/{alarm}/actions",
                json={"action": "call_back", "result": "busy", "note": "\x00"},
                headers=town["op"],
            ),
            ["body", "note"],
        ),
        (
            client.post(f"/api/alarms/{alarm}/notes", json={"text": "ok", "x\x00": 1}, headers=town["op"]),
            ["body", "x\\u0000"],
        ),
        (client.put("/api/alarm-types/so%00s", json={"priority": 1}, headers=town["admin"]), ["path"]),
    ]
    for response, loc in cases:
        assert assert_error(response, 422, "nul_character")["errors"][0]["loc"] == loc


def test_dispatching_a_staff_id_that_does_not_exist_is_422_and_changes_nothing(
    client: TestClient, town: dict[str, Any], db: Session
) -> None:
    alarm = town["alarm_id"]
    client.post(f"/api/alarms/{alarm}/acknowledge", headers=town["op"])
    for staff_id, code in ((2147483647, "staff_not_found"), (town["retired_id"], "staff_inactive")):
        response = client.post(
            f"/api/alarms/{alarm}/actions", json={"action": "dispatch", "staff_id": staff_id}, headers=town["op"]
        )
        assert assert_error(response, 422, code)["staff_id"] == staff_id
    state = db.execute(text("SELECT state, dispatched FROM alarm WHERE id = :id"), {"id": alarm}).one()
    assert tuple(state) == ("acknowledged", False)
    assert db.execute(text("SELECT count(*) FROM task WHERE alarm_id = :id"), {"id": alarm}).scalar_one() == 0
    sent = client.post(
        f"/api/alarms/{alarm}/actions",
        json={"action": "dispatch", "staff_id": town["caregiver_id"]},
        headers=town["op"],
    )
    assert sent.status_code == 200, sent.text
    assignee = db.execute(text("SELECT assignee_staff_id FROM task WHERE alarm_id = :id"), {"id": alarm}).scalar_one()
    assert assignee == town["caregiver_id"]


def test_references_to_rows_that_do_not_exist_are_422_naming_the_field(
    client: TestClient, town: dict[str, Any]
) -> None:
    device = {"serial": "HA-NOHOME-1", "kind": "home_alarm_unit", "model": "YK-100", "household_id": 2147483000}
    body = assert_error(client.post("/api/devices", json=device, headers=town["admin"]), 422, "unknown_reference")
    assert body["field"] == "household_id" and body["detail"] == "household_id 2147483000 does not exist"
    user = {
        "username": "sup.nowhere",
        "full_name": "x",
        "role": "supervisor",
        "password": "long-enough-pw",
        "scope_area_id": 2147483000,
    }
    body = assert_error(client.post("/api/users", json=user, headers=town["admin"]), 422, "unknown_reference")
    assert body["field"] == "scope_area_id"


# --- the last resorts: what no view expected ---


def test_an_unexpected_exception_is_a_500_in_the_one_shape_naming_no_internals(api_settings: ApiSettings) -> None:
    app = create_app(api_settings, connect_broker=False)

    def explode() -> None:
        raise RuntimeError("password=hunter2 in /srv/eldercare/secret.py")

    app.add_api_route("/api/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/explode")
    assert_error(response, 500, "internal_error")
    assert "hunter2" not in response.text and "secret.py" not in response.text


def test_database_refusals_no_view_expected_are_4xx(api_settings: ApiSettings, db: Session) -> None:
    app = create_app(api_settings, connect_broker=False)

    def out_of_range(session: Session = Depends(get_db)) -> None:
        session.execute(text("SELECT CAST(:v AS integer)"), {"v": 2**40})

    def missing_reference(session: Session = Depends(get_db)) -> None:
        session.execute(
            text("UPDATE app_user SET scope_area_id = 2147483000 WHERE id = (SELECT min(id) FROM app_user)")
        )

    app.add_api_route("/api/out-of-range", out_of_range)
    app.add_api_route("/api/missing-reference", missing_reference)
    app.dependency_overrides[get_db] = lambda: db
    f.user(db, role=Role.OPERATOR)
    savepoint = db.begin_nested()
    with TestClient(app) as client:
        assert_error(client.get("/api/out-of-range"), 422, "invalid_value")
        savepoint.rollback()
        savepoint = db.begin_nested()
        body = assert_error(client.get("/api/missing-reference"), 422, "unknown_reference")
        savepoint.rollback()
    assert body["field"] == "scope_area_id"


# --- the OpenAPI document says all this ---


def test_the_openapi_document_declares_every_error_as_error_response(api_settings: ApiSettings) -> None:
    document = create_app(api_settings, connect_broker=False).openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorResponse"]["required"] == ["detail", "code"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = {int(status) for status in operation["responses"]}
            assert {500, 503} <= statuses, (method, path)
            if path.startswith("/api/") and path != "/api/auth/token":
                assert 401 in statuses, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert 422 in statuses, (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400 and path != "/health":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
            for parameter in operation.get("parameters", []):
                if parameter["name"].endswith("_id") or parameter["name"] in ("offset", "since"):
                    schema = parameter["schema"]
                    bounded = [schema, *schema.get("anyOf", [])]
                    assert any("maximum" in s or s.get("format") == "date-time" for s in bounded), (path, parameter)


def test_a_body_over_one_mebibyte_is_413_before_it_is_held(client: TestClient, town: dict[str, Any]) -> None:
    """The NUL rule reads bodies; it stops at 1 MiB instead of holding any size in memory."""
    huge = b'{"text": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    response = client.post(
        f"/api/alarms/{town['alarm_id']}/notes",
        content=huge,
        headers={**town["op"], "content-type": "application/json"},
    )
    body = assert_error(response, 413, "payload_too_large")
    assert body["limit"] == MAX_BODY_BYTES
    operation = client.get("/api/openapi.json").json()["paths"]["/api/alarms/{alarm_id}/notes"]["post"]
    assert "413" in operation["responses"]
