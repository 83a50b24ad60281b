"""The nearest-available assigner: urgency first, nearest by home base or previous task, skill, shift, capacity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eldercare_common.geo import haversine_km
from eldercare_platform.roster.service import AvailableStaff
from eldercare_platform.tasks.assign import NearestAvailableAssigner, TaskToPlan

T = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def person(staff_id: int, lat: float | None, lon: float | None, **extra: object) -> AvailableStaff:
    values: dict[str, object] = {
        "id": staff_id,
        "name": f"s{staff_id}",
        "phone": "1",
        "role": "caregiver",
        "skills": ["visit"],
        "home_area_id": 1,
        "home_latitude": lat,
        "home_longitude": lon,
        "travel_mode": "ebike",
        "max_tasks_per_shift": 8,
        "shift_id": staff_id * 10,
        "starts_at": T - timedelta(hours=4),
        "ends_at": T + timedelta(hours=8),
        "on_call": False,
        "load": 0,
    } | extra
    return AvailableStaff(**values)  # type: ignore[arg-type]


def task(task_id: int, lat: float | None, lon: float | None, **extra: object) -> TaskToPlan:
    values: dict[str, object] = {
        "id": task_id,
        "window_start": T,
        "window_end": T + timedelta(hours=1),
        "priority": 3,
        "latitude": lat,
        "longitude": lon,
    } | extra
    return TaskToPlan(**values)  # type: ignore[arg-type]


def test_haversine_is_about_111_km_per_degree_of_latitude() -> None:
    assert abs(haversine_km(32.0, 119.0, 33.0, 119.0) - 111.2) < 0.2
    assert haversine_km(32.0, 119.0, 32.0, 119.0) == 0


def test_each_task_goes_to_the_nearest_staff_member() -> None:
    result = NearestAvailableAssigner().assign(
        [task(1, 32.20, 119.45), task(2, 32.30, 119.55)],
        [person(1, 32.20, 119.451), person(2, 32.30, 119.549)],
    )
    assert {(a.task_id, a.staff_id) for a in result.assignments} == {(1, 1), (2, 2)}
    assert result.unassigned == []
    assert all(a.distance_km is not None and a.distance_km < 0.2 for a in result.assignments)


def test_the_most_urgent_task_is_placed_first_when_capacity_is_short() -> None:
    result = NearestAvailableAssigner().assign(
        [task(1, 32.2, 119.45, priority=3), task(2, 32.2, 119.45, priority=1)],
        [person(1, 32.2, 119.45, max_tasks_per_shift=3, load=2)],
    )
    assert [(a.task_id, a.staff_id) for a in result.assignments] == [(2, 1)]
    assert [(u.task_id, u.reason) for u in result.unassigned] == [(1, "no_capacity")]


def test_distance_counts_from_the_previous_task_not_only_home() -> None:
    # staff 1 lives far north but their earlier task is next to the later one; staff 2 lives midway
    result = NearestAvailableAssigner().assign(
        [
            task(1, 32.30, 119.45, priority=1),
            task(2, 32.301, 119.45, priority=2, window_start=T + timedelta(hours=2), window_end=T + timedelta(hours=3)),
        ],
        [person(1, 32.29, 119.45), person(2, 32.25, 119.45)],
    )
    assert {(a.task_id, a.staff_id) for a in result.assignments} == {(1, 1), (2, 1)}


def test_skill_shift_and_eligibility_are_respected_with_reasons() -> None:
    staff = [
        person(1, 32.2, 119.45),
        person(2, 32.2, 119.45, skills=["visit", "bathing"], ends_at=T + timedelta(minutes=10)),
    ]
    result = NearestAvailableAssigner().assign(
        [
            task(1, 32.2, 119.45, required_skill="bathing"),  # the bather's shift ends 10 min into the window
            task(2, 32.2, 119.45, required_skill="nursing"),
            task(3, 32.2, 119.45, eligible_staff_ids=frozenset()),
            task(4, None, None),
        ],
        staff,
    )
    assert {(u.task_id, u.reason) for u in result.unassigned} == {
        (1, "no_staff_with_skill"),
        (2, "no_staff_with_skill"),
        (3, "no_staff_on_shift"),
    }
    [placed] = result.assignments
    assert placed.task_id == 4 and placed.staff_id == 1 and placed.distance_km is None
