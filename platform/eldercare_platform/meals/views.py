"""The meals domain's routes (thin: guards from deps.py, work in service.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query
from sqlmodel import Session

from eldercare_platform.care_plans.models import Meal
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import BigDbId, DbId, DbIdQuery, IsoDate, Offset
from eldercare_platform.meals import service
from eldercare_platform.meals.deps import MealManager, MealReader
from eldercare_platform.meals.models import OrderStatus
from eldercare_platform.meals.schemas import OrderCancel, OrderCollect, OrderCreate, OrderOut, PointDay

router = APIRouter(prefix="/meals", tags=["meals"])

T = TypeVar("T")

# A service day within the years the platform can mean (a far date would only ever match nothing).
ServiceDate = Annotated[IsoDate | None, Query(ge=date(2000, 1, 1), le=date(2099, 12, 31), description="Local day")]


def _commit(session: Session, apply: Callable[[], T]) -> T:
    try:
        result = apply()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


@router.get("/orders", response_model=list[OrderOut])
def orders(
    session: SessionDep,
    user: MealReader,
    meal_point_id: DbIdQuery = None,
    date: ServiceDate = None,
    meal: Meal | None = None,
    status: OrderStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Offset = 0,
) -> list[OrderOut]:
    """Meal orders of residents in the user's scope, by day, meal, meal point and status."""
    return service.list_orders(
        session,
        user=user,
        meal_point_id=meal_point_id,
        service_date=date,
        meal=meal,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.post("/orders", response_model=OrderOut, status_code=201, responses=errors(409, 422))
def create_order(
    body: OrderCreate, session: SessionDep, user: MealManager, settings: SettingsDep, now: NowDep
) -> OrderOut:
    """An ad-hoc order before the meal's cut-off (422 `meal_cutoff_passed` with the cut-off after it); 409
    `meal_point_full` when the point's seats for that meal are taken, `meal_order_exists` for a second order."""
    return _commit(
        session, lambda: service.create_ad_hoc_order(session, user=user, settings=settings, request=body, now=now)
    )


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, responses=errors(404, 409, 422))
def cancel_order(
    order_id: BigDbId, body: OrderCancel, session: SessionDep, user: MealManager, settings: SettingsDep, now: NowDep
) -> OrderOut:
    """Cancel an order before its cut-off, with the reason (its delivery task is cancelled too)."""
    return _commit(
        session,
        lambda: service.cancel_order(session, user=user, settings=settings, order_id=order_id, request=body, now=now),
    )


@router.post("/orders/{order_id}/collected", response_model=OrderOut, responses=errors(404, 409))
def collected(order_id: BigDbId, body: OrderCollect, session: SessionDep, user: MealManager, now: NowDep) -> OrderOut:
    """A manual check-in by a canteen worker or coordinator (a delivery order: delivered)."""
    return _commit(
        session, lambda: service.mark_collected(session, user=user, order_id=order_id, request=body, now=now)
    )


@router.get("/points/{meal_point_id}/day", response_model=PointDay, responses=errors(404))
def point_day(
    meal_point_id: DbId,
    session: SessionDep,
    user: MealReader,
    settings: SettingsDep,
    now: NowDep,
    date: ServiceDate = None,
) -> PointDay:
    """A meal point's day (today by default): orders per meal by status and mode against its capacity."""
    return service.point_day(
        session, user=user, settings=settings, meal_point_id=meal_point_id, day=date or local_date(now)
    )
