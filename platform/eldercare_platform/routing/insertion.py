"""Cheapest feasible insertion of one visit into a plan (every planner's `insert`; docs/scheduling/engine.md).

Every other route is kept as it is (the same objects), and in the chosen route every stop keeps its order and
every stop before the new one keeps its times; later stops may only move later (never earlier than their
planned start), and all must stay feasible. The visit may go after any stop that has not started yet (a stop
starting before `now` is under way or done: nothing is put before it). The cost of a choice is the added km
(+ `continuity_weight_km` when the caregiver is not the resident's usual one); ties go to the less loaded.

Each caregiver's route is timed on a small travel table of its own places (a few dozen legs), so the answer
for ~300 caregivers × ~15 stops takes a fraction of a second, whatever the size of the district.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter

from eldercare_platform.routing.metrics import plan_cost, usual_caregivers
from eldercare_platform.routing.problem import Caregiver, Plan, PlanningProblem, Route, Stop, Visit
from eldercare_platform.routing.rules import can_serve, explain
from eldercare_platform.routing.schedule import (
    Pickup,
    RouteTiming,
    Walk,
    departure,
    finish,
    route_items,
    seconds,
    step,
)
from eldercare_platform.routing.table import TravelTable, caregiver_points, visit_points
from eldercare_platform.routing.travel import TravelModel


@dataclass(frozen=True)
class Insertion:
    """Where a visit goes: the caregiver, after how many stops, the added km and cost, the re-timed route."""

    caregiver: Caregiver
    after: int  # stops kept before it
    added_km: float
    cost: float
    timing: RouteTiming


def _empty(caregiver: Caregiver) -> Route:
    return Route(caregiver.staff_id, caregiver.shift_id, (), 0.0, 0.0)


def _options(
    problem: PlanningProblem,
    caregiver: Caregiver,
    route: Route,
    visits: Mapping[int, Visit],
    visit: Visit,
    travel: TravelModel,
    shared: TravelTable | None = None,
) -> Insertion | None:
    """The cheapest feasible place for `visit` in this caregiver's route, or None."""
    items = route_items(route, visits)
    if shared is not None and all(p is None or p in shared.index for p in visit_points(visit)):
        table = shared
    else:
        places = [*caregiver_points(caregiver), *visit_points(visit)]
        for item in items:
            places.extend(visit_points(item.visit if isinstance(item, Pickup) else item))
        table = TravelTable(travel, places)
    now = seconds(problem.now)
    stops = route.stops
    first = max((i + 1 for i, s in enumerate(stops) if seconds(s.start) < now), default=0)
    # where each stop's items begin in `items` (its explicit pickups come just before it)
    begins: list[int] = []
    group: int | None = None
    for index, item in enumerate(items):
        if isinstance(item, Pickup):
            group = index if group is None else group
            continue
        begins.append(index if group is None else group)
        group = None
    not_before = {s.task_id: seconds(s.start) for s in stops}
    penalty = 0.0
    usual = usual_caregivers(visit)
    if usual and caregiver.staff_id not in usual:
        penalty = problem.settings.continuity_weight_km
    best: Insertion | None = None
    for after in range(first, len(stops) + 1):
        walk = _state_after(problem, caregiver, stops, visits, after)
        step(walk, caregiver, visit, table, now=now, not_before=not_before)
        if walk.breaches:
            continue
        tail = items[begins[after] :] if after < len(stops) else []
        for item in tail:
            step(walk, caregiver, item, table, now=now, not_before=not_before)
            if walk.breaches:
                break
        if walk.breaches:
            continue
        timing = finish(walk, caregiver, table, departure_at=departure(caregiver, problem.now)[1])
        if not timing.feasible:
            continue
        added = timing.route.travel_km - route.travel_km
        cost = added + penalty
        if best is None or cost < best.cost - 1e-9:
            timed = Route(
                caregiver.staff_id,
                caregiver.shift_id,
                (*stops[:after], *timing.route.stops),
                timing.route.travel_km,
                timing.route.travel_minutes,
            )
            timing = RouteTiming(timed, (), timing.departure, timing.back_at)
            best = Insertion(caregiver, after, added, cost, timing)
    return best


def _state_after(
    problem: PlanningProblem, caregiver: Caregiver, stops: tuple[Stop, ...], visits: Mapping[int, Visit], after: int
) -> Walk:
    """The walk's state just after the first `after` stops, with their planned times kept."""
    place, clock = departure(caregiver, problem.now)
    walk = Walk(place=place, clock=clock, sequence=after + 1)
    if after == 0:
        return walk
    last = stops[after - 1]
    walk.km = sum(s.travel_km for s in stops[:after])
    walk.minutes = sum(s.travel_minutes for s in stops[:after])
    free = caregiver.available_from
    if caregiver.position is not None and free is not None and seconds(free) >= seconds(last.end):
        walk.place, walk.clock = caregiver.position, max(seconds(free), seconds(problem.now))
    else:
        walk.place = visits[last.task_id].location
        walk.clock = max(seconds(last.end), clock)
    for stop in stops[after:]:  # meals fetched in the kept part, delivered later
        if stop.pickup_before is not None and stop.pickup_before <= after and stop.pickup_at is not None:
            walk.picked[stop.task_id] = seconds(stop.pickup_at)
            walk.pickup_before[stop.task_id] = stop.pickup_before
    return walk


def best_insertion(
    problem: PlanningProblem, current: Plan, visit: Visit, travel: TravelModel, table: TravelTable | None = None
) -> Insertion | None:
    """The cheapest feasible insertion of `visit` over every caregiver who can serve it, or None. `table`: the
    problem's travel table if the caller has one (else each route is timed on a small table of its own)."""
    visits: dict[int, Visit] = {v.task_id: v for v in problem.visits}
    visits[visit.task_id] = visit
    routes = {(r.staff_id, r.shift_id): r for r in current.routes}
    best: Insertion | None = None
    best_rank: tuple[float, int, int] = (0.0, 0, 0)
    for caregiver in problem.caregivers:
        route = routes.get((caregiver.staff_id, caregiver.shift_id)) or _empty(caregiver)
        if len(route.stops) >= caregiver.max_tasks or not can_serve(caregiver, visit, problem.now):
            continue
        if any(s.task_id not in visits for s in route.stops):
            continue  # a route of tasks this problem does not know cannot be re-timed
        found = _options(problem, caregiver, route, visits, visit, travel, table)
        if found is None:
            continue
        rank = (round(found.cost, 6), len(route.stops), caregiver.staff_id)
        if best is None or rank < best_rank:
            best, best_rank = found, rank
    return best


def insert_visit(
    problem: PlanningProblem,
    current: Plan,
    visit: Visit,
    travel: TravelModel,
    solver: str | None = None,
    table: TravelTable | None = None,
) -> Plan:
    """`current` with `visit` inserted at its cheapest feasible place (or unassigned with a reason); every other
    route identical. A visit already in a route is left where it is; one listed unassigned is retried. `table`:
    the problem's travel table, when the caller has one (a planner's own reinsertion pass)."""
    started = perf_counter()
    if any(s.task_id == visit.task_id for r in current.routes for s in r.stops):
        return current
    others = tuple(u for u in current.unassigned if u.task_id != visit.task_id)
    visits = [*(v for v in problem.visits if v.task_id != visit.task_id), visit]
    full = PlanningProblem(problem.caregivers, visits, problem.now, problem.settings, problem.label)
    found = best_insertion(full, current, visit, travel, table) if visit.location is not None else None
    if found is None:
        load = {(r.staff_id, r.shift_id): len(r.stops) for r in current.routes}
        routes = current.routes
        if table is None:
            places = [*visit_points(visit), *(p for c in full.caregivers for p in caregiver_points(c))]
            table = TravelTable(travel, places)
        unassigned = (*others, explain(full, visit, load, table))
        stats: dict[str, object] = {"inserted_task": visit.task_id, "staff_id": None}
    else:
        key = (found.caregiver.staff_id, found.caregiver.shift_id)
        kept = [r for r in current.routes if (r.staff_id, r.shift_id) != key]
        routes = (
            (*kept, found.timing.route)
            if len(kept) == len(current.routes)
            else tuple(found.timing.route if (r.staff_id, r.shift_id) == key else r for r in current.routes)
        )
        unassigned = others
        stats = {
            "inserted_task": visit.task_id,
            "staff_id": found.caregiver.staff_id,
            "shift_id": found.caregiver.shift_id,
            "after_stops": found.after,
            "added_km": round(found.added_km, 3),
        }
    return Plan(
        solver=solver or current.solver,
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        cost=plan_cost(full, routes, unassigned),
        runtime_seconds=perf_counter() - started,
        feasible=current.feasible,
        stats={**dict(current.stats), "insertion": stats, "insertion_seconds": round(perf_counter() - started, 4)},
    )
