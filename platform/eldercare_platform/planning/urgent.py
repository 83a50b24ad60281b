"""An urgent insertion recorded as a plan (kind `urgent_insertion`; docs/scheduling/urgent.md).

The task engine decides and applies an urgent insertion itself (tasks/urgent.py: it must not wait for, nor
import, the planning domain); the `plan` tables are the planning domain's. So the task engine calls the recorder
this module registers (`tasks.service.register_route_recorder`, done when the planning package is imported:
the API's app and the scheduler import it): one `plan` row — the task's community and local day, published at
once, the solver, its inputs, the cost (the added km, the delay to the caregiver's later tasks) and the changes —
its `plan_stop`s (the chosen caregiver's route after the insertion, the open part) or its `plan_unassigned` row
(nobody could take it, with the reason), and `previous_plan_id` = the area's latest plan of that day.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.planning.models import PlanKind, PlanStatus
from eldercare_platform.tasks import service as tasks_service

_AREA_OF_STAFF = "SELECT a.id, a.path FROM staff s JOIN area a ON a.id = s.home_area_id WHERE s.id = :staff"
_AREA_PATH = "SELECT path FROM area WHERE id = :area"
_PREVIOUS = """
SELECT id, cost FROM plan WHERE area_id = :area AND day = :day AND published_at IS NOT NULL
ORDER BY published_at DESC, id DESC LIMIT 1
"""
"""The plan the caregivers last saw for the area's day (as the planner's `changes` compare with)."""

_KEEP_STOPS = """
INSERT INTO plan_stop (plan_id, task_id, staff_id, shift_id, sequence, planned_start, planned_end, travel_km,
                       travel_minutes, pinned)
SELECT :plan, ps.task_id, ps.staff_id, ps.shift_id, ps.sequence, ps.planned_start, ps.planned_end, ps.travel_km,
       ps.travel_minutes, ps.pinned
FROM plan_stop ps WHERE ps.plan_id = :previous AND ps.task_id <> ALL(CAST(:routed AS bigint[]))
"""
"""Every other stop of the previous plan, as it was: the urgent plan is the whole day, one route changed."""

_KEEP_UNASSIGNED = """
INSERT INTO plan_unassigned (plan_id, task_id, reason, detail)
SELECT :plan, pu.task_id, pu.reason, pu.detail FROM plan_unassigned pu
WHERE pu.plan_id = :previous AND pu.task_id <> ALL(CAST(:routed AS bigint[]))
"""

_INSERT_PLAN = """
INSERT INTO plan (area_id, area_path, day, kind, status, trigger, solver, settings, inputs, cost, changes,
                  previous_plan_id, runtime_ms, created_at, created_by, published_at)
VALUES (:area, :path, :day, :kind, :status, CAST(:trigger AS jsonb), :solver, CAST(:settings AS jsonb),
        CAST(:inputs AS jsonb), CAST(:cost AS jsonb), CAST(:changes AS jsonb), :previous, :runtime, :now, :user, :now)
RETURNING id
"""

_INSERT_STOP = """
INSERT INTO plan_stop (plan_id, task_id, staff_id, shift_id, sequence, planned_start, planned_end, travel_km,
                       travel_minutes, pinned)
VALUES (:plan, :task, :staff, :shift, :sequence, :start, :end, :km, :minutes, :pinned)
"""

_INSERT_UNASSIGNED = """
INSERT INTO plan_unassigned (plan_id, task_id, reason, detail) VALUES (:plan, :task, :reason, CAST(:detail AS jsonb))
"""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _cost(routing: tasks_service.UrgentRouting, before_km: Any) -> dict[str, Any]:
    """The insertion's cost (added km, delays) and the day's total travel (`travel_km`, as every plan has it:
    the previous plan's plus the added km; the chosen route's alone when there was none)."""
    cost = dict(routing.cost)
    added = float(cost.get("added_km") or 0.0)
    if isinstance(before_km, int | float):
        cost["travel_km"] = round(float(before_km) + added, 3)
    elif "route_km_after" in cost:
        cost["travel_km"] = cost["route_km_after"]
    if routing.staff_id is not None and routing.stops:
        cost["routes"] = [
            {
                "staff_id": routing.staff_id,
                "shift_id": routing.shift_id,
                "stops": len(routing.stops),
                "travel_km": cost.get("route_km_after"),
            }
        ]
    return cost


def _changes(routing: tasks_service.UrgentRouting, previous: int | None) -> dict[str, Any]:
    """What changed since the previous plan, in the planner's shape (planning/record.py `changes_since`): the urgent
    task newly assigned, and every later stop of the chosen route that now starts later (`time_shifts`, however
    small: a delay caused by an emergency is worth telling)."""
    newly = [] if routing.staff_id is None else [{"task_id": routing.task_id, "staff_id": routing.staff_id}]
    shifts = [
        {
            "task_id": stop.task_id,
            "staff_id": routing.staff_id,
            "previous_start": stop.previous_start.isoformat(),
            "planned_start": stop.planned_start.isoformat(),
            "minutes": round((stop.planned_start - stop.previous_start).total_seconds() / 60, 1),
        }
        for stop in routing.stops
        if stop.task_id != routing.task_id and stop.previous_start not in (None, stop.planned_start)
    ]
    lists: dict[str, list[dict[str, Any]]] = {
        "moved": [],
        "newly_assigned": newly,
        "unassigned": [],
        "time_shifts": shifts,
        "left": [],
    }
    return {"previous_plan_id": previous} | lists | {"counts": {k: len(v) for k, v in lists.items()}}


def record_urgent_insertion(session: Session, routing: tasks_service.UrgentRouting) -> int | None:
    """Write the plan of an urgent insertion; its id (None when the task has no area and nobody took it)."""
    area_id, area_path = routing.area_id, routing.area_path
    if area_id is None and routing.staff_id is not None:
        row = session.execute(text(_AREA_OF_STAFF), {"staff": routing.staff_id}).first()
        if row is not None:
            area_id, area_path = int(row.id), str(row.path)
    if area_id is None:
        return None
    if area_path is None:
        area_path = str(session.execute(text(_AREA_PATH), {"area": area_id}).scalar_one())
    found = session.execute(text(_PREVIOUS), {"area": area_id, "day": routing.day}).first()
    previous = None if found is None else int(found.id)
    before_km = None if found is None else (found.cost or {}).get("travel_km")
    plan_id = int(
        session.execute(
            text(_INSERT_PLAN),
            {
                "area": area_id,
                "path": area_path,
                "day": routing.day,
                "kind": PlanKind.URGENT_INSERTION,
                "status": PlanStatus.PUBLISHED,
                "trigger": _json({"task_id": routing.task_id, "chosen_by": routing.chosen_by}),
                "solver": routing.solver,
                "settings": _json({"travel": routing.inputs.get("travel")}),
                "inputs": _json(routing.inputs),
                "cost": _json(_cost(routing, before_km)),
                "changes": _json(_changes(routing, previous)),
                "previous": previous,
                "runtime": routing.runtime_ms,
                "now": routing.now,
                "user": routing.user_id,
            },
        ).scalar_one()
    )
    for stop in routing.stops:
        session.execute(
            text(_INSERT_STOP),
            {
                "plan": plan_id,
                "task": stop.task_id,
                "staff": routing.staff_id,
                "shift": routing.shift_id,
                "sequence": stop.sequence,
                "start": stop.planned_start,
                "end": stop.planned_end,
                "km": stop.travel_km,
                "minutes": stop.travel_minutes,
                "pinned": stop.task_id != routing.task_id,
            },
        )
    if previous is not None:
        routed = [stop.task_id for stop in routing.stops] + [routing.task_id]
        for keep in (_KEEP_STOPS, _KEEP_UNASSIGNED):
            session.execute(text(keep), {"plan": plan_id, "previous": previous, "routed": routed})
    if routing.staff_id is None:
        session.execute(
            text(_INSERT_UNASSIGNED),
            {
                "plan": plan_id,
                "task": routing.task_id,
                "reason": routing.reason or "no_staff_on_shift",
                "detail": _json({"candidates": routing.inputs.get("candidates", 0)}),
            },
        )
    return plan_id


tasks_service.register_route_recorder(record_urgent_insertion)
