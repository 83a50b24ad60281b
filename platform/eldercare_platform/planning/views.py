"""The planning API (`/api/plans`): thin routes over `service`.

Reading plans needs TASKS_READ and shows the plans of communities in the user's scope; running and publishing a
plan needs TASKS_MANAGE (docs/scheduling.md, "API")."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import BigDbId, DbIdQuery, IsoDate, Offset
from eldercare_platform.planning import service
from eldercare_platform.planning.deps import PlanManager, PlanReader
from eldercare_platform.planning.schemas import PlanDetail, PlanRequest, PlanSummary

router = APIRouter(prefix="/plans", tags=["planning"])


@router.get("", response_model=list[PlanSummary])
def list_plans(
    session: SessionDep,
    user: PlanReader,
    area_id: DbIdQuery = None,
    day: Annotated[
        IsoDate | None,
        Query(ge=date(2000, 1, 1), le=date(2099, 12, 31), description="Local day (Asia/Shanghai), YYYY-MM-DD"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[PlanSummary]:
    """Plans in the user's scope, newest first: of an area (and the communities under it) and a local day."""
    return service.list_plans(session, user=user, area_id=area_id, day=day, limit=limit, offset=offset)


@router.get("/{plan_id}", response_model=PlanDetail, responses=errors(404))
def plan_detail(plan_id: BigDbId, session: SessionDep, user: PlanReader) -> PlanDetail:
    """A plan in full: routes with stops (names, planned times, travel), the tasks it could not serve with the
    reasons, its cost breakdown, what changed since the previous published plan, its inputs, settings, solver."""
    return service.get_plan(session, user=user, plan_id=plan_id)


@router.post("", response_model=PlanDetail, status_code=201, responses=errors(404, 422))
def plan_now(
    body: PlanRequest, session: SessionDep, user: PlanManager, now: NowDep, settings: SettingsDep
) -> PlanDetail:
    """Plan a community's day now (kind `manual`): applied to the tasks as a draft, published by
    `POST /api/plans/{id}/publish`. 404 `area_not_found` outside the scope; 422 `area_not_community` for a street
    or a district, `plan_day_past` for a day before today. A plan that breaks a rule is returned `failed`."""
    try:
        plan_id = service.plan_now(session, user=user, area_id=body.area_id, day=body.day, now=now, settings=settings)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return service.get_plan(session, user=user, plan_id=plan_id)


@router.post("/{plan_id}/publish", response_model=PlanDetail, responses=errors(404, 409))
def publish(plan_id: BigDbId, session: SessionDep, user: PlanManager, now: NowDep) -> PlanDetail:
    """Publish a draft plan: its tasks go onto the caregivers' lists, earlier plans of the day are superseded.
    409 `plan_state_conflict` for a plan that is not a draft, or of a past day."""
    try:
        service.publish_plan(session, user=user, plan_id=plan_id, now=now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return service.get_plan(session, user=user, plan_id=plan_id)
