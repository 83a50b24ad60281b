"""What only the PyVRP planner does: optimise travel, weigh flexible visits, keep fairness, warm starts and parts."""

from __future__ import annotations

from dataclasses import replace

from eldercare_platform.routing.generate import community
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.problem import Plan, PlannerSettings, PlanningProblem
from eldercare_platform.routing.pyvrp_planner import PyVRPPlanner
from eldercare_platform.routing.validate import violations
from tests.unit.routing_builders import NOW, at, carer, problem, visit

PYVRP = PyVRPPlanner()


def planned(p: PlanningProblem, planner: PyVRPPlanner = PYVRP, warm: Plan | None = None) -> Plan:
    plan = planner.plan(p, warm)
    assert violations(p, plan) == [] and plan.feasible
    return plan


def served_by(plan: Plan) -> dict[int, int]:
    return {s.task_id: r.staff_id for r in plan.routes for s in r.stops}


def test_pyvrp_travels_less_than_the_greedy_baseline() -> None:
    p = community(caregivers=4, visits=40, seed=7, settings=PlannerSettings(seconds=1.0))
    greedy, pyvrp = GreedyPlanner().plan(p), planned(p)
    mandatory = sum(1 for v in p.visits if v.mandatory)
    assert pyvrp.cost["served"] >= greedy.cost["served"] - 1
    assert pyvrp.cost["unassigned_mandatory"] <= min(greedy.cost["unassigned_mandatory"], mandatory)
    assert pyvrp.cost["travel_km"] < greedy.cost["travel_km"]


def test_a_flexible_visit_is_deferred_when_its_detour_costs_more_than_it_is_worth() -> None:
    p = problem([carer(1)], [visit(1, 1.0), visit(2, 1.5, priority=4), visit(3, 30.0, priority=4)])
    plan = planned(replace(p, settings=replace(p.settings, flexible_prize_km=5.0)))
    assert set(served_by(plan)) == {1, 2}
    assert [(u.task_id, u.reason) for u in plan.unassigned] == [(3, "deferred")]


def test_a_far_mandatory_visit_is_served_whatever_the_detour() -> None:
    p = problem([carer(1)], [visit(1, 1.0), visit(2, 30.0, priority=3)])
    assert set(served_by(planned(p))) == {1, 2}


def test_the_fairness_cap_spreads_the_work_and_gives_way_to_a_mandatory_visit() -> None:
    near, far = carer(1), carer(2, home_km=3.0)
    p = problem([near, far], [visit(i, 0.1 * i, opens=30 * i) for i in range(1, 9)], workload_slack=0.0)
    counts = sorted(list(served_by(planned(p)).values()).count(s) for s in (1, 2))
    assert counts == [4, 4]  # the fair share, although the near caregiver could take all eight
    alone = problem([near, replace(far, skills=frozenset())], [visit(i, 0.1 * i, opens=30 * i) for i in range(1, 9)])
    alone = replace(alone, visits=[replace(v, required_skill="visit") for v in alone.visits])
    assert list(served_by(planned(alone)).values()) == [1] * 8  # only one can: the cap gives way


def test_a_started_visit_opens_its_caregivers_route_at_its_time() -> None:
    c = carer(1)
    started = visit(1, 2.0, pinned_staff_id=1, pinned_start=at(0), duration_minutes=60)
    p = replace(problem([c, carer(2, home_km=2.0)], [started, visit(2, 2.1, opens=30)]), now=at(20))
    plan = planned(p)
    route = next(r for r in plan.routes if r.staff_id == 1)
    assert route.stops[0].task_id == 1 and route.stops[0].start == at(0)


def test_a_warm_start_from_the_current_plan_is_accepted() -> None:
    p = community(caregivers=3, visits=15, seed=4, settings=PlannerSettings(seconds=0.3))
    first = planned(p)
    again = planned(p, warm=first)
    assert again.stats["solves"][0]["warm_start"] is True  # type: ignore[index]
    assert again.cost["objective_km"] <= first.cost["objective_km"] + 1e-6


def test_a_large_problem_is_solved_in_parts() -> None:
    p = community(caregivers=6, visits=30, seed=9, radius_km=4.0, settings=PlannerSettings(seconds=0.6))
    plan = planned(p, PyVRPPlanner(decompose_above=10, part_visits=10))
    assert plan.stats["parts"] == 3
    assert plan.cost["unassigned_mandatory"] <= GreedyPlanner().plan(p).cost["unassigned_mandatory"]


def test_an_empty_day_needs_no_solve() -> None:
    plan = planned(problem([carer(1)], []))
    assert plan.routes == () and plan.stats["solves"] == [{"visits": 0}]
    assert PYVRP.plan(replace(problem([], [visit(1, 1.0)]), now=NOW)).unassigned[0].reason == "no_staff_on_shift"
