"""A seeded, deterministic generator of small planning problems (a community's day), for the unit tests and the
engine's own measurements. The district benchmark builds its problems from the real database instead
(bench/routing/district.py)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from eldercare_platform.routing.problem import (
    Caregiver,
    MealPickup,
    PlannerSettings,
    PlanningProblem,
    Point,
    Visit,
)

CENTER = Point(31.2304, 121.4737)  # Shanghai, People's Square
DAY_START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def point_near(rng: random.Random, center: Point, radius_km: float) -> Point:
    """A point uniformly spread in a disc of `radius_km` around `center`."""
    r = radius_km * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    dlat = r * math.cos(angle) / 111.32
    dlon = r * math.sin(angle) / (111.32 * math.cos(math.radians(center.latitude)))
    return Point(round(center.latitude + dlat, 6), round(center.longitude + dlon, 6))


def community(
    *,
    caregivers: int = 4,
    visits: int = 20,
    seed: int = 1,
    radius_km: float = 2.0,
    meals: float = 0.1,
    nursing: float = 0.2,
    flexible: float = 0.1,
    history: float = 0.6,
    settings: PlannerSettings | None = None,
) -> PlanningProblem:
    """One community's day: `caregivers` on an 8-hour shift (08:00–16:00 local) from their homes, `visits`
    spread over the day in 1–3-hour windows, some needing `nursing`, some `flexible` (priority 4), some meal
    deliveries from two meal points (ready 10:30, 45 minutes hot), and a visit history for continuity."""
    rng = random.Random(seed)
    staff = []
    for i in range(caregivers):
        home = point_near(rng, CENTER, radius_km)
        staff.append(
            Caregiver(
                staff_id=100 + i,
                shift_id=1000 + i,
                shift_start=DAY_START,
                shift_end=DAY_START + timedelta(hours=8),
                start=home,
                end=home,
                travel_mode=rng.choice(["ebike", "ebike", "ebike", "foot", "car"]),
                skills=frozenset({"visit", "nursing"} if rng.random() < 0.5 else {"visit"}),
                max_tasks=max(4, math.ceil(visits / max(caregivers, 1) * 1.6)),
            )
        )
    meal_points = [point_near(rng, CENTER, radius_km / 2) for _ in range(2)]
    residents = max(1, int(visits * 0.8))
    homes = [point_near(rng, CENTER, radius_km) for _ in range(residents)]
    tasks = []
    for task_id in range(1, visits + 1):
        resident = rng.randrange(residents)
        served_by = {}
        if rng.random() < history:
            for who in rng.sample(staff, min(2, len(staff))):
                served_by[who.staff_id] = rng.randint(1, 6)
        if rng.random() < meals:
            ready = DAY_START + timedelta(hours=2, minutes=30)
            tasks.append(
                Visit(
                    task_id=task_id,
                    location=homes[resident],
                    window_start=ready,
                    window_end=ready + timedelta(minutes=40),
                    duration_minutes=5,
                    priority=2,
                    resident_id=resident,
                    served_by=served_by,
                    pickup=MealPickup(point=rng.choice(meal_points), ready_at=ready, max_minutes=45),
                    kind="meal_delivery",
                )
            )
            continue
        opens = DAY_START + timedelta(minutes=rng.randrange(0, 6 * 60, 15))
        priority = 4 if rng.random() < flexible else rng.choice([1, 2, 3, 3, 3, 3])
        tasks.append(
            Visit(
                task_id=task_id,
                location=homes[resident],
                window_start=opens,
                window_end=opens + timedelta(minutes=rng.choice([60, 120, 180])),
                duration_minutes=rng.choice([15, 20, 30, 45, 60]),
                priority=priority,
                required_skill="nursing" if rng.random() < nursing else None,
                resident_id=resident,
                served_by=served_by,
            )
        )
    return PlanningProblem(
        caregivers=staff,
        visits=tasks,
        now=DAY_START - timedelta(hours=12),
        settings=settings or PlannerSettings(seconds=1.0),
        label=f"community seed={seed} caregivers={caregivers} visits={visits}",
    )
