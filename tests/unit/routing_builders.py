"""Small, hand-made routing problems for the engine's unit tests: places on a line east of a center, one
caregiver per shift, visits by minute offsets from 08:00 local (00:00 UTC)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from eldercare_platform.routing.problem import (
    Caregiver,
    MealPickup,
    PlannerSettings,
    PlanningProblem,
    Point,
    Visit,
)

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
NOW = T0 - timedelta(hours=10)
ORIGIN = Point(31.2, 121.4)
KM_PER_DEG_LON = 111.32 * 0.8554  # cos(31.2°)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def east(km: float, north_km: float = 0.0) -> Point:
    """A place `km` east (and `north_km` north) of ORIGIN."""
    return Point(round(ORIGIN.latitude + north_km / 111.32, 7), round(ORIGIN.longitude + km / KM_PER_DEG_LON, 7))


def carer(staff_id: int, home_km: float = 0.0, **extra: object) -> Caregiver:
    values: dict[str, object] = {
        "staff_id": staff_id,
        "shift_id": staff_id * 10,
        "shift_start": at(0),
        "shift_end": at(8 * 60),
        "start": east(home_km),
        "end": east(home_km),
        "travel_mode": "ebike",
        "skills": frozenset({"visit"}),
        "max_tasks": 10,
    } | extra
    return Caregiver(**values)  # type: ignore[arg-type]


def visit(task_id: int, km: float, opens: float = 0, closes: float = 8 * 60 - 30, **extra: object) -> Visit:
    values: dict[str, object] = {
        "task_id": task_id,
        "location": east(km),
        "window_start": at(opens),
        "window_end": at(closes),
        "duration_minutes": 20,
        "resident_id": 1000 + task_id,
    } | extra
    return Visit(**values)  # type: ignore[arg-type]


def meal(task_id: int, km: float, point_km: float, ready: float = 150, limit: int = 45, **extra: object) -> Visit:
    """A meal delivery at `km`, fetched from a meal point at `point_km`, ready at `ready` minutes."""
    return visit(
        task_id,
        km,
        ready,
        ready + 60,
        duration_minutes=5,
        kind="meal_delivery",
        pickup=MealPickup(point=east(point_km), ready_at=at(ready), max_minutes=limit),
        **extra,
    )


def problem(caregivers: list[Caregiver], visits: list[Visit], **settings: object) -> PlanningProblem:
    return PlanningProblem(
        caregivers=caregivers,
        visits=visits,
        now=NOW,
        settings=replace(PlannerSettings(seconds=0.5), **settings),  # type: ignore[arg-type]
    )
