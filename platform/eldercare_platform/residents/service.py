"""Resident queries, scoped to what the user may see, and the resident card."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from eldercare_platform.areas.models import Area
from eldercare_platform.audit.service import record
from eldercare_platform.core.clock import age_on
from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.devices.models import Device
from eldercare_platform.residents.models import EmergencyContact, Household, Resident
from eldercare_platform.residents.schemas import ResidentCard, ResidentPage, ResidentSummary
from eldercare_platform.users.models import User


class ResidentNotFoundError(NotFoundError):
    """No such resident in the user's scope."""

    code = "resident_not_found"


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


def get_card(session: Session, *, user: User, resident_id: int, today: date) -> ResidentCard:
    """Everything an operator needs at a glance (`age` on `today`); `ResidentNotFoundError` if missing or
    outside the user's scope."""
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
        raise ResidentNotFoundError("resident not found in your scope")
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
    return ResidentCard.model_validate(
        {
            "resident": resident,
            "age": age_on(resident.birth_date, today),
            "household": household,
            "community": area,
            "members": list(members),
            "contacts": list(contacts),
            "devices": list(devices),
        },
        from_attributes=True,
    )


def read_card(
    session: Session, *, user: User, resident_id: int, today: date, client_ip: str | None, detail: dict[str, object]
) -> ResidentCard:
    """The resident card; the attempt is written to the audit log in the caller's transaction (a caller that
    lets `ResidentNotFoundError` through rolls it back; the alarm card keeps it)."""
    record(
        session,
        user_id=user.id,
        action="read",
        entity="resident",
        entity_id=resident_id,
        detail=dict(detail),
        client_ip=client_ip,
    )
    return get_card(session, user=user, resident_id=resident_id, today=today)


def resident_page(
    session: Session,
    *,
    user: User,
    today: date,
    area_id: int | None = None,
    category: str | None = None,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ResidentPage:
    """One page of residents in the user's scope, ages counted on `today` (the residents' calendar)."""
    total, rows = list_residents(
        session, user=user, area_id=area_id, category=category, name=name, limit=limit, offset=offset
    )
    return ResidentPage(
        total=total,
        items=[
            ResidentSummary(
                id=r.id or 0,
                name=r.name,
                gender=r.gender,
                age=age_on(r.birth_date, today),
                community=area.name,
                categories=r.categories,
                capability_level=r.capability_level,
                care_tier=r.care_tier,
                status=r.status,
            )
            for r, area in rows
        ],
    )
