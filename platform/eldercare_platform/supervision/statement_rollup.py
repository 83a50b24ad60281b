"""The services statement's rollup (migration 0020): the final sessions of the statement kept per completed service
task (`rollup_statement_session`) and per month × resident × service × provider × task area path
(`rollup_statement_line`), the entitlements per month × resident × service (`rollup_statement_entitled`) for the
months in `rollup_statement_month`, and (migration 0021) the month's lines themselves (`rollup_statement_final`,
`FINAL_FACTS`) but for the residents with a session kept away from their home (`rollup_statement_mixed`). Refreshed
by `refresh_rollups` (supervision/rollups.py); read by the statement (supervision/statement.py, `source="rollup"`).
docs/supervision.md, "The statement rollup".

Everything is computed by the statement's own SQL (`SESSIONS`, `ENTITLED`) over every home: a session is *final*
once its EVV start lies before the refresh's local day. Its provider (the caregiver's institution) and its EVV check
(the home's coordinates, `checkin_verified_within_m`) are those of the refresh: a change of either logs the
residents concerned in `rollup_statement_stale` (triggers), who are read raw until the next refresh; so is a
resident whose care plan was written. The incremental refresh recomputes the residents logged or with a completed
service task changed since (by `task.version`, also the residents a changed task was kept for), the sessions from
the last refresh's local day on, and adds the months newly reached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import LOCAL_TIMEZONE, local_date
from eldercare_platform.supervision.rollup_state import save_state
from eldercare_platform.supervision.statement import (
    DIRTY,
    ENTITLED,
    LOCAL_TZ,
    NO_DIRTY,
    SESSIONS,
    month_bounds,
    within_mm,
)
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M

EVERY_HOME = f"""
WITH located AS MATERIALIZED (
    SELECT r.id AS resident_id, h.latitude AS home_latitude, h.longitude AS home_longitude, NULL::int AS child
    FROM resident r
    JOIN household h ON h.id = r.household_id
    JOIN area a ON a.id = h.area_id
),
dirty AS ({NO_DIRTY})
"""
"""The statement's `located` over every home (the stored rows are located again by each request)."""

SESSION_COLUMNS = "task_id, month, resident_id, service, provider_id, area_path, moment, checked_in_at, hours, verified"

SESSION_FACTS = (
    EVERY_HOME
    + f"""
INSERT INTO rollup_statement_session ({SESSION_COLUMNS})
SELECT s.task_id, date_trunc('month', s.moment AT TIME ZONE '{LOCAL_TZ}')::date, s.resident_id, s.service,
       s.provider_id, s.task_area_path, s.moment, s.checked_in_at, s.hours, s.verified
FROM ({SESSIONS.format(task_scope="true", tail="{where}")}) s
RETURNING resident_id
"""
)
"""The final sessions (EVV start before `:end`, the refresh's local day) of the tasks `where` selects."""

LINE_COLUMNS = (
    "month, resident_id, service, provider_id, area_path, sessions, hours, verified, unverified, unverified_since,"
    " since, first_unverified_task, first_unverified_at, days, day_hours"
)

LINE_FACTS = f"""
INSERT INTO rollup_statement_line ({LINE_COLUMNS})
SELECT d.month, d.resident_id, d.service, d.provider_id, d.area_path, sum(d.n)::int, sum(d.hours),
       sum(d.verified)::int, sum(d.unverified)::int, min(d.unverified_since), min(d.since),
       (array_agg(d.fu_task ORDER BY d.fu_at NULLS LAST, d.fu_task) FILTER (WHERE d.fu_task IS NOT NULL))[1],
       (array_agg(d.fu_at ORDER BY d.fu_at NULLS LAST, d.fu_task) FILTER (WHERE d.fu_task IS NOT NULL))[1],
       coalesce(array_agg(d.day ORDER BY d.day) FILTER (WHERE d.hours IS NOT NULL), '{{{{}}}}'),
       coalesce(array_agg(d.hours ORDER BY d.day) FILTER (WHERE d.hours IS NOT NULL), '{{{{}}}}')
FROM (SELECT s.month, s.resident_id, s.service, s.provider_id, s.area_path,
             (s.moment AT TIME ZONE '{LOCAL_TZ}')::date AS day, count(*) AS n, sum(s.hours) AS hours,
             count(*) FILTER (WHERE s.verified) AS verified, count(*) FILTER (WHERE NOT s.verified) AS unverified,
             min(s.moment) FILTER (WHERE NOT s.verified) AS unverified_since, min(s.moment) AS since,
             (array_agg(s.task_id ORDER BY s.checked_in_at NULLS LAST, s.task_id)
                  FILTER (WHERE NOT s.verified))[1] AS fu_task,
             (array_agg(s.checked_in_at ORDER BY s.checked_in_at NULLS LAST, s.task_id)
                  FILTER (WHERE NOT s.verified))[1] AS fu_at
      FROM rollup_statement_session s WHERE {{where}}
      GROUP BY 1, 2, 3, 4, 5, 6) d
GROUP BY 1, 2, 3, 4, 5
"""
"""The lines of the kept sessions `where` selects: the statement's `delivered` sums, the first unverified session
(in the statement's order: check-in, task id) and the hours per local day (days with hours only, as its series)."""

ENTITLED_FACTS = (
    EVERY_HOME
    + f"""
INSERT INTO rollup_statement_entitled (month, resident_id, service, funder, hours)
SELECT :first_day, e.resident_id, e.service, e.funder, e.hours FROM ({ENTITLED.format(plans="{where}")}) e
"""
)
"""The entitlements of the month of `:first_day` of the residents `where` (on `cp`) selects."""

FINAL_COLUMNS = (
    "month, resident_id, service, provider_id, undelivered, resident_name, home_area_id, home_path, sessions, hours,"
    " verified, unverified, unverified_since, since, first_unverified_task, first_unverified_at, days, day_hours,"
    " entitled, funder, pair_first, pair_hours, pair_sessions, pair_since"
)

FINAL_HOMES = """
WITH located AS MATERIALIZED (
    SELECT r.id AS resident_id, r.name AS resident_name, h.area_id, a.path AS area_path
    FROM resident r
    JOIN household h ON h.id = r.household_id
    JOIN area a ON a.id = h.area_id
    WHERE {where}
),
kept AS MATERIALIZED (
    SELECT k.* FROM rollup_statement_line k JOIN located l ON l.resident_id = k.resident_id WHERE k.month = :first_day
),
mixed AS MATERIALIZED (
    SELECT DISTINCT k.resident_id FROM kept k JOIN located l ON l.resident_id = k.resident_id
    WHERE k.area_path <> l.area_path
)"""

MIXED_FACTS = (
    FINAL_HOMES
    + """
INSERT INTO rollup_statement_mixed (month, resident_id) SELECT :first_day, m.resident_id FROM mixed m
"""
)
"""The residents of `where` with a kept session of the month whose task lies elsewhere than their home (their lines
are built by the statement from the kept lines, as for a resident read raw)."""

FINAL_FACTS = (
    FINAL_HOMES
    + f"""
, entitled AS MATERIALIZED (
    SELECT e.* FROM rollup_statement_entitled e JOIN located l ON l.resident_id = e.resident_id
    WHERE e.month = :first_day
),
lines AS (
    SELECT k.resident_id, k.service, k.provider_id, false AS undelivered, k.sessions,
           round(coalesce(k.hours, 0), 2) AS hours, k.verified, k.unverified, k.unverified_since, k.since,
           k.first_unverified_task, k.first_unverified_at, k.days, k.day_hours
    FROM kept k
    UNION ALL
    SELECT e.resident_id, e.service, NULL, true, 0, 0, 0, 0, NULL, NULL, NULL, NULL, '{{{{}}}}', '{{{{}}}}'
    FROM entitled e
    WHERE NOT EXISTS (SELECT 1 FROM kept k WHERE k.resident_id = e.resident_id AND k.service = e.service)
)
INSERT INTO rollup_statement_final ({FINAL_COLUMNS})
SELECT :first_day, x.resident_id, x.service, x.provider_id, x.undelivered, l.resident_name, l.area_id, l.area_path,
       x.sessions, x.hours, x.verified, x.unverified, x.unverified_since, x.since, x.first_unverified_task,
       x.first_unverified_at, x.days, x.day_hours, e.hours, e.funder,
       row_number() OVER (PARTITION BY x.resident_id, x.service ORDER BY x.provider_id NULLS FIRST) = 1,
       sum(x.hours) OVER pair, sum(x.sessions) OVER pair, min(x.since) OVER pair
FROM lines x
JOIN located l ON l.resident_id = x.resident_id
LEFT JOIN entitled e ON e.resident_id = x.resident_id AND e.service = x.service
WHERE NOT EXISTS (SELECT 1 FROM mixed m WHERE m.resident_id = x.resident_id)
WINDOW pair AS (PARTITION BY x.resident_id, x.service)
"""
)
"""The statement's lines of the month of `:first_day` for the residents `where` (on `r`) selects, but the mixed: the
kept lines (one per provider: every session of the resident lies in the home's area), and the entitlements with no
line as undelivered lines; with the home, the pair's entitlement and the pair's sums on each line."""

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _entitle(session: Session, months: list[date], where: str, params: dict[str, Any]) -> None:
    for month in months:
        first, last, _, _ = month_bounds(month)
        bound = {**params, "first_day": first, "last_day": last, "days_in_month": (last - first).days + 1}
        sql = ENTITLED_FACTS.format(where=where)
        session.execute(text(sql), {k: v for k, v in bound.items() if f":{k}" in sql})
        session.execute(
            text("INSERT INTO rollup_statement_month (month) VALUES (:m) ON CONFLICT DO NOTHING"), {"m": first}
        )


def _finalize(session: Session, months: list[date], residents: list[int] | None = None) -> None:
    """Rebuild the final lines (and the mixed residents) of `months`: of these residents, or of every home."""
    which, gone = ("true", "true") if residents is None else ("r.id = ANY(:again)", "resident_id = ANY(:again)")
    for month in months:
        bound = {"first_day": month, "again": residents}
        for table in ("final", "mixed"):
            sql = f"DELETE FROM rollup_statement_{table} WHERE month = :first_day AND {gone}"
            session.execute(text(sql), {k: v for k, v in bound.items() if f":{k}" in sql})
        for facts in (MIXED_FACTS, FINAL_FACTS):
            sql = facts.format(where=which)
            session.execute(text(sql), {k: v for k, v in bound.items() if f":{k}" in sql})


def refresh_statement(
    session: Session, *, now: datetime, full: bool, verified_within_m: float = VERIFIED_WITHIN_M
) -> int:
    """Bring the statement rollup up to `now` (the caller commits); returns the residents recomputed (all: -1)."""
    row = session.execute(
        text(
            "SELECT s.seen_version, s.refreshed_at, w.seen_version AS within_mm FROM rollup_state s"
            " JOIN rollup_state w ON w.rollup = 'statement_within' WHERE s.rollup = 'statement'"
        )
    ).first()
    top = session.execute(text("SELECT max(version) FROM task")).scalar() or 0
    horizon_day = local_date(now)
    horizon = datetime.combine(horizon_day, time(0), tzinfo=LOCAL_TIMEZONE)
    params: dict[str, Any] = {
        "area_path": "/",
        "start": EARLIEST,
        "end": horizon,
        "within": verified_within_m + 0.05,
    }
    recomputed = -1
    if full or row is None or row.refreshed_at is None or row.within_mm != within_mm(verified_within_m):
        for table in ("session", "line", "entitled", "month", "stale", "final", "mixed"):
            session.execute(text(f"DELETE FROM rollup_statement_{table}"))
        session.execute(text(SESSION_FACTS.format(where="true")), params)
        session.execute(text(LINE_FACTS.format(where="true")))
        first = session.execute(text("SELECT min(month) FROM rollup_statement_session")).scalar() or horizon_day
        months = _months(min(first, horizon_day), horizon_day)
        _entitle(session, months, "true", {})
        _finalize(session, months)
    else:
        old_day = local_date(row.refreshed_at)
        params["old_horizon"] = datetime.combine(old_day, time(0), tzinfo=LOCAL_TIMEZONE)
        stale = sorted(set(session.execute(text("DELETE FROM rollup_statement_stale RETURNING resident_id")).scalars()))
        changed = session.execute(text(DIRTY), {"seen": int(row.seen_version or 0)}).scalars()
        residents = sorted({*stale, *changed})
        params["residents"] = residents
        gone = session.execute(
            text(
                "DELETE FROM rollup_statement_session WHERE resident_id = ANY(:residents) OR moment >= :old_horizon"
                " RETURNING resident_id"
            ),
            params,
        ).scalars()
        touched = {*residents, *gone}
        where = "(t.resident_id = ANY(:residents) OR coalesce(t.checked_in_at, t.completed_at) >= :old_horizon)"
        touched.update(session.execute(text(SESSION_FACTS.format(where=where)), params).scalars())
        lines = {"touched": sorted(touched)}
        session.execute(text("DELETE FROM rollup_statement_line WHERE resident_id = ANY(:touched)"), lines)
        session.execute(text(LINE_FACTS.format(where="s.resident_id = ANY(:touched)")), lines)
        kept = sorted(session.execute(text("SELECT month FROM rollup_statement_month")).scalars())
        if stale and kept:
            session.execute(
                text("DELETE FROM rollup_statement_entitled WHERE resident_id = ANY(:stale)"), {"stale": stale}
            )
            _entitle(session, kept, "cp.resident_id = ANY(:stale)", {"stale": stale})
        newest = kept[-1] if kept else horizon_day.replace(day=1)
        added = [m for m in _months(newest, horizon_day) if m not in kept]
        _entitle(session, added, "true", {})
        again = sorted({*touched, *stale})
        if again and kept:
            _finalize(session, kept, again)
        _finalize(session, added)
        recomputed = len(touched)
    for rollup, version in (("statement", top), ("statement_within", within_mm(verified_within_m))):
        save_state(session, rollup, version, now)
    return recomputed
