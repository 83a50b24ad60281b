"""The validator finds every broken rule in a tampered plan; the metrics of a plan add up."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.metrics import summarize
from eldercare_platform.routing.problem import Plan, PlanningProblem, Route, Stop, Unassigned
from eldercare_platform.routing.validate import violations
from tests.unit.routing_builders import at, carer, meal, problem, visit


def day() -> tuple[PlanningProblem, Plan]:
    p = problem(
        [carer(1), carer(2, home_km=4.0, skills=frozenset({"visit", "nursing"}))],
        [
            visit(1, 0.5, served_by={1: 3}),
            visit(2, 1.0, opens=60, served_by={2: 3}),
            visit(3, 4.5, required_skill="nursing"),
            meal(4, 3.5, point_km=4.0),
            visit(5, 1.5, opens=120, priority=4),
        ],
    )
    plan = GreedyPlanner().plan(p)
    assert violations(p, plan) == [] and not plan.unassigned
    return p, plan


def with_stop(plan: Plan, task_id: int, **changes: object) -> Plan:
    routes = tuple(
        replace(r, stops=tuple(replace(s, **changes) if s.task_id == task_id else s for s in r.stops))  # type: ignore[arg-type]
        for r in plan.routes
    )
    return replace(plan, routes=routes)


def route_of(plan: Plan, task_id: int) -> Route:
    return next(r for r in plan.routes if any(s.task_id == task_id for s in r.stops))


def stop_of(plan: Plan, task_id: int) -> Stop:
    return next(s for s in route_of(plan, task_id).stops if s.task_id == task_id)


def found(p: PlanningProblem, plan: Plan, text: str) -> bool:
    return any(text in v for v in violations(p, plan))


def test_each_visit_must_be_answered_exactly_once() -> None:
    p, plan = day()
    assert found(p, replace(plan, unassigned=(Unassigned(1, "deferred"),)), "answered 2 times")
    emptied = replace(plan, routes=tuple(replace(r, stops=()) for r in plan.routes))
    assert found(p, emptied, "answered 0 times")
    assert found(p, replace(plan, unassigned=(Unassigned(99, "deferred"),)), "not in the problem")


def test_a_mandatory_visit_may_not_be_deferred_and_reasons_are_known() -> None:
    p, plan = day()
    emptied = replace(plan, routes=tuple(r for r in plan.routes if not any(s.task_id == 1 for s in r.stops)))
    assert found(p, replace(emptied, unassigned=(Unassigned(1, "deferred"),)), "mandatory visit deferred")
    assert found(p, replace(emptied, unassigned=(Unassigned(1, "bored"),)), "unknown unassigned reason")


def test_skill_decline_pin_and_cap_are_checked_against_the_route_owner() -> None:
    p, plan = day()
    owner = route_of(plan, 1).staff_id
    assert found(
        replace(p, visits=[replace(v, required_skill="x") if v.task_id == 1 else v for v in p.visits]),
        plan,
        "lacks skill",
    )
    declined = [replace(c, declined_residents=frozenset({1001})) for c in p.caregivers]
    assert found(replace(p, caregivers=declined), plan, "declined")
    pinned = [replace(v, pinned_staff_id=owner + 100) if v.task_id == 1 else v for v in p.visits]
    assert found(replace(p, visits=pinned), plan, "pinned to staff")
    capped = [replace(c, max_tasks=1) for c in p.caregivers]
    assert found(replace(p, caregivers=capped), plan, "over max_tasks")


def test_windows_pinned_starts_shift_and_travel_are_checked() -> None:
    p, plan = day()
    s2 = stop_of(plan, 2)
    early = with_stop(plan, 2, start=at(30), end=at(50))
    assert found(p, early, "starts before its window")
    late = with_stop(plan, 2, start=s2.start + timedelta(hours=8), end=s2.end + timedelta(hours=8))
    assert found(p, late, "starts after its window") and found(p, late, "back after the shift's end")
    s1 = stop_of(plan, 1)
    rushed = with_stop(plan, 1, start=s1.start - timedelta(minutes=3), end=s1.end - timedelta(minutes=3))
    assert found(p, rushed, "before the caregiver can arrive")
    assert found(p, with_stop(plan, 1, travel_km=0.0), "travel says")
    assert found(p, with_stop(plan, 1, end=s1.end + timedelta(minutes=1)), "end is not start + duration")
    pinned = [replace(v, pinned_start=at(300)) if v.task_id == 1 else v for v in p.visits]
    assert found(replace(p, visits=pinned), plan, "moved from its pinned start")
    assert found(replace(p, now=at(10)), plan, "starts before now")


def test_the_hot_food_limit_and_the_pickup_are_checked() -> None:
    p, plan = day()
    s4 = stop_of(plan, 4)
    assert found(p, with_stop(plan, 4, pickup_at=None), "without a pickup time")
    assert found(p, with_stop(plan, 4, pickup_at=at(100)), "before the meal was ready")
    late = with_stop(plan, 4, start=at(200), end=at(205))
    assert found(p, late, "hot-food limit")
    assert found(p, with_stop(plan, 4, pickup_at=s4.start + timedelta(minutes=1)), "picked up after its delivery")


def test_summarize_counts_what_the_benchmarks_report() -> None:
    p, plan = day()
    figures = summarize(p, plan)
    assert figures["served"] == 5 and figures["served_share"] == 1.0 and figures["inside_window_share"] == 1.0
    assert figures["mandatory"] == figures["mandatory_served"] == 4
    assert figures["travel_km"] == round(sum(r.travel_km for r in plan.routes), 3)
    misses = (route_of(plan, 1).staff_id != 1) + (route_of(plan, 2).staff_id != 2)
    assert figures["continuity_visits"] == 2 and figures["continuity_share"] == 1 - misses / 2
    tasks = figures["tasks_per_caregiver"]
    assert isinstance(tasks, dict) and tasks["min"] + tasks["max"] == 5
    assert plan.cost["served"] == 5 and plan.cost["continuity_misses"] == misses
