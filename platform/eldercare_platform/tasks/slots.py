"""The calendar of generated tasks: which day each care-plan entitlement falls on, and each slot's key.

Pure functions of the resident id, the plan and the day (docs/services/tasks-engine.md): the generator
(`generation.py`) calls `wanted_for` for each resident; tests and the benchmark call the same rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from eldercare_platform.care_plans.models import PurchasedService
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.roster.models import Skill
from eldercare_platform.tasks.models import FLEXIBLE, HIGH, NORMAL, TaskKind

VISIT_SERVICE = "visit"
VISIT_PRIORITY = {"high_risk": HIGH, "key": NORMAL, "regular": FLEXIBLE}
"""探访关爱 priorities by visit tier (1 is reserved for urgent work)."""
VISIT_MINUTES = 30
DAY_START = time(9, 0)
DAY_END = time(17, 0)
"""A generated task's window, local time (working hours)."""

SESSION_MINUTES: dict[PurchasedService, int] = {
    PurchasedService.BATHING: 60,
    PurchasedService.CLEANING: 120,
    PurchasedService.MEDICAL_ESCORT: 180,
    PurchasedService.SHOPPING: 60,
    PurchasedService.ERRANDS: 60,
    PurchasedService.NURSING: 60,
    PurchasedService.REHABILITATION: 45,
    PurchasedService.PSYCHOLOGICAL_COMFORT: 60,
}
"""One session of each purchased service, in minutes: sessions a month = hours × 60 / this (at least one)."""

SERVICE_SKILL: dict[PurchasedService, Skill] = {
    PurchasedService.BATHING: Skill.BATHING,
    PurchasedService.CLEANING: Skill.CLEANING,
    PurchasedService.MEDICAL_ESCORT: Skill.MEDICAL_ESCORT,
    PurchasedService.SHOPPING: Skill.SHOPPING,
    PurchasedService.ERRANDS: Skill.ERRANDS,
    PurchasedService.NURSING: Skill.NURSING,
    PurchasedService.REHABILITATION: Skill.REHABILITATION,
    PurchasedService.PSYCHOLOGICAL_COMFORT: Skill.PSYCHOLOGICAL_COMFORT,
}
SERVICE_PRIORITY = NORMAL


@dataclass(frozen=True)
class Wanted:
    """One task the plans want: its key, its window and what it needs."""

    resident_id: int
    service: str
    slot: str
    kind: TaskKind
    care_plan_id: int
    day: date
    duration_minutes: int
    priority: int
    required_skill: str

    def window(self) -> tuple[datetime, datetime]:
        """The day's working hours as UTC instants."""
        return local_instant(self.day, DAY_START), local_instant(self.day, DAY_END)


@dataclass
class Plan:
    """A care-plan version as the generator reads it."""

    id: int
    valid_from: date
    valid_to: date | None
    tier: str
    services: list[tuple[PurchasedService, float]]

    def valid_on(self, day: date) -> bool:
        """Whether this version is the one in force on `day`."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def local_instant(day: date, at: time) -> datetime:
    """A local wall-clock time on a local day, as a UTC instant."""
    return datetime.combine(day, at, tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


def local_today(now: datetime) -> date:
    """Today in the residents' time zone."""
    return now.astimezone(LOCAL_TIMEZONE).date()


# --- the calendar rules -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _period(tier: str, day: date) -> tuple[str, date, date]:
    """The visit period of `day` for a tier: (slot, first day, last day)."""
    if tier == "high_risk":
        year, week, weekday = day.isocalendar()
        monday = day - timedelta(days=weekday - 1)
        return f"visit:{year}-W{week:02d}", monday, monday + timedelta(days=6)
    if tier == "key":
        first = day.replace(day=1)
        return f"visit:{day:%Y-%m}", first, _month_end(first)
    quarter = (day.month - 1) // 3
    first = date(day.year, quarter * 3 + 1, 1)
    last = _month_end(date(day.year, quarter * 3 + 3, 1))
    return f"visit:{day.year}-Q{quarter + 1}", first, last


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def visit_day(resident_id: int, first: date, last: date) -> date:
    """The resident's visit day in a period: a working day (Mon–Fri) picked by resident id, so a community's
    visits spread evenly over the period's working days."""
    workdays = _workdays(first, last)
    return workdays[resident_id % len(workdays)]


@functools.lru_cache(maxsize=1024)
def _workdays(first: date, last: date) -> tuple[date, ...]:
    every = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return tuple(day for day in every if day.isoweekday() <= 5) or tuple(every)


def session_days(resident_id: int, month_first: date, hours: float, minutes: int) -> list[date]:
    """The days of a month's sessions of one service, in session order: spread evenly over the month's days,
    shifted by resident id inside the gap between sessions so residents with equal hours do not pile up."""
    sessions = max(1, int(hours * 60 / minutes + 0.5))
    days = (_month_end(month_first) - month_first).days + 1
    offset = resident_id % max(1, days // sessions)
    return [month_first + timedelta(days=min(days - 1, k * days // sessions + offset)) for k in range(sessions)]


def wanted_for(resident_id: int, plans: list[Plan], days: list[date], blocked: set[date]) -> Iterator[Wanted]:
    """Every task the resident's plans want on `days` (blocked days skipped)."""
    sessions: dict[tuple[int, PurchasedService, date], list[date]] = {}
    only = plans[0] if len(plans) == 1 and plans[0].valid_on(days[0]) and plans[0].valid_on(days[-1]) else None
    for day in days:
        if blocked and day in blocked:
            continue
        plan = only or next((p for p in plans if p.valid_on(day)), None)
        if plan is None:
            continue
        slot, first, last = _period(plan.tier, day)
        if visit_day(resident_id, first, last) == day:
            yield Wanted(
                resident_id, VISIT_SERVICE, slot, TaskKind.VISIT, plan.id, day, VISIT_MINUTES,
                VISIT_PRIORITY.get(plan.tier, NORMAL), Skill.VISIT.value,
            )  # fmt: skip
        if not plan.services:
            continue
        month_first = day.replace(day=1)
        for service, hours in plan.services:
            key = (plan.id, service, month_first)
            if key not in sessions:
                sessions[key] = session_days(resident_id, month_first, hours, SESSION_MINUTES[service])
            for number, session_day in enumerate(sessions[key], start=1):
                if session_day == day:
                    yield Wanted(
                        resident_id, service.value, f"{service.value}:{month_first:%Y-%m}:{number}",
                        TaskKind.SERVICE, plan.id, day, SESSION_MINUTES[service], SERVICE_PRIORITY,
                        SERVICE_SKILL[service].value,
                    )  # fmt: skip
