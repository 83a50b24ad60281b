"""The planning domain's pure parts: what is left of a shift after leave, the travel model the settings call for,
the problem's digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eldercare_platform.core.config import ApiSettings
from eldercare_platform.planning.problem import available_period, digest
from eldercare_platform.planning.solver import planner_settings, travel_model
from eldercare_platform.roster.service import PlanningShift
from eldercare_platform.routing.generate import community
from eldercare_platform.routing.osrm import OsrmTableTravel
from eldercare_platform.routing.travel import GreatCircleTravel

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def shift(*leave: tuple[int, int]) -> PlanningShift:
    """A shift 08:00–17:00 local with leave periods given in hours after 08:00."""
    return PlanningShift(
        staff_id=1, name="孙护理", role="caregiver", shift_id=1, starts_at=T0, ends_at=T0 + timedelta(hours=9),
        on_call=False, skills=frozenset({"visit"}), travel_mode="ebike", home_latitude=None, home_longitude=None,
        max_tasks_per_shift=8, declined_residents=frozenset(),
        leave=tuple((T0 + timedelta(hours=a), T0 + timedelta(hours=b)) for a, b in leave),
    )  # fmt: skip


def hours(period: tuple[datetime, datetime] | None) -> tuple[float, float] | None:
    return None if period is None else tuple((p - T0).total_seconds() / 3600 for p in period)  # type: ignore[return-value]


def test_a_sick_call_ends_the_shift_when_it_starts() -> None:
    assert hours(available_period(shift((2, 20)), T0, [])) == (0, 2)  # the night before: the morning is left
    assert available_period(shift((2, 20)), T0 + timedelta(hours=2, minutes=5), []) is None  # after the call


def test_leave_covering_the_start_leaves_the_rest_and_all_day_leave_leaves_nothing() -> None:
    assert hours(available_period(shift((-1, 3)), T0, [])) == (3, 9)
    assert available_period(shift((-1, 10)), T0, []) is None


def test_a_leave_in_the_middle_keeps_the_part_in_use_or_the_longer_part() -> None:
    assert hours(available_period(shift((2, 4)), T0 - timedelta(hours=12), [])) == (4, 9)  # planned ahead: longer
    assert hours(available_period(shift((2, 4)), T0 + timedelta(hours=1), [])) == (0, 2)  # now falls in the morning
    checked_in = [T0 + timedelta(hours=5)]
    assert hours(available_period(shift((2, 4)), T0 + timedelta(hours=1), checked_in)) == (4, 9)
    assert hours(available_period(shift(), T0, [])) == (0, 9)


def test_the_settings_choose_the_travel_model_and_the_solve() -> None:
    estimate = travel_model(ApiSettings(environment="test", travel_circuity=1.4, travel_speed_foot_kmh=5.0))
    assert isinstance(estimate, GreatCircleTravel) and estimate.circuity == 1.4
    assert estimate.speeds_kmh["foot"] == 5.0 and estimate.name == "great_circle"
    osrm = travel_model(ApiSettings(environment="test", travel_matrix_url="http://osrm.internal:5000/"))
    assert isinstance(osrm, OsrmTableTravel) and osrm.base_url == "http://osrm.internal:5000"
    solve = planner_settings(ApiSettings(environment="test", planner_seconds=3, planner_seed=7), seconds=0.5)
    assert (solve.seconds, solve.seed) == (0.5, 7)


def test_the_digest_names_the_problem() -> None:
    a, b = community(visits=6, seed=1), community(visits=6, seed=2)
    assert digest(a) == digest(community(visits=6, seed=1)) and digest(a) != digest(b) and len(digest(a)) == 64
