"""The `meals` section (docs/supervision.md, "Meals").

What an order counts as is one SQL definition (supervision/meal_facts.py). The section reads the meal rollup
(migration 0018, supervision/meal_rollup.py) for the local days before the day of its last refresh — the sums of
the final orders — and the raw orders from that day on, plus the orders whose stored row may be out of date
(changed since the refresh, their welfare call changed, not final then), whose stored rows it takes out of the sums
again. `source="raw"` reads every order of the period raw (the reference)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.scope import ScopeKind
from eldercare_platform.supervision.meal_facts import FOLLOWED, SEATED, SERVED, SETTLED
from eldercare_platform.supervision.meal_rollup import dirty_ids, meal_rollup_state
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.rollups import Source
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
    in_scope = tier.scope.home_sql("r", "ar.path")  # the scope rule on the household already joined
    return f"""
        homes AS MATERIALIZED (
            SELECT r.id, {tier.child_sql("ar.path")} AS child_id
            FROM resident r JOIN household h ON h.id = r.household_id JOIN area ar ON ar.id = h.area_id
            WHERE {tier.in_area_sql("ar.path")} AND {in_scope}),
        o AS MATERIALIZED (
            SELECT o.id, o.status, o.meal, o.mode, o.service_date, o.deadline, o.meal_point_id, o.welfare_alarm_id,
                   o.resident_id, homes.child_id,
                   {SETTLED} AS settled
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


@dataclass(frozen=True)
class _Reading:
    """How a request reads: from the rollup (`rollup`, with `params` for it) or all raw."""

    rollup: bool
    params: dict[str, Any]


def _reading(session: Session, *, tier: Tier, period: Period, now: datetime, source: Source) -> _Reading:
    """The rollup is read for the local days before the day of its last refresh when the scope is an area subtree
    (an institution's is not: all raw). What a final order counts as does not depend on `now`; the orders that are
    not final are read raw, on the request's `now`. The orders whose stored row may be out of date
    (meal_facts.DIRTY) are read raw in its place (`dirty`)."""
    params = {**tier.params, **period.params, "now": now}
    state = meal_rollup_state(session) if source == "rollup" else None
    if state is None or tier.scope.kind not in (ScopeKind.ALL, ScopeKind.AREA):
        return _Reading(False, params)
    params |= {
        "tail_day": max(state.day, period.first),
        "depth": tier.area.path.count("/") - 1,
        "child_field": tier.area.path.count("/") + 1,
    }
    open_where = "day >= :first_day AND day <= :last_day AND day < :tail_day"
    params["dirty"] = dirty_ids(session, state, open_where, params)
    return _Reading(True, params)


TAIL = """(o.service_date >= :tail_day AND o.service_date <= :last_day
            OR o.id = ANY(:dirty) AND o.service_date >= :first_day AND o.service_date <= :last_day
               AND o.service_date < :tail_day)"""
"""On the rollup path, the orders read raw: from the refresh's day on, and the dirty ones before it."""

STORED = "s.day >= :first_day AND s.day <= :last_day AND s.day < :tail_day"
"""Stored rows of the period's rolled-up days."""

IN_SUMS = "('collected', 'delivered', 'not_collected')"
"""The statuses that count as settled whatever `now` is (a final order is never `ordered`)."""

COLUMNS = """NULL::text AS value, NULL::bigint AS orders, NULL::bigint AS cancelled, NULL::bigint AS delivered,
             NULL::bigint AS collected, NULL::bigint AS not_collected, NULL::bigint AS settled, NULL::bigint AS served,
             NULL::bigint AS id, NULL::timestamptz AS deadline, NULL::int AS meal_point_id, NULL::text AS name"""


def _raw_sql(tier: Tier) -> str:
    """One pass over the period's orders (`o`, narrow, kept once): the counts of the children and the total, the
    days, the not-collected ones by what followed, and the first of those still without an answer."""
    return f"""WITH {_orders(tier)},
            f AS MATERIALIZED (
                SELECT o.id, o.child_id, o.deadline, o.service_date, o.meal_point_id, o.resident_id,
                       {FOLLOWED} AS value
                FROM o LEFT JOIN alarm w ON w.id = o.welfare_alarm_id WHERE o.status = 'not_collected')
            SELECT 'counts' AS part, child_id AS grp, GROUPING(child_id) AS gc, GROUPING(service_date) AS gd,
                   service_date, NULL::text AS value, count(*) FILTER (WHERE status <> 'cancelled') AS orders,
                   count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                   count(*) FILTER (WHERE status = 'delivered') AS delivered,
                   count(*) FILTER (WHERE status = 'collected') AS collected,
                   count(*) FILTER (WHERE status = 'not_collected') AS not_collected,
                   count(*) FILTER (WHERE settled) AS settled,
                   count(*) FILTER (WHERE status IN {SERVED}) AS served,
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


def _rollup_sql(tier: Tier) -> str:
    """The same answer from the rollup: `o` the orders read raw (classified by meal_facts' SQL), `s` the stored
    rows of the dirty ones, `u` signed counts — the daily sums of the area (`grp` 0) and its children one level
    down, minus `s`, plus `o` — by local day, status and what followed; the exceptions' candidates are the first
    stored not-collected orders without a call that are not dirty, and the raw ones."""
    return f"""WITH o AS MATERIALIZED (
                SELECT o.id, o.status, o.service_date, o.deadline, o.meal_point_id, o.resident_id,
                       {tier.child_sql("ar.path")} AS child_id, {SETTLED} AS settled,
                       CASE WHEN o.status = 'not_collected' THEN {FOLLOWED} END AS value
                FROM meal_order o JOIN resident r ON r.id = o.resident_id JOIN household h ON h.id = r.household_id
                     JOIN area ar ON ar.id = h.area_id
                     LEFT JOIN alarm w ON w.id = o.welfare_alarm_id AND o.status = 'not_collected'
                WHERE {TAIL} AND {tier.in_area_sql("ar.path")}),
            s AS MATERIALIZED (
                SELECT s.day, s.status, s.followed, {tier.child_sql("s.area_path")} AS child_id FROM rollup_meal_order s
                WHERE s.order_id = ANY(:dirty) AND s.final AND {STORED} AND {tier.in_area_sql("s.area_path")}),
            u (grp, day, status, value, n, settled) AS (
                SELECT CASE WHEN f.depth = :depth THEN 0 ELSE split_part(f.area_path, '/', :child_field)::int END,
                       f.day, f.status, f.followed, f.orders, CASE WHEN f.status IN {IN_SUMS} THEN f.orders ELSE 0 END
                FROM rollup_meal_daily f
                WHERE f.depth IN (:depth, :depth + 1) AND f.area_path LIKE :area_path || '%'
                  AND f.day >= :first_day AND f.day <= :last_day AND f.day < :tail_day
                UNION ALL
                SELECT g.grp, s.day, s.status, coalesce(s.followed, ''), -1, -(s.status IN {IN_SUMS})::int
                FROM s CROSS JOIN LATERAL (VALUES (0), (s.child_id)) g(grp) WHERE g.grp IS NOT NULL
                UNION ALL
                SELECT g.grp, o.service_date, o.status, coalesce(o.value, ''), 1, o.settled::int
                FROM o CROSS JOIN LATERAL (VALUES (0), (o.child_id)) g(grp) WHERE g.grp IS NOT NULL),
            e AS (
                (SELECT s.order_id AS id, {tier.child_sql("s.area_path")} AS child_id, s.day AS service_date,
                        s.followed AS value, s.deadline, s.meal_point_id, s.resident_id
                 FROM rollup_meal_order s
                 WHERE s.final AND s.followed = 'no_call' AND {STORED} AND {tier.in_area_sql("s.area_path")}
                   AND s.order_id <> ALL(:dirty)
                 ORDER BY s.deadline, s.order_id LIMIT 100)
                UNION ALL
                (SELECT o.id, o.child_id, o.service_date, o.value, o.deadline, o.meal_point_id, o.resident_id
                 FROM o WHERE o.value IN ('no_call', 'open') ORDER BY o.deadline, o.id LIMIT 100))
            SELECT 'counts' AS part, CASE WHEN grp = 0 THEN NULL ELSE grp END AS grp,
                   (grp = 0)::int AS gc, GROUPING(day) AS gd, day AS service_date, NULL::text AS value,
                   coalesce(sum(n) FILTER (WHERE status <> 'cancelled'), 0) AS orders,
                   coalesce(sum(n) FILTER (WHERE status = 'cancelled'), 0) AS cancelled,
                   coalesce(sum(n) FILTER (WHERE status = 'delivered'), 0) AS delivered,
                   coalesce(sum(n) FILTER (WHERE status = 'collected'), 0) AS collected,
                   coalesce(sum(n) FILTER (WHERE status = 'not_collected'), 0) AS not_collected,
                   coalesce(sum(settled), 0) AS settled,
                   coalesce(sum(n) FILTER (WHERE status IN {SERVED}), 0) AS served,
                   NULL::bigint AS id, NULL::timestamptz AS deadline, NULL::int AS meal_point_id, NULL::text AS name
            FROM u GROUP BY GROUPING SETS ((grp), (grp, day))
            UNION ALL
            SELECT 'followed', CASE WHEN grp = 0 THEN NULL ELSE grp END, (grp = 0)::int, 1, NULL, value, sum(n),
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM u WHERE status = 'not_collected' GROUP BY grp, value HAVING sum(n) <> 0
            UNION ALL
            (SELECT 'exception', e.child_id, 0, 1, e.service_date, e.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    e.id, e.deadline, e.meal_point_id, r.name
             FROM e JOIN resident r ON r.id = e.resident_id ORDER BY e.deadline, e.id LIMIT 100)"""


def meals_section(
    session: Session, *, tier: Tier, period: Period, now: datetime, source: Source = "rollup"
) -> SectionFigures:
    """Orders, delivered / collected, 送达率 = served / settled, not collected and what followed (the welfare
    call's outcome): from the meal rollup and the raw tail, or (`source="raw"`) all raw."""
    plain_plans(session)
    reading = _reading(session, tier=tier, period=period, now=now, source=source)
    total: Row = {}
    children: dict[int, Row] = {}
    per_day: dict[Any, tuple[int, int]] = {}
    open_calls: list[Any] = []
    sql = _rollup_sql(tier) if reading.rollup else _raw_sql(tier)
    for row in session.execute(text(sql), reading.params).mappings():
        if row["part"] == "exception":
            open_calls.append(row)
            continue
        if row["part"] == "counts" and not row["gd"]:
            if row["gc"]:  # the rollup path's days are the total's (grp 0); the raw path's have gc = 1
                per_day[row["service_date"]] = (int(row["orders"]), int(row["served"]))
            continue
        target = total if row["gc"] else children.setdefault(int(row["grp"]), {}) if row["grp"] else None
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
            area_id=row["grp"] or tier.area.id,
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
    for point in point_rows(session, tier=tier, period=period, reading=reading):
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


def point_rows(
    session: Session,
    *,
    tier: Tier,
    period: Period,
    source: Source = "rollup",
    reading: _Reading | None = None,
) -> list[dict[str, Any]]:
    """Capacity use per meal point in the area: seats taken (live dine-in and pick-up orders) per meal served,
    against `capacity_per_meal`; the average and the peak over the meals that had orders. On the rollup path the
    meals' orders and seats are `rollup_meal_point`'s, less the dirty orders' stored rows, plus the orders read raw
    (a meal's count is put together before its peak and its over-capacity are judged)."""
    plain_plans(session)
    if reading is None:
        # No figure of a point depends on `now` (the orders not cancelled, their modes).
        reading = _reading(session, tier=tier, period=period, now=period.end, source=source)
    if reading.rollup:
        meals = f"""
            m0 (meal_point_id, service_date, meal, orders, seats) AS (
                SELECT rp.meal_point_id, rp.day, rp.meal, rp.orders, rp.seats
                FROM rollup_meal_point rp JOIN p ON p.id = rp.meal_point_id
                WHERE rp.day >= :first_day AND rp.day <= :last_day AND rp.day < :tail_day
                UNION ALL
                SELECT s.meal_point_id, s.day, s.meal, -1, -(s.mode IN {SEATED})::int
                FROM rollup_meal_order s JOIN p ON p.id = s.meal_point_id
                WHERE s.order_id = ANY(:dirty) AND s.final AND s.status <> 'cancelled' AND {STORED}
                UNION ALL
                SELECT o.meal_point_id, o.service_date, o.meal, 1, (o.mode IN {SEATED})::int
                FROM meal_order o JOIN p ON p.id = o.meal_point_id
                WHERE o.status <> 'cancelled' AND {TAIL}),
            m AS (
                SELECT meal_point_id, service_date, meal, sum(seats) AS seats, sum(orders) AS orders
                FROM m0 GROUP BY 1, 2, 3 HAVING sum(orders) > 0)"""
    else:
        meals = f"""
            m AS (
                SELECT o.meal_point_id, o.service_date, o.meal,
                       count(*) FILTER (WHERE o.mode IN {SEATED}) AS seats,
                       count(*) AS orders
                FROM meal_order o JOIN p ON p.id = o.meal_point_id
                WHERE o.status <> 'cancelled' AND o.service_date BETWEEN :first_day AND :last_day
                GROUP BY 1, 2, 3)"""
    rows = session.execute(
        text(
            f"""WITH p AS (
                SELECT mp.id, mp.name, mp.area_id, mp.capacity_per_meal
                FROM meal_point mp JOIN area pa ON pa.id = mp.area_id
                WHERE {tier.in_area_sql("pa.path")} AND {tier.scope.path_sql("pa.path")}),{meals}
            SELECT p.id, p.name, p.area_id, p.capacity_per_meal, count(m.meal) AS meals,
                   coalesce(sum(m.orders), 0) AS orders, coalesce(sum(m.seats), 0) AS seats,
                   coalesce(max(m.seats), 0) AS peak_seats,
                   count(*) FILTER (WHERE m.seats > p.capacity_per_meal) AS over_capacity_meals
            FROM p LEFT JOIN m ON m.meal_point_id = p.id
            GROUP BY p.id, p.name, p.area_id, p.capacity_per_meal ORDER BY p.name, p.id"""
        ),
        reading.params,
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
