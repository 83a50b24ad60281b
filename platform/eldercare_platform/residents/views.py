"""Residents: operators, supervisors (their area) and admins; every card read is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from eldercare_platform.core.clock import local_date
from eldercare_platform.core.deps import NowDep, SessionDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import DbId, DbIdQuery, Offset
from eldercare_platform.residents import service
from eldercare_platform.residents.deps import ResidentReader
from eldercare_platform.residents.schemas import ResidentCard, ResidentPage

router = APIRouter(prefix="/residents", tags=["residents"])


@router.get("", response_model=ResidentPage)
def get_residents(
    session: SessionDep,
    user: ResidentReader,
    now: NowDep,
    area_id: DbIdQuery = None,
    category: str | None = None,
    name: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ResidentPage:
    """Residents in the user's scope, filtered by area, category or name."""
    # Ages count in the residents' calendar (Asia/Shanghai), by the app's clock.
    return service.resident_page(
        session,
        user=user,
        today=local_date(now),
        area_id=area_id,
        category=category,
        name=name,
        limit=limit,
        offset=offset,
    )


@router.get("/{resident_id}", response_model=ResidentCard, responses=errors(404))
def get_resident_card(
    resident_id: DbId, session: SessionDep, user: ResidentReader, request: Request, now: NowDep
) -> ResidentCard:
    """The full resident card. The read is written to the audit log."""
    card = service.read_card(
        session,
        user=user,
        resident_id=resident_id,
        today=local_date(now),
        client_ip=request.client.host if request.client else None,
        detail={},
    )
    session.commit()
    return card
