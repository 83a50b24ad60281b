"""The `alarms` section (docs/supervision.md, "Alarms"). Device faults (alarm types with `is_device_fault`: silent,
mains lost, low battery) are the `devices` section's, not counted here.

Counts by type, outcome, local day and hour of day and the percentiles of time to acknowledge / resolve come from
the daily detail rollup (`rollup_alarm_detail`, migration 0015; supervision/rollups.py) for the days before its
last refresh and from raw rows after it: the same numbers as the raw rows, without scanning months of alarms.
Repeat callers (per resident) come from the caller rollup (`rollup_alarm_caller`, migration 0016) by the same
rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import LOCAL_TIMEZONE, local_date
from eldercare_platform.core.scope import ScopeKind
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.rollups import Source, alarm_watermark
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures, Series
from eldercare_platform.supervision.sections import (
    GROUPED,
    MAX_EXCEPTIONS,
    Row,
    assemble,
    count,
    grouped,
    merge,
    number,
    plain_plans,
    ratio,
)
from eldercare_platform.supervision.tier import Period, Tier, local_midnight

ALARM_COUNTS = ("alarms", "acknowledged", "resolved", "ack_within_60s", "ack_within_180s")
ACK_TARGET_60 = 0.975  # TSA/TEC: 97.5 % of calls answered within 60 s
ACK_TARGET_180 = 0.99  # … and 99 % within 180 s
REPEAT_CALLER_ALARMS = 3

FIGURES = (
    "alarms",
    "acknowledged",
    "resolved",
    "ack_p50_s",
    "ack_p90_s",
    "resolve_p50_s",
    "resolve_p90_s",
    "ack_within_60s",
    "ack_within_180s",
    "ack_within_60s_share",
    "ack_within_180s_share",
    "repeat_callers",
    "active_residents",
    "alarms_per_1000_residents",
)


def _in_period(tier: Tier) -> str:
    return f"""
        SELECT a.id, a.type, a.outcome, a.resident_id, a.opened_at, a.acknowledged_at, a.resolved_at,
               {tier.child_sql("a.area_path")} AS child_id,
               EXTRACT(EPOCH FROM a.acknowledged_at - a.opened_at) AS ack_s,
               EXTRACT(EPOCH FROM a.resolved_at - a.opened_at) AS resolve_s
        FROM alarm a JOIN alarm_type ty ON ty.type = a.type AND NOT ty.is_device_fault
        WHERE a.opened_at >= :period_start AND a.opened_at < :period_end
          AND {tier.in_area_sql("a.area_path")} AND {tier.scope.alarms_sql("a")}"""


def _figures(row: Row) -> dict[str, Figure]:
    alarms = count(row, "alarms")
    residents = count(row, "active_residents")
    return {
        "alarms": alarms,
        "acknowledged": count(row, "acknowledged"),
        "resolved": count(row, "resolved"),
        "ack_p50_s": number(row.get("ack_p50_s")),
        "ack_p90_s": number(row.get("ack_p90_s")),
        "resolve_p50_s": number(row.get("resolve_p50_s")),
        "resolve_p90_s": number(row.get("resolve_p90_s")),
        "ack_within_60s": count(row, "ack_within_60s"),
        "ack_within_180s": count(row, "ack_within_180s"),
        "ack_within_60s_share": ratio(count(row, "ack_within_60s"), alarms),
        "ack_within_180s_share": ratio(count(row, "ack_within_180s"), alarms),
        "repeat_callers": count(row, "repeat_callers"),
        "active_residents": residents,
        "alarms_per_1000_residents": None if not residents else round(alarms * 1000 / residents, 2),
    }


def active_residents(session: Session, tier: Tier) -> tuple[Row, dict[int, Row]]:
    """Active residents at homes in the area (and the scope), per child area (the scope rule on the household
    already joined, `Scope.home_sql`)."""
    in_scope = tier.scope.home_sql("r", "ar.path")
    sql = f"""
        WITH x AS (
            SELECT {tier.child_sql("ar.path")} AS child_id
            FROM resident r JOIN household h ON h.id = r.household_id JOIN area ar ON ar.id = h.area_id
            WHERE r.status = 'active' AND {tier.in_area_sql("ar.path")} AND {in_scope})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, count(*) AS active_residents FROM x {GROUPED}"""
    return grouped(session, sql, tier.params)


def _detail_sql(tier: Tier, *, rollup: bool) -> str:
    """A relation `u` of the area's alarms in the period, device faults left out: `rollup_alarm_detail` rows for the
    days before `:tail_day` (when `rollup`), raw alarms from `:tail_start` on. `grp` is 0 for a row counting in the
    area's total, a child area's id for one counting in that child (a raw alarm in a child is both); `ack_s` and
    `resolve_s` hold the seconds themselves, `by_hour` (rollup) or `hour` (raw) the local hour of day."""
    raw = f"""
        SELECT g.grp, a.type, coalesce(a.outcome, 'open') AS outcome, (a.opened_at AT TIME ZONE :zone)::date AS day,
               extract(hour FROM a.opened_at AT TIME ZONE :zone)::int AS hour, NULL::integer[] AS by_hour,
               1 AS alarms, (a.acknowledged_at IS NOT NULL)::int AS acknowledged,
               (a.resolved_at IS NOT NULL)::int AS resolved,
               coalesce(EXTRACT(EPOCH FROM a.acknowledged_at - a.opened_at) <= 60, false)::int AS ack_le_60,
               coalesce(EXTRACT(EPOCH FROM a.acknowledged_at - a.opened_at) <= 180, false)::int AS ack_le_180,
               CASE WHEN a.acknowledged_at IS NULL THEN '{{}}'::double precision[]
                    ELSE ARRAY[EXTRACT(EPOCH FROM a.acknowledged_at - a.opened_at)::double precision] END AS ack_s,
               CASE WHEN a.resolved_at IS NULL THEN '{{}}'::double precision[]
                    ELSE ARRAY[EXTRACT(EPOCH FROM a.resolved_at - a.opened_at)::double precision] END AS resolve_s
        FROM alarm a JOIN alarm_type ty ON ty.type = a.type AND NOT ty.is_device_fault
        CROSS JOIN LATERAL (VALUES (0), ({tier.child_sql("a.area_path")})) g(grp)
        WHERE g.grp IS NOT NULL AND a.opened_at >= :tail_start AND a.opened_at < :period_end
          AND {tier.in_area_sql("a.area_path")} AND {tier.scope.alarms_sql("a")}"""
    if not rollup:
        return raw
    return f"""
        SELECT CASE WHEN f.depth = :depth THEN 0 ELSE split_part(f.area_path, '/', :child_field)::int END AS grp,
               f.type, f.outcome, f.day, NULL::int AS hour, f.by_hour, f.alarms, f.acknowledged, f.resolved,
               f.ack_le_60, f.ack_le_180, f.ack_s, f.resolve_s
        FROM rollup_alarm_detail f JOIN alarm_type ty ON ty.type = f.type AND NOT ty.is_device_fault
        WHERE f.depth IN (:depth, :depth + 1) AND f.area_path LIKE :area_path || '%'
          AND f.day >= :first_day AND f.day <= :last_day AND f.day < :tail_day
        UNION ALL {raw}"""


def _callers_sql(tier: Tier, *, rollup: bool) -> str:
    """`WITH … r`: the residents with at least REPEAT_CALLER_ALARMS alarms in the period, per child area they are
    repeat callers in (`g` 0, `child_id`; NULL: at the area itself) and in the area (`g` 1), with their count `n`
    and first alarm `since`. From raw alarms; or (`rollup`) from `rollup_alarm_caller` — each resident's sorted
    instants, so the alarms before `:tail_start` in the period are two binary searches (`width_bucket`: how many
    are ≤ an instant) — plus the raw alarms from `:tail_start` on. Only rows with REPEAT_CALLER_ALARMS alarms in
    all, or of a resident with alarms after the rollup, can reach it."""
    if not rollup:
        return f"""WITH a AS ({_in_period(tier)}), r AS MATERIALIZED (
                SELECT resident_id, child_id, GROUPING(child_id) AS g, count(*) AS n, min(opened_at) AS since
                FROM a WHERE resident_id IS NOT NULL
                GROUP BY GROUPING SETS ((resident_id, child_id), (resident_id)) HAVING count(*) >= :repeat)"""
    below = "width_bucket(CAST(:period_start AS timestamptz) - INTERVAL '1 microsecond', f.opened)"
    until = "width_bucket(LEAST(CAST(:period_end AS timestamptz), :tail_start) - INTERVAL '1 microsecond', f.opened)"
    return f"""WITH tail AS MATERIALIZED (
                SELECT a.resident_id, {tier.child_sql("a.area_path")} AS child_id, a.opened_at
                FROM alarm a JOIN alarm_type ty ON ty.type = a.type AND NOT ty.is_device_fault
                WHERE a.opened_at >= :tail_start AND a.opened_at < :period_end AND a.resident_id IS NOT NULL
                  AND {tier.in_area_sql("a.area_path")} AND {tier.scope.alarms_sql("a")}),
            c AS (
                SELECT f.resident_id, f.depth = :depth AS whole,
                       CASE WHEN f.depth > :depth THEN split_part(f.area_path, '/', :child_field)::int END AS child_id,
                       {until} - {below} AS n, f.opened[{below} + 1] AS since
                FROM rollup_alarm_caller f
                WHERE f.depth IN (:depth, :depth + 1) AND f.area_path LIKE :area_path || '%'
                  AND f.alarms >= {REPEAT_CALLER_ALARMS}
                UNION ALL
                SELECT f.resident_id, f.depth = :depth,
                       CASE WHEN f.depth > :depth THEN split_part(f.area_path, '/', :child_field)::int END,
                       {until} - {below}, f.opened[{below} + 1]
                FROM rollup_alarm_caller f
                WHERE f.depth IN (:depth, :depth + 1) AND f.area_path LIKE :area_path || '%'
                  AND f.alarms < {REPEAT_CALLER_ALARMS} AND f.resident_id IN (SELECT resident_id FROM tail)),
            u AS (
                SELECT resident_id, whole, child_id, n, since FROM c WHERE n > 0
                UNION ALL
                SELECT t.resident_id, w.whole, CASE WHEN NOT w.whole THEN t.child_id END, 1, t.opened_at
                FROM tail t CROSS JOIN LATERAL (VALUES (true), (false)) w(whole)
                WHERE w.whole OR t.child_id IS NOT NULL),
            r AS MATERIALIZED (
                SELECT resident_id, child_id, CASE WHEN whole THEN 1 ELSE 0 END AS g, sum(n) AS n, min(since) AS since
                FROM u GROUP BY resident_id, whole, child_id HAVING sum(n) >= :repeat)"""


def _split(rows: Any) -> tuple[Row, dict[int, Row]]:
    """Rows keyed by `grp` (0: the area's total) as (total, children)."""
    total: Row = {}
    children: dict[int, Row] = {}
    for row in rows:
        values = {key: value for key, value in row.items() if key != "grp"}
        if row["grp"] == 0:
            total.update(values)
        else:
            children.setdefault(int(row["grp"]), {}).update(values)
    return total, children


def alarms_section(
    session: Session, *, tier: Tier, period: Period, now: datetime, source: Source = "rollup"
) -> SectionFigures:
    """Counts by type, outcome and hour; time to acknowledge / resolve (p50, p90); the shares acknowledged within
    60 s and 180 s (inclusive); repeat callers; alarms per 1,000 active residents.

    Everything comes from `rollup_alarm_detail` (migration 0015; repeat callers from `rollup_alarm_caller`, 0016)
    for the local days before the day of the alarm rollups' last refresh and from raw alarms after it (an
    institution's scope is not an area subtree: all raw): the same numbers as the raw rows, percentiles included
    (the detail keeps every alarm's seconds). `source="raw"` reads raw rows only (the tests compare both)."""
    plain_plans(session)
    params: dict[str, Any] = {**tier.params, **period.params, "now": now, "repeat": REPEAT_CALLER_ALARMS}
    rollup = source == "rollup" and tier.scope.kind in (ScopeKind.ALL, ScopeKind.AREA)
    watermark = alarm_watermark(session) if rollup else None
    rollup = rollup and watermark is not None
    tail_day = max(local_date(watermark), period.first) if watermark is not None and rollup else period.first
    params |= {
        "zone": str(LOCAL_TIMEZONE),
        "tail_day": tail_day,
        "tail_start": max(local_midnight(tail_day), period.start),
        "depth": tier.area.path.count("/") - 1,
        "child_field": tier.area.path.count("/") + 1,
    }
    detail = f"WITH u AS ({_detail_sql(tier, rollup=rollup)})"
    hours = ", ".join(f"sum(coalesce(by_hour[{hour + 1}], (hour = {hour})::int)) AS h{hour}" for hour in range(24))
    counts: Row = {}
    children: dict[int, Row] = {}
    per_day: dict[Any, int] = {}
    by_hour: dict[int, int] = {}
    for line in session.execute(
        text(
            f"""{detail}
            SELECT grp, type, outcome, day, GROUPING(type) AS g_type, GROUPING(outcome) AS g_outcome,
                   GROUPING(day) AS g_day, sum(alarms) AS alarms, sum(acknowledged) AS acknowledged,
                   sum(resolved) AS resolved, sum(ack_le_60) AS ack_within_60s, sum(ack_le_180) AS ack_within_180s,
                   {hours}
            FROM u GROUP BY GROUPING SETS ((grp), (grp, type), (grp, outcome), (grp, day))"""
        ),
        params,
    ).mappings():
        into = counts if line["grp"] == 0 else children.setdefault(int(line["grp"]), {})
        if not line["g_type"]:
            into[f"type.{line['type']}"] = int(line["alarms"])
        elif not line["g_outcome"]:
            into[f"outcome.{line['outcome']}"] = int(line["alarms"])
        elif not line["g_day"]:
            if line["grp"] == 0:
                per_day[line["day"]] = int(line["alarms"])
        else:
            into.update({key: int(line[key]) for key in ALARM_COUNTS})
            if line["grp"] == 0:
                by_hour = {hour: int(line[f"h{hour}"]) for hour in range(24)}
    percentiles = _split(
        session.execute(
            text(
                f"""{detail}
                SELECT u.grp, percentile_cont(0.5) WITHIN GROUP (ORDER BY v.ack) AS ack_p50_s,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY v.ack) AS ack_p90_s,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY v.res) AS resolve_p50_s,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY v.res) AS resolve_p90_s
                FROM u, unnest(u.ack_s, u.resolve_s) v(ack, res) GROUP BY u.grp"""
            ),
            params,
        ).mappings()
    )
    # Repeat callers are per resident: from the caller rollup and raw rows after it, or raw rows, in one pass (per
    # child, in the area, and the first of the list).
    repeat_children: dict[int, Row] = {}
    repeat_total = 0
    repeaters: list[Any] = []
    callers = _callers_sql(tier, rollup=rollup)
    for row in session.execute(
        text(
            f"""{callers}
            SELECT 'child' AS part, child_id, count(*) AS n, NULL::bigint AS resident_id, NULL::text AS name,
                   NULL::timestamptz AS since
            FROM r WHERE g = 0 AND child_id IS NOT NULL GROUP BY child_id
            UNION ALL
            SELECT 'total', NULL, count(*), NULL, NULL, NULL FROM r JOIN resident p ON p.id = r.resident_id WHERE g = 1
            UNION ALL
            (SELECT 'first', NULL, r.n, r.resident_id, p.name, r.since
             FROM r JOIN resident p ON p.id = r.resident_id WHERE g = 1
             ORDER BY r.since, p.name COLLATE "C", r.n DESC, r.resident_id LIMIT :first)"""
        ),
        {**params, "first": MAX_EXCEPTIONS},
    ):
        if row.part == "child":
            repeat_children[int(row.child_id)] = {"repeat_callers": int(row.n)}
        elif row.part == "total":
            repeat_total = int(row.n)
        else:
            repeaters.append(row)
    # Only the first MAX_EXCEPTIONS repeaters by (since, name) can survive `worst_first(…)[:MAX_EXCEPTIONS]`; the
    # list is in the raw query's order (most alarms first), which decides ties as before.
    repeaters.sort(key=lambda row: (-int(row.n), int(row.resident_id)))
    total, children = merge((counts, children), percentiles, ({"repeat_callers": repeat_total}, repeat_children))
    total, children = merge((total, children), active_residents(session, tier))

    series = [
        Series(key="alarms_per_day", points=[(day.isoformat(), int(per_day.get(day, 0))) for day in period.days]),
        Series(key="alarms_by_hour", points=[(f"{hour:02d}:00", int(by_hour.get(hour, 0))) for hour in range(24)]),
    ]

    exceptions = [
        Exception_(
            kind=ExceptionKind.ALARM_REPEAT_CALLER,
            severity=2,
            area_id=tier.area.id,
            subject=str(row.name),
            message=f"{row.n} 次告警 alarms in the period",
            since=row.since,
            link=f"/api/residents/{row.resident_id}",
        )
        for row in repeaters
    ]
    for row in session.execute(
        text(
            f"""SELECT a.id, a.type, a.state, a.opened_at, a.ack_due_at, a.resolve_due_at,
                       {tier.child_sql("a.area_path")} AS child_id
                FROM alarm a JOIN alarm_type ty ON ty.type = a.type AND NOT ty.is_device_fault
                WHERE a.state <> 'resolved' AND (a.ack_due_at <= :now AND a.state = 'new' OR a.resolve_due_at <= :now)
                  AND {tier.in_area_sql("a.area_path")} AND {tier.scope.alarms_sql("a")}
                ORDER BY a.opened_at LIMIT 100"""
        ),
        params,
    ):
        unanswered = row.state == "new"
        exceptions.append(
            Exception_(
                kind=ExceptionKind.ALARM_UNANSWERED if unanswered else ExceptionKind.ALARM_UNRESOLVED,
                severity=1 if unanswered else 2,
                area_id=row.child_id or tier.area.id,
                subject=f"#{row.id} {row.type}",
                message="告警超时未接 not acknowledged in time" if unanswered else "告警超时未结 not resolved in time",
                since=row.opened_at,
                link=f"/api/alarms/{row.id}",
            )
        )
    alarms = count(total, "alarms")
    for key, target, kind in (
        ("ack_within_60s", ACK_TARGET_60, ExceptionKind.ALARM_ACK_60_BELOW_TARGET),
        ("ack_within_180s", ACK_TARGET_180, ExceptionKind.ALARM_ACK_180_BELOW_TARGET),
    ):
        share = ratio(count(total, key), alarms)
        if share is not None and share < target:
            exceptions.append(
                Exception_(
                    kind=kind,
                    severity=2,
                    area_id=tier.area.id,
                    subject=tier.area.name,
                    message=f"{share:.1%} < {target:.1%} ({key.replace('_', ' ')})",
                    since=period.start,
                )
            )
    return assemble(
        "alarms",
        tier=tier,
        period=period,
        now=now,
        total=total,
        children=children,
        figures=_figures,
        series=series,
        exceptions=exceptions,
    )
