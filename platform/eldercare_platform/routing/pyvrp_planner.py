"""The PyVRP planner (docs/scheduling/engine.md): the day's routes by PyVRP's iterated local search, re-timed by
`schedule.time_route`, checked by `validate.violations`, every visit left out explained.

1. Visits nobody can serve (no location, nobody on shift, skill, declined: `rules.explain`) are answered
   before solving; visits pinned and already started (pinned start before `now`) are facts: they open their
   caregiver's route, who sets off from the last of them.
2. The rest is one PyVRP model (`pyvrp_model.build`), or, above `decompose_above` visits, one per cluster of
   caregivers' homes (`decompose.split`), each given its share of `settings.seconds`.
3. The routes are re-timed (a visit the caregiver may not serve at all — PyVRP's best can be a penalised
   infeasible solution — leaves the route first); a route the re-timing finds infeasible (or over max_tasks: a
   meal's task count is only carried from pickup to delivery in the model) loses its offending visits.
4. Mandatory visits still out are offered to every caregiver by cheapest insertion (`insertion`), which knows
   only max_tasks (so the fairness cap gives way to a mandatory visit) and decides exactly on declines.
5. What is still out is explained; a flexible visit with room somewhere is `deferred`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from time import perf_counter

from pyvrp import solve
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from eldercare_platform.routing import pyvrp_model
from eldercare_platform.routing.decompose import split
from eldercare_platform.routing.insertion import insert_visit
from eldercare_platform.routing.metrics import plan_cost
from eldercare_platform.routing.problem import Caregiver, Plan, PlanningProblem, Route, Unassigned, Visit
from eldercare_platform.routing.rules import can_serve, explain
from eldercare_platform.routing.schedule import Breach, Pickup, RouteItem, moment, seconds, time_route
from eldercare_platform.routing.table import TravelTable
from eldercare_platform.routing.travel import GreatCircleTravel, TravelModel
from eldercare_platform.routing.validate import violations

Key = tuple[int, int]
SOLVE_SHARE = 0.9
"""The share of `settings.seconds` the solves get (the rest: re-timing, reinsertion, validation)."""


def _key(c: Caregiver) -> Key:
    return (c.staff_id, c.shift_id)


class PyVRPPlanner:
    """PyVRP behind the `Planner` protocol (see the module's docstring)."""

    name = "pyvrp"

    def __init__(
        self,
        travel: TravelModel | None = None,
        *,
        decompose_above: int = 600,
        part_visits: int = 250,
        no_improvement: int | None = None,
    ) -> None:
        self.travel: TravelModel = travel or GreatCircleTravel()
        self.decompose_above = decompose_above
        self.part_visits = part_visits
        self.no_improvement = no_improvement  # None: 1,000 + 20 × the model's clients and shipments

    def insert(self, problem: PlanningProblem, current: Plan, visit: Visit) -> Plan:
        """Cheapest feasible insertion into `current`, every other route kept as it is."""
        return insert_visit(problem, current, visit, self.travel, solver=self.name)

    def plan(self, problem: PlanningProblem, warm: Plan | None = None) -> Plan:
        """The day's plan; `warm` (e.g. the live plan, intraday) seeds the search with its routes."""
        started = perf_counter()
        table = TravelTable.for_problem(self.travel, problem)
        for mode in sorted({c.travel_mode for c in problem.caregivers}):
            table.matrix(mode)
        matrices = perf_counter() - started
        now = seconds(problem.now)
        unassigned: list[Unassigned] = []
        prefix: dict[Key, list[Visit]] = {}
        modelled: list[Visit] = []
        eligible: dict[int, list[Caregiver]] = {}
        for v in problem.visits:
            who = [c for c in problem.caregivers if can_serve(c, v, problem.now)]
            eligible[v.task_id] = who
            if not who:
                unassigned.append(explain(problem, v, None, table))
            elif v.pinned_start is not None and v.pinned_staff_id is not None and seconds(v.pinned_start) < now:
                prefix.setdefault(_key(who[0]), []).append(v)
            else:
                modelled.append(v)
        fleet = [self._after_prefix(c, prefix.get(_key(c), []), table, problem) for c in problem.caregivers]
        by_key = {_key(c): c for c in fleet}
        items: dict[Key, list[RouteItem]] = {}
        stats: dict[str, object] = {
            "travel_model": self.travel.name,
            "visits_modelled": len(modelled),
            "matrix_seconds": round(matrices, 3),
        }
        parts = [(fleet, modelled)]
        if len(modelled) > self.decompose_above:
            count = math.ceil(len(modelled) / self.part_visits)
            fleet_eligible = {t: [by_key[_key(c)] for c in who] for t, who in eligible.items()}
            parts = split(fleet, modelled, fleet_eligible, parts=count, seed=problem.settings.seed)
        stats["parts"] = len(parts)
        solve_stats = []
        deadline = perf_counter() + problem.settings.seconds * SOLVE_SHARE
        remaining = len(modelled)
        for caregivers, visits in parts:
            share = max(deadline - perf_counter(), 0.0) * len(visits) / max(remaining, 1)
            remaining -= len(visits)
            found, info = self._solve(caregivers, visits, table, problem, share, warm)
            items.update(found)
            solve_stats.append(info)
        mapped = perf_counter()
        stats["solves"] = solve_stats
        plan = self._routes(problem, table, prefix, items, unassigned, stats, started)
        served = {s.task_id for r in plan.routes for s in r.stops} | {u.task_id for u in plan.unassigned}
        left = sorted(
            (v for v in problem.visits if v.task_id not in served),
            key=lambda v: (v.priority, v.window_start, v.task_id),
        )
        inserted = 0
        for v in left:
            if v.mandatory:
                plan = insert_visit(problem, plan, v, self.travel, solver=self.name, table=table)
                inserted += any(s.task_id == v.task_id for r in plan.routes for s in r.stops)
        stats["reinsert_seconds"] = round(perf_counter() - mapped, 3)
        load = {(r.staff_id, r.shift_id): len(r.stops) for r in plan.routes}
        final_left = [explain(problem, v, load, table) for v in left if not v.mandatory]
        unassigned_all = (*plan.unassigned, *final_left)
        stats["reinserted"] = inserted
        result = replace(plan, unassigned=unassigned_all, stats={**dict(plan.stats), **stats})
        checking = perf_counter()
        broken = violations(problem, result, table=table)
        stats_out = {**dict(result.stats), "validate_seconds": round(perf_counter() - checking, 3)}
        return replace(
            result,
            cost=plan_cost(problem, result.routes, result.unassigned),
            runtime_seconds=perf_counter() - started,
            feasible=not broken,
            stats={**stats_out, "violations": broken[:20]},
        )

    def _after_prefix(
        self, caregiver: Caregiver, done: list[Visit], table: TravelTable, problem: PlanningProblem
    ) -> Caregiver:
        """The caregiver as the solver sees them after their started visits: there, free at the last one's end."""
        if not done:
            return caregiver
        done.sort(key=lambda v: seconds(v.pinned_start or v.window_start))
        timing = time_route(caregiver, done, table, now=problem.now)
        last = timing.route.stops[-1]
        free = max(seconds(last.end), seconds(problem.now))
        return replace(
            caregiver,
            position=done[-1].location,
            available_from=moment(free),
            max_tasks=max(caregiver.max_tasks - len(done), 0),
        )

    def _solve(
        self,
        caregivers: list[Caregiver],
        visits: list[Visit],
        table: TravelTable,
        problem: PlanningProblem,
        budget: float,
        warm: Plan | None,
    ) -> tuple[dict[Key, list[RouteItem]], dict[str, object]]:
        """One PyVRP solve: each caregiver's items."""
        if not visits:
            return {}, {"visits": 0}
        begun = perf_counter()
        caps = pyvrp_model.fair_caps(caregivers, len(visits), problem.settings)
        for v in visits:
            if v.pinned_staff_id is not None:
                for c in caregivers:
                    if c.staff_id == v.pinned_staff_id:
                        caps[_key(c)] = min(c.max_tasks, caps[_key(c)] + 1)
        model = pyvrp_model.build(
            caregivers, visits, table, now=seconds(problem.now), settings=problem.settings, caps=caps
        )
        built = perf_counter() - begun
        patience = self.no_improvement
        if patience is None:
            patience = 1000 + 20 * (model.data.num_clients + model.data.num_shipments)
        stop = MultipleCriteria([MaxRuntime(max(budget - built, 0.05)), NoImprovement(patience)])
        initial = pyvrp_model.warm_start(model, warm) if warm is not None else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PenaltyBoundWarning)
            result = solve(
                model.data,
                stop,
                seed=problem.settings.seed,
                collect_stats=False,
                display=False,
                initial_solution=initial,
            )
        info: dict[str, object] = {
            "visits": len(visits),
            "caregivers": len(caregivers),
            "clients": model.data.num_clients,
            "shipments": model.data.num_shipments,
            "dimensions": model.dimensions,
            "build_seconds": round(built, 3),
            "solve_seconds": round(perf_counter() - begun - built, 3),
            "iterations": result.num_iterations,
            "pyvrp_feasible": result.is_feasible(),
            "pyvrp_distance_km": round(result.best.distance() / 1000, 3),
            "warm_start": initial is not None,
            "penalty_bound_warnings": sum(1 for w in caught if issubclass(w.category, PenaltyBoundWarning)),
        }
        return pyvrp_model.route_items(model, result.best), info

    def _routes(
        self,
        problem: PlanningProblem,
        table: TravelTable,
        prefix: dict[Key, list[Visit]],
        items: dict[Key, list[RouteItem]],
        unassigned: list[Unassigned],
        stats: dict[str, object],
        started: float,
    ) -> Plan:
        """Re-times every route; drops what a route cannot keep."""
        routes: list[Route] = []
        dropped = 0
        for c in problem.caregivers:
            key = _key(c)
            solved = items.get(key, [])
            # PyVRP's best solution can be infeasible (penalised, `pyvrp_feasible` False): a visit this caregiver
            # may not serve at all (skill, decline, pinned elsewhere) leaves the route here; reinsertion places it.
            kept = [i for i in solved if can_serve(c, i.visit if isinstance(i, Pickup) else i, problem.now)]
            dropped += len({_task(i) for i in solved}) - len({_task(i) for i in kept})
            route_items: list[RouteItem] = [*prefix.get(key, []), *kept]
            if not route_items:
                continue
            timing = time_route(c, route_items, table, now=problem.now)
            while not timing.feasible or len(timing.route.stops) > c.max_tasks:
                victim = _victim(route_items, timing.breaches)
                if victim is None:
                    break
                route_items = [i for i in route_items if _task(i) != victim]
                dropped += 1
                timing = time_route(c, route_items, table, now=problem.now)
            if timing.route.stops:
                routes.append(timing.route)
        stats["dropped_after_solve"] = dropped
        return Plan(
            solver=self.name,
            routes=tuple(routes),
            unassigned=tuple(unassigned),
            cost={},
            runtime_seconds=perf_counter() - started,
            feasible=True,
            stats={},
        )


def _task(item: RouteItem) -> int:
    return item.visit.task_id if isinstance(item, Pickup) else item.task_id


def _victim(items: list[RouteItem], breaches: tuple[Breach, ...]) -> int | None:
    """The visit a broken route gives up: the one a breach names, else its least urgent unpinned visit."""
    movable = [i for i in items if isinstance(i, Visit) and i.pinned_staff_id is None and i.pinned_start is None]
    if not movable:
        return None
    named = {b.task_id for b in breaches}
    for visit in movable:
        if visit.task_id in named:
            return visit.task_id
    return max(movable, key=lambda v: (v.priority, seconds(v.window_start))).task_id
