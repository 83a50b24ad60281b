"""The baseline of the issue: each task to the nearest feasible caregiver (docs/scheduling/engine.md, "Greedy").

Pinned visits first, to their own caregiver (by their pinned start or window). Then every other visit by
(priority, window start): each goes into the route of the caregiver whose position just before it (the stop
that starts before its window, else where they set off) is nearest (ties: the resident's usual caregiver, then
the less loaded) among those who can still serve it — on
shift for its window, skilled, not declined, under their task cap, and with the whole route still feasible
(windows, pinned starts, the hot-food limit, back by the shift's end) once it is placed in time order. What no
one can take is unassigned with the reason of `rules.explain`.
"""

from __future__ import annotations

import bisect
from time import perf_counter

from eldercare_platform.routing.insertion import insert_visit
from eldercare_platform.routing.metrics import plan_cost, usual_caregivers
from eldercare_platform.routing.problem import Caregiver, Plan, PlanningProblem, Unassigned, Visit
from eldercare_platform.routing.rules import can_serve, explain
from eldercare_platform.routing.schedule import EPSILON_SECONDS, RouteTiming, departure, seconds, time_route
from eldercare_platform.routing.table import TravelTable
from eldercare_platform.routing.travel import GreatCircleTravel, TravelModel

Key = tuple[int, int]


def _anchor(visit: Visit) -> float:
    """When a visit sits in a route's time order: its pinned start, else its window's start."""
    return seconds(visit.pinned_start if visit.pinned_start is not None else visit.window_start)


class GreedyPlanner:
    """Nearest feasible caregiver, one visit at a time (see the module's docstring)."""

    name = "greedy"

    def __init__(self, travel: TravelModel | None = None) -> None:
        self.travel: TravelModel = travel or GreatCircleTravel()

    def plan(self, problem: PlanningProblem) -> Plan:
        started = perf_counter()
        table = TravelTable.for_problem(self.travel, problem)
        items: dict[Key, list[Visit]] = {(c.staff_id, c.shift_id): [] for c in problem.caregivers}
        timings: dict[Key, RouteTiming] = {
            key: time_route(c, [], table, now=problem.now) for key, c in zip(items, problem.caregivers, strict=True)
        }
        starts: dict[Key, list[float]] = {key: [] for key in items}
        unassigned: list[Unassigned] = []
        pinned = sorted((v for v in problem.visits if v.pinned_staff_id is not None), key=lambda v: _anchor(v))
        others = sorted(
            (v for v in problem.visits if v.pinned_staff_id is None),
            key=lambda v: (v.priority, v.window_start, v.window_end, v.task_id),
        )
        for visit in [*pinned, *others]:
            if not self._place(problem, table, items, timings, starts, visit):
                load = {key: len(route) for key, route in items.items()}
                unassigned.append(explain(problem, visit, load, table))
        routes = tuple(timings[key].route for key in items if items[key])
        return Plan(
            solver=self.name,
            routes=routes,
            unassigned=tuple(unassigned),
            cost=plan_cost(problem, routes, unassigned),
            runtime_seconds=perf_counter() - started,
            feasible=all(timings[key].feasible for key in items),
            stats={"travel_model": self.travel.name},
        )

    def _place(
        self,
        problem: PlanningProblem,
        table: TravelTable,
        items: dict[Key, list[Visit]],
        timings: dict[Key, RouteTiming],
        starts: dict[Key, list[float]],
        visit: Visit,
    ) -> bool:
        """Puts `visit` in the nearest caregiver's route that stays feasible; False if none."""
        if visit.location is None:
            return False
        anchor = _anchor(visit)
        latest = seconds(visit.window_end) + EPSILON_SECONDS
        usual = usual_caregivers(visit)
        candidates: list[tuple[float, bool, int, int, Caregiver, int]] = []
        for caregiver in problem.caregivers:
            key = (caregiver.staff_id, caregiver.shift_id)
            route = items[key]
            if len(route) >= caregiver.max_tasks or not can_serve(caregiver, visit, problem.now):
                continue
            slot = bisect.bisect_right(starts[key], anchor)
            stops = timings[key].route.stops
            if slot:
                before, free = route[slot - 1].location, seconds(stops[slot - 1].end)
            else:
                before, free = departure(caregiver, problem.now)
            km, minutes = table.leg(before, visit.location, caregiver.travel_mode)
            if visit.pinned_start is None and free + minutes * 60 > latest:
                continue  # cannot be there in time even if nothing moved
            other = bool(usual) and caregiver.staff_id not in usual
            candidates.append((round(km, 3), other, len(route), caregiver.staff_id, caregiver, slot))
        candidates.sort(key=lambda c: c[:4])
        for *_, caregiver, slot in candidates:
            key = (caregiver.staff_id, caregiver.shift_id)
            trial = [*items[key][:slot], visit, *items[key][slot:]]
            timing = time_route(caregiver, trial, table, now=problem.now)
            if timing.feasible:
                items[key] = trial
                timings[key] = timing
                starts[key] = [seconds(s.start) for s in timing.route.stops]
                return True
        return False

    def insert(self, problem: PlanningProblem, current: Plan, visit: Visit) -> Plan:
        """Cheapest feasible insertion into `current` (routing.insertion), every other route kept as it is."""
        return insert_visit(problem, current, visit, self.travel)
