"""Planning: build a day's problem from the roster, the care plans and the task engine; run the planner; record
and apply the plan (docs/scheduling.md).

The domain's front door. Its work lives beside it by concern: `problem.py` (the database → a `PlanningProblem`),
`solver.py` (travel model, planner, checks), `record.py` (a plan written down, applied to the tasks, published),
`runs.py` (one community's day, the nightly and intraday runs), `reads.py` (the API's reads). A coordinator's
run and publication are here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.core.errors import ConflictError, UnprocessableError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.planning import record
from eldercare_platform.planning.models import PlanKind, PlanStatus
from eldercare_platform.planning.problem import AreaNotCommunityError, AreaNotFoundError, build_problem, community
from eldercare_platform.planning.reads import PlanNotFoundError, get_plan, list_plans, plan_row
from eldercare_platform.planning.runs import JobOutcome, fingerprint, intraday, nightly, plan_unplanned, run_plan
from eldercare_platform.routing.problem import Planner
from eldercare_platform.users.models import User

__all__ = [
    "AreaNotCommunityError",
    "AreaNotFoundError",
    "JobOutcome",
    "PlanDayPastError",
    "PlanNotFoundError",
    "PlanStateConflictError",
    "build_problem",
    "fingerprint",
    "get_plan",
    "intraday",
    "list_plans",
    "nightly",
    "plan_now",
    "plan_unplanned",
    "publish_plan",
    "run_plan",
]


class PlanDayPastError(UnprocessableError):
    """A day before today (local) cannot be planned: what happened is recorded, not re-planned."""

    code = "plan_day_past"


class PlanStateConflictError(ConflictError):
    """The plan's status does not allow this (only the current draft of a day not past can be published)."""

    code = "plan_state_conflict"


def _community_in_scope(session: Session, *, user: User, area_id: int, day: date) -> None:
    scope = scope_of(session, user)
    found = session.execute(
        text(f"SELECT 1 FROM area a WHERE a.id = :id AND {scope.path_sql('a.path')}"), {**scope.params, "id": area_id}
    ).first()
    if found is None:
        raise AreaNotFoundError(f"area {area_id} not found")
    community(session, area_id=area_id, day=day)  # 422 for a street or a district


def plan_now(
    session: Session,
    *,
    user: User,
    area_id: int,
    day: date,
    now: datetime,
    settings: ServiceRulesMixin,
    planner: Planner | None = None,
) -> int:
    """A coordinator's manual plan of a community in scope for today or a later day: applied to the tasks as a
    draft (assignments, route order), published by `publish_plan`. Returns its id (a failed plan too)."""
    _community_in_scope(session, user=user, area_id=area_id, day=day)
    today = local_date(now)
    if day < today:
        raise PlanDayPastError(
            f"{day.isoformat()} is past: plan today or a later day", day=day.isoformat(), today=today.isoformat()
        )
    return run_plan(
        session,
        area_id=area_id,
        day=day,
        kind=PlanKind.MANUAL,
        now=now,
        settings=settings,
        user_id=user.id,
        trigger={"user_id": user.id, "request": "POST /api/plans"},
        planner=planner,
    )


def publish_plan(session: Session, *, user: User, plan_id: int, now: datetime) -> list[int]:
    """Publish a draft plan in scope (the day's current one, today or later): its tasks go onto the caregivers'
    lists. 409 `plan_state_conflict` for a plan that is not a draft (published, superseded, failed) or of a past
    day. Returns the tasks published."""
    row = plan_row(session, user=user, plan_id=plan_id, lock=True)
    if row.status != PlanStatus.DRAFT:
        raise PlanStateConflictError(f"plan {plan_id} is {row.status}: only a draft can be published",
                                     plan_status=str(row.status))  # fmt: skip
    if row.day < local_date(now):
        raise PlanStateConflictError(
            f"plan {plan_id} is of a past day", plan_status=str(row.status), day=row.day.isoformat()
        )
    published = record.publish(session, plan_id=plan_id, now=now, user_id=user.id)
    record.supersede(session, plan_id=plan_id, area_id=int(row.area_id), day=row.day)
    return published
