"""Urgent insertion: the cheapest feasible caregiver, every other route and every kept stop untouched."""

from __future__ import annotations

from dataclasses import replace

from eldercare_platform.routing.generate import community
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.insertion import insert_visit
from eldercare_platform.routing.problem import Plan, PlanningProblem, Visit
from eldercare_platform.routing.travel import GreatCircleTravel
from eldercare_platform.routing.validate import violations
from tests.unit.routing_builders import at, carer, meal, problem, visit

TRAVEL = GreatCircleTravel()


def insert(p: PlanningProblem, plan: Plan, new: Visit) -> tuple[PlanningProblem, Plan]:
    after = insert_visit(p, plan, new, TRAVEL)
    full = replace(p, visits=[*p.visits, new])
    assert violations(full, after) == []
    return full, after


def test_the_cheaper_caregiver_takes_it_and_every_other_route_stays_identical() -> None:
    p = problem(
        [carer(1), carer(2, home_km=6.0)],
        [visit(1, 0.5, opens=60), visit(2, 1.0, opens=180), visit(3, 5.5, opens=60), visit(4, 6.5, opens=240)],
    )
    plan = GreedyPlanner().plan(p)
    _, after = insert(p, plan, visit(9, 6.2, opens=120, priority=1))
    changed = [r for r in after.routes if r not in plan.routes]
    assert [r.staff_id for r in changed] == [2]
    assert [r for r in after.routes if r.staff_id == 1] == [r for r in plan.routes if r.staff_id == 1]
    before = next(r for r in plan.routes if r.staff_id == 2)
    now = changed[0]
    assert [s.task_id for s in now.stops] == [3, 9, 4]
    assert now.stops[0] == before.stops[0]  # the stop before it: the same object values
    assert now.stops[2].start >= before.stops[1].start  # later stops only move later
    assert after.stats["insertion"] == {
        "inserted_task": 9,
        "staff_id": 2,
        "shift_id": 20,
        "after_stops": 1,
        "added_km": round(now.travel_km - before.travel_km, 3),
    }


def test_nothing_goes_before_a_stop_already_under_way() -> None:
    p = problem([carer(1)], [visit(1, 0.5, opens=0), visit(2, 3.0, opens=200)])
    plan = GreedyPlanner().plan(p)
    first = plan.routes[0].stops[0]
    checked_in = replace(p.visits[0], pinned_staff_id=1, pinned_start=first.start)
    live = replace(p, now=at(10), visits=[checked_in, p.visits[1]])  # the first visit has started
    _, after = insert(live, plan, visit(9, 0.0, opens=0, closes=60, priority=1))
    assert [s.task_id for s in after.routes[0].stops] == [1, 9, 2]
    assert after.routes[0].stops[0] == plan.routes[0].stops[0]


def test_a_visit_no_one_can_take_is_unassigned_with_its_reason() -> None:
    p = problem([carer(1, max_tasks=1)], [visit(1, 0.5)])
    plan = GreedyPlanner().plan(p)
    _, after = insert(p, plan, visit(9, 0.5, priority=1))
    assert after.routes == plan.routes and [(u.task_id, u.reason) for u in after.unassigned] == [(9, "no_capacity")]
    _, after = insert(p, plan, visit(9, 0.5, required_skill="nursing"))
    assert [(u.task_id, u.reason) for u in after.unassigned] == [(9, "no_staff_with_skill")]


def test_a_meal_inserted_into_a_route_keeps_the_hot_food_limit() -> None:
    p = problem([carer(1)], [visit(1, 1.0, opens=100), visit(2, 1.5, opens=200)])
    plan = GreedyPlanner().plan(p)
    _, after = insert(p, plan, meal(9, 2.0, point_km=1.0, limit=30))
    stop = next(s for s in after.routes[0].stops if s.task_id == 9)
    assert stop.pickup_at == at(150) and (stop.start - at(150)).total_seconds() <= 30 * 60


def test_insertion_into_a_generated_day_is_valid_and_leaves_the_rest_alone() -> None:
    p = community(caregivers=6, visits=30, seed=5)
    plan = GreedyPlanner().plan(p)
    new = replace(p.visits[3], task_id=999, priority=1, pinned_staff_id=None, served_by={})
    _, after = insert(p, plan, new)
    assert sum(r not in plan.routes for r in after.routes) <= 1
    assert len(after.routes) - len(plan.routes) in (0, 1)
