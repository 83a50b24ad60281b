"""The supervision rollups (migration 0014): their refresh, and the dashboards' count queries over them or raw.

Each figure query takes `source="rollup"` (sum the rollup rows) or `source="raw"` (aggregate the raw rows the
same way, on the fly): both run the *same* SQL over a relation with the rollup's columns, so they return the
same numbers whenever the rollup is fresh (tests/integration/test_supervision_rollups.py and
tests/timescale_tests/test_supervision_rollups.py prove it in both lanes; bench/dashboards.py times both).

Areas: rows carry the community's materialized path (`/1/2/3/4/`); an area's figures are the rows whose path
starts with the area's path, and its children's are grouped by the next path segment (the child's id), in one scan.

Refresh (`refresh_rollups`, the scheduler job `supervision_rollups`): alarms and tasks are recomputed for the
hours / local days holding a row whose `version` moved since the last refresh (every change bumps it) and the
last `lookback_days`; a task moved to another day is recomputed on its old day too (`rollup_task_day` remembers
the day each task was counted on); the repeat callers' rows (migration 0016) for the residents of the alarms
recomputed; the visit rollup by supervision/visit_rollup.py. Telemetry: on TimescaleDB a continuous aggregate with
its own refresh policy; on PostgreSQL the hours since the last refresh (less one). Deleted alarms or tasks (never
done in service) are caught only by `full=True`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import as_utc, local_date
from eldercare_platform.supervision.meal_rollup import refresh_meals
from eldercare_platform.supervision.monitor_facts import COLUMNS as TELEMETRY_COLUMNS
from eldercare_platform.supervision.monitor_facts import HOUR, TELEMETRY_FACTS, refresh_daily
from eldercare_platform.supervision.rollup_state import save_state
from eldercare_platform.supervision.statement_rollup import refresh_statement
from eldercare_platform.supervision.visit_rollup import refresh_visits
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M

Source = Literal["rollup", "raw"]

ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
"""`date_bin` origin: hours independent of the session's time zone."""

LOCAL_TZ = "Asia/Shanghai"

DEFAULT_LATE_AFTER = timedelta(minutes=15)
"""`task_late_after_minutes`' default (core/config.py)."""

ALARM_FACTS = f"""
SELECT date_bin(INTERVAL '1 hour', opened_at, {ORIGIN}) AS bucket, area_path, type,
       count(*)::integer AS alarms,
       count(acknowledged_at)::integer AS acknowledged,
       coalesce(sum(extract(epoch FROM acknowledged_at - opened_at)), 0)::double precision AS ack_s_sum,
       count(*) FILTER (WHERE acknowledged_at - opened_at <= INTERVAL '60 seconds')::integer AS ack_le_60,
       count(*) FILTER (WHERE acknowledged_at - opened_at <= INTERVAL '180 seconds')::integer AS ack_le_180,
       count(resolved_at)::integer AS resolved,
       coalesce(sum(extract(epoch FROM resolved_at - opened_at)), 0)::double precision AS resolve_s_sum
FROM alarm
WHERE area_path IS NOT NULL AND {{where}}
GROUP BY 1, 2, 3
"""
"""An alarm's hour is the hour it opened; seconds to acknowledge / resolve are summed (means), ≤ 60 s includes
an acknowledgement at exactly 60 s."""

ALARM_DAILY = """
SELECT (h.bucket AT TIME ZONE '{zone}')::date AS day, p.prefix AS area_path, p.depth, h.type,
       {sums}
FROM {hourly} h
CROSS JOIN LATERAL (
    SELECT '/' || array_to_string(x.ids[1:k], '/') || '/' AS prefix, k::smallint AS depth
    FROM (SELECT string_to_array(trim(BOTH '/' FROM h.area_path), '/') AS ids) x,
         generate_series(1, cardinality(x.ids)) k) p
WHERE {where}
GROUP BY 1, 2, 3, 4
"""
"""Daily rows for every area on an alarm's path (community, street, district, city), from hourly rows."""

ALARM_COLUMNS = ("alarms", "acknowledged", "ack_s_sum", "ack_le_60", "ack_le_180", "resolved", "resolve_s_sum")

_BY_HOUR = ", ".join(f"count(*) FILTER (WHERE x.hour = {hour})::integer" for hour in range(24))

ALARM_DETAIL = f"""
SELECT x.day, p.prefix AS area_path, p.depth, x.type, x.outcome,
       count(*)::integer AS alarms, count(x.ack_s)::integer AS acknowledged, count(x.resolve_s)::integer AS resolved,
       count(*) FILTER (WHERE x.ack_s <= 60)::integer AS ack_le_60,
       count(*) FILTER (WHERE x.ack_s <= 180)::integer AS ack_le_180,
       ARRAY[{_BY_HOUR}] AS by_hour,
       coalesce(array_agg(x.ack_s::double precision) FILTER (WHERE x.ack_s IS NOT NULL), '{{{{}}}}') AS ack_s,
       coalesce(array_agg(x.resolve_s::double precision) FILTER (WHERE x.resolve_s IS NOT NULL), '{{{{}}}}')
           AS resolve_s
FROM (SELECT (opened_at AT TIME ZONE '{LOCAL_TZ}')::date AS day,
             extract(hour FROM opened_at AT TIME ZONE '{LOCAL_TZ}')::int AS hour,
             area_path, type, coalesce(outcome, 'open') AS outcome,
             EXTRACT(EPOCH FROM acknowledged_at - opened_at) AS ack_s,
             EXTRACT(EPOCH FROM resolved_at - opened_at) AS resolve_s
      FROM alarm WHERE area_path IS NOT NULL AND {{where}}) x
CROSS JOIN LATERAL (
    SELECT '/' || array_to_string(ids.ids[1:k], '/') || '/' AS prefix, k::smallint AS depth
    FROM (SELECT string_to_array(trim(BOTH '/' FROM x.area_path), '/') AS ids) ids,
         generate_series(1, cardinality(ids.ids)) k) p
GROUP BY 1, 2, 3, 4, 5
"""
"""The alarms section's daily detail (migration 0015) for every area on an alarm's path: counts by outcome (`open`
while unresolved), by local hour of day, and the seconds to acknowledge / resolve themselves — computed exactly as
the section computes them from raw rows (`EXTRACT(EPOCH …)`, ≤ 60 s inclusive), so percentiles over the
concatenated arrays are the raw percentiles."""

DETAIL_COLUMNS = (
    "day, area_path, depth, type, outcome, alarms, acknowledged, resolved, ack_le_60, ack_le_180, by_hour, ack_s,"
    " resolve_s"
)

ALARM_CALLER = """
SELECT a.resident_id, p.prefix AS area_path, p.depth, count(*)::integer AS alarms,
       array_agg(a.opened_at ORDER BY a.opened_at) AS opened
FROM alarm a JOIN alarm_type ty ON ty.type = a.type AND NOT ty.is_device_fault
CROSS JOIN LATERAL (
    SELECT '/' || array_to_string(ids.ids[1:k], '/') || '/' AS prefix, k::smallint AS depth
    FROM (SELECT string_to_array(trim(BOTH '/' FROM a.area_path), '/') AS ids) ids,
         generate_series(1, cardinality(ids.ids)) k) p
WHERE a.resident_id IS NOT NULL AND a.area_path IS NOT NULL AND {where}
GROUP BY 1, 2, 3
"""
"""Repeat callers (migration 0016): per resident and every area on an alarm's path, the instants their alarms opened
there (device faults left out), sorted — the alarms of any period are `width_bucket` away (alarms_figures.py)."""

CALLER_COLUMNS = "resident_id, area_path, depth, alarms, opened"

TASK_FACTS = f"""
SELECT (window_start AT TIME ZONE '{LOCAL_TZ}')::date AS day, area_path, kind, status,
       CASE WHEN status IN ('cancelled', 'missed') THEN coalesce(status_reason, '') ELSE '' END AS reason,
       count(*)::integer AS tasks,
       count(*) FILTER (WHERE completed_at > window_end)::integer AS late,
       count(*) FILTER (WHERE problem_found)::integer AS problem_found
FROM task
WHERE window_start IS NOT NULL AND area_path IS NOT NULL AND {{where}}
GROUP BY 1, 2, 3, 4, 5
"""
"""A task's day is the local day its window starts (a task moved to another day counts on its new day)."""

TASK_COLUMNS = ("tasks", "late", "problem_found")

TELEMETRY_SAMPLES = f"""
SELECT date_bin(INTERVAL '1 hour', time, {ORIGIN}) AS bucket, device_serial, kind, count(*)::integer AS samples
FROM telemetry
WHERE {{where}}
GROUP BY 1, 2, 3
"""
"""`telemetry_figures` from raw rows (samples only; the rollup's other facts are the monitor's, monitor_facts.py)."""


def _utc_midnight(day: date) -> datetime:
    """Midnight UTC of `day`: a local (UTC+8) day starts 8 hours before it, so the day before bounds it."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


# --- refresh -------------------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    """What one refresh recomputed."""

    alarm_hours: int = 0
    task_days: int = 0
    visit_days: int = 0
    telemetry_hours: int = 0
    telemetry: str = "table"
    telemetry_days: int = 0
    meal_days: int = 0
    statement_residents: int = -1

    def __str__(self) -> str:
        return (
            f"alarm hours {self.alarm_hours}, task days {self.task_days}, visit days {self.visit_days}, "
            f"telemetry {self.telemetry} hours {self.telemetry_hours}, telemetry days {self.telemetry_days}, "
            f"meal days {self.meal_days}, statement residents "
            f"{'all' if self.statement_residents < 0 else self.statement_residents}"
        )


def telemetry_is_continuous_aggregate(session: Session) -> bool:
    """True on TimescaleDB, where `rollup_telemetry_hourly` is a continuous aggregate (a view), not a table."""
    kind = session.execute(
        text(
            "SELECT relkind FROM pg_class"
            " WHERE relname = 'rollup_telemetry_hourly' AND relnamespace = 'public'::regnamespace"
        )
    ).scalar()
    return kind == "v"


def _state(session: Session, rollup: str) -> tuple[int | None, datetime | None]:
    row = session.execute(
        text("SELECT seen_version, refreshed_at FROM rollup_state WHERE rollup = :r"), {"r": rollup}
    ).first()
    return (None, None) if row is None else (row[0], row[1])


DAILY_COLUMNS = "day, area_path, depth, type, " + ", ".join(ALARM_COLUMNS)


def _daily_sql(where: str, hourly: str = "rollup_alarm_hourly") -> str:
    sums = ", ".join(f"sum(h.{c}) AS {c}" for c in ALARM_COLUMNS)
    return ALARM_DAILY.format(zone=LOCAL_TZ, sums=sums, hourly=hourly, where=where)


def _refresh_alarms(session: Session, now: datetime, lookback: timedelta, full: bool) -> int:
    seen, _ = _state(session, "alarm_hourly")
    top = session.execute(text("SELECT max(version) FROM alarm")).scalar()
    columns = "bucket, area_path, type, " + ", ".join(ALARM_COLUMNS)
    if full or seen is None:
        session.execute(text("DELETE FROM rollup_alarm_hourly"))
        session.execute(text(f"INSERT INTO rollup_alarm_hourly ({columns}) {ALARM_FACTS.format(where='true')}"))
        hours = int(session.execute(text("SELECT count(DISTINCT bucket) FROM rollup_alarm_hourly")).scalar() or 0)
        session.execute(text("DELETE FROM rollup_alarm_daily"))
        session.execute(text(f"INSERT INTO rollup_alarm_daily ({DAILY_COLUMNS}) {_daily_sql('true')}"))
        session.execute(text("DELETE FROM rollup_alarm_detail"))
        session.execute(text(f"INSERT INTO rollup_alarm_detail ({DETAIL_COLUMNS}) {ALARM_DETAIL.format(where='true')}"))
        session.execute(text("DELETE FROM rollup_alarm_caller"))
        session.execute(text(f"INSERT INTO rollup_alarm_caller ({CALLER_COLUMNS}) {ALARM_CALLER.format(where='true')}"))
    else:
        changed = session.execute(
            text(
                f"SELECT DISTINCT date_bin(INTERVAL '1 hour', opened_at, {ORIGIN}) FROM alarm"
                " WHERE version > :seen OR opened_at >= :since"
            ),
            {"seen": seen, "since": now - lookback},
        ).scalars()
        buckets = sorted(changed)
        hours = len(buckets)
        if buckets:
            params = {"hours": buckets, "lo": buckets[0]}
            session.execute(text("DELETE FROM rollup_alarm_hourly WHERE bucket = ANY(:hours)"), params)
            where = f"opened_at >= :lo AND date_bin(INTERVAL '1 hour', opened_at, {ORIGIN}) = ANY(:hours)"
            session.execute(
                text(f"INSERT INTO rollup_alarm_hourly ({columns}) {ALARM_FACTS.format(where=where)}"), params
            )
            days = sorted({local_date(bucket) for bucket in buckets})
            daily = {"days": days, "lo": _utc_midnight(days[0] - timedelta(days=1))}
            session.execute(text("DELETE FROM rollup_alarm_daily WHERE day = ANY(:days)"), daily)
            where = f"h.bucket >= :lo AND (h.bucket AT TIME ZONE '{LOCAL_TZ}')::date = ANY(:days)"
            session.execute(text(f"INSERT INTO rollup_alarm_daily ({DAILY_COLUMNS}) {_daily_sql(where)}"), daily)
            session.execute(text("DELETE FROM rollup_alarm_detail WHERE day = ANY(:days)"), daily)
            where = f"opened_at >= :lo AND (opened_at AT TIME ZONE '{LOCAL_TZ}')::date = ANY(:days)"
            session.execute(
                text(f"INSERT INTO rollup_alarm_detail ({DETAIL_COLUMNS}) {ALARM_DETAIL.format(where=where)}"), daily
            )
            # The residents of the alarms recomputed: their callers' rows again, from all their alarms.
            residents = {
                "residents": session.execute(
                    text(
                        "SELECT DISTINCT resident_id FROM alarm WHERE resident_id IS NOT NULL AND opened_at >= :lo"
                        f" AND date_bin(INTERVAL '1 hour', opened_at, {ORIGIN}) = ANY(:hours)"
                    ),
                    params,
                )
                .scalars()
                .all()
            }
            session.execute(text("DELETE FROM rollup_alarm_caller WHERE resident_id = ANY(:residents)"), residents)
            where = "a.resident_id = ANY(:residents)"
            session.execute(
                text(f"INSERT INTO rollup_alarm_caller ({CALLER_COLUMNS}) {ALARM_CALLER.format(where=where)}"),
                residents,
            )
    save_state(session, "alarm_hourly", top, now)
    return hours


def _refresh_tasks(session: Session, now: datetime, lookback: timedelta, full: bool) -> int:
    seen, _ = _state(session, "task_daily")
    top = session.execute(text("SELECT max(version) FROM task")).scalar()
    columns = "day, area_path, kind, status, reason, " + ", ".join(TASK_COLUMNS)
    local_day = f"(window_start AT TIME ZONE '{LOCAL_TZ}')::date"
    if full or seen is None:
        session.execute(text("DELETE FROM rollup_task_daily"))
        session.execute(text(f"INSERT INTO rollup_task_daily ({columns}) {TASK_FACTS.format(where='true')}"))
        session.execute(text("DELETE FROM rollup_task_day"))
        session.execute(
            text(
                f"INSERT INTO rollup_task_day (task_id, day)"
                f" SELECT id, {local_day} FROM task WHERE window_start IS NOT NULL"
            )
        )
        days = int(session.execute(text("SELECT count(DISTINCT day) FROM rollup_task_daily")).scalar() or 0)
    else:
        # A changed task counts on its day now and no longer on the day the rollup last saw it on.
        moved = session.execute(
            text(
                f"""
                WITH changed AS (SELECT id, {local_day} AS day FROM task WHERE version > :seen),
                     old AS (SELECT d.day FROM rollup_task_day d JOIN changed c ON c.id = d.task_id),
                     upsert AS (INSERT INTO rollup_task_day (task_id, day)
                                SELECT id, day FROM changed WHERE day IS NOT NULL
                                ON CONFLICT (task_id) DO UPDATE SET day = excluded.day)
                SELECT day FROM changed WHERE day IS NOT NULL UNION SELECT day FROM old
                """
            ),
            {"seen": seen},
        ).scalars()
        recent = session.execute(
            text(f"SELECT DISTINCT {local_day} FROM task WHERE window_start >= :since"),
            {"since": as_utc(now) - lookback},
        ).scalars()
        wanted: list[date] = sorted({*moved, *recent})
        days = len(wanted)
        if wanted:
            params = {"days": wanted, "lo": _utc_midnight(wanted[0] - timedelta(days=1))}
            session.execute(text("DELETE FROM rollup_task_daily WHERE day = ANY(:days)"), params)
            where = f"window_start >= :lo AND {local_day} = ANY(:days)"
            session.execute(text(f"INSERT INTO rollup_task_daily ({columns}) {TASK_FACTS.format(where=where)}"), params)
    save_state(session, "task_daily", top, now)
    return days


def _refresh_telemetry(session: Session, now: datetime, full: bool) -> tuple[int, list[date] | None]:
    """Recompute the hours since the last refresh (less one) and the earlier hours samples arrived late for (the
    trigger of migration 0017 logs them in `rollup_telemetry_stale`); everything when `full` or never refreshed.
    Returns the hours recomputed and their local days (None: all)."""
    _, refreshed = _state(session, "telemetry_hourly")
    insert = f"INSERT INTO rollup_telemetry_hourly ({TELEMETRY_COLUMNS}) {{facts}}"
    if full or refreshed is None:
        session.execute(text("DELETE FROM rollup_telemetry_stale"))
        session.execute(text("DELETE FROM rollup_telemetry_hourly"))
        session.execute(text(insert.format(facts=TELEMETRY_FACTS.format(where="true"))))
        hours = int(session.execute(text("SELECT count(DISTINCT bucket) FROM rollup_telemetry_hourly")).scalar() or 0)
        days = None
    else:
        start = session.execute(
            text(f"SELECT date_bin(INTERVAL '1 hour', CAST(:at AS timestamptz), {ORIGIN})"),
            {"at": min(refreshed, now) - timedelta(hours=1)},
        ).scalar_one()
        logged = session.execute(text("DELETE FROM rollup_telemetry_stale RETURNING bucket")).scalars()
        stale = sorted(bucket for bucket in logged if bucket < start)  # the later ones are recomputed anyway
        session.execute(text("DELETE FROM rollup_telemetry_hourly WHERE bucket >= :start"), {"start": start})
        session.execute(text(insert.format(facts=TELEMETRY_FACTS.format(where="t.time >= :start"))), {"start": start})
        if stale:
            params = {"stale": stale, "lo": stale[0], "hi": stale[-1] + timedelta(hours=1)}
            session.execute(text("DELETE FROM rollup_telemetry_hourly WHERE bucket = ANY(:stale)"), params)
            where = f"t.time >= :lo AND t.time < :hi AND {HOUR} = ANY(:stale)"
            session.execute(text(insert.format(facts=TELEMETRY_FACTS.format(where=where))), params)
        hours = max(1, int((now - start).total_seconds() // 3600) + 1) + len(stale)
        days = sorted({*_days_between(start, now), *(local_date(bucket) for bucket in stale)})
    save_state(session, "telemetry_hourly", None, now)
    return hours, days


def _days_between(start: datetime, end: datetime) -> list[date]:
    """The local days from the one of `start` to the one of `end`."""
    first, last = local_date(start), local_date(max(start, end))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


TIMESCALE_POLICY_WINDOW = timedelta(days=3)
"""How far back the continuous aggregate's refresh policy recomputes hours (migrations 0014 and 0017): the daily
rollup is rebuilt from it for the local days of that window."""


def _refresh_telemetry_daily(session: Session, now: datetime, full: bool, days: list[date] | None) -> int:
    """Rebuild the daily rollup (migration 0017) for `days` (all when None, `full`, or never built)."""
    _, refreshed = _state(session, "telemetry_daily")
    rebuilt = refresh_daily(session, None if full or refreshed is None else days)
    save_state(session, "telemetry_daily", None, now)
    return rebuilt


def refresh_rollups(
    session: Session,
    *,
    now: datetime,
    lookback_days: int = 14,
    full: bool = False,
    late_after: timedelta = DEFAULT_LATE_AFTER,
    verified_within_m: float = VERIFIED_WITHIN_M,
) -> RefreshResult:
    """Bring the rollup tables up to date (the caller commits). On TimescaleDB telemetry refreshes by policy.
    `late_after` is the deployment's `task_late_after_minutes` (the visit rollup's "late"), `verified_within_m` its
    `checkin_verified_within_m` (the statement rollup's EVV check)."""
    lookback = timedelta(days=lookback_days)
    result = RefreshResult()
    result.alarm_hours = _refresh_alarms(session, now, lookback, full)
    result.task_days = _refresh_tasks(session, now, lookback, full)
    result.visit_days = refresh_visits(session, now=now, late_after=late_after, lookback=lookback, full=full)
    result.meal_days = refresh_meals(session, now=now, lookback=lookback, full=full)
    result.statement_residents = refresh_statement(session, now=now, full=full, verified_within_m=verified_within_m)
    days: list[date] | None
    if telemetry_is_continuous_aggregate(session):
        result.telemetry = "continuous aggregate (policy)"
        _, refreshed = _state(session, "telemetry_daily")
        days = _days_between(min(refreshed or now, now) - TIMESCALE_POLICY_WINDOW, now)
    else:
        result.telemetry_hours, days = _refresh_telemetry(session, now, full)
    result.telemetry_days = _refresh_telemetry_daily(session, now, full, days)
    return result


# --- figures -------------------------------------------------------------------------------------------------


CHILD = "NULLIF(split_part(f.area_path, '/', :child_field), '')::int"
"""The id of the child area a row lies in (the path's next segment after the area's); NULL at the area itself."""


def _child_field(area_path: str) -> int:
    """`split_part` field of the child's id in paths under `area_path` (`/1/2/` → field 4 of `/1/2/3/5/`)."""
    return area_path.count("/") + 1


@dataclass
class Figures:
    """Additive figures of an area, its children (by child area id) and series."""

    totals: dict[str, Any] = field(default_factory=dict)
    children: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    series: list[tuple[Any, ...]] = field(default_factory=list)


def _num(value: Any) -> int | float:
    if value is None:
        return 0
    number = float(value)
    return int(number) if number.is_integer() else round(number, 3)


def alarm_figures(
    session: Session, *, area_path: str, start: datetime, end: datetime, source: Source = "rollup"
) -> Figures:
    """Alarm counts of the area in [start, end) (hour-aligned): totals, per child, per type, per hour.

    `by_key` is per alarm type; `series` is (hour, alarms). Means: `ack_s_sum / acknowledged`.
    """
    params = {"path": area_path, "start": start, "end": end, "child_field": _child_field(area_path)}
    if source == "rollup":
        relation = "rollup_alarm_hourly"
    else:
        where = "area_path LIKE :path || '%' AND opened_at >= :start AND opened_at < :end"
        relation = f"({ALARM_FACTS.format(where=where)})"
    sums = ", ".join(f"sum({c})" for c in ALARM_COLUMNS)
    rows = session.execute(
        text(
            f"""
            SELECT GROUPING({CHILD}) AS g_child, GROUPING(f.type) AS g_type,
                   GROUPING(f.bucket) AS g_bucket,
                   {CHILD} AS child, f.type, f.bucket, {sums}
            FROM {relation} f
            WHERE f.area_path LIKE :path || '%' AND f.bucket >= :start AND f.bucket < :end
            GROUP BY GROUPING SETS ((), ({CHILD}), (f.type), (f.bucket))
            """
        ),
        params,
    ).all()
    figures = Figures(totals=dict.fromkeys(ALARM_COLUMNS, 0))
    for row in rows:
        values = {c: _num(v) for c, v in zip(ALARM_COLUMNS, row[6:], strict=True)}
        g_child, g_type, g_bucket = row[0], row[1], row[2]
        if g_child and g_type and g_bucket:
            figures.totals = values
        elif not g_child:
            if row[3] is not None:
                figures.children[row[3]] = values
        elif not g_type:
            figures.by_key[row[4]] = values
        else:
            figures.series.append((row[5], values["alarms"]))
    figures.series.sort()
    return figures


def alarm_daily_figures(
    session: Session, *, area_path: str, first_day: date, last_day: date, source: Source = "rollup"
) -> Figures:
    """Alarm counts of the area for local days first_day..last_day from the daily rollup (the area's own rows, its
    children's one level down): totals, per child, per type, `series` (day, alarms)."""
    depth = area_path.count("/") - 1
    params = {"path": area_path, "depth": depth, "first": first_day, "last": last_day}
    if source == "rollup":
        relation = "rollup_alarm_daily"
    else:
        lo, hi = _utc_midnight(first_day - timedelta(days=1)), _utc_midnight(last_day + timedelta(days=1))
        params |= {"lo": lo, "hi": hi}
        where = "area_path LIKE :path || '%' AND opened_at >= :lo AND opened_at < :hi"
        relation = f"({_daily_sql('true', hourly='(' + ALARM_FACTS.format(where=where) + ')')})"
    sums = ", ".join(f"sum({c})" for c in ALARM_COLUMNS)
    rows = session.execute(
        text(
            f"""
            SELECT GROUPING(f.type) AS g_type, GROUPING(f.day) AS g_day, f.area_path, f.type, f.day, {sums}
            FROM {relation} f
            WHERE f.depth IN (:depth, :depth + 1) AND f.area_path LIKE :path || '%'
              AND f.day >= :first AND f.day <= :last
            GROUP BY GROUPING SETS ((f.area_path), (f.area_path, f.type), (f.area_path, f.day))
            """
        ),
        params,
    ).all()
    figures = Figures(totals=dict.fromkeys(ALARM_COLUMNS, 0))
    for row in rows:
        values = {c: _num(v) for c, v in zip(ALARM_COLUMNS, row[5:], strict=True)}
        own = row[2] == area_path
        if row[0] and row[1]:
            if own:
                figures.totals = values
            else:
                figures.children[int(row[2].rstrip("/").rsplit("/", 1)[1])] = values
        elif own and not row[0]:
            figures.by_key[row[3]] = values
        elif own:
            figures.series.append((row[4], values["alarms"]))
    figures.series.sort()
    return figures


def task_figures(
    session: Session, *, area_path: str, first_day: date, last_day: date, source: Source = "rollup"
) -> Figures:
    """Task counts of the area for local days first_day..last_day: by `kind:status[:reason]`, per child, per day.

    `totals` and each child map `kind:status` (and `kind:status:reason` for cancelled / missed with a reason) to
    {tasks, late, problem_found}; `series` is (day, kind, status, tasks).
    """
    lo, hi = _utc_midnight(first_day - timedelta(days=1)), _utc_midnight(last_day + timedelta(days=1))
    params = {
        "path": area_path,
        "first": first_day,
        "last": last_day,
        "lo": lo,
        "hi": hi,
        "child_field": _child_field(area_path),
    }
    if source == "rollup":
        relation = "rollup_task_daily"
    else:
        where = "area_path LIKE :path || '%' AND window_start >= :lo AND window_start < :hi"
        relation = f"({TASK_FACTS.format(where=where)})"
    sums = ", ".join(f"sum({c})" for c in TASK_COLUMNS)
    rows = session.execute(
        text(
            f"""
            SELECT GROUPING({CHILD}) AS g_child, GROUPING(f.day) AS g_day,
                   {CHILD} AS child, f.day, f.kind, f.status, f.reason, {sums}
            FROM {relation} f
            WHERE f.area_path LIKE :path || '%' AND f.day >= :first AND f.day <= :last
            GROUP BY GROUPING SETS ((f.kind, f.status, f.reason),
                                    ({CHILD}, f.kind, f.status, f.reason),
                                    (f.day, f.kind, f.status))
            """
        ),
        params,
    ).all()
    figures = Figures()
    for row in rows:
        values = {c: _num(v) for c, v in zip(TASK_COLUMNS, row[7:], strict=True)}
        g_child, g_day = row[0], row[1]
        kind, status, reason = row[4], row[5], row[6]
        if not g_day:
            figures.series.append((row[3], kind, status, values["tasks"]))
            continue
        target = figures.totals if g_child else figures.children.setdefault(row[2], {}) if row[2] is not None else None
        if target is None:
            continue
        _add(target, f"{kind}:{status}", values)
        if reason:
            _add(target, f"{kind}:{status}:{reason}", values)
    figures.series.sort()
    return figures


def _add(target: dict[str, Any], key: str, values: dict[str, int | float]) -> None:
    have = target.setdefault(key, dict.fromkeys(TASK_COLUMNS, 0))
    for column, value in values.items():
        have[column] += value


def telemetry_figures(
    session: Session, *, serials: Sequence[str], start: datetime, end: datetime, source: Source = "rollup"
) -> Figures:
    """Samples of the devices in [start, end) (hour-aligned): per `serial:kind` samples and hours with data,
    totals per kind, `series` (hour, kind, samples)."""
    params = {"serials": list(serials), "start": start, "end": end}
    if source == "rollup":
        relation = "rollup_telemetry_hourly"
    else:
        where = "device_serial = ANY(:serials) AND time >= :start AND time < :end"
        relation = f"({TELEMETRY_SAMPLES.format(where=where)})"
    rows = session.execute(
        text(
            f"""
            SELECT GROUPING(f.device_serial) AS g_device, GROUPING(f.bucket) AS g_bucket,
                   f.device_serial, f.kind, f.bucket, sum(f.samples), count(*)
            FROM {relation} f
            WHERE f.device_serial = ANY(:serials) AND f.bucket >= :start AND f.bucket < :end
            GROUP BY GROUPING SETS ((f.device_serial, f.kind), (f.kind), (f.bucket, f.kind))
            """
        ),
        params,
    ).all()
    figures = Figures()
    for row in rows:
        g_device, g_bucket = row[0], row[1]
        if not g_device:
            figures.by_key[f"{row[2]}:{row[3]}"] = {"samples": _num(row[5]), "hours": _num(row[6])}
        elif g_bucket:
            figures.totals[row[3]] = _num(row[5])
        else:
            figures.series.append((row[4], row[3], _num(row[5])))
    figures.series.sort()
    return figures


# --- the sections' path: rollup rows before the last refresh, raw rows after it --------------------------------


def alarm_watermark(session: Session) -> datetime | None:
    """The hour up to which the alarm rollups are complete: the start of the hour of their last refresh (None
    before the first). The alarms section reads `rollup_alarm_detail` for the local days before this hour's day
    and `alarm` from that day on."""
    refreshed = session.execute(
        text(
            f"SELECT date_bin(INTERVAL '1 hour', refreshed_at, {ORIGIN})"
            " FROM rollup_state WHERE rollup = 'alarm_hourly'"
        )
    ).scalar()
    return refreshed if isinstance(refreshed, datetime) else None
