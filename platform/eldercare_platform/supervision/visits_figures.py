"""The `visits` section (docs/supervision.md, "Visits"), and the same figures per caregiver.

What a visit counts as is one SQL definition (supervision/visit_facts.py). The section reads the visit rollup
(migration 0016, supervision/visit_rollup.py) for the local days before the day of its last refresh — the sums of
the visits that were final then — and classifies raw rows for the rest: the days from the refresh's on, and the
visits whose stored row may be out of date (changed since, a follow-up of theirs changed, a state of their
resident recorded since, not final then), whose stored rows it takes out of the sums again. `source="raw"` reads
raw rows only (the tests compare both), as does an institution's scope (not an area subtree)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import as_utc
from eldercare_platform.core.scope import ScopeKind
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.rollups import Source
from eldercare_platform.supervision.schemas import Exception_, Figure, SectionFigures, Series
from eldercare_platform.supervision.sections import (
    Row,
    assemble,
    count,
    number,
    plain_plans,
    ratio,
)
from eldercare_platform.supervision.tier import Period, Tier, local_midnight
from eldercare_platform.supervision.visit_facts import REASON, ZONE, classified
from eldercare_platform.supervision.visit_rollup import dirty_ids, visit_rollup_state

VISIT_RATE_TARGET = 0.9  # the platform's coverage alert threshold (ELDERCARE_COVERAGE_BEHIND_RATIO default)
FIRST_EXCEPTIONS = 200  # the exceptions' candidates read, the first by window (worst_first keeps 50)


def _where(tier: Tier, only: str = "true") -> str:
    """Visit tasks `t` whose window starts in the period, in the area and scope (`only`: a further condition on `t`,
    to read fewer rows)."""
    return f"""t.window_start >= :period_start AND t.window_start < :period_end
        AND {tier.in_area_sql("t.area_path")} AND {tier.scope.path_sql("t.area_path")} AND {only}"""


def _due(tier: Tier, where: str) -> str:
    """The classified visits `x` (visit_facts.classified) of `where`, with the child area each lies in."""
    return classified(where, f", {tier.child_sql('t.area_path')} AS child_id")


COUNTS = """count(*) FILTER (WHERE due) AS due, count(*) FILTER (WHERE done) AS done,
            count(*) FILTER (WHERE late) AS late, count(*) FILTER (WHERE due AND status = 'missed') AS missed,
            count(*) FILTER (WHERE done AND problem_found) AS problems,
            count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
            count(*) FILTER (WHERE excused) AS excused, count(*) FILTER (WHERE pending) AS pending"""
COUNTED = ("due", "done", "late", "missed", "problems", "closed", "excused", "pending")
SUMMED = ", ".join(f"sum({key}) AS {key}" for key in COUNTED)
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


# --- the rollup path ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    """How a request reads: from the rollup (`rollup`, with `params` for it) or all raw."""

    rollup: bool
    params: dict[str, Any]


def _reading(
    session: Session, *, tier: Tier, period: Period, now: datetime, late_after: timedelta, source: Source
) -> _Reading:
    """The rollup is read for the local days before the day of its last refresh when it was built with the same
    `late_after`, `now` is not before the refresh (what it holds was final then) and the scope is an area subtree
    (an institution's is not: all raw). The visits whose stored row may be out of date (visit_facts.DIRTY) are
    read raw in its place (`dirty`)."""
    params = _params(tier, period, now, late_after)
    state = visit_rollup_state(session) if source == "rollup" else None
    if (
        state is None
        or tier.scope.kind not in (ScopeKind.ALL, ScopeKind.AREA)
        or state.late_after != late_after
        or as_utc(now) < as_utc(state.refreshed_at)
    ):
        return _Reading(False, params)
    tail_day = max(state.day, period.first)
    params |= {
        "tail_day": tail_day,
        "tail_start": min(local_midnight(tail_day), period.end),
        "depth": tier.area.path.count("/") - 1,
        "child_field": tier.area.path.count("/") + 1,
    }
    open_where = "day >= :first_day AND day <= :last_day AND day < :tail_day AND area_path LIKE :area_path || '%'"
    params["dirty"] = dirty_ids(session, state, open_where, params)
    return _Reading(True, params)


RAW_WHERE = """(t.window_start >= :tail_start AND t.window_start < :period_end
            OR t.id = ANY(:dirty) AND t.window_start >= :period_start AND t.window_start < :tail_start)"""
"""On the rollup path, the visits classified raw: from the refresh's day on, and the dirty ones before it."""

AREA_ROWS = """rollup_visit_daily f{unnest}
            WHERE f.depth IN (:depth, :depth + 1) AND f.area_path LIKE :area_path || '%'
              AND f.day >= :first_day AND f.day <= :last_day AND f.day < :tail_day"""
"""The area's own rows (its total) and its children's one level down."""

AREA_GROUP = "CASE WHEN f.depth = :depth THEN 0 ELSE split_part(f.area_path, '/', :child_field)::int END"
"""`grp` of an area row: 0 for the area's total, the child's id for a child's."""

STAFF_ROWS = """rollup_visit_caregiver f{unnest}
            WHERE f.area_path = :area_path AND f.day >= :first_day AND f.day <= :last_day AND f.day < :tail_day"""
"""The area's rows per assignee (`grp`: the staff id, NULL for unassigned visits)."""

ROLLUP_COUNTS = ("visits", "due", "done", "late", "missed", "problems", "closed", "excused")


def _rollup_relation(tier: Tier, *, by_staff: bool, dirty: bool) -> str:
    """CTEs over the rollup path's rows: `z` the visits read raw, classified; `s` the stored rows they replace; `u`
    signed counts (the sums, minus `s`, plus `z`) by `grp` — 0 for the area's total and the child's id for a child,
    by missed reason and local day; or (`by_staff`) by assignee, the sums added up per assignee first —; `c` the
    seconds to close of the closed problems (the sums' arrays and `z`'s, without `s`'s: a multiset difference, only
    when there are `dirty` visits)."""
    where = f"{RAW_WHERE} AND {tier.in_area_sql('t.area_path')} AND {tier.scope.path_sql('t.area_path')}"
    if by_staff:
        rows, group, raw_key, stored_key, fan_z, fan_s = (
            STAFF_ROWS,
            "f.staff_id",
            "z.staff_id",
            "s.assignee_staff_id",
            "",
            "",
        )
        grp_z = grp_s = "true"
        summed = ", ".join(f"sum(f.{key})::int" for key in ROLLUP_COUNTS)
        sums = f"SELECT {group}, '', NULL::date, {summed}, 0 FROM {rows.format(unnest='')} GROUP BY {group}"
    else:
        rows, group, raw_key, stored_key = AREA_ROWS, AREA_GROUP, "g.grp", "g.grp"
        fan_z = " CROSS JOIN LATERAL (VALUES (0), (z.child_id)) g(grp)"
        fan_s = " CROSS JOIN LATERAL (VALUES (0), (s.child_id)) g(grp)"
        grp_z = grp_s = "g.grp IS NOT NULL"
        counts = ", ".join(f"f.{key}" for key in ROLLUP_COUNTS)
        sums = f"SELECT {group}, f.reason, f.day, {counts}, 0 FROM {rows.format(unnest='')}"
    taken_out = (
        f"""
            EXCEPT ALL
            SELECT {stored_key}, s.close_s FROM s{fan_s} WHERE {grp_s} AND s.close_s IS NOT NULL"""
        if dirty
        else ""
    )
    return f"""{_due(tier, where)},
        z AS MATERIALIZED (
            SELECT id, resident_id, child_id, assignee_staff_id AS staff_id, status, status_reason, window_start,
                   completed_at, problem_found, closed_at, close_s, (window_start AT TIME ZONE '{ZONE}')::date AS day,
                   coalesce(due, false) AS due, coalesce(done, false) AS done, coalesce(late, false) AS late,
                   coalesce(pending, false) AS pending, coalesce(excused, false) AS excused,
                   coalesce(due AND status = 'missed', false) AS missed,
                   coalesce(done AND problem_found, false) AS problem
            FROM x),
        s AS MATERIALIZED (
            SELECT s.*, {tier.child_sql("s.area_path")} AS child_id FROM rollup_visit_task s
            WHERE s.task_id = ANY(:dirty) AND s.final AND s.day >= :first_day AND s.day <= :last_day
              AND s.day < :tail_day AND s.area_path LIKE :area_path || '%'),
        u (grp, reason, day, visits, due, done, late, missed, problems, closed, excused, pending) AS (
            {sums}
            UNION ALL
            SELECT {stored_key}, {REASON.format(alias="s.")}, s.day, -1, -s.due::int, -s.done::int, -s.late::int,
                   -s.missed::int, -s.problem::int, -(s.closed_at IS NOT NULL)::int, -s.excused::int, 0
            FROM s{fan_s} WHERE {grp_s}
            UNION ALL
            SELECT {raw_key}, {REASON.format(alias="z.")}, z.day, 1, z.due::int, z.done::int, z.late::int,
                   z.missed::int, z.problem::int, (z.closed_at IS NOT NULL)::int, z.excused::int, z.pending::int
            FROM z{fan_z} WHERE {grp_z}),
        c (grp, s) AS (
            (SELECT {group}, v.s FROM {rows.format(unnest=" CROSS JOIN LATERAL unnest(f.close_s) v(s)")}
             UNION ALL
             SELECT {raw_key}, z.close_s::double precision FROM z{fan_z} WHERE {grp_z} AND z.close_s IS NOT NULL)
            {taken_out})"""


def _rollup_exceptions(tier: Tier) -> str:
    """The first candidates by window (missed and due, or a problem not closed) with the resident's name: stored
    rows that are not dirty, and the raw ones."""
    columns = "id, child_id, status, status_reason, window_start, completed_at, closed_at, name"
    return f"""
        SELECT {columns} FROM (
            (SELECT s.task_id AS id, {tier.child_sql("s.area_path")} AS child_id, s.status, s.status_reason,
                    s.window_start, s.completed_at, s.closed_at, r.name
             FROM rollup_visit_task s JOIN resident r ON r.id = s.resident_id
             WHERE s.final AND (s.missed OR (s.problem AND s.closed_at IS NULL))
               AND s.window_start >= :period_start AND s.window_start < :tail_start
               AND s.area_path LIKE :area_path || '%' AND s.task_id <> ALL(:dirty)
             ORDER BY s.window_start, s.task_id LIMIT {FIRST_EXCEPTIONS})
            UNION ALL
            (SELECT z.id, z.child_id, z.status, z.status_reason, z.window_start, z.completed_at, z.closed_at, r.name
             FROM z JOIN LATERAL (SELECT p.name FROM resident p WHERE p.id = z.resident_id) r ON true
             WHERE z.missed OR (z.problem AND z.closed_at IS NULL)
             ORDER BY z.window_start, z.id LIMIT {FIRST_EXCEPTIONS})) e
        ORDER BY window_start, id LIMIT {FIRST_EXCEPTIONS}"""


@dataclass
class _Lines:
    """What one section statement yields, whichever path."""

    total: Row
    children: dict[int, Row]
    per_day: dict[date, tuple[int, int]]
    problems: list[Any]


def _rollup_lines(session: Session, tier: Tier, reading: _Reading) -> _Lines:
    params = reading.params
    lines = _Lines({}, {}, {}, [])
    relation = _rollup_relation(tier, by_staff=False, dirty=bool(params["dirty"]))
    for line in session.execute(
        text(
            f"""WITH RECURSIVE {relation}
            SELECT 'counts' AS part, grp, reason, day, GROUPING(reason) AS gr, GROUPING(day) AS gd, {SUMMED},
                   NULL::double precision AS close_median_s, NULL::bigint AS id, NULL::int AS child_id,
                   NULL::text AS status, NULL::text AS status_reason, NULL::timestamptz AS window_start,
                   NULL::timestamptz AS completed_at, NULL::timestamptz AS closed_at, NULL::text AS name,
                   NULL::boolean AS followed
            FROM u GROUP BY GROUPING SETS ((grp), (grp, reason), (grp, day))
            UNION ALL
            SELECT 'median', grp, NULL, NULL, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY s), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL
            FROM c GROUP BY grp
            UNION ALL
            SELECT 'exception', NULL, NULL, NULL, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   e.id, e.child_id, e.status, e.status_reason, e.window_start, e.completed_at, e.closed_at, e.name,
                   EXISTS (SELECT 1 FROM task f WHERE f.follow_up_of = e.id)
            FROM ({_rollup_exceptions(tier)}) e"""
        ),
        params,
    ).mappings():
        if line["part"] == "exception":
            lines.problems.append(SimpleNamespace(**line))
            continue
        grp = line["grp"]
        target = lines.total if grp == 0 else lines.children.setdefault(int(grp), {}) if grp is not None else None
        if target is None:
            continue
        if line["part"] == "median":
            target["close_median_s"] = line["close_median_s"]
        elif not line["gd"]:
            if grp == 0:
                lines.per_day[line["day"]] = (int(line["due"]), int(line["done"]))
        elif not line["gr"]:
            if line["missed"]:  # the raw path names only the reasons of missed visits
                target[f"missed.{line['reason']}"] = int(line["missed"])
        else:
            target.update({key: int(line[key] or 0) for key in COUNTED})
    return lines


# --- the raw path -------------------------------------------------------------------------------------------------


def _raw_lines(session: Session, tier: Tier, params: dict[str, Any]) -> _Lines:
    lines = _Lines({}, {}, {}, [])
    # One pass over the period's visits (`z`, narrow, kept once): the counts of the children and the total, the
    # missed by reason (of each and of all) and the days, hashed (no ordered-set aggregate among them, so no sort of
    # every visit per grouping set); the median time to close over the closed problems only; the first exceptions.
    for line in session.execute(
        text(
            f"""WITH RECURSIVE {_due(tier, _where(tier))},
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
                  ORDER BY z.window_start, z.id LIMIT {FIRST_EXCEPTIONS}) e"""
        ),
        params,
    ).mappings():
        if line["part"] == "exception":
            lines.problems.append(SimpleNamespace(**line))
            continue
        if line["part"] == "median":
            target = (
                lines.total
                if line["gc"]
                else lines.children.setdefault(int(line["child_id"]), {})
                if line["child_id"]
                else None
            )
            if target is not None:
                target["close_median_s"] = line["close_median_s"]
            continue
        values = {key: line[key] for key in COUNTED}
        if not line["gd"]:
            lines.per_day[line["day"]] = (int(line["due"]), int(line["done"]))
            continue
        target = (
            lines.total
            if line["gc"]
            else lines.children.setdefault(int(line["child_id"]), {})
            if line["child_id"]
            else None
        )
        if target is None:
            continue  # a visit located at the area itself (a community has no children): in the total only
        if not line["gr"]:
            if line["reason"] is not None:
                target[f"missed.{line['reason']}"] = int(line["missed"])
            continue
        target.update(values)
    return lines


# --- the section ---------------------------------------------------------------------------------------------------


def visits_section(
    session: Session,
    *,
    tier: Tier,
    period: Period,
    now: datetime,
    late_after: timedelta,
    source: Source = "rollup",
) -> SectionFigures:
    """探访率 = done / due, late, missed (by reason), problems found, closed → 闭环率, median time to close."""
    plain_plans(session)
    reading = _reading(session, tier=tier, period=period, now=now, late_after=late_after, source=source)
    lines = _rollup_lines(session, tier, reading) if reading.rollup else _raw_lines(session, tier, reading.params)
    problems = sorted(lines.problems, key=lambda row: (row.window_start, row.id))
    per_day = lines.per_day

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
        values = lines.children.get(child.id, {})
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
        total=lines.total,
        children=lines.children,
        figures=_figures,
        series=series,
        exceptions=exceptions,
    )


def caregiver_rows(
    session: Session,
    *,
    tier: Tier,
    period: Period,
    now: datetime,
    late_after: timedelta,
    source: Source = "rollup",
) -> list[dict[str, Any]]:
    """The same figures per caregiver (the assignee of the due visits; unassigned visits under `staff_id` None):
    from `rollup_visit_caregiver` and raw rows as the section, or all raw."""
    plain_plans(session)
    reading = _reading(session, tier=tier, period=period, now=now, late_after=late_after, source=source)
    if reading.rollup:
        relation = _rollup_relation(tier, by_staff=True, dirty=bool(reading.params["dirty"]))
        sql = f"""WITH RECURSIVE {relation},
            g AS (SELECT grp AS staff_id, {SUMMED} FROM u GROUP BY grp HAVING sum(visits) > 0),
            m AS (SELECT grp AS staff_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS close_median_s
                  FROM c GROUP BY grp)
            SELECT g.*, s.name, i.name AS institution, m.close_median_s
            FROM g LEFT JOIN m ON coalesce(m.staff_id, 0) = coalesce(g.staff_id, 0)
                 LEFT JOIN staff s ON s.id = g.staff_id LEFT JOIN institution i ON i.id = s.institution_id
            ORDER BY s.name NULLS LAST, g.staff_id"""
    else:
        sql = f"""WITH RECURSIVE {_due(tier, _where(tier))}
            SELECT x.assignee_staff_id AS staff_id, s.name, i.name AS institution, {COUNTS}, {MEDIAN}
            FROM x LEFT JOIN staff s ON s.id = x.assignee_staff_id LEFT JOIN institution i ON i.id = s.institution_id
            GROUP BY x.assignee_staff_id, s.name, i.name ORDER BY s.name NULLS LAST, x.assignee_staff_id"""
    rows = session.execute(text(sql), reading.params).mappings()
    return [
        {"staff_id": row["staff_id"], "name": row["name"], "institution": row["institution"], **_figures(dict(row))}
        for row in rows
    ]
