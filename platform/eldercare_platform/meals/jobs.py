"""The meals domain's scheduled jobs (see scheduler/registry.py): the day's orders, and the watch over
check-ins, deliveries and deadlines. Both take `now` from the injected clock."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.meals.orders import generate_orders
from eldercare_platform.meals.watch import watch
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn


def _meal_orders(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def meal_orders(session: Session, fire_time: datetime) -> str:
        return str(generate_orders(session, settings=settings, now=clock.now()))

    return meal_orders


def _meal_watch(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def meal_watch(session: Session, fire_time: datetime) -> str:
        return str(watch(session, settings=settings, now=clock.now()))

    return meal_watch


JOBS: list[JobSpec] = [
    JobSpec(
        name="meal_orders",
        interval_setting="meal_orders_seconds",
        enabled_setting="meal_orders_enabled",
        build=_meal_orders,
    ),
    JobSpec(
        name="meal_watch",
        interval_setting="meal_watch_seconds",
        enabled_setting="meal_watch_enabled",
        build=_meal_watch,
    ),
]
