"""Meal times: each meal's window, cut-off and deadline on a local day (Asia/Shanghai), from the settings.

Pure functions of the settings and a date: the order job, the API and the watch job all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from eldercare_platform.care_plans.models import Meal
from eldercare_platform.core.clock import LOCAL_TIMEZONE, as_utc
from eldercare_platform.core.config import ServiceRulesMixin


@dataclass(frozen=True)
class MealTimes:
    """One meal on one day: when it is served, the last moment to order or cancel it, and its deadline."""

    meal: Meal
    service_date: date
    window_start: datetime
    window_end: datetime
    cutoff: datetime
    deadline: datetime


def _local(day: date, at: time) -> datetime:
    return as_utc(datetime.combine(day, at, tzinfo=LOCAL_TIMEZONE))


def meal_times(settings: ServiceRulesMixin, *, meal: Meal | str, service_date: date) -> MealTimes:
    """The meal's window, cut-off (on the day before when the cut-off time is not before the window's start)
    and deadline (window end + `meal_collect_grace_minutes`), all in UTC."""
    meal = Meal(meal)
    start: time = getattr(settings, f"meal_{meal}_start")
    end: time = getattr(settings, f"meal_{meal}_end")
    cutoff: time = getattr(settings, f"meal_{meal}_cutoff")
    cutoff_day = service_date - timedelta(days=1) if cutoff >= start else service_date
    window_end = _local(service_date, end)
    return MealTimes(
        meal=meal,
        service_date=service_date,
        window_start=_local(service_date, start),
        window_end=window_end,
        cutoff=_local(cutoff_day, cutoff),
        deadline=window_end + timedelta(minutes=settings.meal_collect_grace_minutes),
    )


def meal_at(settings: ServiceRulesMixin, moment: datetime) -> tuple[date, Meal]:
    """The local day and the meal a check-in at `moment` belongs to when the terminal did not say: the meal whose
    window (widened by the grace period after it) contains the moment, else the next one to start that day,
    else dinner."""
    local = moment.astimezone(LOCAL_TIMEZONE)
    day = local.date()
    grace = timedelta(minutes=settings.meal_collect_grace_minutes)
    for meal in Meal:
        times = meal_times(settings, meal=meal, service_date=day)
        if moment < times.window_end + grace:
            return day, meal
    return day, Meal.DINNER
