"""The care-plans domain's request and response shapes.

`MealPlanEntry` and `ServiceEntitlement` are also the shape of `care_plan.meals` / `care_plan.services` (jsonb):
the task generator and the meal-order job read them through these models.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.care_plans.models import Funder, Meal, MealMode, PurchasedService
from eldercare_platform.core.params import INT4_MAX

Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 Monday … 7 Sunday")]


class MealPlanEntry(BaseModel):
    """One meal of the meal plan: on these weekdays, this meal, served this way from this meal point."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(min_length=1, max_length=7)
    meal: Meal
    mode: MealMode
    meal_point_id: int = Field(ge=1, le=INT4_MAX)
    diet: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=10, description="低盐, 低糖, 软食, 清真…"
    )


class ServiceEntitlement(BaseModel):
    """Purchased home-service hours per month for one service, and who pays."""

    model_config = ConfigDict(extra="forbid")

    service: PurchasedService
    hours_per_month: float = Field(gt=0, le=200)
    funder: Funder
