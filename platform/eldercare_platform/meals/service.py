"""The meals domain's service functions (keyword-only arguments; `now` from the injected clock).

Orders are located at the resident's home (core/scope.py): every read and change filters with the resident's
scope. The order job (`orders.py`) and the watch job (`watch.py`) write through the helpers here too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service as alarms
from eldercare_platform.care_plans.models import Meal, MealMode
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.core.errors import ConflictError, NotFoundError, UnprocessableError, known_constraints
from eldercare_platform.core.scope import scope_of
from eldercare_platform.meals import queries
from eldercare_platform.meals.models import CollectedVia, MealReason, OrderSource, OrderStatus
from eldercare_platform.meals.rules import meal_times
from eldercare_platform.meals.schemas import (
    MealCount,
    OrderCancel,
    OrderCollect,
    OrderCreate,
    OrderOut,
    PointDay,
    WelfareMealOrder,
)
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import HIGH, TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.users.models import User

DELIVERY_SERVICE = "meal_delivery"
DELIVERY_SKILL = "meal_delivery"
NOT_STARTED = frozenset({TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED})

known_constraints(
    meal_order_resident_id_service_date_meal_key=(
        409,
        "meal_order_exists",
        "the resident already has an order for this meal",
    )
)


class MealOrderNotFoundError(NotFoundError):
    """No such order in the user's scope (404)."""

    code = "meal_order_not_found"


class MealPointNotFoundError(NotFoundError):
    """No such meal point in the user's scope (404)."""

    code = "meal_point_not_found"


class MealOrderConflictError(ConflictError):
    """The order's state or the meal point's seats refuse the change (409: `meal_order_exists`,
    `meal_order_state`, `meal_point_full`)."""

    code = "meal_order_state"


class MealRuleError(UnprocessableError):
    """The request breaks a meal rule (422: `meal_cutoff_passed`, `resident_not_found`, `resident_inactive`,
    `resident_away`, `meal_point_not_found`, `meal_point_no_delivery`)."""

    code = "meal_rule_broken"


def _scope(session: Session, user: User) -> tuple[str, dict[str, Any]]:
    scope = scope_of(session, user)
    return scope.residents_sql("r"), scope.params


def list_orders(
    session: Session,
    *,
    user: User,
    meal_point_id: int | None = None,
    service_date: date | None = None,
    meal: Meal | None = None,
    status: OrderStatus | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[OrderOut]:
    """Orders of residents in the user's scope, filtered; by day, meal, meal point, resident."""
    in_scope, params = _scope(session, user)
    rows = session.execute(
        text(
            queries.ORDER_SELECT + f" WHERE {in_scope}"
            " AND (CAST(:point AS integer) IS NULL OR o.meal_point_id = :point)"
            " AND (CAST(:day AS date) IS NULL OR o.service_date = :day)"
            " AND (CAST(:meal AS text) IS NULL OR o.meal = :meal)"
            " AND (CAST(:status AS text) IS NULL OR o.status = :status)"
            " ORDER BY o.service_date, o.meal, o.meal_point_id, o.resident_id LIMIT :limit OFFSET :offset"
        ),
        {
            **params,
            "point": meal_point_id,
            "day": service_date,
            "meal": None if meal is None else str(meal),
            "status": None if status is None else str(status),
            "limit": limit,
            "offset": offset,
        },
    )
    return [OrderOut.model_validate(dict(row._mapping)) for row in rows]


def get_order(session: Session, *, user: User, order_id: int) -> OrderOut:
    """One order in the user's scope."""
    in_scope, params = _scope(session, user)
    row = session.execute(
        text(queries.ORDER_SELECT + f" WHERE o.id = :id AND {in_scope}"), {**params, "id": order_id}
    ).first()
    if row is None:
        raise MealOrderNotFoundError(f"meal order {order_id} not found")
    return OrderOut.model_validate(dict(row._mapping))


def is_away(session: Session, *, resident_id: int, since: datetime, until: datetime) -> bool:
    """Whether the resident is in hospital or away with family at some time in [since, until)."""
    return bool(
        session.execute(
            text(queries.AWAY_DURING), {"resident": resident_id, "since": since, "until": until}
        ).scalar_one()
    )


def seats_taken(session: Session, *, meal_point_id: int, service_date: date, meal: str) -> int:
    """Live dine-in and pick-up orders of a meal at a point (what `capacity_per_meal` is compared with)."""
    return int(
        session.execute(
            text(queries.SEATS_TAKEN), {"point": meal_point_id, "day": service_date, "meal": meal}
        ).scalar_one()
    )


def insert_order(
    session: Session,
    *,
    resident_id: int,
    meal_point_id: int,
    service_date: date,
    meal: str,
    mode: str,
    diet: list[str],
    source: OrderSource,
    deadline: datetime,
    now: datetime,
    care_plan_id: int | None = None,
    user_id: int | None = None,
    status: OrderStatus = OrderStatus.ORDERED,
    status_reason: str | None = None,
    collected_via: CollectedVia | None = None,
) -> int | None:
    """Write one order (None when the resident already has one for that meal, whatever its status)."""
    order_id = session.execute(
        text(queries.INSERT_ORDER),
        {
            "resident": resident_id,
            "point": meal_point_id,
            "day": service_date,
            "meal": meal,
            "mode": mode,
            "diet": diet,
            "source": str(source),
            "status": str(status),
            "reason": status_reason,
            "plan": care_plan_id,
            "deadline": deadline,
            "now": now,
            "user": user_id,
            "collected_at": now if status == OrderStatus.COLLECTED else None,
            "collected_via": None if collected_via is None else str(collected_via),
        },
    ).scalar()
    return None if order_id is None else int(order_id)


def create_delivery_task(
    session: Session,
    *,
    settings: ServiceRulesMixin,
    order_id: int,
    resident_id: int,
    service_date: date,
    meal: str,
    now: datetime,
    care_plan_id: int | None = None,
    user_id: int | None = None,
) -> int | None:
    """The order's MEAL_DELIVERY task (window = the meal window; the hot-food limit as its duration), linked to
    the order. Idempotent: the (resident, service, slot) key finds an existing one."""
    times = meal_times(settings, meal=meal, service_date=service_date)
    home = session.execute(text(queries.HOME_OF), {"id": resident_id}).one()
    slot = f"meal:{service_date.isoformat()}:{meal}"
    task_id = tasks.create_task(
        session,
        kind=TaskKind.MEAL_DELIVERY,
        source=TaskSource.MEAL,
        now=now,
        window_start=times.window_start,
        window_end=times.window_end,
        resident_id=resident_id,
        household_id=home.household_id,
        service=DELIVERY_SERVICE,
        slot=slot,
        care_plan_id=care_plan_id,
        area_path=home.area_path,
        meal_order_id=order_id,
        duration_minutes=settings.meal_delivery_limit_minutes,
        priority=HIGH,
        required_skill=DELIVERY_SKILL,
        user_id=user_id,
        notes=f"送餐 meal delivery: {meal} {service_date.isoformat()}, ≤ {settings.meal_delivery_limit_minutes} min",
    )
    if task_id is None:
        task_id = session.execute(
            text("SELECT id FROM task WHERE resident_id = :r AND service = :s AND slot = :slot"),
            {"r": resident_id, "s": DELIVERY_SERVICE, "slot": slot},
        ).scalar_one()
    session.execute(text(queries.LINK_TASK), {"task": task_id, "id": order_id})
    return int(task_id)


def create_ad_hoc_order(
    session: Session, *, user: User, settings: ServiceRulesMixin, request: OrderCreate, now: datetime
) -> OrderOut:
    """An ad-hoc order before the meal's cut-off; a dine-in or pick-up order beyond the point's capacity per meal
    is refused (409 `meal_point_full`: plans are still accepted beyond it, a resident must eat)."""
    in_scope, params = _scope(session, user)
    resident = session.execute(
        text(f"SELECT r.id, r.status FROM resident r WHERE r.id = :id AND {in_scope}"),
        {**params, "id": request.resident_id},
    ).first()
    if resident is None:
        raise MealRuleError(
            f"resident {request.resident_id} not found", code="resident_not_found", resident_id=request.resident_id
        )
    if resident.status != "active":
        raise MealRuleError(
            f"resident {request.resident_id} is {resident.status}",
            code="resident_inactive",
            resident_status=resident.status,
        )
    times = meal_times(settings, meal=request.meal, service_date=request.service_date)
    if is_away(session, resident_id=request.resident_id, since=times.window_start, until=times.window_end):
        raise MealRuleError(
            f"resident {request.resident_id} is in hospital or away during this meal", code="resident_away"
        )
    if now >= times.cutoff:
        raise MealRuleError(
            f"orders for {request.meal} on {request.service_date} closed at {times.cutoff.isoformat()}",
            code="meal_cutoff_passed",
            cutoff=times.cutoff.isoformat().replace("+00:00", "Z"),
        )
    point = session.execute(text(queries.LOCK_POINT), {"id": request.meal_point_id}).first()
    if point is None:
        raise MealRuleError(
            f"meal point {request.meal_point_id} not found",
            code="meal_point_not_found",
            meal_point_id=request.meal_point_id,
        )
    if request.mode == MealMode.DELIVERY and not point.delivers:
        raise MealRuleError(f"meal point {point.name} does not deliver", code="meal_point_no_delivery")
    if request.mode != MealMode.DELIVERY:
        taken = seats_taken(session, meal_point_id=point.id, service_date=request.service_date, meal=request.meal)
        if taken >= point.capacity_per_meal:
            raise MealOrderConflictError(
                f"{point.name} is full for {request.meal} on {request.service_date}",
                code="meal_point_full",
                capacity=point.capacity_per_meal,
                seats_taken=taken,
            )
    order_id = insert_order(
        session,
        resident_id=request.resident_id,
        meal_point_id=point.id,
        service_date=request.service_date,
        meal=request.meal,
        mode=request.mode,
        diet=list(request.diet),
        source=OrderSource.AD_HOC,
        deadline=times.deadline,
        now=now,
        user_id=user.id,
        status_reason=request.note,
    )
    if order_id is None:
        raise MealOrderConflictError(
            f"resident {request.resident_id} already has an order for {request.meal} on {request.service_date}",
            code="meal_order_exists",
        )
    if request.mode == MealMode.DELIVERY:
        create_delivery_task(
            session,
            settings=settings,
            order_id=order_id,
            resident_id=request.resident_id,
            service_date=request.service_date,
            meal=request.meal,
            now=now,
            user_id=user.id,
        )
    return get_order(session, user=user, order_id=order_id)


def _lock(session: Session, *, user: User, order_id: int) -> Any:
    in_scope, params = _scope(session, user)
    row = session.execute(
        text(
            "SELECT o.* FROM meal_order o JOIN resident r ON r.id = o.resident_id"
            f" WHERE o.id = :id AND {in_scope} FOR UPDATE OF o"
        ),
        {**params, "id": order_id},
    ).first()
    if row is None:
        raise MealOrderNotFoundError(f"meal order {order_id} not found")
    return row


def cancel_order(
    session: Session, *, user: User, settings: ServiceRulesMixin, order_id: int, request: OrderCancel, now: datetime
) -> OrderOut:
    """Cancel an order before its cut-off (422 `meal_cutoff_passed` after); its delivery task is cancelled too."""
    order = _lock(session, user=user, order_id=order_id)
    if order.status != OrderStatus.ORDERED:
        raise MealOrderConflictError(f"meal order {order_id} is {order.status}", status_now=order.status)
    times = meal_times(settings, meal=order.meal, service_date=order.service_date)
    if now >= times.cutoff:
        raise MealRuleError(
            f"meal order {order_id} can no longer be cancelled: the cut-off was {times.cutoff.isoformat()}",
            code="meal_cutoff_passed",
            cutoff=times.cutoff.isoformat().replace("+00:00", "Z"),
        )
    session.execute(
        text("UPDATE meal_order SET status = 'cancelled', status_reason = :reason, updated_at = :now WHERE id = :id"),
        {"reason": request.reason, "now": now, "id": order_id},
    )
    if order.task_id is not None:
        tasks.move(
            session,
            task_id=order.task_id,
            action=TaskAction.CANCELLED,
            to_status=TaskStatus.CANCELLED,
            allowed_from=NOT_STARTED,
            now=now,
            user_id=user.id,
            reason=MealReason.MEAL_ORDER_CANCELLED,
            detail={"meal_order_id": order_id, "note": request.reason},
        )
    return get_order(session, user=user, order_id=order_id)


def mark_collected(session: Session, *, user: User, order_id: int, request: OrderCollect, now: datetime) -> OrderOut:
    """A manual check-in: an order still open (or already reported not collected) is collected (a delivery order:
    delivered). A welfare call it raised stays with the operator, who hears of it on the alarm's trace."""
    order = _lock(session, user=user, order_id=order_id)
    if order.status not in (OrderStatus.ORDERED, OrderStatus.NOT_COLLECTED):
        raise MealOrderConflictError(f"meal order {order_id} is {order.status}", status_now=order.status)
    to = OrderStatus.DELIVERED if order.mode == MealMode.DELIVERY else OrderStatus.COLLECTED
    session.execute(
        text(
            "UPDATE meal_order SET status = :to, collected_at = :now, collected_via = 'manual',"
            " status_reason = coalesce(:note, status_reason), updated_at = :now WHERE id = :id"
        ),
        {"to": str(to), "now": now, "note": request.note, "id": order_id},
    )
    if order.welfare_alarm_id is not None:
        alarms.note_welfare_call(
            session,
            alarm_id=order.welfare_alarm_id,
            reason=MealReason.MEAL_COLLECTED_LATE,
            detail={"meal_order_id": order_id, "collected_via": "manual"},
            now=now,
        )
    return get_order(session, user=user, order_id=order_id)


def point_day(session: Session, *, user: User, settings: ServiceRulesMixin, meal_point_id: int, day: date) -> PointDay:
    """A meal point's day in the user's scope (the point's community): per meal, orders by status and mode, and
    the seats taken against the capacity per meal (all the point's orders: the point is the coordinator's)."""
    scope = scope_of(session, user)
    point = session.execute(
        text(
            "SELECT mp.id, mp.name, mp.capacity_per_meal FROM meal_point mp JOIN area a ON a.id = mp.area_id"
            f" WHERE mp.id = :id AND {scope.path_sql('a.path')}"
        ),
        {**scope.params, "id": meal_point_id},
    ).first()
    if point is None:
        raise MealPointNotFoundError(f"meal point {meal_point_id} not found")
    counts = {row.meal: row for row in session.execute(text(queries.POINT_DAY), {"point": point.id, "day": day})}
    meals: list[MealCount] = []
    for meal in Meal:
        times = meal_times(settings, meal=meal, service_date=day)
        row = counts.get(str(meal))
        numbers = {
            key: int(getattr(row, key)) if row is not None else 0
            for key in (
                "ordered",
                "collected",
                "delivered",
                "not_collected",
                "cancelled",
                "dine_in",
                "pick_up",
                "delivery",
            )
        }
        seats = numbers["dine_in"] + numbers["pick_up"]
        meals.append(
            MealCount(
                meal=meal,
                cutoff=times.cutoff,
                window_start=times.window_start,
                window_end=times.window_end,
                seats_taken=seats,
                capacity=point.capacity_per_meal,
                over_capacity=seats > point.capacity_per_meal,
                **numbers,
            )
        )
    return PointDay(
        meal_point_id=point.id,
        name=point.name,
        service_date=day,
        capacity_per_meal=point.capacity_per_meal,
        meals=meals,
    )


def order_for_card(session: Session, *, order_id: int) -> WelfareMealOrder | None:
    """The meal order behind a welfare call (the alarm card; the alarm's scope was checked by the caller)."""
    row = session.execute(text(queries.CARD_ORDER), {"id": order_id}).first()
    return None if row is None else WelfareMealOrder.model_validate(dict(row._mapping))


def cancel_orders_for_resident(
    session: Session, *, resident_id: int, from_date: date, until_date: date | None, reason: str, now: datetime
) -> int:
    """Cancel the resident's open orders served from `from_date` (to `until_date`, inclusive, if given)."""
    result = session.execute(
        text(
            "UPDATE meal_order SET status = 'cancelled', status_reason = :reason, updated_at = :now"
            " WHERE resident_id = :r AND status = 'ordered' AND service_date >= :from"
            " AND (CAST(:until AS date) IS NULL OR service_date <= :until)"
        ),
        {"r": resident_id, "from": from_date, "until": until_date, "reason": reason, "now": now},
    )
    return int(getattr(result, "rowcount", 0) or 0)
