"""The `devices` section from `device`, `device_status`, fault alarms and their tasks (docs/supervision.md,
"Devices"). A snapshot at `now`: the period only bounds `faults_opened`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures
from eldercare_platform.supervision.sections import GROUPED, Row, assemble, count, grouped, merge, plain_plans, ratio
from eldercare_platform.supervision.tier import Period, Tier

LOW_BATTERY_PCT = 20  # the gateway's default `low_battery_pct`: below it a heartbeat raises a low-battery fault
FAULT_COVER_AFTER = timedelta(hours=2)  # JGJ/T 484: a fault open this long needs a substitute or manual cover


def _devices(tier: Tier) -> str:
    """Devices in service (not retired), located where their owner is (home, care center or institution); the
    scope rule on the location already joined (`Scope.device_at_sql`)."""
    in_scope = tier.scope.device_at_sql("d", "loc.path")
    return f"""
        SELECT d.serial, d.kind, s.online, s.last_seen_at, s.battery_pct, loc.path,
               {tier.child_sql("loc.path")} AS child_id
        FROM device d LEFT JOIN device_status s ON s.device_serial = d.serial
             LEFT JOIN household h ON h.id = d.household_id LEFT JOIN care_center cc ON cc.id = d.care_center_id
             LEFT JOIN institution i ON i.id = d.institution_id
             JOIN area loc ON loc.id = coalesce(h.area_id, cc.area_id, i.area_id)
        WHERE d.state <> 'retired' AND {tier.in_area_sql("loc.path")} AND {in_scope}"""


def _faults(tier: Tier) -> str:
    """Device-fault alarms (silent, mains lost, low battery) located in the area, open now or opened in the period,
    with what covers each one still open (a live `substitute_cover` task, else any live task, else none: looked up
    only for open faults — 'none' for a resolved one, whose cover no figure reads)."""
    return f"""
        SELECT a.id, a.type, a.device_serial, a.opened_at, a.resolved_at, {tier.child_sql("a.area_path")} AS child_id,
               CASE WHEN cv.substitute THEN 'substitute_cover' WHEN cv.substitute IS NOT NULL THEN 'task'
                    ELSE 'none' END AS cover
        FROM alarm a JOIN alarm_type ty ON ty.type = a.type AND ty.is_device_fault
             LEFT JOIN LATERAL (
                 SELECT bool_or(c.kind = 'substitute_cover') AS substitute FROM task c
                 WHERE a.resolved_at IS NULL AND c.alarm_id = a.id AND c.status NOT IN ('cancelled', 'missed')) cv
             ON true
        WHERE (a.resolved_at IS NULL OR (a.opened_at >= :period_start AND a.opened_at < :period_end))
          AND {tier.in_area_sql("a.area_path")} AND {tier.scope.alarms_sql("a")}"""


def _figures(row: Row) -> dict[str, Figure]:
    return {
        "devices": count(row, "devices"),
        "online": count(row, "online"),
        "online_share": ratio(count(row, "online"), count(row, "devices")),
        "silent_1_24h": count(row, "silent_1_24h"),
        "silent_1_7d": count(row, "silent_1_7d"),
        "silent_over_7d": count(row, "silent_over_7d"),
        "never_seen": count(row, "never_seen"),
        "low_battery": count(row, "low_battery"),
        "faults_opened": count(row, "faults_opened"),
        "faults_open": count(row, "faults_open"),
        "faults_open_over_2h": count(row, "faults_open_over_2h"),
        "faults_over_2h_substitute_cover": count(row, "faults_over_2h_substitute_cover"),
        "faults_over_2h_task": count(row, "faults_over_2h_task"),
        "faults_over_2h_uncovered": count(row, "faults_over_2h_uncovered"),
    }


def devices_section(session: Session, *, tier: Tier, period: Period, now: datetime) -> SectionFigures:
    """Online share, silent devices by age of silence, low batteries, open faults and what covers them."""
    plain_plans(session)
    params = {
        **tier.params,
        **period.params,
        "now": now,
        "hour": timedelta(hours=1),
        "day": timedelta(days=1),
        "week": timedelta(days=7),
        "cover_after": FAULT_COVER_AFTER,
        "low": LOW_BATTERY_PCT,
    }
    devices = grouped(
        session,
        f"""WITH d AS ({_devices(tier)})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, count(*) AS devices,
               count(*) FILTER (WHERE online) AS online,
               count(*) FILTER (WHERE NOT coalesce(online, false)
                                AND :now - last_seen_at >= :hour AND :now - last_seen_at < :day) AS silent_1_24h,
               count(*) FILTER (WHERE NOT coalesce(online, false)
                                AND :now - last_seen_at >= :day AND :now - last_seen_at < :week) AS silent_1_7d,
               count(*) FILTER (WHERE NOT coalesce(online, false) AND :now - last_seen_at >= :week) AS silent_over_7d,
               count(*) FILTER (WHERE last_seen_at IS NULL) AS never_seen,
               count(*) FILTER (WHERE battery_pct < :low) AS low_battery
        FROM d {GROUPED}""",
        params,
    )
    faults = grouped(
        session,
        f"""WITH f AS ({_faults(tier)})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total,
               count(*) FILTER (WHERE opened_at >= :period_start AND opened_at < :period_end) AS faults_opened,
               count(*) FILTER (WHERE resolved_at IS NULL AND opened_at <= :now) AS faults_open,
               count(*) FILTER (WHERE resolved_at IS NULL AND opened_at <= :now - :cover_after) AS faults_open_over_2h,
               count(*) FILTER (WHERE resolved_at IS NULL AND opened_at <= :now - :cover_after
                                AND cover = 'substitute_cover') AS faults_over_2h_substitute_cover,
               count(*) FILTER (WHERE resolved_at IS NULL AND opened_at <= :now - :cover_after
                                AND cover = 'task') AS faults_over_2h_task,
               count(*) FILTER (WHERE resolved_at IS NULL AND opened_at <= :now - :cover_after
                                AND cover = 'none') AS faults_over_2h_uncovered
        FROM f {GROUPED}""",
        params,
    )
    total, children = merge(devices, faults)

    exceptions = [
        Exception_(
            kind=ExceptionKind.DEVICE_FAULT_UNCOVERED,
            severity=1,
            area_id=row.child_id or tier.area.id,
            subject=str(row.device_serial),
            message=f"{row.type} 超过2小时无替代或人工照看 open > 2 h, no cover",
            since=row.opened_at,
            link=f"/api/alarms/{row.id}",
        )
        for row in session.execute(
            text(
                f"""WITH f AS ({_faults(tier)})
                SELECT * FROM f WHERE resolved_at IS NULL AND opened_at <= :now - :cover_after AND cover = 'none'
                ORDER BY opened_at LIMIT 100"""
            ),
            params,
        )
    ]
    for row in session.execute(
        text(
            f"""WITH d AS ({_devices(tier)})
            SELECT * FROM d WHERE NOT coalesce(online, false) AND :now - last_seen_at >= :week
            ORDER BY last_seen_at LIMIT 100"""
        ),
        params,
    ):
        exceptions.append(
            Exception_(
                kind=ExceptionKind.DEVICE_SILENT_OVER_7D,
                severity=2,
                area_id=row.child_id or tier.area.id,
                subject=str(row.serial),
                message=f"{row.kind} 失联超过7天 silent for more than 7 days",
                since=row.last_seen_at,
                link=f"/api/devices?serial={row.serial}",
            )
        )
    return assemble(
        "devices",
        tier=tier,
        period=period,
        now=now,
        total=total,
        children=children,
        figures=_figures,
        exceptions=exceptions,
    )
