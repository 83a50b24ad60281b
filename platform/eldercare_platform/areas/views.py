"""Administrative areas: readable by every signed-in role (names and codes only)."""

from __future__ import annotations

from fastapi import APIRouter

from eldercare_platform.areas.models import Area
from eldercare_platform.areas.schemas import AreaPublic
from eldercare_platform.areas.service import list_areas
from eldercare_platform.core.deps import CurrentUser, SessionDep
from eldercare_platform.core.params import DbIdQuery

router = APIRouter(prefix="/areas", tags=["areas"])


@router.get("", response_model=list[AreaPublic])
def get_areas(session: SessionDep, _user: CurrentUser, parent_id: DbIdQuery = None) -> list[Area]:
    """Areas under `parent_id`, or the top tier."""
    return list_areas(session, parent_id=parent_id)
