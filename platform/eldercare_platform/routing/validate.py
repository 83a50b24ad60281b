"""Every rule a plan must keep, checked from the plan's own stops (a plan is checked, not trusted).

`violations(problem, plan, travel=...)` answers a list of sentences, empty for a valid plan. The tests of every
planner and the district benchmark call it. Pass the same travel model the planner used: stop times are checked
against its legs.
"""

from __future__ import annotations

from collections import Counter

from eldercare_platform.routing.problem import (
    UNASSIGNED_REASONS,
    Caregiver,
    Plan,
    PlanningProblem,
    Point,
    Route,
    Visit,
)
from eldercare_platform.routing.rules import covers, pinned_ok, qualified, willing
from eldercare_platform.routing.schedule import EPSILON_SECONDS, Pickup, departure, route_items, seconds
from eldercare_platform.routing.table import TravelTable
from eldercare_platform.routing.travel import GreatCircleTravel, TravelModel

KM_TOLERANCE = 0.01


def violations(
    problem: PlanningProblem, plan: Plan, travel: TravelModel | None = None, table: TravelTable | None = None
) -> list[str]:
    """What `plan` breaks: each visit exactly once (a route or unassigned with a known reason), one route per
    shift, and in every route: the shift (no start before the caregiver is free or `now`, back by the shift's
    end), skill, window, declined resident, pinned caregiver and pinned start, max tasks, the hot-food limit, the
    meal's pickup before its delivery, and stop times consistent with travel. `table` (of this problem's
    places) saves recomputing the matrices when the caller has one."""
    table = table or TravelTable.for_problem(travel or GreatCircleTravel(), problem)
    visits = {v.task_id: v for v in problem.visits}
    caregivers = {(c.staff_id, c.shift_id): c for c in problem.caregivers}
    found: list[str] = []
    seen: Counter[int] = Counter()
    shifts: Counter[tuple[int, int]] = Counter()
    for route in plan.routes:
        seen.update(s.task_id for s in route.stops)
        shifts[(route.staff_id, route.shift_id)] += 1
        caregiver = caregivers.get((route.staff_id, route.shift_id))
        if caregiver is None:
            found.append(f"route of staff {route.staff_id} shift {route.shift_id}: no such caregiver")
            continue
        unknown = [s.task_id for s in route.stops if s.task_id not in visits]
        if unknown:
            found.append(f"route of staff {route.staff_id}: unknown tasks {unknown}")
            continue
        found.extend(_route_violations(problem, caregiver, route, visits, table))
    found.extend(f"shift {key} has {n} routes" for key, n in shifts.items() if n > 1)
    for item in plan.unassigned:
        seen[item.task_id] += 1
        if item.reason not in UNASSIGNED_REASONS:
            found.append(f"task {item.task_id}: unknown unassigned reason {item.reason!r}")
        visit = visits.get(item.task_id)
        if visit is not None and visit.mandatory and item.reason == "deferred":
            found.append(f"task {item.task_id}: a mandatory visit deferred")
    for task_id in visits:
        if seen[task_id] != 1:
            found.append(f"task {task_id}: answered {seen[task_id]} times (must be exactly once)")
    found.extend(f"task {task_id}: not in the problem" for task_id in seen if task_id not in visits)
    return found


def _route_violations(
    problem: PlanningProblem, caregiver: Caregiver, route: Route, visits: dict[int, Visit], table: TravelTable
) -> list[str]:
    who = f"staff {route.staff_id} shift {route.shift_id}"
    found: list[str] = []
    now = seconds(problem.now)
    if len(route.stops) > caregiver.max_tasks:
        found.append(f"{who}: {len(route.stops)} tasks over max_tasks {caregiver.max_tasks}")
    if [s.sequence for s in route.stops] != list(range(1, len(route.stops) + 1)):
        found.append(f"{who}: stop sequences are not 1..n")
    for stop in route.stops:
        visit = visits[stop.task_id]
        tag = f"{who} task {stop.task_id}"
        if visit.location is None:
            found.append(f"{tag}: no location")
        if not qualified(caregiver, visit):
            found.append(f"{tag}: lacks skill {visit.required_skill}")
        if not willing(caregiver, visit):
            found.append(f"{tag}: resident {visit.resident_id} declined")
        if not pinned_ok(caregiver, visit):
            found.append(f"{tag}: pinned to staff {visit.pinned_staff_id}")
        if not covers(caregiver, visit, problem.now):
            found.append(f"{tag}: outside the shift")
        start, end = seconds(stop.start), seconds(stop.end)
        if abs(end - start - visit.duration_minutes * 60.0) > EPSILON_SECONDS:
            found.append(f"{tag}: end is not start + duration")
        if visit.pinned_start is not None:
            if abs(start - seconds(visit.pinned_start)) > EPSILON_SECONDS:
                found.append(f"{tag}: moved from its pinned start")
        else:
            if start < seconds(visit.window_start) - EPSILON_SECONDS:
                found.append(f"{tag}: starts before its window")
            if start > seconds(visit.window_end) + EPSILON_SECONDS:
                found.append(f"{tag}: starts after its window")
            if start < now - EPSILON_SECONDS:
                found.append(f"{tag}: starts before now")
        if visit.pickup is not None:
            limit = seconds(visit.pickup.ready_at) + visit.pickup.max_minutes * 60.0
            if start > limit + EPSILON_SECONDS:
                found.append(f"{tag}: delivered after the hot-food limit")
            if stop.pickup_at is None:
                found.append(f"{tag}: a meal delivery without a pickup time")
            elif seconds(stop.pickup_at) < seconds(visit.pickup.ready_at) - EPSILON_SECONDS:
                found.append(f"{tag}: picked up before the meal was ready")
            elif seconds(stop.pickup_at) > start + EPSILON_SECONDS:
                found.append(f"{tag}: picked up after its delivery")
    found.extend(_travel_violations(problem, caregiver, route, visits, table, who))
    return found


def _travel_violations(
    problem: PlanningProblem,
    caregiver: Caregiver,
    route: Route,
    visits: dict[int, Visit],
    table: TravelTable,
    who: str,
) -> list[str]:
    """Walks the route with its own times: every pickup and start reachable from the previous place in time,
    every leg's km what the travel model says, back by the shift's end."""
    found: list[str] = []
    by_task = {s.task_id: s for s in route.stops}
    for stop in route.stops:
        if stop.pickup_before is not None and not 1 <= stop.pickup_before <= stop.sequence:
            found.append(f"{who} task {stop.task_id}: picked up before stop {stop.pickup_before}, not before it")
    if found:
        return found
    place, clock = departure(caregiver, problem.now)
    now = seconds(problem.now)
    mode = caregiver.travel_mode
    total_km = leg_km = 0.0

    def go(to: Point | None) -> float:
        nonlocal place, total_km, leg_km
        km, minutes = table.leg(place, to, mode)
        total_km, leg_km = total_km + km, leg_km + km
        place = to if to is not None else place
        return minutes * 60.0

    def pick(visit: Visit) -> None:
        nonlocal clock
        assert visit.pickup is not None
        arrival = clock + go(visit.pickup.point)
        picked = by_task[visit.task_id].pickup_at
        if picked is None:
            return  # reported with the stop
        if seconds(picked) < arrival - EPSILON_SECONDS:
            found.append(f"{who} task {visit.task_id}: picked up before the caregiver can reach the meal point")
        clock = max(arrival, seconds(picked))

    for item in route_items(route, visits):
        if isinstance(item, Pickup):
            pick(item.visit)
            continue
        stop = by_task[item.task_id]
        if item.pickup is not None and stop.pickup_before is None:
            pick(item)
        arrival = clock + go(item.location)
        pinned_past = item.pinned_start is not None and seconds(item.pinned_start) < now
        if not pinned_past and seconds(stop.start) < arrival - EPSILON_SECONDS:
            found.append(f"{who} task {stop.task_id}: starts before the caregiver can arrive")
        if abs(stop.travel_km - leg_km) > KM_TOLERANCE + 1e-3 * leg_km:
            found.append(f"{who} task {stop.task_id}: leg {stop.travel_km:.3f} km, travel says {leg_km:.3f} km")
        clock = max(clock, seconds(stop.end))
        leg_km = 0.0
    if caregiver.end is not None:
        clock += go(caregiver.end)
    if clock > seconds(caregiver.shift_end) + EPSILON_SECONDS:
        found.append(f"{who}: back after the shift's end")
    if abs(route.travel_km - total_km) > KM_TOLERANCE + 1e-3 * total_km:
        found.append(f"{who}: route travel {route.travel_km:.3f} km, travel says {total_km:.3f} km")
    return found
