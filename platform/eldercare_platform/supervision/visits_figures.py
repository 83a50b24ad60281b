"""The `visits` section from the raw `task` table (docs/supervision.md, "Visits")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
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
    `late`, and when its problem was closed: the first task of its follow-up chain completed without a new one.
    The problems (`p`: completed visits, never excused) are read from `task` directly, so `v` is used once and
    not materialized (574,000 rows for a district's quarter)."""
    return f"""
        v AS ({_visits(tier, only)}),
        p AS (SELECT t.id, t.completed_at FROM task t
              WHERE t.kind = 'visit' AND t.window_start >= :period_start AND t.window_start < :period_end
                AND {tier.in_area_sql("t.area_path")} AND {tier.scope.path_sql("t.area_path")} AND {only}
                AND t.problem_found AND t.status = 'completed'),
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
            count(*) FILTER (WHERE excused) AS excused, count(*) FILTER (WHERE pending) AS pending"""
COUNTED = ("due", "done", "late", "missed", "problems", "closed", "excused", "pending")
MEDIAN = "percentile_cont(0.5) WITHIN GROUP (ORDER BY close_s) AS close_median_s"


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
    problems: list[Any] = []
    # One pass over the period's visits (`z`, narrow, kept once): the counts of the children and the total, the
    # missed by reason (of each and of all) and the days, hashed (no ordered-set aggregate among them, so no sort of
    # every visit per grouping set); the median time to close over the closed problems only; the first exceptions.
    for line in session.execute(
        text(
            f"""WITH RECURSIVE {_due(tier)},
            z AS MATERIALIZED (
                SELECT id, resident_id, child_id, status, status_reason, window_start, completed_at, problem_found,
                       due, done, late, pending, excused, closed_at, close_s FROM x),
            y AS (SELECT child_id, status, problem_found, due, done, late, pending, excused, closed_at,
                         CASE WHEN due AND status = 'missed' THEN coalesce(status_reason, 'unknown') END AS reason,
                         (window_start AT TIME ZONE 'Asia/Shanghai')::date AS day FROM z)
            SELECT 'counts' AS part, child_id, reason, day, GROUPING(child_id) AS gc, GROUPING(reason) AS gr,
                   GROUPING(day) AS gd, {COUNTS}, NULL::double precision AS close_median_s,
                   NULL::bigint AS id, NULL::text AS status, NULL::text AS status_reason,
                   NULL::timestamptz AS window_start, NULL::timestamptz AS completed_at,
                   NULL::timestamptz AS closed_at, NULL::text AS name, NULL::boolean AS followed
            FROM y GROUP BY GROUPING SETS ((child_id), (), (child_id, reason), (reason), (day))
            UNION ALL
            SELECT 'median', child_id, NULL, NULL, GROUPING(child_id), 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, percentile_cont(0.5) WITHIN GROUP (ORDER BY close_s), NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL
            FROM z WHERE close_s IS NOT NULL GROUP BY GROUPING SETS ((child_id), ())
            UNION ALL
            SELECT 'exception', e.child_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, e.id, e.status, e.status_reason, e.window_start, e.completed_at, e.closed_at, e.name,
                   EXISTS (SELECT 1 FROM task f WHERE f.follow_up_of = e.id)
            FROM (SELECT z.*, r.name FROM z JOIN resident r ON r.id = z.resident_id
                  WHERE (z.due AND z.status = 'missed') OR (z.done AND z.problem_found AND z.closed_at IS NULL)
                  ORDER BY z.window_start, z.id LIMIT 200) e"""
        ),
        params,
    ).mappings():
        if line["part"] == "exception":
            problems.append(SimpleNamespace(**line))
            continue
        if line["part"] == "median":
            target = (
                total if line["gc"] else children.setdefault(int(line["child_id"]), {}) if line["child_id"] else None
            )
            if target is not None:
                target["close_median_s"] = line["close_median_s"]
            continue
        values = {key: line[key] for key in COUNTED}
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
    problems.sort(key=lambda row: (row.window_start, row.id))

    series = [
        Series(key="visits_due_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[0]) for d in period.days]),
        Series(key="visits_done_per_day", points=[(d.isoformat(), per_day.get(d, (0, 0))[1]) for d in period.days]),
    ]

    exceptions: list[Exception_] = []
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
            SELECT x.assignee_staff_id AS staff_id, s.name, i.name AS institution, {COUNTS}, {MEDIAN}
            FROM x LEFT JOIN staff s ON s.id = x.assignee_staff_id LEFT JOIN institution i ON i.id = s.institution_id
            GROUP BY x.assignee_staff_id, s.name, i.name ORDER BY s.name NULLS LAST, x.assignee_staff_id"""
        ),
        params,
    ).mappings()
    return [
        {"staff_id": row["staff_id"], "name": row["name"], "institution": row["institution"], **_figures(dict(row))}
        for row in rows
    ]
