"""The `meal_orders` job: today's and tomorrow's orders from the care plans' meal plans, and capacity alerts.

For each local day (Asia/Shanghai) and each active resident whose care plan is valid that day, every meal plan
entry served on that weekday becomes an order (source `plan`), unless

- the meal's cut-off has passed (the kitchen has planned without it; the job runs far more often than that),
- the resident is in hospital or away with family during the meal's window, or has moved or died,
- the resident already has an order for that meal (unique (resident, date, meal): a rerun writes nothing, and a
  cancelled order stays cancelled).

A delivery order gets its MEAL_DELIVERY task. Orders are accepted from plans beyond a meal point's capacity (a
resident must eat) and the overflow raises a `meal_capacity` alert for the coordinators of the point's community.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alerts
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.care_plans.models import MealMode
from eldercare_platform.care_plans.schemas import MealPlanEntry
from eldercare_platform.core.clock import LOCAL_TIMEZONE, as_utc, local_date
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.meals import queries
from eldercare_platform.meals.models import MealReason, OrderSource
from eldercare_platform.meals.rules import meal_times
from eldercare_platform.meals.service import create_delivery_task, insert_order

PLANS_OF_THE_DAY = """
SELECT DISTINCT ON (r.id) r.id AS resident_id, cp.id AS care_plan_id, cp.meals
FROM resident r JOIN care_plan cp ON cp.resident_id = r.id
WHERE r.status = 'active' AND cp.valid_from <= :day AND (cp.valid_to IS NULL OR cp.valid_to >= :day)
  AND cp.superseded_by IS NULL
  AND jsonb_array_length(cp.meals) > 0
  AND NOT EXISTS (SELECT 1 FROM resident_state s WHERE s.resident_id = r.id AND s.kind IN ('moved', 'deceased')
                  AND s.starts_at < :day_end AND s.ended_at IS NULL)
ORDER BY r.id, cp.version DESC
"""
"""The care plan valid on the day (the newest version when two touch it) of every resident still served."""

AWAY_ON_THE_DAY = """
SELECT resident_id, starts_at, least(ends_at, ended_at) AS ends_at FROM resident_state
WHERE kind IN ('hospital', 'away_with_family') AND starts_at < :day_end
  AND coalesce(least(ends_at, ended_at), 'infinity') > :day_start
"""
"""Hospital stays and absences overlapping the day (a state ended early counts until it was ended)."""

CAPACITY_SUBJECT = "meal:{point}:{day}:{meal}"


def _away(session: Session, day: date) -> dict[int, list[tuple[datetime, datetime | None]]]:
    start = as_utc(datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TIMEZONE))
    periods: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for row in session.execute(text(AWAY_ON_THE_DAY), {"day_start": start, "day_end": start + timedelta(days=1)}):
        periods[row.resident_id].append((row.starts_at, row.ends_at))
    return periods


def _is_away(periods: list[tuple[datetime, datetime | None]], start: datetime, end: datetime) -> bool:
    return any(since < end and (until is None or until > start) for since, until in periods)


def orders_for_day(session: Session, *, settings: ServiceRulesMixin, day: date, now: datetime) -> dict[str, int]:
    """Write the day's plan orders not yet written (idempotent); counts of what was done and skipped."""
    day_end = as_utc(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TIMEZONE))
    away = _away(session, day)
    points = set(session.execute(text("SELECT id FROM meal_point")).scalars())
    counts = {"created": 0, "tasks": 0, "away": 0, "past_cutoff": 0, "invalid": 0}
    for plan in session.execute(text(PLANS_OF_THE_DAY), {"day": day, "day_end": day_end}).all():
        for raw in plan.meals:
            try:
                entry = MealPlanEntry.model_validate(raw)
            except ValidationError:
                counts["invalid"] += 1
                continue
            if entry.meal_point_id not in points:
                counts["invalid"] += 1
                continue
            if day.isoweekday() not in entry.days:
                continue
            times = meal_times(settings, meal=entry.meal, service_date=day)
            if now >= times.cutoff:
                counts["past_cutoff"] += 1
                continue
            if _is_away(away.get(plan.resident_id, []), times.window_start, times.window_end):
                counts["away"] += 1
                continue
            order_id = insert_order(
                session,
                resident_id=plan.resident_id,
                meal_point_id=entry.meal_point_id,
                service_date=day,
                meal=entry.meal,
                mode=entry.mode,
                diet=list(entry.diet),
                source=OrderSource.PLAN,
                deadline=times.deadline,
                now=now,
                care_plan_id=plan.care_plan_id,
            )
            if order_id is None:
                continue
            counts["created"] += 1
            if entry.mode == MealMode.DELIVERY:
                create_delivery_task(
                    session,
                    settings=settings,
                    order_id=order_id,
                    resident_id=plan.resident_id,
                    service_date=day,
                    meal=entry.meal,
                    now=now,
                    care_plan_id=plan.care_plan_id,
                )
                counts["tasks"] += 1
    return counts


def capacity_alerts(session: Session, *, first: date, last: date, now: datetime) -> dict[str, int]:
    """A `meal_capacity` alert per meal point, day and meal with more dine-in and pick-up orders than seats; the
    alerts of meals no longer over capacity (or in the past) are resolved."""
    over: list[Any] = list(session.execute(text(queries.OVER_CAPACITY), {"first": first, "last": last}).all())
    subjects = []
    raised = 0
    for row in over:
        subject = CAPACITY_SUBJECT.format(point=row.meal_point_id, day=row.service_date.isoformat(), meal=row.meal)
        subjects.append(subject)
        alert_id = alerts.raise_alert(
            session,
            kind=AlertKind.MEAL_CAPACITY,
            subject_key=subject,
            message=(
                f"{row.name} {row.service_date.isoformat()} {row.meal}: {row.seats} 份堂食/自取,"
                f" 座位 {row.capacity_per_meal} (orders beyond capacity)"
            ),
            now=now,
            area_id=row.area_id,
            detail={
                "meal_point_id": row.meal_point_id,
                "service_date": row.service_date.isoformat(),
                "meal": row.meal,
                "seats_taken": int(row.seats),
                "capacity": int(row.capacity_per_meal),
            },
        )
        raised += alert_id is not None
    resolved = alerts.resolve_alerts(
        session, kind=AlertKind.MEAL_CAPACITY, now=now, resolution=MealReason.MEAL_CAPACITY_OK, keep=subjects
    )
    return {"over_capacity": len(over), "raised": raised, "resolved": resolved}


def generate_orders(session: Session, *, settings: ServiceRulesMixin, now: datetime) -> dict[str, int]:
    """The job's body: today's and tomorrow's orders, then the capacity alerts (caller commits)."""
    today = local_date(now)
    totals: dict[str, int] = defaultdict(int)
    for day in (today, today + timedelta(days=1)):
        for key, value in orders_for_day(session, settings=settings, day=day, now=now).items():
            totals[key] += value
    totals.update(capacity_alerts(session, first=today, last=today + timedelta(days=1), now=now))
    return dict(totals)
