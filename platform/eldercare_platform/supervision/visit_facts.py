"""What a visit counts as in the `visits` section (docs/supervision.md, "Visits"): one SQL definition, used by the
section on raw rows, by the rollup refresh (which stores it per visit, `rollup_visit_task`, migration 0016) and by
the section's rollup path for the visits it reads raw.

`classified(where)` is a `WITH RECURSIVE` body (CTEs `v`, `p`, `chain`, `closing`, `x`) over the visit tasks `t`
matching `where`, with `:now` and `:late_after` bound; `x` has one row per visit and its classification:
`excused`, `due`, `done`, `late`, `pending`, `closed_at` / `close_s` (when its problem was closed and after how
many seconds), and `closes_later` (a closing follow-up is dated after `:now`: not closed yet, but it will be
without any row changing — the refresh does not roll such a visit up). `late`: checked in at or past the task
engine's late deadline (tasks/lateness.py through `tasks.service`: `late_after` after the planned start, else the
window start; at the latest the window end), the deadline of the TASK_LATE alert and of the board.
"""

from __future__ import annotations

from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.tasks.service import late_deadline

ZONE = str(LOCAL_TIMEZONE)

CLOSED = "('completed', 'missed', 'cancelled', 'suspended')"
"""Statuses a visit leaves only by a change of its row (a suspended visit resumes only while its window is open)."""


def visits(where: str, columns: str = "") -> str:
    """Visit tasks `t` matching `where`, with `excused` decided; `columns` adds expressions (`, expr AS name`)."""
    return f"""
        SELECT t.id, t.status, t.status_reason, t.resident_id, t.assignee_staff_id, t.area_path, t.window_start,
               t.window_end, t.planned_start, t.checked_in_at, t.completed_at, t.problem_found{columns},
               (t.status IN ('cancelled', 'suspended')
                OR (t.status = 'missed' AND EXISTS (
                    SELECT 1 FROM resident_state s
                    WHERE s.resident_id = t.resident_id AND s.kind IN ('hospital', 'away_with_family')
                      AND s.starts_at <= t.window_start
                      AND t.window_start < coalesce(least(s.ends_at, s.ended_at), 'infinity')))) AS excused
        FROM task t
        WHERE t.kind = 'visit' AND {where}"""


def classified(where: str, columns: str = "") -> str:
    """Every visit matching `where` (`x`) with `due` (not excused; closed, or the window has ended by now), `done`,
    `late`, `pending`, and when its problem was closed: the first task of its follow-up chain completed without a
    new one by now. The problems (`p`: completed visits, never excused) are read from `task` directly, so `v` is
    used once and not materialized (574,000 rows for a district's quarter)."""
    return f"""
        v AS ({visits(where, columns)}),
        p AS (SELECT t.id, t.completed_at FROM task t
              WHERE t.kind = 'visit' AND {where} AND t.problem_found AND t.status = 'completed'),
        chain AS (
            SELECT p.id AS root, f.id, f.status, f.problem_found, f.completed_at
            FROM p JOIN task f ON f.follow_up_of = p.id
            UNION ALL
            SELECT c.root, f.id, f.status, f.problem_found, f.completed_at
            FROM chain c JOIN task f ON f.follow_up_of = c.id),
        closing AS (
            SELECT root, min(completed_at) FILTER (WHERE completed_at <= :now) AS closed_at,
                   max(completed_at) > :now AS closes_later
            FROM chain WHERE status = 'completed' AND NOT problem_found GROUP BY root),
        x AS (
            SELECT v.*,
                   NOT v.excused AND (v.status IN ('completed', 'missed') OR v.window_end <= :now) AS due,
                   v.status = 'completed' AND NOT v.excused AS done,
                   v.status = 'completed' AND NOT v.excused AND v.checked_in_at >= {late_deadline("v")} AS late,
                   NOT v.excused AND v.status NOT IN ('completed', 'missed') AND v.window_end > :now AS pending,
                   c.closed_at, EXTRACT(EPOCH FROM c.closed_at - v.completed_at) AS close_s,
                   coalesce(c.closes_later AND c.closed_at IS NULL, false) AS closes_later
            FROM v LEFT JOIN closing c ON c.root = v.id)"""


FACT_COLUMNS = (
    "task_id, day, area_path, resident_id, assignee_staff_id, window_start, completed_at, status, status_reason,"
    " final, excused, due, done, late, missed, problem, closed_at, close_s"
)

FACTS = f"""
SELECT id, (window_start AT TIME ZONE '{ZONE}')::date, area_path, resident_id, assignee_staff_id, window_start,
       completed_at, status, status_reason,
       coalesce(status IN {CLOSED} AND window_end <= :now AND NOT closes_later, false) AS final,
       coalesce(excused, false), coalesce(due, false), coalesce(done, false), coalesce(late, false),
       coalesce(due AND status = 'missed', false) AS missed, coalesce(done AND problem_found, false) AS problem,
       closed_at, close_s::double precision
FROM x
"""
"""A `rollup_visit_task` row per visit of `x`, classified at the refresh's instant (`:now`). `final`: the visit is
closed, its window has ended, and no closing follow-up is dated after now — nothing but a change of a row (the
visit, a task of its chain, one of its resident's states) can change what it counts as. A NULL of the raw
classification (a window without an end) is stored as false: the section's counts treat both alike."""

REASON = "CASE WHEN {alias}missed THEN coalesce({alias}status_reason, 'unknown') ELSE '' END"
"""The missed reason a row counts under (`''`: not missed; `missed.<reason>` keys come from the missed counts)."""

SUMS = """count(*)::integer AS visits, count(*) FILTER (WHERE v.due)::integer AS due,
       count(*) FILTER (WHERE v.done)::integer AS done, count(*) FILTER (WHERE v.late)::integer AS late,
       count(*) FILTER (WHERE v.missed)::integer AS missed, count(*) FILTER (WHERE v.problem)::integer AS problems,
       count(*) FILTER (WHERE v.closed_at IS NOT NULL)::integer AS closed,
       count(*) FILTER (WHERE v.excused)::integer AS excused,
       coalesce(array_agg(v.close_s) FILTER (WHERE v.close_s IS NOT NULL), ARRAY[]::double precision[]) AS close_s"""

AGGREGATE_COLUMNS = "visits, due, done, late, missed, problems, closed, excused, close_s"

PREFIXES = """CROSS JOIN LATERAL (
    SELECT '/' || array_to_string(ids.ids[1:k], '/') || '/' AS prefix, k::smallint AS depth
    FROM (SELECT string_to_array(trim(BOTH '/' FROM {path}), '/') AS ids) ids,
         generate_series(1, cardinality(ids.ids)) k) p"""
"""Every area on a path (community, street, district, city) as `p.prefix`, `p.depth`."""

DAILY = f"""
SELECT v.day, p.prefix, p.depth, {REASON.format(alias="v.")}, {SUMS}
FROM rollup_visit_task v {PREFIXES.format(path="v.area_path")}
WHERE v.final AND {{where}}
GROUP BY 1, 2, 3, 4
"""
"""`rollup_visit_daily`: the final visits' counts per local day, area on the path and missed reason."""

CAREGIVER = f"""
SELECT v.day, p.prefix, p.depth, v.assignee_staff_id, {SUMS}
FROM rollup_visit_task v {PREFIXES.format(path="v.area_path")}
WHERE v.final AND {{where}}
GROUP BY 1, 2, 3, 4
"""
"""`rollup_visit_caregiver`: the same per local day, area on the path and assignee."""

DIRTY = """
WITH RECURSIVE up (id, follow_up_of) AS (
    SELECT id, follow_up_of FROM task WHERE version > :seen
    UNION
    SELECT t.id, t.follow_up_of FROM up JOIN task t ON t.id = up.follow_up_of)
SELECT id FROM up
UNION
SELECT t.id FROM resident_state s JOIN task t ON t.resident_id = s.resident_id
WHERE s.version > :state_seen AND t.kind = 'visit' AND t.status = 'missed'
UNION
SELECT task_id FROM rollup_visit_task WHERE NOT final AND {open_where}
"""
"""The tasks whose `rollup_visit_task` row may no longer be what they count as: changed since the refresh (their
`version` moved, or they are new), every task above one in a follow-up chain (its problem may have been closed),
the missed visits of a resident one of whose states was recorded or changed since (they may be excused now), and
the visits that were not final (`open_where`: a condition on `rollup_visit_task`). Not only visits: the caller
keeps the visits among them."""
