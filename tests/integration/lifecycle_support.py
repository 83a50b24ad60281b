"""A small world for the task lifecycle and the alarm ↔ visit loop: one community in scope, one outside, a resident
with a located home, two caregivers on shift around TEST_NOW (one near, one far) with their logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import local_date
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import TEST_NOW

HOME = (32.2000, 119.4500)
NEAR = (32.2010, 119.4510)  # ~140 m from the home
FAR = (32.2500, 119.5000)  # ~7 km
TODAY = local_date(TEST_NOW).isoformat()


@dataclass
class World:
    community: Any
    other_community: Any
    resident: Any
    other_resident: Any
    near_staff: int
    far_staff: int
    coordinator: User
    other_coordinator: User
    near_caregiver: User
    far_caregiver: User
    operator: User


def staff(db: Session, *, name: str, area_id: int, at: tuple[float, float], skills: list[str], shift: bool) -> int:
    staff_id = db.execute(
        text(
            "INSERT INTO staff (name, phone, role, skills, home_area_id, active, home_latitude, home_longitude)"
            " VALUES (:n, '13900000000', 'caregiver', :skills, :area, true, :lat, :lon) RETURNING id"
        ),
        {"n": name, "skills": skills, "area": area_id, "lat": at[0], "lon": at[1]},
    ).scalar_one()
    if "nursing" in skills:  # the roster lets only certified staff nurse (roster/rules.py REQUIRED_CERTIFICATES)
        db.execute(
            text(
                "INSERT INTO staff_certification (staff_id, name, level, expires_on)"
                " VALUES (:s, '养老护理员职业技能等级证书', '四级', :until)"
            ),
            {"s": staff_id, "until": (TEST_NOW + timedelta(days=365)).date()},
        )
    if shift:
        db.execute(
            text("INSERT INTO shift (staff_id, starts_at, ends_at, on_call) VALUES (:s, :a, :b, false)"),
            {"s": staff_id, "a": TEST_NOW - timedelta(hours=6), "b": TEST_NOW + timedelta(hours=8)},
        )
    return int(staff_id)


def caregiver_for(db: Session, staff_id: int) -> User:
    user = f.user(db, role=Role.CAREGIVER)
    user.staff_id = staff_id
    db.add(user)
    db.flush()
    return user


def build(db: Session) -> World:
    district = f.area(db, name="京口区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="正东路街道", level=AreaLevel.STREET, parent=district)
    community = f.area(db, name="宝塔山社区", level=AreaLevel.COMMUNITY, parent=street)
    other = f.area(db, name="大西路社区", level=AreaLevel.COMMUNITY, parent=street)
    resident = f.resident(db, community=community, name="赵玉兰")
    other_resident = f.resident(db, community=other, name="钱国庆")
    db.execute(
        text("UPDATE household SET latitude = :lat, longitude = :lon, access_notes = '钥匙在邻居家' WHERE id = :h"),
        {"lat": HOME[0], "lon": HOME[1], "h": resident.household_id},
    )
    assert community.id is not None
    near = staff(db, name="孙护理", area_id=community.id, at=NEAR, skills=["visit", "nursing"], shift=True)
    far = staff(db, name="周护理", area_id=community.id, at=FAR, skills=["visit"], shift=True)
    return World(
        community=community,
        other_community=other,
        resident=resident,
        other_resident=other_resident,
        near_staff=near,
        far_staff=far,
        coordinator=f.user(db, role=Role.COORDINATOR, scope_area=community),
        other_coordinator=f.user(db, role=Role.COORDINATOR, scope_area=other),
        near_caregiver=caregiver_for(db, near),
        far_caregiver=caregiver_for(db, far),
        operator=f.user(db, role=Role.OPERATOR),
    )


def auth(client: TestClient, user: User) -> dict[str, str]:
    return f.login(client, user.username)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def new_task(client: TestClient, headers: dict[str, str], resident_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "kind": "visit",
        "resident_id": resident_id,
        "window_start": iso(TEST_NOW),
        "window_end": iso(TEST_NOW + timedelta(hours=2)),
    } | extra
    response = client.post("/api/tasks", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def published_task(client: TestClient, w: World, staff_id: int | None = None, **extra: Any) -> int:
    """A visit created, assigned (to the near caregiver by default) and published by the coordinator."""
    coordinator = auth(client, w.coordinator)
    task = new_task(client, coordinator, w.resident.id, **extra)
    assigned = client.post(
        f"/api/tasks/{task['id']}/assign", headers=coordinator, json={"staff_id": staff_id or w.near_staff}
    )
    assert assigned.status_code == 200, assigned.text
    published = client.post("/api/tasks/publish", headers=coordinator, json={"area_id": w.community.id, "date": TODAY})
    assert task["id"] in published.json()["published"], published.text
    return int(task["id"])
