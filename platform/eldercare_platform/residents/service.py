"""Resident queries, scoped to what the user may see, and the resident card."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from eldercare_platform.areas.models import Area
from eldercare_platform.core.scope import scope_of
from eldercare_platform.devices.models import Device
from eldercare_platform.residents.models import EmergencyContact, Household, Resident
from eldercare_platform.users.models import User


def age_on(birth_date: date, today: date) -> int:
    """Age in whole years."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def list_residents(
    session: Session,
    *,
    user: User,
    area_id: int | None = None,
    category: str | None = None,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[tuple[Resident, Area]]]:
    """Residents the user may see, filtered, with their community; returns (total, page)."""
    query = (
        select(Resident, Area)
        .join(Household, col(Household.id) == Resident.household_id)
        .join(Area, col(Area.id) == Household.area_id)
    )
    scope = scope_of(session, user)
    if not scope.unrestricted:
        query = query.where(scope.clause(scope.residents_sql("resident")))
    if area_id is not None:
        area = session.get(Area, area_id)
        query = query.where(col(Area.path).startswith(area.path if area else "/nonexistent/"))
    if category:
        query = query.where(col(Resident.categories).any(category))  # type: ignore[arg-type]
    if name:
        query = query.where(col(Resident.name).contains(name))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Resident.id)).limit(limit).offset(offset)).all()
    return int(total), [(resident, area) for resident, area in rows]


def get_card(session: Session, *, user: User, resident_id: int) -> dict[str, Any] | None:
    """Everything an operator needs at a glance, or None if missing or outside the user's scope."""
    query = (
        select(Resident, Household, Area)
        .join(Household, col(Household.id) == Resident.household_id)
        .join(Area, col(Area.id) == Household.area_id)
        .where(Resident.id == resident_id)
    )
    scope = scope_of(session, user)
    if not scope.unrestricted:
        query = query.where(scope.clause(scope.residents_sql("resident")))
    row = session.exec(query).first()
    if row is None:
        return None
    resident, household, area = row
    contacts = session.exec(
        select(EmergencyContact)
        .where(EmergencyContact.resident_id == resident_id)
        .order_by(col(EmergencyContact.priority))
    ).all()
    members = session.exec(
        select(Resident).where(Resident.household_id == household.id, Resident.id != resident_id)
    ).all()
    devices = session.exec(select(Device).where(Device.household_id == household.id)).all()
    return {
        "resident": resident,
        "household": household,
        "community": area,
        "members": list(members),
        "contacts": list(contacts),
        "devices": list(devices),
    }
