"""Each role's access to the API: 401 without a valid token, 403 for the wrong role, scope for supervisors."""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from eldercare_common.settings import DEMO_JWT_SECRET
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.audit.models import AuditLog
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.users.models import Role
from tests import factories as f

# Only the tests that sign in or judge a token's times are time-sensitive (token expiry is judged by the API's
# clock); the route-by-route "no token: 401" walk reads no time.
TIME_SENSITIVE = pytest.mark.time_sensitive

PROTECTED = [
    ("get", "/api/auth/me"),
    ("get", "/api/areas"),
    ("get", "/api/residents"),
    ("get", "/api/residents/1"),
    ("get", "/api/devices"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("get", "/api/system/status"),
    ("get", "/api/meta/labels"),
    ("post", "/api/devices"),
    ("post", "/api/devices/1/credentials"),
    ("post", "/api/devices/1/commands"),
    ("put", "/api/devices/1/config"),
    ("get", "/api/device-events"),
    ("post", "/api/device-events/1/feedback"),
    ("get", "/api/alarms"),
    ("get", "/api/alarms/changes"),
    ("get", "/api/alarms/handover"),
    ("get", "/api/alarms/1"),
    ("get", "/api/alarms/1/trace"),
    ("get", "/api/alarms/1/card"),
    ("post", "/api/alarms/1/acknowledge"),
    ("post", "/api/alarms/1/actions"),
    ("post", "/api/alarms/1/resolve"),
    ("post", "/api/alarms/1/notes"),
    ("get", "/api/alarm-types"),
    ("put", "/api/alarm-types/1"),
    ("get", "/api/meta/assessment-scale"),
    ("post", "/api/residents/1/assessments"),
    ("get", "/api/residents/1/assessments"),
    ("get", "/api/residents/1/care-plan"),
    ("get", "/api/residents/1/care-plans"),
    ("post", "/api/residents/1/care-plans"),
    ("get", "/api/residents/1/states"),
    ("post", "/api/residents/1/states"),
    ("post", "/api/residents/1/states/1/end"),
    ("get", "/api/roster/staff"),
    ("get", "/api/roster/staff/1"),
    ("patch", "/api/roster/staff/1"),
    ("get", "/api/roster/staff/1/patterns"),
    ("post", "/api/roster/staff/1/patterns"),
    ("put", "/api/roster/staff/1/patterns/1"),
    ("delete", "/api/roster/staff/1/patterns/1"),
    ("get", "/api/roster/staff/1/leave"),
    ("post", "/api/roster/staff/1/leave"),
    ("delete", "/api/roster/staff/1/leave/1"),
    ("get", "/api/roster/staff/1/certifications"),
    ("post", "/api/roster/staff/1/certifications"),
    ("put", "/api/roster/staff/1/certifications/1"),
    ("delete", "/api/roster/staff/1/certifications/1"),
    ("put", "/api/roster/staff/1/preferences/1"),
    ("delete", "/api/roster/staff/1/preferences/1"),
    ("get", "/api/roster/availability"),
    ("get", "/api/roster/on-shift"),
    ("get", "/api/tasks/board"),
    ("post", "/api/tasks"),
    ("get", "/api/tasks"),
    ("post", "/api/tasks/publish"),
    ("post", "/api/tasks/auto-assign"),
    ("get", "/api/tasks/1"),
    ("get", "/api/tasks/1/evv"),
    ("post", "/api/tasks/1/assign"),
    ("post", "/api/tasks/1/unassign"),
    ("post", "/api/tasks/1/cancel"),
    ("post", "/api/tasks/1/missed"),
    ("post", "/api/tasks/1/accept"),
    ("post", "/api/tasks/1/en-route"),
    ("post", "/api/tasks/1/check-in"),
    ("post", "/api/tasks/1/complete"),
    ("post", "/api/tasks/1/no-answer"),
    ("get", "/api/me/tasks"),
    ("get", "/api/me/residents"),
    ("get", "/api/me/residents/1"),
    ("post", "/api/me/tasks/1/photos"),
    ("get", "/api/tasks/1/photos/1"),
    ("post", "/api/tasks/1/acknowledge"),
    ("get", "/api/alerts"),
    ("get", "/api/alerts/1"),
    ("post", "/api/alerts/1/acknowledge"),
    ("post", "/api/alerts/1/resolve"),
    ("get", "/api/meals/orders"),
    ("post", "/api/meals/orders"),
    ("post", "/api/meals/orders/1/cancel"),
    ("post", "/api/meals/orders/1/collected"),
    ("get", "/api/meals/points/1/day"),
    ("get", "/api/plans"),
    ("post", "/api/plans"),
    ("get", "/api/plans/1"),
    ("post", "/api/plans/1/publish"),
    ("get", "/api/supervision/alarms"),
    ("get", "/api/supervision/visits"),
    ("get", "/api/supervision/visits/caregivers"),
    ("get", "/api/supervision/meals"),
    ("get", "/api/supervision/meals/points"),
    ("get", "/api/supervision/devices"),
    ("get", "/api/supervision/areas"),
    ("get", "/api/supervision/services/statement"),
    ("get", "/api/supervision/monitor"),
    ("get", "/api/supervision/monitor/residents/1"),
]


@pytest.fixture
def city(db: Session) -> dict[str, object]:
    """Two streets with a community each, a resident in each, and one user per role."""
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    street_a = f.area(db, name="雕庄街道", level=AreaLevel.STREET, parent=district)
    street_b = f.area(db, name="红梅街道", level=AreaLevel.STREET, parent=district)
    community_a = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=street_a)
    community_b = f.area(db, name="红梅新村社区", level=AreaLevel.COMMUNITY, parent=street_b)
    return {
        "resident_a": f.resident(db, community=community_a, name="张桂英"),
        "resident_b": f.resident(db, community=community_b, name="陈建国"),
        "operator": f.user(db, role=Role.OPERATOR),
        "caregiver": f.user(db, role=Role.CAREGIVER),
        "admin": f.user(db, role=Role.ADMIN),
        "supervisor_a": f.user(db, role=Role.SUPERVISOR, scope_area=street_a),
        "supervisor_district": f.user(db, role=Role.SUPERVISOR, scope_area=district),
    }


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_api_endpoint_needs_a_token(client: TestClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_every_route_in_the_schema_is_covered() -> None:
    """A new endpoint must be added to PROTECTED (or be deliberately public like /health)."""
    from eldercare_platform.core.config import ApiSettings
    from eldercare_platform.main import create_app

    paths = create_app(ApiSettings(environment="test"), connect_broker=False).openapi()["paths"]
    routes = {(method, path) for path, ops in paths.items() for method in ops}
    public = {("get", "/health"), ("post", "/api/auth/token")}
    normalized = {(m, re.sub(r"\{[a-z_]+\}", "1", p)) for m, p in routes}
    assert normalized - public == set(PROTECTED)


@TIME_SENSITIVE
def test_wrong_password_is_401_and_audited(client: TestClient, db: Session, city: dict[str, object]) -> None:
    response = client.post("/api/auth/token", data={"username": city["operator"].username, "password": "nope"})  # type: ignore[attr-defined]
    assert response.status_code == 401
    failures = db.exec(select(AuditLog).where(AuditLog.action == "login_failed")).all()
    assert [row.entity_id for row in failures] == [city["operator"].username]  # type: ignore[attr-defined]


@TIME_SENSITIVE
def test_expired_or_forged_token_is_401(client: TestClient, city: dict[str, object], clock: FixedClock) -> None:
    user = city["operator"]
    now = clock.now()
    expired = jwt.encode(
        {"sub": str(user.id), "role": "operator", "exp": now - timedelta(minutes=1)},  # type: ignore[attr-defined]
        DEMO_JWT_SECRET,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": str(user.id), "role": "admin", "exp": now + timedelta(hours=1)},  # type: ignore[attr-defined]
        "another-secret-another-secret-xx",
        algorithm="HS256",
    )
    role_swap = jwt.encode(
        {"sub": str(user.id), "role": "admin", "exp": now + timedelta(hours=1)},  # type: ignore[attr-defined]
        DEMO_JWT_SECRET,
        algorithm="HS256",
    )
    for token in (expired, forged, role_swap, "not-a-jwt"):
        assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@TIME_SENSITIVE
def test_inactive_user_cannot_log_in(client: TestClient, db: Session, city: dict[str, object]) -> None:
    operator = city["operator"]
    operator.active = False  # type: ignore[attr-defined]
    db.add(operator)
    db.flush()
    response = client.post("/api/auth/token", data={"username": operator.username, "password": f.PASSWORD})  # type: ignore[attr-defined]
    assert response.status_code == 401


@TIME_SENSITIVE
@pytest.mark.parametrize("role", ["operator", "caregiver", "admin", "supervisor_a"])
def test_every_role_can_sign_in_and_see_itself(client: TestClient, city: dict[str, object], role: str) -> None:
    user = city[role]
    headers = f.login(client, user.username)  # type: ignore[attr-defined]
    me = client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["username"] == user.username  # type: ignore[attr-defined]
    assert client.get("/api/system/status", headers=headers).status_code == 200
    assert client.get("/api/areas", headers=headers).status_code == 200


@TIME_SENSITIVE
def test_caregiver_cannot_list_residents_devices_or_users(client: TestClient, city: dict[str, object]) -> None:
    headers = f.login(client, city["caregiver"].username)  # type: ignore[attr-defined]
    for path in ("/api/residents", f"/api/residents/{city['resident_a'].id}", "/api/devices", "/api/users"):  # type: ignore[attr-defined]
        response = client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden" and "caregiver" in response.json()["detail"]


@TIME_SENSITIVE
def test_only_admin_manages_users(client: TestClient, city: dict[str, object]) -> None:
    body = {"username": "new.operator", "full_name": "新坐席", "role": "operator", "password": "long-enough-pw"}
    operator_headers = f.login(client, city["operator"].username)  # type: ignore[attr-defined]
    assert client.get("/api/users", headers=operator_headers).status_code == 403
    assert client.post("/api/users", json=body, headers=operator_headers).status_code == 403
    admin_headers = f.login(client, city["admin"].username)  # type: ignore[attr-defined]
    created = client.post("/api/users", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert "password" not in created.json() and "password_hash" not in created.json()
    assert client.post("/api/users", json=body, headers=admin_headers).status_code == 409
    f.login(client, "new.operator", "long-enough-pw")


@TIME_SENSITIVE
def test_admin_cannot_create_an_unscoped_supervisor(client: TestClient, city: dict[str, object]) -> None:
    headers = f.login(client, city["admin"].username)  # type: ignore[attr-defined]
    body = {"username": "loose.sup", "full_name": "x", "role": "supervisor", "password": "long-enough-pw"}
    assert client.post("/api/users", json=body, headers=headers).status_code == 409


@TIME_SENSITIVE
def test_invalid_body_is_422_with_details(client: TestClient, city: dict[str, object]) -> None:
    headers = f.login(client, city["admin"].username)  # type: ignore[attr-defined]
    response = client.post("/api/users", json={"username": "Bad Name!", "role": "king"}, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["detail"].startswith("invalid request: body.")
    fields = {tuple(error["loc"]) for error in body["errors"]}
    assert ("body", "username") in fields and ("body", "role") in fields
    assert all(set(error) == {"loc", "msg", "type"} for error in body["errors"])  # never the input (passwords)


@TIME_SENSITIVE
def test_operator_sees_every_resident(client: TestClient, city: dict[str, object]) -> None:
    headers = f.login(client, city["operator"].username)  # type: ignore[attr-defined]
    names = {item["name"] for item in client.get("/api/residents", headers=headers).json()["items"]}
    assert {"张桂英", "陈建国"} <= names


@TIME_SENSITIVE
def test_supervisor_sees_only_their_area(client: TestClient, city: dict[str, object]) -> None:
    headers = f.login(client, city["supervisor_a"].username)  # type: ignore[attr-defined]
    page = client.get("/api/residents", headers=headers).json()
    assert [item["name"] for item in page["items"]] == ["张桂英"]
    assert page["total"] == 1
    assert client.get(f"/api/residents/{city['resident_a'].id}", headers=headers).status_code == 200  # type: ignore[attr-defined]
    assert client.get(f"/api/residents/{city['resident_b'].id}", headers=headers).status_code == 404  # type: ignore[attr-defined]
    district_headers = f.login(client, city["supervisor_district"].username)  # type: ignore[attr-defined]
    assert client.get("/api/residents", headers=district_headers).json()["total"] >= 2


@TIME_SENSITIVE
def test_resident_list_hides_sensitive_fields(client: TestClient, city: dict[str, object]) -> None:
    headers = f.login(client, city["operator"].username)  # type: ignore[attr-defined]
    item = client.get("/api/residents", headers=headers).json()["items"][0]
    assert "id_number" not in item and "health_conditions" not in item and "address" not in item


@TIME_SENSITIVE
def test_reading_a_resident_card_is_audited(client: TestClient, db: Session, city: dict[str, object]) -> None:
    operator, resident = city["operator"], city["resident_a"]
    headers = f.login(client, operator.username)  # type: ignore[attr-defined]
    card = client.get(f"/api/residents/{resident.id}", headers=headers)  # type: ignore[attr-defined]
    assert card.status_code == 200
    body = card.json()
    assert body["resident"]["id_number"].startswith("3204021940030")
    assert body["contacts"][0]["is_keyholder"] is True
    assert body["community"]["name"] == "丽华社区"
    reads = db.exec(select(AuditLog).where(AuditLog.action == "read", AuditLog.entity == "resident")).all()
    assert [(row.user_id, row.entity_id) for row in reads] == [(operator.id, str(resident.id))]  # type: ignore[attr-defined]
