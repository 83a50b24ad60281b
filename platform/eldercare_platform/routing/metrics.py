"""A plan's cost breakdown (recorded with every plan) and the figures the benchmarks compare planners on."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping

from eldercare_platform.routing.problem import Plan, PlanningProblem, Route, Unassigned, Visit
from eldercare_platform.routing.schedule import EPSILON_SECONDS, seconds
from eldercare_platform.routing.travel import TravelModel


def usual_caregivers(visit: Visit) -> frozenset[int]:
    """The staff who served this resident most in the last weeks (ties: all of them); empty without history."""
    if not visit.served_by:
        return frozenset()
    most = max(visit.served_by.values())
    return frozenset(staff for staff, n in visit.served_by.items() if n == most and n > 0)


def continuity_misses(problem: PlanningProblem, routes: Iterable[Route]) -> tuple[int, int]:
    """(visits with history served by someone else than their usual caregiver, visits with history served)."""
    visits = {v.task_id: v for v in problem.visits}
    misses = with_history = 0
    for route in routes:
        for stop in route.stops:
            usual = usual_caregivers(visits[stop.task_id])
            if usual:
                with_history += 1
                misses += route.staff_id not in usual
    return misses, with_history


def plan_cost(problem: PlanningProblem, routes: Iterable[Route], unassigned: Iterable[Unassigned]) -> dict[str, float]:
    """The cost breakdown of `Plan.cost`: travel_km, travel_minutes, served, unassigned, unassigned_mandatory,
    continuity_misses, and the objective a planner minimises: travel km + continuity_weight_km per miss."""
    routes = list(routes)
    left = list(unassigned)
    visits = {v.task_id: v for v in problem.visits}
    misses, _ = continuity_misses(problem, routes)
    km = sum(r.travel_km for r in routes)
    return {
        "travel_km": round(km, 3),
        "travel_minutes": round(sum(r.travel_minutes for r in routes), 1),
        "served": float(sum(len(r.stops) for r in routes)),
        "unassigned": float(len(left)),
        "unassigned_mandatory": float(sum(1 for u in left if visits[u.task_id].mandatory)),
        "continuity_misses": float(misses),
        "objective_km": round(km + misses * problem.settings.continuity_weight_km, 3),
    }


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0, "max": 0.0, "min": 0.0, "stdev": 0.0}
    return {
        "mean": round(statistics.fmean(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
        "min": round(min(values), 3),
        "stdev": round(statistics.pstdev(values), 3),
    }


def summarize(problem: PlanningProblem, plan: Plan, travel: TravelModel | None = None) -> dict[str, object]:
    """The benchmark figures of a plan: tasks served (and inside their window), mandatory served or explained,
    travel km in total and per used caregiver, continuity share, workload spread, unassigned by reason.

    `travel` is accepted for symmetry with `validate.violations` (the km are the plan's own legs)."""
    del travel
    visits: Mapping[int, Visit] = {v.task_id: v for v in problem.visits}
    stops = [(route, stop) for route in plan.routes for stop in route.stops]
    inside = sum(
        1
        for _, stop in stops
        if seconds(visits[stop.task_id].window_start) - EPSILON_SECONDS
        <= seconds(stop.start)
        <= seconds(visits[stop.task_id].window_end) + EPSILON_SECONDS
    )
    mandatory = [v for v in problem.visits if v.mandatory]
    served_ids = {stop.task_id for _, stop in stops}
    explained = {u.task_id for u in plan.unassigned if u.reason != "deferred"}
    used = [r for r in plan.routes if r.stops]
    misses, with_history = continuity_misses(problem, plan.routes)
    tasks_per = [float(len(r.stops)) for r in used]
    return {
        "solver": plan.solver,
        "visits": len(problem.visits),
        "caregivers": len(problem.caregivers),
        "served": len(stops),
        "served_share": round(len(stops) / len(problem.visits), 4) if problem.visits else 1.0,
        "inside_window_share": round(inside / len(stops), 4) if stops else 1.0,
        "mandatory": len(mandatory),
        "mandatory_served": sum(1 for v in mandatory if v.task_id in served_ids),
        "mandatory_served_or_explained": sum(1 for v in mandatory if v.task_id in served_ids or v.task_id in explained),
        "travel_km": round(sum(r.travel_km for r in plan.routes), 3),
        "travel_km_per_caregiver": _spread([r.travel_km for r in used]),
        "caregivers_used": len(used),
        "continuity_share": round(1 - misses / with_history, 4) if with_history else None,
        "continuity_visits": with_history,
        "tasks_per_caregiver": _spread(tasks_per),
        "unassigned_by_reason": dict(Counter(u.reason for u in plan.unassigned)),
        "runtime_seconds": round(plan.runtime_seconds, 3),
        "feasible": plan.feasible,
    }
