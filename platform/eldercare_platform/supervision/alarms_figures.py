"""The `alarms` section from the raw `alarm` table (docs/supervision.md, "Alarms"). Device faults (alarm types
with `is_device_fault`: silent, mains lost, low battery) are the `devices` section's, not counted here.

Counts by type, local day and hour of day come from the hourly rollup (supervision/rollups.py) up to its last
refresh and from raw rows after it: the same numbers, without scanning months of alarms three more times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.core.scope import ScopeKind
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.rollups import ORIGIN, alarm_hours_sql, alarm_watermark
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures, Series
from eldercare_platform.supervision.sections import (
    GROUPED,
    Row,
    assemble,
    count,
    grouped,
    keyed,
    merge,
    number,
    plain_plans,
    ratio,
)
from eldercare_platform.supervision.tier import Period, Tier

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
    """Active residents at homes in the area (and the scope), per child area."""
    sql = f"""
        WITH x AS (
            SELECT {tier.child_sql("ar.path")} AS child_id
            FROM resident r JOIN household h ON h.id = r.household_id JOIN area ar ON ar.id = h.area_id
            WHERE r.status = 'active' AND {tier.in_area_sql("ar.path")} AND {tier.scope.residents_sql("r")})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, count(*) AS active_residents FROM x {GROUPED}"""
    return grouped(session, sql, tier.params)


def alarms_section(session: Session, *, tier: Tier, period: Period, now: datetime) -> SectionFigures:
    """Counts by type, outcome and hour; time to acknowledge / resolve (p50, p90); the shares acknowledged within
    60 s and 180 s (inclusive); repeat callers; alarms per 1,000 active residents."""
    plain_plans(session)
    params = {**tier.params, **period.params, "now": now, "repeat": REPEAT_CALLER_ALARMS}
    base = _in_period(tier)
    main = grouped(
        session,
        f"""WITH a AS ({base})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, count(*) AS alarms,
               count(acknowledged_at) AS acknowledged, count(resolved_at) AS resolved,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_s) AS ack_p50_s,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_s) AS ack_p90_s,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve_s) AS resolve_p50_s,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve_s) AS resolve_p90_s,
               count(*) FILTER (WHERE ack_s <= 60) AS ack_within_60s,
               count(*) FILTER (WHERE ack_s <= 180) AS ack_within_180s
        FROM a {GROUPED}""",
        params,
    )
    # Counts by type, day and hour come from the hourly rollup where it is complete (an area or everything in
    # scope; an institution's scope is not an area subtree) and from raw rows after its last refresh.
    rollup = tier.scope.kind in (ScopeKind.ALL, ScopeKind.AREA)
    watermark = alarm_watermark(session) if rollup else None
    hours = f"""WITH h AS ({alarm_hours_sql(tier.in_area_sql("area_path"), watermark)}),
        a AS (SELECT {tier.child_sql("h.area_path")} AS child_id, h.type, h.bucket, h.alarms
              FROM h JOIN alarm_type ty ON ty.type = h.type AND NOT ty.is_device_fault)"""
    if not rollup:
        hours = f"""WITH a AS (SELECT child_id, type, date_bin(INTERVAL '1 hour', opened_at, {ORIGIN}) AS bucket,
        1 AS alarms FROM ({base}) b)"""
    hour_params = {**params, "rollup_watermark": watermark}
    type_total: Row = {}
    type_children: dict[int, Row] = {}
    per_day: dict[Any, int] = {}
    by_hour: dict[int, int] = {}
    for row in session.execute(
        text(
            f"""{hours}
            SELECT GROUPING(child_id) AS g_child, GROUPING(type) AS g_type, GROUPING(day) AS g_day,
                   child_id, type, day, hour, sum(alarms) AS n
            FROM (SELECT child_id, type, alarms, (bucket AT TIME ZONE :zone)::date AS day,
                         extract(hour FROM bucket AT TIME ZONE :zone)::int AS hour FROM a) c
            GROUP BY GROUPING SETS ((child_id, type), (type), (day), (hour))"""
        ),
        {**hour_params, "zone": str(LOCAL_TIMEZONE)},
    ):
        if not row.g_type:
            if row.g_child:
                type_total[f"type.{row.type}"] = int(row.n)
            elif row.child_id is not None:
                type_children.setdefault(int(row.child_id), {})[f"type.{row.type}"] = int(row.n)
        elif not row.g_day:
            per_day[row.day] = int(row.n)
        else:
            by_hour[int(row.hour)] = int(row.n)
    by_type = (type_total, type_children)
    by_outcome = keyed(
        session,
        f"""WITH a AS ({base})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, coalesce(outcome, 'open') AS value, count(*) AS n
        FROM a GROUP BY GROUPING SETS ((child_id, coalesce(outcome, 'open')), (coalesce(outcome, 'open')))""",
        params,
        "outcome",
    )
    repeat_children = grouped(
        session,
        f"""WITH a AS ({base}), r AS (
            SELECT child_id FROM a WHERE resident_id IS NOT NULL
            GROUP BY resident_id, child_id HAVING count(*) >= :repeat)
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, count(*) AS repeat_callers FROM r {GROUPED}""",
        params,
    )[1]
    repeaters = session.execute(
        text(
            f"""WITH a AS ({base})
            SELECT a.resident_id, r.name, count(*) AS n, min(a.opened_at) AS since
            FROM a JOIN resident r ON r.id = a.resident_id
            GROUP BY a.resident_id, r.name HAVING count(*) >= :repeat ORDER BY n DESC, a.resident_id"""
        ),
        params,
    ).all()
    total, children = merge(main, by_type, by_outcome, ({"repeat_callers": len(repeaters)}, repeat_children))
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
