"""Who may serve a visit at all (shift, skill, declined residents, pinning), and why a visit no route serves was
left out: one reason of `problem.UNASSIGNED_REASONS` per visit, the same for every planner."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from eldercare_platform.routing.problem import Caregiver, PlanningProblem, Unassigned, Visit
from eldercare_platform.routing.schedule import time_route
from eldercare_platform.routing.table import TravelTable


def covers(caregiver: Caregiver, visit: Visit, now: datetime) -> bool:
    """The caregiver's shift (from when they are free, never before `now`) can hold the visit inside its window:
    some start in [window start, window end] with the whole visit before the shift's end. A pinned start is a
    fact or a promise: only the shift must hold it."""
    duration = timedelta(minutes=visit.duration_minutes)
    if visit.pinned_start is not None:
        return caregiver.shift_start <= visit.pinned_start and visit.pinned_start + duration <= caregiver.shift_end
    free = caregiver.available_from if caregiver.available_from is not None else caregiver.shift_start
    earliest = max(visit.window_start, free, now)
    return earliest <= visit.window_end and earliest + duration <= caregiver.shift_end


def qualified(caregiver: Caregiver, visit: Visit) -> bool:
    return visit.required_skill is None or visit.required_skill in caregiver.skills


def willing(caregiver: Caregiver, visit: Visit) -> bool:
    return visit.resident_id is None or visit.resident_id not in caregiver.declined_residents


def pinned_ok(caregiver: Caregiver, visit: Visit) -> bool:
    return visit.pinned_staff_id is None or visit.pinned_staff_id == caregiver.staff_id


def can_serve(caregiver: Caregiver, visit: Visit, now: datetime) -> bool:
    """Every rule that does not depend on the rest of the route: location, shift, skill, decline, pinning."""
    return (
        visit.location is not None
        and pinned_ok(caregiver, visit)
        and qualified(caregiver, visit)
        and willing(caregiver, visit)
        and covers(caregiver, visit, now)
    )


def explain(
    problem: PlanningProblem,
    visit: Visit,
    load: Mapping[tuple[int, int], int] | None = None,
    table: TravelTable | None = None,
) -> Unassigned:
    """Why `visit` is in no route. `load` is the plan's tasks per (staff id, shift id), for `no_capacity`.

    In order: no location; nobody on shift for the window (for a pinned visit: its caregiver); nobody of them
    with the skill; all of those declined the resident; (with a `table` of travel legs) none of those could
    reach it in its window even with nothing else to do; all of those at their task cap; else a flexible visit
    is `deferred` and a mandatory one `window_infeasible` (travel and the other visits leave no room)."""
    if visit.location is None:
        return Unassigned(visit.task_id, "no_location")
    people = [c for c in problem.caregivers if pinned_ok(c, visit)]
    detail: dict[str, object] = {}
    if visit.pinned_staff_id is not None:
        detail["pinned_staff_id"] = visit.pinned_staff_id
    on_shift = [c for c in people if covers(c, visit, problem.now)]
    if not on_shift:
        return Unassigned(visit.task_id, "no_staff_on_shift", detail)
    skilled = [c for c in on_shift if qualified(c, visit)]
    if not skilled:
        return Unassigned(visit.task_id, "no_staff_with_skill", detail | {"skill": visit.required_skill})
    open_to = [c for c in skilled if willing(c, visit)]
    if not open_to:
        return Unassigned(visit.task_id, "declined_by_all", detail | {"resident_id": visit.resident_id})
    if table is not None:
        open_to = [c for c in open_to if time_route(c, [visit], table, now=problem.now).feasible]
        if not open_to:
            return Unassigned(visit.task_id, "window_infeasible", detail | {"even_alone": True})
    counts = load or {}
    with_room = [c for c in open_to if counts.get((c.staff_id, c.shift_id), 0) < c.max_tasks]
    if not with_room:
        return Unassigned(visit.task_id, "no_capacity", detail | {"candidates": len(open_to)})
    if not visit.mandatory:
        return Unassigned(visit.task_id, "deferred", detail | {"candidates": len(with_room)})
    return Unassigned(visit.task_id, "window_infeasible", detail | {"candidates": len(with_room)})
