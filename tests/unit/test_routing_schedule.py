"""Route timing: starts, waits, legs, the way back, and each reason a route is infeasible."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eldercare_platform.routing.schedule import Pickup, time_route
from eldercare_platform.routing.table import TravelTable
from eldercare_platform.routing.travel import GreatCircleTravel
from tests.unit.routing_builders import NOW, at, carer, east, meal, visit

TRAVEL = GreatCircleTravel()


def table_for(*places: object) -> TravelTable:
    return TravelTable(TRAVEL, places)  # type: ignore[arg-type]


def codes(timing: object) -> list[str]:
    return [b.code for b in timing.breaches]  # type: ignore[attr-defined]


def test_a_stop_starts_on_arrival_or_at_its_window_and_the_route_returns_home() -> None:
    c = carer(1)
    first, second = visit(1, 3.0), visit(2, 3.0, opens=120)
    timing = time_route(c, [first, second], table_for(c.start, first.location), now=NOW)
    one, two = timing.route.stops
    assert one.travel_km == pytest.approx(3.9, abs=0.01)  # 3 km × circuity 1.3
    assert abs((one.start - at(15.6)).total_seconds()) < 2  # 3.9 km at 15 km/h
    assert one.end - one.start == at(20) - at(0)
    assert two.start == at(120) and two.travel_km == 0.0  # same place: waits for the window
    assert timing.route.travel_km == pytest.approx(7.8, abs=0.02)  # there and back
    assert timing.feasible and [s.sequence for s in timing.route.stops] == [1, 2]


def test_the_caregiver_sets_off_from_position_when_free_and_never_before_now() -> None:
    c = carer(1, available_from=at(60), position=east(3.0))
    v = visit(1, 3.0)
    timing = time_route(c, [v], table_for(c.start, v.location), now=NOW)
    assert timing.route.stops[0].start == at(60) and timing.route.stops[0].travel_km == 0.0
    later = time_route(carer(1), [v], table_for(c.start, v.location), now=at(100))
    assert later.route.stops[0].start > at(100)


def test_each_infeasibility_is_named() -> None:
    c = carer(1)
    far = visit(1, 3.0, closes=5)
    assert codes(time_route(c, [far], table_for(c.start, far.location), now=NOW)) == ["window_missed"]
    late = visit(2, 3.0, opens=470, closes=475)
    assert codes(time_route(c, [late], table_for(c.start, late.location), now=NOW)) == ["shift_end_passed"]
    pinned = visit(3, 3.0, pinned_start=at(5), pinned_staff_id=1)
    assert codes(time_route(c, [pinned], table_for(c.start, pinned.location), now=NOW)) == ["pinned_start_unreachable"]
    nowhere = visit(4, 0.0, location=None)
    assert codes(time_route(c, [nowhere], table_for(c.start), now=NOW)) == ["no_location"]


def test_a_pinned_start_in_the_past_is_a_fact_and_the_route_goes_on_from_its_end() -> None:
    c = carer(1)
    started = visit(1, 3.0, pinned_start=at(0), pinned_staff_id=1, duration_minutes=30)
    after = visit(2, 3.0)
    timing = time_route(c, [started, after], table_for(c.start, after.location), now=at(10))
    assert timing.feasible
    assert timing.route.stops[0].start == at(0) and timing.route.stops[1].start == at(30)


def test_a_meal_is_picked_up_when_ready_and_delivered_inside_the_hot_food_limit() -> None:
    c = carer(1)
    m = meal(1, 3.0, point_km=1.0, ready=150, limit=45)
    timing = time_route(c, [m], table_for(c.start, m.location, east(1.0)), now=NOW)
    stop = timing.route.stops[0]
    assert timing.feasible and stop.pickup_at == at(150) and stop.pickup_before is None
    assert stop.start > at(150) and stop.travel_km == pytest.approx(1.3 * 3, abs=0.02)  # via the meal point
    slow = replace(c, travel_mode="foot")  # 2.6 km at 4.5 km/h: 35 minutes
    tight = meal(2, 3.0, point_km=1.0, limit=20)
    assert "hot_food_limit" in codes(time_route(slow, [tight], table_for(c.start, tight.location, east(1.0)), now=NOW))


def test_meals_fetched_together_record_where_they_were_picked_up() -> None:
    c = carer(1)
    a, b = meal(1, 2.0, point_km=1.0), meal(2, 2.5, point_km=1.0)
    timing = time_route(c, [Pickup(a), Pickup(b), a, b], table_for(c.start, a.location, b.location, east(1.0)), now=NOW)
    first, second = timing.route.stops
    assert timing.feasible and first.pickup_before == second.pickup_before == 1  # both fetched before stop 1
    assert first.pickup_at == second.pickup_at == at(150)
    assert second.travel_km == pytest.approx(0.65, abs=0.01)  # straight on from the first home


def test_an_unknown_start_travels_nothing() -> None:
    c = carer(1, start=None, end=None)
    v = visit(1, 3.0)
    timing = time_route(c, [v], table_for(v.location), now=NOW)
    assert timing.route.travel_km == 0.0 and timing.route.stops[0].start == at(0)
