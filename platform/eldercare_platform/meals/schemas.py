"""The meals domain's request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.care_plans.models import Meal, MealMode
from eldercare_platform.core.params import BodyId, IsoDate
from eldercare_platform.meals.models import CollectedVia, OrderSource, OrderStatus


class OrderCreate(BaseModel):
    """An ad-hoc order (phoned in, added by a coordinator) before the meal's cut-off."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "resident_id": 1,
                    "meal_point_id": 1,
                    "service_date": "2026-11-23",
                    "meal": "lunch",
                    "mode": "dine_in",
                    "diet": ["低盐"],
                }
            ]
        },
    )

    resident_id: BodyId
    meal_point_id: BodyId
    service_date: IsoDate
    meal: Meal
    mode: MealMode
    diet: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default_factory=list, max_length=10)
    note: str | None = Field(default=None, max_length=500)


class OrderCancel(BaseModel):
    """Cancelling an order before the cut-off, with the reason."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "家属接回家吃饭"}]})

    reason: str = Field(min_length=1, max_length=500)


class OrderCollect(BaseModel):
    """A manual check-in by a canteen worker or coordinator (the terminal was down, a card forgotten)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "刷卡机故障, 人工登记"}]})

    note: str | None = Field(default=None, max_length=500)


class OrderOut(BaseModel):
    """A meal order."""

    id: int
    resident_id: int
    resident_name: str
    meal_point_id: int
    meal_point_name: str
    service_date: date
    meal: Meal
    mode: MealMode
    diet: list[str]
    source: OrderSource
    status: OrderStatus
    status_reason: str | None
    deadline: datetime
    ordered_at: datetime
    collected_at: datetime | None
    collected_via: CollectedVia | None
    task_id: int | None
    welfare_alarm_id: int | None


class MealCount(BaseModel):
    """One meal of a meal point's day: orders by status and mode, and the seats they take."""

    meal: Meal
    cutoff: datetime
    window_start: datetime
    window_end: datetime
    ordered: int
    collected: int
    delivered: int
    not_collected: int
    cancelled: int
    dine_in: int = Field(description="Live orders (not cancelled) eaten at the point")
    pick_up: int
    delivery: int
    seats_taken: int = Field(description="Live dine-in and pick-up orders: what the capacity is compared with")
    capacity: int
    over_capacity: bool


class PointDay(BaseModel):
    """A meal point's day: each meal's counts against its capacity per meal."""

    meal_point_id: int
    name: str
    service_date: date
    capacity_per_meal: int
    meals: list[MealCount]


class WelfareMealOrder(BaseModel):
    """The meal order behind a welfare call, for the operator's card."""

    id: int
    service_date: date
    meal: Meal
    mode: MealMode
    status: OrderStatus
    meal_point_id: int
    meal_point_name: str
    meal_point_phone: str | None
    deadline: datetime
    task_id: int | None
