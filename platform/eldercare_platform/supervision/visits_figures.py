"""The `visits` section from the raw `task` table (docs/supervision.md, "Visits")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures, Series
from eldercare_platform.supervision.sections import (
    Row,
    assemble,
    count,
    number,
    plain_plans,
    ratio,
    without_nested_loops,
)
from eldercare_platform.supervision.tier import Period, Tier

VISIT_RATE_TARGET = 0.9  # the platform's coverage alert threshold (ELDERCARE_COVERAGE_BEHIND_RATIO default)


def _visits(tier: Tier, only: str = "true") -> str:
    """Visit tasks whose window starts in the period, in the area and scope, with `excused` decided (`only`: a
    further condition on `t`, to read fewer rows)."""
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
          AND {tier.in_area_sql("t.area_path")} AND {tier.scope.path_sql("t.area_path")} AND {only}"""


def _due(tier: Tier, only: str = "true") -> str:
    """Every visit of the period (`x`) with `due` (not excused; closed, or the window has ended by now), `done`,
    `late`, and when its problem was closed: the first task of its follow-up chain completed without a new one."""
    return f"""
        v AS ({_visits(tier, only)}),
        p AS (SELECT id, completed_at FROM v
              WHERE problem_found AND status = 'completed' AND NOT excused),
        chain AS (
            SELECT p.id AS root, f.id, f.status, f.problem_found, f.completed_at
            FROM p JOIN task f ON f.follow_up_of = p.id
            UNION ALL
            SELECT c.root, f.id, f.status, f.problem_found, f.completed_at
            FROM chain c JOIN task f ON f.follow_up_of = c.id),
        closing AS (
            SELECT root, min(completed_at) AS closed_at FROM chain
            WHERE status = 'completed' AND NOT problem_found AND completed_at <= :now GROUP BY root),
        x AS (
            SELECT v.*,
                   NOT v.excused AND (v.status IN ('completed', 'missed') OR v.window_end <= :now) AS due,
                   v.status = 'completed' AND NOT v.excused AS done,
                   v.status = 'completed' AND NOT v.excused AND v.checked_in_at >= v.window_start + :late_after AS late,
                   NOT v.excused AND v.status NOT IN ('completed', 'missed') AND v.window_end > :now AS pending,
                   c.closed_at, EXTRACT(EPOCH FROM c.closed_at - v.completed_at) AS close_s
            FROM v LEFT JOIN closing c ON c.root = v.id)"""


COUNTS = """count(*) FILTER (WHERE due) AS due, count(*) FILTER (WHERE done) AS done,
            count(*) FILTER (WHERE late) AS late, count(*) FILTER (WHERE due AND status = 'missed') AS missed,
            count(*) FILTER (WHERE done AND problem_found) AS problems,
            count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
            count(*) FILTER (WHERE excused) AS excused, count(*) FILTER (WHERE pending) AS pending,
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
    plain_plans(session)
    params = _params(tier, period, now, late_after)
    total: Row = {}
    children: dict[int, Row] = {}
    per_day: dict[date, tuple[int, int]] = {}
    # One pass: the children and the total, the missed by reason (of each and of all), and the days.
    for line in session.execute(
        text(
            f"""WITH RECURSIVE {_due(tier)},
            y AS (SELECT *, CASE WHEN due AND status = 'missed' THEN coalesce(status_reason, 'unknown') END AS reason,
                         (window_start AT TIME ZONE 'Asia/Shanghai')::date AS day FROM x)
            SELECT child_id, reason, day, GROUPING(child_id) AS gc, GROUPING(reason) AS gr, GROUPING(day) AS gd,
                   {COUNTS}
            FROM y GROUP BY GROUPING SETS ((child_id), (), (child_id, reason), (reason), (day))"""
        ),
        params,
    ).mappings():
        values = {key: line[key] for key in line if key not in ("child_id", "reason", "day", "gc", "gr", "gd")}
        if not line["gd"]:
            per_day[line["day"]] = (int(line["due"]), int(line["done"]))
            continue
        target = total if line["gc"] else children.setdefault(int(line["child_id"]), {}) if line["child_id"] else None
        if target is None:
            continue  # a visit located at the area itself (a community has no children): in the total only
        if not line["gr"]:
            if line["reason"] is not None:
                target[f"missed.{line['reason']}"] = int(line["missed"])
            continue
        target.update(values)

    series = [
        Series(key="visits_due_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[0]) for d in period.days]),
        Series(key="visits_done_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[1]) for d in period.days]),
    ]

    exceptions: list[Exception_] = []
    with without_nested_loops(session):
        problems = session.execute(
            text(
                f"""WITH RECURSIVE {_due(tier, only="(t.status = 'missed' OR t.problem_found)")}
                SELECT x.id, x.child_id, x.status, x.status_reason, x.window_start, x.completed_at, x.closed_at, r.name,
                       EXISTS (SELECT 1 FROM task f WHERE f.follow_up_of = x.id) AS followed
                FROM x JOIN resident r ON r.id = x.resident_id
                WHERE (x.due AND x.status = 'missed') OR (x.done AND x.problem_found AND x.closed_at IS NULL)
                ORDER BY x.window_start LIMIT 200"""
            ),
            params,
        ).all()
    for row in problems:
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
    plain_plans(session)
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
