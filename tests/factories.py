"""Small factories for test data, written through the same SQLModel models the platform uses."""

from __future__ import annotations

import itertools
from datetime import date

from sqlmodel import Session

from eldercare_common.mqtt_auth import hash_password as mqtt_hash
from eldercare_platform.areas.models import Area, AreaLevel
from eldercare_platform.areas.service import child_path
from eldercare_platform.core.security import hash_password
from eldercare_platform.devices.models import Device, DeviceCredential, DeviceKind
from eldercare_platform.residents.models import EmergencyContact, Gender, Household, Resident
from eldercare_platform.users.models import Role, User

PASSWORD = "test-password-123"
_counter = itertools.count(1)
_PASSWORD_HASH: str | None = None


def _password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per run
    return _PASSWORD_HASH


def area(session: Session, *, name: str, level: AreaLevel, parent: Area | None = None) -> Area:
    """An area under `parent`, with its materialized path."""
    row = Area(
        code=f"T{next(_counter):011d}", name=name, level=level, parent_id=parent.id if parent else None, path="/"
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    row.path = child_path(parent, row.id)
    session.flush()
    return row


def user(session: Session, *, role: Role, scope_area: Area | None = None, username: str | None = None) -> User:
    """A user with the shared test password."""
    row = User(
        username=username or f"{role}{next(_counter)}",
        full_name=f"测试{role}",
        role=role,
        scope_area_id=scope_area.id if scope_area else None,
        password_hash=_password_hash(),
    )
    session.add(row)
    session.flush()
    return row


def resident(
    session: Session, *, community: Area, name: str = "王秀英", categories: list[str] | None = None
) -> Resident:
    """A resident in a new household of `community`, with one contact and an alarm unit."""
    assert community.id is not None
    home = Household(area_id=community.id, address=f"{community.name}幸福路{next(_counter)}号")
    session.add(home)
    session.flush()
    assert home.id is not None
    person = Resident(
        household_id=home.id,
        name=name,
        gender=Gender.FEMALE,
        birth_date=date(1940, 3, 8),
        id_number=f"3204021940030{next(_counter):05d}",
        categories=categories or ["living_alone"],
        health_conditions=["高血压"],
    )
    session.add(person)
    session.flush()
    assert person.id is not None
    session.add(
        EmergencyContact(resident_id=person.id, name="李强", relation="儿子", phone="13800000000", is_keyholder=True)
    )
    session.flush()
    return person


def device(
    session: Session,
    *,
    household_id: int,
    serial: str | None = None,
    kind: DeviceKind = DeviceKind.HOME_ALARM_UNIT,
    password: str | None = None,
) -> Device:
    """A device in a household, with a broker credential when a password is given."""
    row = Device(serial=serial or f"TS{next(_counter):07d}", kind=kind, model="T-1", household_id=household_id)
    session.add(row)
    session.flush()
    assert row.id is not None
    if password is not None:
        session.add(DeviceCredential(device_id=row.id, username=row.serial, password_hash=mqtt_hash(password)))
        session.flush()
    return row


def login(client: object, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header for a user, via the real token endpoint."""
    response = client.post("/api/auth/token", data={"username": username, "password": password})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
