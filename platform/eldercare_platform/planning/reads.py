"""Reading plans: the list and one plan in full. A plan is located at its community (`plan.area_path`): a user sees
the plans of the areas in their scope (`Scope.path_sql`, as for tasks), an institution's scope none."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.planning.schemas import (
    PlanChanges,
    PlanDetail,
    PlanRoute,
    PlanStop,
    PlanSummary,
    PlanUnassigned,
)
from eldercare_platform.users.models import User


class PlanNotFoundError(NotFoundError):
    """No such plan in the user's scope."""

    code = "plan_not_found"


SUMMARY = """
SELECT p.id, p.area_id, a.name AS area_name, p.day, p.kind, p.status, p.solver, p.created_at, p.created_by,
       p.published_at, p.runtime_ms, p.previous_plan_id, p.error,
       (SELECT count(DISTINCT ps.staff_id) FROM plan_stop ps WHERE ps.plan_id = p.id) AS route_count,
       (SELECT count(*) FROM plan_stop ps WHERE ps.plan_id = p.id) AS stop_count,
       (SELECT count(*) FROM plan_unassigned pu WHERE pu.plan_id = p.id) AS unassigned_count,
       CAST(p.cost->>'travel_km' AS double precision) AS travel_km
FROM plan p JOIN area a ON a.id = p.area_id
"""

STOPS = """
SELECT ps.task_id, ps.staff_id, s.name AS staff_name, s.travel_mode, ps.shift_id, ps.sequence, ps.planned_start,
       ps.planned_end, ps.travel_km, ps.travel_minutes, ps.pinned, t.kind, t.service, t.priority, t.status,
       t.resident_id, r.name AS resident_name, h.address, t.window_start, t.window_end
FROM plan_stop ps JOIN task t ON t.id = ps.task_id JOIN staff s ON s.id = ps.staff_id
LEFT JOIN resident r ON r.id = t.resident_id LEFT JOIN household h ON h.id = t.household_id
WHERE ps.plan_id = :plan ORDER BY s.name, ps.staff_id, ps.shift_id, ps.sequence
"""

UNASSIGNED = """
SELECT pu.task_id, pu.reason, pu.detail, t.kind, t.priority, t.status, t.resident_id, r.name AS resident_name,
       t.window_start, t.window_end
FROM plan_unassigned pu JOIN task t ON t.id = pu.task_id LEFT JOIN resident r ON r.id = t.resident_id
WHERE pu.plan_id = :plan ORDER BY t.priority, t.window_start, pu.task_id
"""


def list_plans(
    session: Session,
    *,
    user: User,
    area_id: int | None = None,
    day: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[PlanSummary]:
    """Plans in the user's scope, newest first; `area_id` keeps those of the area and the communities under it."""
    scope = scope_of(session, user)
    where, params = [scope.path_sql("p.area_path")], dict(scope.params)
    if area_id is not None:
        where.append("p.area_path LIKE (SELECT path FROM area WHERE id = :area) || '%'")
        params["area"] = area_id
    if day is not None:
        where.append("p.day = :day")
        params["day"] = day
    rows = session.execute(
        text(SUMMARY + f" WHERE {' AND '.join(where)} ORDER BY p.day DESC, p.created_at DESC, p.id DESC"
             " LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).mappings()  # fmt: skip
    return [PlanSummary.model_validate(dict(row)) for row in rows]


def plan_row(session: Session, *, user: User, plan_id: int, lock: bool = False) -> Any:
    """The plan's summary row if it is in the user's scope; else 404 `plan_not_found`."""
    scope = scope_of(session, user)
    found = session.execute(
        text(SUMMARY + f" WHERE p.id = :id AND {scope.path_sql('p.area_path')}" + (" FOR UPDATE OF p" if lock else "")),
        {**scope.params, "id": plan_id},
    ).first()
    if found is None:
        raise PlanNotFoundError(f"plan {plan_id} not found")
    return found


def get_plan(session: Session, *, user: User, plan_id: int) -> PlanDetail:
    """One plan in full (see `PlanDetail`)."""
    summary = plan_row(session, user=user, plan_id=plan_id)
    extra = session.execute(
        text("SELECT cost, changes, inputs, settings, trigger FROM plan WHERE id = :id"), {"id": plan_id}
    ).one()
    totals = {
        (int(r["staff_id"]), r.get("shift_id")): r
        for r in (extra.cost or {}).get("routes", [])
        if isinstance(r, dict) and "staff_id" in r
    }
    routes: dict[tuple[int, int | None], PlanRoute] = {}
    for row in session.execute(text(STOPS), {"plan": plan_id}).mappings():
        key = (int(row["staff_id"]), row["shift_id"])
        if key not in routes:
            total = totals.get(key, {})
            routes[key] = PlanRoute(
                staff_id=key[0],
                staff_name=row["staff_name"],
                shift_id=row["shift_id"],
                travel_mode=row["travel_mode"],
                travel_km=float(total.get("travel_km", 0.0)),
                travel_minutes=float(total.get("travel_minutes", 0.0)),
                stops=[],
            )
        routes[key].stops.append(PlanStop.model_validate(dict(row)))
    for route in routes.values():
        if (route.staff_id, route.shift_id) not in totals:  # a plan recorded without route totals: the legs
            route.travel_km = round(sum(stop.travel_km for stop in route.stops), 3)
            route.travel_minutes = round(sum(stop.travel_minutes for stop in route.stops), 1)
    unassigned = [
        PlanUnassigned.model_validate(dict(row))
        for row in session.execute(text(UNASSIGNED), {"plan": plan_id}).mappings()
    ]
    return PlanDetail.model_validate(
        dict(summary._mapping)
        | {
            "routes": list(routes.values()),
            "unassigned": unassigned,
            "cost": extra.cost or {},
            "changes": PlanChanges.model_validate(extra.changes or {}),
            "inputs": extra.inputs or {},
            "settings": extra.settings or {},
            "trigger": extra.trigger or {},
        }
    )
