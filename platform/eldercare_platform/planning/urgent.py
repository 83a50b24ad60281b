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
_PREVIOUS = "SELECT id FROM plan WHERE area_id = :area AND day = :day ORDER BY created_at DESC, id DESC LIMIT 1"

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
    previous = session.execute(text(_PREVIOUS), {"area": area_id, "day": routing.day}).scalar()
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
                "cost": _json(routing.cost),
                "changes": _json(routing.changes),
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
