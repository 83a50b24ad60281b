"""Every planner keeps every rule (checked by validate.violations) and explains every visit it leaves out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eldercare_platform.routing.generate import community
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.problem import Plan, Planner, PlannerSettings, PlanningProblem
from eldercare_platform.routing.pyvrp_planner import PyVRPPlanner
from eldercare_platform.routing.validate import violations
from tests.unit.routing_builders import at, carer, meal, problem, visit

PLANNERS: list[Planner] = [GreedyPlanner(), PyVRPPlanner()]


def planned(planner: Planner, p: PlanningProblem) -> Plan:
    plan = planner.plan(p)
    assert violations(p, plan) == []
    return plan


def reasons(plan: Plan) -> dict[int, str]:
    return {u.task_id: u.reason for u in plan.unassigned}


def served_by(plan: Plan) -> dict[int, int]:
    return {s.task_id: r.staff_id for r in plan.routes for s in r.stops}


@pytest.fixture(params=PLANNERS, ids=lambda p: p.name)
def planner(request: pytest.FixtureRequest) -> Planner:
    return request.param  # type: ignore[no-any-return]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_day_keeps_every_rule(planner: Planner, seed: int) -> None:
    p = community(caregivers=4, visits=24, seed=seed, meals=0.2, settings=PlannerSettings(seconds=0.5))
    plan = planned(planner, p)
    assert plan.feasible and len(served_by(plan)) + len(plan.unassigned) == 24


def test_infeasible_visits_are_unassigned_with_their_reason(planner: Planner) -> None:
    c = carer(1, max_tasks=2, declined_residents=frozenset({77}))
    p = problem(
        [c],
        [
            visit(1, 1.0, opens=600, closes=700),  # after the shift
            visit(2, 1.0, required_skill="nursing"),
            visit(3, 1.0, resident_id=77),
            visit(4, 40.0, opens=0, closes=1),  # too far to reach in its window
            visit(5, 1.0, location=None),
            visit(6, 1.0, opens=60),
            visit(7, 1.2, opens=60),
            visit(8, 1.4, opens=90),  # the cap of 2 is reached
        ],
    )
    plan = planned(planner, p)
    assert reasons(plan) == {
        1: "no_staff_on_shift",
        2: "no_staff_with_skill",
        3: "declined_by_all",
        4: "window_infeasible",
        5: "no_location",
        8: "no_capacity",
    }
    assert set(served_by(plan)) == {6, 7}


def test_a_window_that_closed_before_the_shift_means_nobody_on_shift(planner: Planner) -> None:
    p = problem([carer(1, shift_start=at(120))], [visit(1, 1.0, opens=0, closes=60)])
    assert reasons(planned(planner, p)) == {1: "no_staff_on_shift"}


def test_skills_declines_and_pins_send_visits_to_the_right_caregiver(planner: Planner) -> None:
    near, far = carer(1, home_km=0.0), carer(2, home_km=5.0, skills=frozenset({"visit", "nursing"}))
    p = problem(
        [near, far],
        [
            visit(1, 0.5, required_skill="nursing"),
            visit(2, 0.5, resident_id=9, opens=60),
            visit(3, 0.6, pinned_staff_id=2, opens=120),
            visit(4, 0.7, pinned_staff_id=2, pinned_start=at(200)),
        ],
    )
    p = replace(p, caregivers=[replace(near, declined_residents=frozenset({9})), far])
    plan = planned(planner, p)
    assert served_by(plan) == {1: 2, 2: 2, 3: 2, 4: 2}
    stop = next(s for r in plan.routes for s in r.stops if s.task_id == 4)
    assert stop.start == at(200) and stop.pinned


def test_mandatory_visits_are_served_before_flexible_ones(planner: Planner) -> None:
    c = carer(1, max_tasks=2)
    p = problem([c], [visit(1, 1.0, priority=4), visit(2, 1.5, priority=1), visit(3, 2.0, priority=3)])
    plan = planned(planner, p)
    assert set(served_by(plan)) == {2, 3} and reasons(plan) == {1: "no_capacity"}


def test_a_flexible_visit_that_does_not_fit_is_deferred(planner: Planner) -> None:
    c = carer(1)
    p = problem(
        [c],
        [visit(1, 1.0, opens=0, closes=10, duration_minutes=60), visit(2, 1.0, opens=10, closes=20, priority=4)],
    )
    assert reasons(planned(planner, p)) == {2: "deferred"}


def test_continuity_prefers_the_usual_caregiver_when_travel_is_equal(planner: Planner) -> None:
    a, b = carer(1, home_km=0.0), carer(2, home_km=2.0)
    p = problem([a, b], [visit(1, 1.0, served_by={2: 5, 1: 1})])
    assert served_by(planned(planner, p)) == {1: 2}
    p = problem([a, b], [visit(1, 1.0, served_by={1: 5, 2: 1})])
    assert served_by(planned(planner, p)) == {1: 1}


def test_meal_deliveries_keep_the_hot_food_limit(planner: Planner) -> None:
    p = problem([carer(1), carer(2, home_km=3.0)], [meal(i, 0.5 * i, point_km=1.0, limit=30) for i in range(1, 7)])
    plan = planned(planner, p)
    assert len(served_by(plan)) >= 5  # greedy fetches each meal on its own; the rest are explained
    for route in plan.routes:
        for stop in route.stops:
            assert stop.pickup_at is not None and (stop.start - at(150)).total_seconds() <= 30 * 60
