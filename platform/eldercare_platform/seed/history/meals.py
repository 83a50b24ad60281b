"""Meal orders (助餐) from the meal plans, and what became of each.

As the `meal_orders` job writes them: one order per resident, day and meal of the plan (made the day before, after
midnight), a delivery order with its MEAL_DELIVERY task (the meal's window, `meal:<day>:<meal>`). Then: collected
at the meal point (recorded by the canteen worker: the seeded meal points have no check-in terminal), delivered
(the caregiver's check-out, a few left with a neighbour or later than the hot-food limit), cancelled by the
resident before the cut-off, or not collected — at the deadline the `meal_watch` job marks it and opens a welfare
call (关怀呼叫, one open per resident: a second missed meal is noted on it). A resident in hospital or away: the
order is not made when the stay was known, else cancelled when it was recorded.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from eldercare_platform.care_plans.models import MealMode
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.meals.models import CollectedVia, MealReason, OrderSource, OrderStatus
from eldercare_platform.meals.rules import meal_times
from eldercare_platform.seed.history.book import Book, Row, Weighted, minutes
from eldercare_platform.seed.history.work import Crew, do, end, new_task
from eldercare_platform.seed.history.world import Resident, World, local
from eldercare_platform.tasks.models import HIGH, TaskKind, TaskSource, TaskStatus

DELIVERY_FATE = Weighted.of([("delivered", 0.982), ("no_answer", 0.006), ("cancelled", 0.012)])
AT_POINT_FATE = Weighted.of([("collected", 0.975), ("not_collected", 0.01), ("cancelled", 0.015)])
CANCEL_REASONS = ("子女接去吃饭", "老人临时外出", "身体不适,不想吃")
DELIVERY_SERVICE = "meal_delivery"


def meal_orders(book: Book, world: World, crew: Crew, rng: random.Random, rules: ServiceRulesMixin) -> None:
    """Every plan order of the days before today, collected, delivered, cancelled or not collected."""
    limit = rules.meal_delivery_limit_minutes
    eating = [
        (world.residents[r], [v for v in versions if v.meals])
        for r, versions in world.plans.items()
        if r in world.residents and any(v.meals for v in versions)
    ]
    for day in book.days:
        weekday = day.isoweekday()
        ordered_base = local(day - timedelta(days=1), 0, 2)
        times_of = {meal: meal_times(rules, meal=meal, service_date=day) for meal in ("breakfast", "lunch", "dinner")}
        for home, versions in eating:
            resident_id = home.id
            plan = next((v for v in reversed(versions) if v.valid_on(day)), None)
            if plan is None:
                continue
            for entry in plan.meals:
                if weekday not in entry.get("days", ()) or entry.get("meal_point_id") not in world.meal_points:
                    continue
                times = times_of[entry["meal"]]
                ordered_at = ordered_base + minutes(rng.uniform(0, 12))
                if ordered_at < home.enrolled_at or ordered_at < plan.created_at:
                    continue
                stay = book.away_during(resident_id, times.window_start, times.window_end)
                if stay is not None and stay.recorded_at <= ordered_at:
                    continue  # the job skips a resident away during the meal
                order: Row = {
                    "id": book.new_id("meal_order"),
                    "resident_id": resident_id,
                    "meal_point_id": entry["meal_point_id"],
                    "service_date": day,
                    "meal": entry["meal"],
                    "mode": entry["mode"],
                    "diet": list(entry.get("diet", ())),
                    "source": OrderSource.PLAN.value,
                    "status": OrderStatus.ORDERED.value,
                    "status_reason": None,
                    "care_plan_id": plan.id,
                    "deadline": times.deadline,
                    "ordered_at": ordered_at,
                    "ordered_by": None,
                    "collected_at": None,
                    "collected_via": None,
                    "task_id": None,
                    "welfare_alarm_id": None,
                    "updated_at": None,
                }
                book.orders.append(order)
                task = None
                if entry["mode"] == MealMode.DELIVERY:
                    task = new_task(
                        book,
                        kind=TaskKind.MEAL_DELIVERY.value,
                        source=TaskSource.MEAL.value,
                        home=home,
                        window_start=times.window_start,
                        window_end=times.window_end,
                        created_at=ordered_at,
                        priority=HIGH,
                        duration_minutes=limit,
                        service=DELIVERY_SERVICE,
                        slot=f"meal:{day.isoformat()}:{entry['meal']}",
                        care_plan_id=plan.id,
                        meal_order_id=order["id"],
                        required_skill=DELIVERY_SERVICE,
                        notes=f"送餐 meal delivery: {entry['meal']} {day.isoformat()}, ≤ {limit} min",
                    )
                    order["task_id"] = task["id"]
                if stay is not None:
                    # Recorded after the order was made: cancelled then (with its delivery task), or — recorded only
                    # after the meal's deadline — not collected, a welfare call the operator closes as away.
                    if stay.recorded_at < times.deadline and day >= local_date(stay.starts_at):
                        _cancel(
                            order, task, at=stay.recorded_at, reason=stay.reason, task_reason=stay.reason, suspend=True
                        )
                    else:
                        _not_collected(book, order, task, rng)
                    continue
                if task is not None:
                    _delivery(book, crew, rng, order, task, home, limit)
                else:
                    _at_point(book, rng, order, times.window_start, times.window_end)


def _cancel(
    order: Row, task: Row | None, *, at: datetime, reason: str, task_reason: str, suspend: bool = False
) -> None:
    order["status"], order["status_reason"], order["updated_at"] = OrderStatus.CANCELLED.value, reason, at
    if task is not None:
        status = TaskStatus.SUSPENDED if suspend else TaskStatus.CANCELLED
        end(task, status, at=at, reason=task_reason)


def _not_collected(book: Book, order: Row, task: Row | None, rng: random.Random) -> None:
    """Still open at the deadline: not collected, and a welfare call (the watch job runs every minute)."""
    at = order["deadline"] + timedelta(seconds=rng.uniform(5, 60))
    order["status"], order["status_reason"], order["updated_at"] = (
        OrderStatus.NOT_COLLECTED.value,
        MealReason.DEADLINE_PASSED.value,
        at,
    )
    if task is not None and task["status"] not in (TaskStatus.MISSED.value, TaskStatus.COMPLETED.value):
        end(task, TaskStatus.MISSED, at=task["window_end"] + minutes(30), reason="not_done_in_time")
    book.welfare.append(("meal_not_collected", order["resident_id"], at, {"meal_order_id": order["id"]}))


def _delivery(book: Book, crew: Crew, rng: random.Random, order: Row, task: Row, home: Resident, limit: int) -> None:
    fate = DELIVERY_FATE.draw(rng)
    staff = crew.pick(home, DELIVERY_SERVICE)
    if fate == "cancelled":
        at = order["ordered_at"] + timedelta(hours=rng.uniform(1, 8))
        _cancel(
            order, task, at=at, reason=rng.choice(CANCEL_REASONS), task_reason=MealReason.MEAL_ORDER_CANCELLED.value
        )
        return
    published = task["window_start"] - minutes(rng.uniform(30, 90))
    if fate == "no_answer":
        at_door = task["window_start"] + minutes(rng.uniform(15, 70))
        task.update(
            assignee_staff_id=staff.id,
            assigned_at=published,
            published_at=published,
            accepted_at=published + minutes(5),
            en_route_at=at_door - minutes(rng.uniform(8, 20)),
        )
        end(task, TaskStatus.MISSED, at=at_door, reason="no_answer", by=staff.user_id)
        book.welfare.append(("visit_no_answer", order["resident_id"], at_door, {"task_id": task["id"]}))
        _not_collected(book, order, task, rng)
        return
    en_route = task["window_start"] + minutes(rng.uniform(0, 50))
    late = rng.random() < 0.02
    check_in = en_route + minutes(rng.uniform(limit + 2, limit + 20) if late else rng.uniform(6, 25))
    neighbour = rng.random() < 0.04
    do(
        rng,
        task,
        staff,
        home,
        check_in=check_in,
        minutes_on_site=rng.uniform(1, 3),
        published=published,
        meal_outcome="left_with_neighbour" if neighbour else "handed_over",
    )
    task["en_route_at"] = en_route
    task["accepted_at"] = min(task["accepted_at"], en_route)
    order.update(
        status=OrderStatus.DELIVERED.value,
        collected_at=task["completed_at"],
        collected_via=CollectedVia.STAFF.value,
        status_reason=MealReason.LEFT_WITH_NEIGHBOUR.value
        if neighbour
        else MealReason.DELIVERED_LATE.value
        if late
        else None,
        updated_at=task["completed_at"] + timedelta(seconds=rng.uniform(5, 60)),
    )


def _at_point(book: Book, rng: random.Random, order: Row, start: datetime, end_: datetime) -> None:
    fate = AT_POINT_FATE.draw(rng)
    if fate == "collected":
        at = start + minutes(rng.triangular(0, (end_ - start).total_seconds() / 60, 25))
        order.update(
            status=OrderStatus.COLLECTED.value, collected_at=at, collected_via=CollectedVia.MANUAL.value, updated_at=at
        )
    elif fate == "cancelled":
        _cancel(
            order,
            None,
            at=order["ordered_at"] + timedelta(hours=rng.uniform(1, 8)),
            reason=rng.choice(CANCEL_REASONS),
            task_reason="",
        )
    else:
        _not_collected(book, order, None, rng)
