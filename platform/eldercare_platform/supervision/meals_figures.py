"""The `meals` section from the raw `meal_order` table (docs/supervision.md, "Meals")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.scope import ScopeKind
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures, Series
from eldercare_platform.supervision.sections import (
    Row,
    assemble,
    count,
    plain_plans,
    ratio,
)
from eldercare_platform.supervision.tier import Period, Tier


def _orders(tier: Tier) -> str:
    """Meal orders of the period's local days, located at the resident's home (the scope rule for meal orders): the
    homes in the area first (`homes`, one row per resident), so each order is matched once, not three times."""
    # An area scope is the rule's own (the resident's household's community in the scope area), on the household
    # already joined: the same condition, without a correlated lookup per resident.
    in_scope = "ar.path LIKE :scope_path || '%'" if tier.scope.kind is ScopeKind.AREA else tier.scope.residents_sql("r")
    return f"""
        homes AS MATERIALIZED (
            SELECT r.id, {tier.child_sql("ar.path")} AS child_id
            FROM resident r JOIN household h ON h.id = r.household_id JOIN area ar ON ar.id = h.area_id
            WHERE {tier.in_area_sql("ar.path")} AND {in_scope}),
        o AS MATERIALIZED (
            SELECT o.id, o.status, o.meal, o.mode, o.service_date, o.deadline, o.meal_point_id, o.welfare_alarm_id,
                   o.resident_id, homes.child_id,
                   o.status IN ('collected', 'delivered', 'not_collected')
                       OR (o.status = 'ordered' AND o.deadline <= :now) AS settled
            FROM meal_order o JOIN homes ON homes.id = o.resident_id
            WHERE o.service_date BETWEEN :first_day AND :last_day)"""


COUNTED = ("orders", "cancelled", "delivered", "collected", "not_collected", "settled")


def _figures(row: Row) -> dict[str, Figure]:
    served = count(row, "delivered") + count(row, "collected")
    return {
        "orders": count(row, "orders"),
        "cancelled": count(row, "cancelled"),
        "delivered": count(row, "delivered"),
        "collected": count(row, "collected"),
        "not_collected": count(row, "not_collected"),
        "settled": count(row, "settled"),
        "served_rate": ratio(served, count(row, "settled")),
    }


def meals_section(session: Session, *, tier: Tier, period: Period, now: datetime) -> SectionFigures:
    """Orders, delivered / collected, 送达率 = served / settled, not collected and what followed (the welfare
    call's outcome)."""
    plain_plans(session)
    params = {**tier.params, **period.params, "now": now}
    followed_sql = """CASE WHEN w.id IS NULL THEN 'no_call' WHEN w.resolved_at IS NULL THEN 'open'
                           ELSE coalesce(w.outcome, 'resolved') END"""
    total: Row = {}
    children: dict[int, Row] = {}
    per_day: dict[Any, tuple[int, int]] = {}
    open_calls: list[Any] = []
    # One pass over the period's orders (`o`, narrow, kept once): the counts of the children and the total, the
    # days, the not-collected ones by what followed, and the first of those still without an answer.
    for row in session.execute(
        text(
            f"""WITH {_orders(tier)},
            f AS MATERIALIZED (
                SELECT o.id, o.child_id, o.deadline, o.service_date, o.meal_point_id, o.resident_id,
                       {followed_sql} AS value
                FROM o LEFT JOIN alarm w ON w.id = o.welfare_alarm_id WHERE o.status = 'not_collected')
            SELECT 'counts' AS part, child_id, GROUPING(child_id) AS gc, GROUPING(service_date) AS gd, service_date,
                   NULL::text AS value, count(*) FILTER (WHERE status <> 'cancelled') AS orders,
                   count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                   count(*) FILTER (WHERE status = 'delivered') AS delivered,
                   count(*) FILTER (WHERE status = 'collected') AS collected,
                   count(*) FILTER (WHERE status = 'not_collected') AS not_collected,
                   count(*) FILTER (WHERE settled) AS settled,
                   count(*) FILTER (WHERE status IN ('delivered', 'collected')) AS served,
                   NULL::bigint AS id, NULL::timestamptz AS deadline, NULL::int AS meal_point_id, NULL::text AS name
            FROM o GROUP BY GROUPING SETS ((child_id), (), (service_date))
            UNION ALL
            SELECT 'followed', child_id, GROUPING(child_id), 1, NULL, value, count(*), NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL
            FROM f GROUP BY GROUPING SETS ((child_id, value), (value))
            UNION ALL
            (SELECT 'exception', f.child_id, 0, 1, f.service_date, f.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    f.id, f.deadline, f.meal_point_id, r.name
             FROM f JOIN resident r ON r.id = f.resident_id WHERE f.value IN ('no_call', 'open')
             ORDER BY f.deadline, f.id LIMIT 100)"""
        ),
        params,
    ).mappings():
        if row["part"] == "exception":
            open_calls.append(row)
            continue
        if row["part"] == "counts" and not row["gd"]:
            per_day[row["service_date"]] = (int(row["orders"]), int(row["served"]))
            continue
        target = total if row["gc"] else children.setdefault(int(row["child_id"]), {}) if row["child_id"] else None
        if target is None:
            continue  # an order of a home at the area itself: in the total only
        if row["part"] == "followed":
            target[f"not_collected.{row['value'] if row['value'] is not None else 'none'}"] = int(row["orders"])
        else:
            target.update({key: row[key] for key in COUNTED})
    series = [
        Series(key="meal_orders_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[0]) for d in period.days]),
        Series(key="meals_served_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[1]) for d in period.days]),
    ]
    exceptions = [
        Exception_(
            kind=ExceptionKind.MEAL_NOT_COLLECTED_NO_CALL
            if row["value"] == "no_call"
            else ExceptionKind.MEAL_NOT_COLLECTED_OPEN,
            severity=1,
            area_id=row["child_id"] or tier.area.id,
            subject=str(row["name"]),
            message=(
                "未取餐且无关怀呼叫 not collected, no welfare call"
                if row["value"] == "no_call"
                else "未取餐, 关怀呼叫未结 not collected, welfare call open"
            ),
            since=row["deadline"],
            link=(
                f"/api/meals/orders?date={row['service_date']}&meal_point_id={row['meal_point_id']}"
                "&status=not_collected"
            ),
        )
        for row in open_calls
    ]
    for point in point_rows(session, tier=tier, period=period):
        if point["over_capacity_meals"]:
            exceptions.append(
                Exception_(
                    kind=ExceptionKind.MEAL_POINT_OVER_CAPACITY,
                    severity=2,
                    area_id=point["area_id"],
                    subject=str(point["name"]),
                    message=f"{point['over_capacity_meals']} 餐次超出座位 meals over capacity",
                    since=period.start,
                    link=f"/api/meals/points/{point['meal_point_id']}/day",
                )
            )
    return assemble(
        "meals",
        tier=tier,
        period=period,
        now=now,
        total=total,
        children=children,
        figures=_figures,
        series=series,
        exceptions=exceptions,
    )


def point_rows(session: Session, *, tier: Tier, period: Period) -> list[dict[str, Any]]:
    """Capacity use per meal point in the area: seats taken (live dine-in and pick-up orders) per meal served,
    against `capacity_per_meal`; the average and the peak over the meals that had orders."""
    plain_plans(session)
    rows = session.execute(
        text(
            f"""WITH p AS (
                SELECT mp.id, mp.name, mp.area_id, mp.capacity_per_meal
                FROM meal_point mp JOIN area pa ON pa.id = mp.area_id
                WHERE {tier.in_area_sql("pa.path")} AND {tier.scope.path_sql("pa.path")}),
            m AS (
                SELECT o.meal_point_id, o.service_date, o.meal,
                       count(*) FILTER (WHERE o.mode IN ('dine_in', 'pick_up')) AS seats,
                       count(*) AS orders
                FROM meal_order o JOIN p ON p.id = o.meal_point_id
                WHERE o.status <> 'cancelled' AND o.service_date BETWEEN :first_day AND :last_day
                GROUP BY 1, 2, 3)
            SELECT p.id, p.name, p.area_id, p.capacity_per_meal, count(m.meal) AS meals,
                   coalesce(sum(m.orders), 0) AS orders, coalesce(sum(m.seats), 0) AS seats,
                   coalesce(max(m.seats), 0) AS peak_seats,
                   count(*) FILTER (WHERE m.seats > p.capacity_per_meal) AS over_capacity_meals
            FROM p LEFT JOIN m ON m.meal_point_id = p.id
            GROUP BY p.id, p.name, p.area_id, p.capacity_per_meal ORDER BY p.name, p.id"""
        ),
        {**tier.params, **period.params},
    )
    return [
        {
            "meal_point_id": row.id,
            "name": row.name,
            "area_id": row.area_id,
            "capacity_per_meal": row.capacity_per_meal,
            "meals": int(row.meals),
            "orders": int(row.orders),
            "seats_taken": int(row.seats),
            "peak_seats": int(row.peak_seats),
            "capacity_use": ratio(row.seats, row.capacity_per_meal * row.meals),
            "peak_use": ratio(row.peak_seats, row.capacity_per_meal),
            "over_capacity_meals": int(row.over_capacity_meals),
        }
        for row in rows
    ]
