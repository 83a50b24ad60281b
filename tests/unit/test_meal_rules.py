"""Meal times from the settings, the meal of a check-in, and the card number a terminal sends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from eldercare_common.contract.v1 import TelemetryKind
from eldercare_platform.care_plans.models import Meal
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.meals.rules import meal_at, meal_times
from eldercare_platform.meals.watch import resident_id_of
from eldercare_sim.fleet import telemetry_data

SETTINGS = ApiSettings(environment="test")
DAY = date(2026, 11, 22)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_breakfast_closes_the_evening_before_and_lunch_the_same_morning() -> None:
    breakfast = meal_times(SETTINGS, meal=Meal.BREAKFAST, service_date=DAY)
    assert breakfast.cutoff == utc(21, 12)  # 20:00 in Shanghai on the 21st
    assert (breakfast.window_start, breakfast.window_end, breakfast.deadline) == (
        utc(21, 23),
        utc(22, 0, 30),
        utc(22, 1),
    )
    lunch = meal_times(SETTINGS, meal="lunch", service_date=DAY)
    assert lunch.cutoff == utc(22, 1, 30) and lunch.deadline == utc(22, 5)  # 09:30 and 13:00 local


def test_the_grace_period_moves_the_deadline() -> None:
    settings = ApiSettings(environment="test", meal_collect_grace_minutes=0)
    assert meal_times(settings, meal=Meal.DINNER, service_date=DAY).deadline == utc(22, 10, 30)


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="meal_lunch_start"):
        ApiSettings(environment="test", meal_lunch_start="13:00", meal_lunch_end="12:00")


@pytest.mark.parametrize(
    ("local_hour", "meal"),
    [(6, Meal.BREAKFAST), (8, Meal.BREAKFAST), (10, Meal.LUNCH), (13, Meal.DINNER), (22, Meal.DINNER)],
)
def test_a_checkin_without_a_meal_belongs_to_the_current_or_next_meal(local_hour: int, meal: Meal) -> None:
    day, found = meal_at(SETTINGS, utc(22, 0) + (datetime(2026, 1, 1, local_hour) - datetime(2026, 1, 1, 8)))
    assert (day, found) == (DAY, meal)


def test_resident_refs_are_card_numbers() -> None:
    assert resident_id_of("R000123") == 123
    assert resident_id_of("R1234567") == 1234567
    for bad in ("R123", "000123", "r000123", "R00012x", None, 123):
        assert resident_id_of(bad) is None


def test_the_simulator_names_residents_the_platform_can_find() -> None:
    rng = random.Random(1)
    refs = [
        telemetry_data(TelemetryKind.MEAL_CHECKIN, rng, utc(22, 4), residents=50)["resident_ref"] for _ in range(300)
    ]
    ids = {resident_id_of(ref) for ref in refs}
    assert None not in ids and ids <= set(range(1, 51)) and len(ids) > 30
