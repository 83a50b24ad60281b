"""The care_plans domain's routes (thin: guards from deps.py, work in service.py, plans.py, states.py).

Everything hangs off the resident: `/api/residents/{id}/assessments`, `/care-plan(s)`, `/states`; the scale for
the assessment form is `/api/meta/assessment-scale`. A resident outside the user's scope is a 404."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from eldercare_platform.care_plans import plans, service, states
from eldercare_platform.care_plans.deps import CarePlanEditor, CarePlanReader
from eldercare_platform.care_plans.schemas import (
    AssessmentCreate,
    AssessmentOut,
    CarePlanCreate,
    CarePlanOut,
    CurrentCarePlan,
    ScaleOut,
    StateCreate,
    StateEnd,
    StateOut,
)
from eldercare_platform.core.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import BigDbId, DbId

router = APIRouter(tags=["care-plans"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/meta/assessment-scale", response_model=ScaleOut)
def assessment_scale(user: CurrentUser) -> ScaleOut:
    """The GB/T 42195-2022 scale: indicators, items with score ranges and labels, level bands, level changes."""
    return service.scale_out()


@router.post(
    "/residents/{resident_id}/assessments",
    response_model=AssessmentOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(404, 422),
)
def record_assessment(
    resident_id: DbId,
    body: AssessmentCreate,
    session: SessionDep,
    user: CarePlanEditor,
    now: NowDep,
    settings: SettingsDep,
) -> AssessmentOut:
    """Record an assessment: scores, level; the resident's level and next reassessment date follow."""
    out = service.record_assessment(
        session,
        user=user,
        resident_id=resident_id,
        data=body,
        now=now,
        reassessment_months=settings.reassessment_months,
    )
    session.commit()
    return out


@router.get("/residents/{resident_id}/assessments", response_model=list[AssessmentOut], responses=errors(404))
def assessments(resident_id: DbId, session: SessionDep, user: CarePlanReader) -> list[AssessmentOut]:
    """The resident's assessment history, newest first."""
    return service.list_assessments(session, user=user, resident_id=resident_id)


@router.get("/residents/{resident_id}/care-plan", response_model=CurrentCarePlan, responses=errors(404))
def care_plan(resident_id: DbId, session: SessionDep, user: CarePlanReader, now: NowDep) -> CurrentCarePlan:
    """The version in force today and the tier (with reasons) and subsidy the rules give now."""
    return plans.current_plan(session, user=user, resident_id=resident_id, now=now)


@router.get("/residents/{resident_id}/care-plans", response_model=list[CarePlanOut], responses=errors(404))
def care_plans(resident_id: DbId, session: SessionDep, user: CarePlanReader) -> list[CarePlanOut]:
    """Every version of the resident's care plan, newest first."""
    return plans.list_plans(session, user=user, resident_id=resident_id)


@router.post(
    "/residents/{resident_id}/care-plans",
    response_model=CarePlanOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(404, 409, 422),
)
def new_care_plan(
    resident_id: DbId, body: CarePlanCreate, session: SessionDep, user: CarePlanEditor, now: NowDep
) -> CarePlanOut:
    """A new version from `valid_from` (today or later); a tier other than the proposal needs `override_reason`."""
    out = plans.create_plan(session, user=user, resident_id=resident_id, data=body, now=now)
    session.commit()
    return out


@router.get("/residents/{resident_id}/states", response_model=list[StateOut], responses=errors(404))
def resident_states(resident_id: DbId, session: SessionDep, user: CarePlanReader) -> list[StateOut]:
    """Hospital stays, stays away, moving away, death: the latest first."""
    return states.list_states(session, user=user, resident_id=resident_id)


@router.post(
    "/residents/{resident_id}/states",
    response_model=StateOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(404, 409, 422),
)
def start_state(
    resident_id: DbId, body: StateCreate, request: Request, session: SessionDep, user: CarePlanEditor, now: NowDep
) -> StateOut:
    """Record a state; tasks, meal orders, the care plan and devices follow in the same transaction."""
    out = states.start_state(session, user=user, resident_id=resident_id, data=body, now=now, client_ip=_ip(request))
    session.commit()
    return out


@router.post("/residents/{resident_id}/states/{state_id}/end", response_model=StateOut, responses=errors(404, 409, 422))
def end_state(
    resident_id: DbId,
    state_id: BigDbId,
    body: StateEnd,
    request: Request,
    session: SessionDep,
    user: CarePlanEditor,
    now: NowDep,
    settings: SettingsDep,
) -> StateOut:
    """End a hospital stay (discharge) or a stay away: tasks resume; a discharge brings a visit and a reassessment."""
    out = states.end_state(
        session,
        user=user,
        resident_id=resident_id,
        state_id=state_id,
        data=body,
        now=now,
        major_event_visit_hours=settings.major_event_visit_hours,
        client_ip=_ip(request),
    )
    session.commit()
    return out
