"""The `visits` section from the raw `task` table (docs/supervision.md, "Visits")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures, Series
from eldercare_platform.supervision.sections import GROUPED, Row, assemble, count, grouped, keyed, merge, number, ratio
from eldercare_platform.supervision.tier import Period, Tier

VISIT_RATE_TARGET = 0.9  # the platform's coverage alert threshold (ELDERCARE_COVERAGE_BEHIND_RATIO default)


def _visits(tier: Tier) -> str:
    """Visit tasks whose window starts in the period, in the area and scope, with `due` / `excused` decided."""
    return f"""
        SELECT t.id, t.status, t.status_reason, t.resident_id, t.assignee_staff_id, t.window_start, t.window_end,
               t.checked_in_at, t.completed_at, t.problem_found, {tier.child_sql("t.area_path")} AS child_id,
               (t.status IN ('cancelled', 'suspended')
                OR (t.status = 'missed' AND EXISTS (
                    SELECT 1 FROM resident_state s
                    WHERE s.resident_id = t.resident_id AND s.kind IN ('hospital', 'away_with_family')
                      AND s.starts_at <= t.window_start
                      AND t.window_start < coalesce(least(s.ends_at, s.ended_at), 'infinity')))) AS excused
        FROM task t
        WHERE t.kind = 'visit' AND t.window_start >= :period_start AND t.window_start < :period_end
          AND {tier.in_area_sql("t.area_path")} AND {tier.scope.path_sql("t.area_path")}"""


def _due(tier: Tier) -> str:
    """Due visits (not excused; closed, or the window has ended by now) and when each problem was closed."""
    return f"""
        v AS ({_visits(tier)}),
        d AS (SELECT * FROM v WHERE NOT excused AND (status IN ('completed', 'missed') OR window_end <= :now)),
        chain AS (
            SELECT d.id AS root, f.id, f.status, f.problem_found, f.completed_at
            FROM d JOIN task f ON f.follow_up_of = d.id WHERE d.status = 'completed' AND d.problem_found
            UNION ALL
            SELECT c.root, f.id, f.status, f.problem_found, f.completed_at
            FROM chain c JOIN task f ON f.follow_up_of = c.id),
        closing AS (
            SELECT root, min(completed_at) AS closed_at FROM chain
            WHERE status = 'completed' AND NOT problem_found AND completed_at <= :now GROUP BY root),
        x AS (
            SELECT d.*, d.status = 'completed' AS done,
                   d.status = 'completed' AND d.checked_in_at >= d.window_start + :late_after AS late,
                   c.closed_at, EXTRACT(EPOCH FROM c.closed_at - d.completed_at) AS close_s
            FROM d LEFT JOIN closing c ON c.root = d.id)"""


COUNTS = """count(*) AS due, count(*) FILTER (WHERE done) AS done, count(*) FILTER (WHERE late) AS late,
            count(*) FILTER (WHERE status = 'missed') AS missed,
            count(*) FILTER (WHERE done AND problem_found) AS problems,
            count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY close_s) AS close_median_s"""


def _figures(row: Row) -> dict[str, Figure]:
    return {
        "due": count(row, "due"),
        "done": count(row, "done"),
        "visit_rate": ratio(count(row, "done"), count(row, "due")),
        "late": count(row, "late"),
        "missed": count(row, "missed"),
        "excused": count(row, "excused"),
        "pending": count(row, "pending"),
        "problems": count(row, "problems"),
        "closed": count(row, "closed"),
        "close_rate": ratio(count(row, "closed"), count(row, "problems")),
        "close_median_s": number(row.get("close_median_s")),
    }


def _params(tier: Tier, period: Period, now: datetime, late_after: timedelta) -> dict[str, Any]:
    return {**tier.params, **period.params, "now": now, "late_after": late_after}


def visits_section(
    session: Session, *, tier: Tier, period: Period, now: datetime, late_after: timedelta
) -> SectionFigures:
    """探访率 = done / due, late, missed (by reason), problems found, closed → 闭环率, median time to close."""
    params = _params(tier, period, now, late_after)
    main = grouped(
        session,
        f"WITH RECURSIVE {_due(tier)} SELECT child_id, GROUPING(child_id) = 1 AS is_total, {COUNTS} FROM x {GROUPED}",
        params,
    )
    other = grouped(
        session,
        f"""WITH v AS ({_visits(tier)})
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, count(*) FILTER (WHERE excused) AS excused,
               count(*) FILTER (WHERE NOT excused AND status NOT IN ('completed', 'missed') AND window_end > :now)
                   AS pending
        FROM v {GROUPED}""",
        params,
    )
    reasons = keyed(
        session,
        f"""WITH RECURSIVE {_due(tier)}
        , m AS (SELECT child_id, coalesce(status_reason, 'unknown') AS value FROM x WHERE status = 'missed')
        SELECT child_id, GROUPING(child_id) = 1 AS is_total, value, count(*) AS n
        FROM m GROUP BY GROUPING SETS ((child_id, value), (value))""",
        params,
        "missed",
    )
    total, children = merge(main, other, reasons)

    per_day = {
        row.day: (int(row.due), int(row.done))
        for row in session.execute(
            text(
                f"""WITH RECURSIVE {_due(tier)}
                SELECT (window_start AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS due,
                       count(*) FILTER (WHERE done) AS done
                FROM x GROUP BY 1"""
            ),
            params,
        )
    }
    series = [
        Series(key="visits_due_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[0]) for d in period.days]),
        Series(key="visits_done_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[1]) for d in period.days]),
    ]

    exceptions: list[Exception_] = []
    for row in session.execute(
        text(
            f"""WITH RECURSIVE {_due(tier)}
            SELECT x.id, x.child_id, x.status, x.status_reason, x.window_start, x.completed_at, x.closed_at, r.name,
                   EXISTS (SELECT 1 FROM task f WHERE f.follow_up_of = x.id) AS followed
            FROM x JOIN resident r ON r.id = x.resident_id
            WHERE x.status = 'missed' OR (x.done AND x.problem_found AND x.closed_at IS NULL)
            ORDER BY x.window_start LIMIT 200"""
        ),
        params,
    ):
        if row.status == "missed":
            if row.followed:
                continue  # reassigned: the new visit is in the figures on its own day
            exceptions.append(
                Exception_(
                    kind=ExceptionKind.VISIT_MISSED,
                    severity=1,
                    area_id=row.child_id or tier.area.id,
                    subject=str(row.name),
                    message=f"探访未完成且无后续 missed, not followed up ({row.status_reason or 'unknown'})",
                    since=row.window_start,
                    link=f"/api/tasks/{row.id}",
                )
            )
        else:
            exceptions.append(
                Exception_(
                    kind=ExceptionKind.VISIT_PROBLEM_OPEN,
                    severity=2,
                    area_id=row.child_id or tier.area.id,
                    subject=str(row.name),
                    message="探访发现问题未闭环 problem found, not closed",
                    since=row.completed_at,
                    link=f"/api/tasks/{row.id}",
                )
            )
    for child in tier.children:
        values = children.get(child.id, {})
        rate = ratio(count(values, "done"), count(values, "due"))
        if rate is not None and rate < VISIT_RATE_TARGET:
            exceptions.append(
                Exception_(
                    kind=ExceptionKind.VISIT_RATE_BEHIND,
                    severity=2,
                    area_id=child.id,
                    subject=child.name,
                    message=f"探访率 visit rate {rate:.1%} < {VISIT_RATE_TARGET:.0%}",
                    since=period.start,
                )
            )
    return assemble(
        "visits",
        tier=tier,
        period=period,
        now=now,
        total=total,
        children=children,
        figures=_figures,
        series=series,
        exceptions=exceptions,
    )


def caregiver_rows(
    session: Session, *, tier: Tier, period: Period, now: datetime, late_after: timedelta
) -> list[dict[str, Any]]:
    """The same figures per caregiver (the assignee of the due visits; unassigned visits under `staff_id` None)."""
    params = _params(tier, period, now, late_after)
    rows = session.execute(
        text(
            f"""WITH RECURSIVE {_due(tier)}
            SELECT x.assignee_staff_id AS staff_id, s.name, i.name AS institution, {COUNTS}
            FROM x LEFT JOIN staff s ON s.id = x.assignee_staff_id LEFT JOIN institution i ON i.id = s.institution_id
            GROUP BY x.assignee_staff_id, s.name, i.name ORDER BY s.name NULLS LAST, x.assignee_staff_id"""
        ),
        params,
    ).mappings()
    return [
        {"staff_id": row["staff_id"], "name": row["name"], "institution": row["institution"], **_figures(dict(row))}
        for row in rows
    ]
