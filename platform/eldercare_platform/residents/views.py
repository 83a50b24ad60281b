"""Residents: operators, supervisors (their area) and admins; every card read is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from eldercare_platform.areas.models import AreaPublic
from eldercare_platform.audit.service import record
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.deps import NowDep, SessionDep, require_roles
from eldercare_platform.core.errors import NotFoundError, errors
from eldercare_platform.core.params import DbId, DbIdQuery, Offset
from eldercare_platform.devices.models import DeviceBase
from eldercare_platform.residents.models import (
    EmergencyContactBase,
    HouseholdBase,
    ResidentPublic,
)
from eldercare_platform.residents.service import age_on, get_card, list_residents
from eldercare_platform.users.models import Role, User

router = APIRouter(prefix="/residents", tags=["residents"])
ReaderDep = Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))]


class ResidentSummary(BaseModel):
    """A resident row in a list: no ID number, conditions or address."""

    id: int
    name: str
    gender: str
    age: int
    community: str
    categories: list[str]
    capability_level: str
    care_tier: str
    status: str


class ResidentPage(BaseModel):
    """One page of residents."""

    total: int
    items: list[ResidentSummary]


class HouseholdOut(HouseholdBase):
    """The resident's home."""

    id: int


class ContactOut(EmergencyContactBase):
    """An emergency contact."""

    id: int


class DeviceOut(DeviceBase):
    """A device in the home."""

    id: int


class ResidentCard(BaseModel):
    """The resident card: who, where, conditions, contacts and devices."""

    resident: ResidentPublic
    age: int
    household: HouseholdOut
    community: AreaPublic
    members: list[ResidentPublic]
    contacts: list[ContactOut]
    devices: list[DeviceOut]


@router.get("", response_model=ResidentPage)
def get_residents(
    session: SessionDep,
    user: ReaderDep,
    now: NowDep,
    area_id: DbIdQuery = None,
    category: str | None = None,
    name: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ResidentPage:
    """Residents in the user's scope, filtered by area, category or name."""
    total, rows = list_residents(
        session, user=user, area_id=area_id, category=category, name=name, limit=limit, offset=offset
    )
    today = local_date(now)  # ages count in the residents' calendar (Asia/Shanghai), by the app's clock
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


@router.get("/{resident_id}", response_model=ResidentCard, responses=errors(404))
def get_resident_card(resident_id: DbId, session: SessionDep, user: ReaderDep, request: Request, now: NowDep) -> Any:
    """The full resident card. The read is written to the audit log."""
    card = get_card(session, user=user, resident_id=resident_id)
    if card is None:
        raise NotFoundError("resident not found in your scope", code="resident_not_found")
    record(
        session,
        user_id=user.id,
        action="read",
        entity="resident",
        entity_id=resident_id,
        client_ip=request.client.host if request.client else None,
    )
    session.commit()
    card["age"] = age_on(card["resident"].birth_date, local_date(now))
    return card
