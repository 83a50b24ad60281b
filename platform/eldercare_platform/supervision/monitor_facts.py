"""What the care-center monitor reads per terminal and hour (migration 0017): the ranges that make a sample out of
range, the hourly facts of `telemetry` the rollup `rollup_telemetry_hourly` holds, and the relation the monitor
sums — the rollup's rows up to its watermark, the same facts computed from raw rows after it
(docs/supervision.md, "Care-center monitor: speed").

Per UTC hour × device × kind (Asia/Shanghai is UTC+8 without daylight saving, so an hour is one local hour and lies
in one local day, at night or not):

- `samples`; `out_of_range` and `out_of_range_first`: vitals / room samples with a metric outside its range, and
  the first of them;
- `smoke`, `smoke_first`: room samples with `smoke: true`;
- `in_bed_first`, `in_bed_last`, `out_of_bed_first`, `out_of_bed_last`: the first and last mattress sample saying
  `in_bed: true` / `false` (only boolean `in_bed` counts, as in the raw bed-exit rule). From them: the hour's first
  state (`out_of_bed_first` before `in_bed_first`), its last state, and whether a `true` sample comes before a
  `false` one inside the hour (`in_bed_first < out_of_bed_last`). A bed exit at the start of an hour (the previous
  sample, in an earlier hour, said in bed) is exact from these alone; exits inside an hour are read from the raw
  samples of the few night hours that can hold one;
- `residents`: the distinct `resident_ref` of check-ins.

Only plain aggregates (count, min, max, FILTER, array_agg DISTINCT): a TimescaleDB continuous aggregate accepts
them (no window function, which a bed exit would need across hours).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import LOCAL_TIMEZONE

Source = Literal["rollup", "raw"]

VITAL_RANGES: dict[str, tuple[float, float, str]] = {
    "heart_rate": (50, 120, "bpm"),
    "spo2": (90, 100, "%"),
    "systolic": (90, 160, "mmHg"),
    "diastolic": (50, 100, "mmHg"),
    "temperature": (35.5, 37.5, "°C"),
}
"""metric → (lowest, highest, unit): a value outside [lowest, highest] is out of range."""

MATTRESS_METRICS: dict[str, tuple[float, float, str]] = {
    "heart_rate": (40, 120, "bpm"),
    "respiration_rate": (8, 28, "/min"),
}
"""The mattress's own metrics, charted beside the vitals (only while in bed)."""

ROOM_RANGES: dict[str, tuple[float, float, str]] = {
    "temperature": (18, 28, "°C"),
    "humidity": (30, 70, "%"),
}
"""metric → (lowest, highest, unit) of a room sensor."""

NIGHT_FROM_HOUR = 22
NIGHT_UNTIL_HOUR = 6


def jsonpath_outside(ranges: dict[str, tuple[float, float, str]]) -> str:
    """The JSON path matching a sample with a numeric metric outside its range (a missing, textual or boolean value
    compares as unknown: not out of range)."""
    tests = " || ".join(f"@.{k} < {lo} || @.{k} > {hi}" for k, (lo, hi, _) in ranges.items())
    return f"$ ? ({tests})"


def outside(alias: str, ranges: dict[str, tuple[float, float, str]]) -> str:
    """A sample (`alias`.data) with a numeric metric outside its range, as one JSON path test."""
    return f"({alias}.data @? '{jsonpath_outside(ranges)}')"


ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
"""`date_bin` origin: hours independent of the session's time zone (the same hours as `time_bucket`)."""

HOUR = f"date_bin(INTERVAL '1 hour', t.time, {ORIGIN})"

_OUT = f"(t.kind = 'vitals' AND {outside('t', VITAL_RANGES)} OR t.kind = 'room' AND {outside('t', ROOM_RANGES)})"
_SMOKE = "(t.kind = 'room' AND t.data->'smoke' = 'true'::jsonb)"
_IN_BED = "(t.kind = 'mattress' AND t.data->'in_bed' = 'true'::jsonb)"
_OUT_OF_BED = "(t.kind = 'mattress' AND t.data->'in_bed' = 'false'::jsonb)"
_REF = "(t.kind = 'checkin' AND t.data ? 'resident_ref')"

FACT_COLUMNS = (
    "samples",
    "out_of_range",
    "out_of_range_first",
    "smoke",
    "smoke_first",
    "in_bed_first",
    "in_bed_last",
    "out_of_bed_first",
    "out_of_bed_last",
    "residents",
)

FACT_AGGREGATES = f"""count(*)::integer AS samples,
       count(*) FILTER (WHERE {_OUT})::integer AS out_of_range,
       min(t.time) FILTER (WHERE {_OUT}) AS out_of_range_first,
       count(*) FILTER (WHERE {_SMOKE})::integer AS smoke,
       min(t.time) FILTER (WHERE {_SMOKE}) AS smoke_first,
       min(t.time) FILTER (WHERE {_IN_BED}) AS in_bed_first,
       max(t.time) FILTER (WHERE {_IN_BED}) AS in_bed_last,
       min(t.time) FILTER (WHERE {_OUT_OF_BED}) AS out_of_bed_first,
       max(t.time) FILTER (WHERE {_OUT_OF_BED}) AS out_of_bed_last,
       array_agg(DISTINCT t.data->>'resident_ref') FILTER (WHERE {_REF}) AS residents"""
"""The hourly facts' aggregates over `telemetry t` (migration 0017 defines the rollup with the same text; a unit
test keeps them equal)."""

TELEMETRY_FACTS = f"""
SELECT {HOUR} AS bucket, t.device_serial, t.kind,
       {FACT_AGGREGATES}
FROM telemetry t
WHERE {{where}}
GROUP BY 1, 2, 3
"""
"""The rollup's rows computed from raw samples (the PostgreSQL refresh, and the monitor after the watermark)."""

COLUMNS = "bucket, device_serial, kind, " + ", ".join(FACT_COLUMNS)

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

LOCAL = "Asia/Shanghai"


def _night(moment: str) -> str:
    """An instant (SQL) at a local time from 22:00 up to 06:00."""
    hour = f"extract(hour FROM {moment} AT TIME ZONE '{LOCAL}')"
    return f"({hour} >= {NIGHT_FROM_HOUR} OR {hour} < {NIGHT_UNTIL_HOUR})"


def _first_in(a: str) -> str:
    """Whether the first mattress sample of an hourly row (alias `a`) said in bed."""
    return f"coalesce({a}.in_bed_first < {a}.out_of_bed_first, {a}.out_of_bed_first IS NULL)"


def _last_in(a: str) -> str:
    """Whether the last mattress sample of an hourly row (alias `a`) said in bed."""
    return f"coalesce({a}.in_bed_last > {a}.out_of_bed_last, {a}.out_of_bed_last IS NULL)"


def _exits_inside(a: str) -> str:
    """The bed exits inside the hour of a row (alias `a`: `device_serial`, `bucket`) whose previous sample is in the
    same hour, from the raw samples."""
    return f"""
        SELECT w.time FROM (
            SELECT t.time, (t.data->>'in_bed')::boolean AS in_bed,
                   lag((t.data->>'in_bed')::boolean) OVER (ORDER BY t.time) AS before
            FROM telemetry t
            WHERE t.kind = 'mattress' AND t.device_serial = {a}.device_serial
              AND jsonb_typeof(t.data->'in_bed') = 'boolean'
              AND t.time >= {a}.bucket AND t.time < {a}.bucket + INTERVAL '1 hour'
        ) w
        WHERE NOT w.in_bed AND w.before"""


DAILY_COLUMNS = (
    "day, device_serial, kind, samples, out_of_range, out_of_range_first, smoke, smoke_first, residents,"
    " bed_first, first_in_bed, last_in_bed, night_exits, night_exit_first"
)

DAILY_FROM_HOURLY = f"""
WITH h AS (
    SELECT f.*, (f.bucket AT TIME ZONE '{LOCAL}')::date AS day
    FROM rollup_telemetry_hourly f
    WHERE f.bucket >= :lo AND f.bucket < :hi AND (f.bucket AT TIME ZONE '{LOCAL}')::date = ANY(:days)
), sums AS (
    SELECT h.day, h.device_serial, h.kind, sum(h.samples)::integer AS samples,
           sum(h.out_of_range)::integer AS out_of_range, min(h.out_of_range_first) AS out_of_range_first,
           sum(h.smoke)::integer AS smoke, min(h.smoke_first) AS smoke_first
    FROM h GROUP BY 1, 2, 3
), refs AS (
    SELECT h.day, h.device_serial, h.kind, array_agg(DISTINCT r.ref) AS residents
    FROM h CROSS JOIN LATERAL unnest(h.residents) AS r(ref)
    GROUP BY 1, 2, 3
), seg AS (
    SELECT h.day, h.device_serial, h.bucket, least(h.in_bed_first, h.out_of_bed_first) AS first_at,
           {_first_in("h")} AS first_in, {_last_in("h")} AS last_in, h.in_bed_first, h.out_of_bed_last,
           lag({_last_in("h")}) OVER (PARTITION BY h.device_serial, h.day ORDER BY h.bucket) AS before
    FROM h
    WHERE h.kind = 'mattress' AND (h.in_bed_first IS NOT NULL OR h.out_of_bed_first IS NOT NULL)
), states AS (
    SELECT s.day, s.device_serial, min(s.first_at) AS bed_first,
           (array_agg(s.first_in ORDER BY s.bucket))[1] AS first_in_bed,
           (array_agg(s.last_in ORDER BY s.bucket DESC))[1] AS last_in_bed
    FROM seg s GROUP BY 1, 2
), exits AS (
    SELECT s.day, s.device_serial, s.first_at AS time FROM seg s
    WHERE s.before AND NOT s.first_in AND {_night("s.bucket")}
    UNION ALL
    SELECT s.day, s.device_serial, x.time FROM seg s CROSS JOIN LATERAL ({_exits_inside("s")}) x
    WHERE s.in_bed_first < s.out_of_bed_last AND {_night("s.bucket")}
), nights AS (
    SELECT e.day, e.device_serial, count(*)::integer AS n, min(e.time) AS first FROM exits e GROUP BY 1, 2
)
INSERT INTO rollup_telemetry_daily ({DAILY_COLUMNS})
SELECT s.day, s.device_serial, s.kind, s.samples, s.out_of_range, s.out_of_range_first, s.smoke, s.smoke_first,
       r.residents, st.bed_first, st.first_in_bed, st.last_in_bed, coalesce(n.n, 0), n.first
FROM sums s
LEFT JOIN refs r ON r.day = s.day AND r.device_serial = s.device_serial AND r.kind = s.kind
LEFT JOIN states st ON s.kind = 'mattress' AND st.day = s.day AND st.device_serial = s.device_serial
LEFT JOIN nights n ON s.kind = 'mattress' AND n.day = s.day AND n.device_serial = s.device_serial
"""
"""The daily rows of local days `:days` (their hours within [`:lo`, `:hi`)) from the hourly rollup: sums, the
distinct check-in residents, and per mattress the day's first sample (time, in bed or not), its last state, and
the night bed exits whose previous sample lies on the same day (at the start of an hour from the hourly states,
inside an hour from the raw samples of that hour); an exit at the day's first sample is the reader's to decide,
from the previous day's last state."""


def refresh_daily(session: Session, days: list[date] | None) -> int:
    """Rebuild `rollup_telemetry_daily` for local `days` from `rollup_telemetry_hourly` (all days when None);
    returns how many days were rebuilt. The caller records the refresh in `rollup_state` ('telemetry_daily')."""
    if days is None:
        session.execute(text("DELETE FROM rollup_telemetry_daily"))
        bounds = session.execute(text("SELECT min(bucket), max(bucket) FROM rollup_telemetry_hourly")).one()
        if bounds[0] is None:
            return 0
        first, last = local_day(bounds[0]), local_day(bounds[1])
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if not days:
        return 0
    params = {"days": days, "lo": _midnight(min(days)), "hi": _midnight(max(days) + timedelta(days=1))}
    session.execute(text("DELETE FROM rollup_telemetry_daily WHERE day = ANY(:days)"), params)
    session.execute(text(DAILY_FROM_HOURLY), params)
    return len(days)


def local_day(moment: datetime) -> date:
    """The local (Asia/Shanghai) day of an instant."""
    return moment.astimezone(LOCAL_TIMEZONE).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE)


def telemetry_watermark(session: Session) -> datetime | None:
    """The hour before which `rollup_telemetry_hourly` is complete, None before its first refresh (then the
    monitor reads raw rows only).

    On PostgreSQL: the start of the hour of the last refresh (`rollup_state`; samples arriving late for earlier
    hours are caught by the next refresh, from the `rollup_telemetry_stale` hours a trigger logs). On TimescaleDB
    the continuous aggregate answers the hours above its own watermark from raw rows itself (real-time
    aggregation): the whole relation is read (`FAR_FUTURE`); a late sample shows once the policy refreshed its
    hour.
    """
    kind = session.execute(
        text(
            "SELECT relkind FROM pg_class"
            " WHERE relname = 'rollup_telemetry_hourly' AND relnamespace = 'public'::regnamespace"
        )
    ).scalar()
    if kind == "v":
        return FAR_FUTURE
    refreshed = session.execute(
        text(
            f"SELECT date_bin(INTERVAL '1 hour', refreshed_at, {ORIGIN})"
            " FROM rollup_state WHERE rollup = 'telemetry_hourly'"
        )
    ).scalar()
    return refreshed if isinstance(refreshed, datetime) else None


def daily_watermark(session: Session) -> date | None:
    """The local day before which `rollup_telemetry_daily` is complete: the day of its last refresh (None before
    the first)."""
    refreshed = session.execute(text("SELECT refreshed_at FROM rollup_state WHERE rollup = 'telemetry_daily'")).scalar()
    return local_day(refreshed) if isinstance(refreshed, datetime) else None


def on_the_hour(moment: datetime) -> bool:
    """Whether an instant starts an hour (the rollup's grain)."""
    return moment.minute == 0 and moment.second == 0 and moment.microsecond == 0


def facts(source: Source, watermark: datetime | None) -> str:
    """The hourly facts of the terminals `:serials` in [`:lo`, `:end`) (hour-aligned) as a parenthesized relation:
    from raw rows (`source="raw"`, or no watermark yet), else the rollup's rows before `watermark` and raw rows
    from it on. Binds `:serials`, `:lo`, `:end` and, when both parts are read, `:watermark`."""
    raw_where = "t.device_serial = ANY(:serials) AND t.time >= :lo AND t.time < :end"
    if source == "raw" or watermark is None:
        return f"({TELEMETRY_FACTS.format(where=raw_where)})"
    rollup = (
        f"SELECT {COLUMNS} FROM rollup_telemetry_hourly"
        " WHERE device_serial = ANY(:serials) AND bucket >= :lo AND bucket < :end"
    )
    if watermark >= FAR_FUTURE:
        return f"({rollup})"
    after = TELEMETRY_FACTS.format(where=raw_where + " AND t.time >= :watermark")
    return f"({rollup} AND bucket < :watermark UNION ALL {after})"


# --- the monitor's reads: daily rows for whole days before the daily watermark, hourly facts after -------------

_DAILY = "FROM rollup_telemetry_daily d WHERE d.device_serial = ANY(:serials) AND d.day >= :first AND d.day < :split"

FEEDS = f"""
    SELECT d.device_serial AS serial, d.kind, d.day, d.samples, d.out_of_range, d.out_of_range_first AS since,
           d.smoke, d.smoke_first AS smoke_since
    {_DAILY} AND d.kind IN ('vitals', 'room', 'checkin')
    UNION ALL
    SELECT f.device_serial, f.kind, (f.bucket AT TIME ZONE '{LOCAL}')::date,
           sum(f.samples), sum(f.out_of_range), min(f.out_of_range_first), sum(f.smoke), min(f.smoke_first)
    FROM {{facts}} f
    WHERE f.kind IN ('vitals', 'room', 'checkin')
    GROUP BY 1, 2, 3
"""

CHECKIN_REFS = f"""
    SELECT y.serial, array_agg(y.ref) AS refs
    FROM (SELECT DISTINCT x.serial, r.ref
          FROM (SELECT d.device_serial AS serial, d.residents {_DAILY} AND d.kind = 'checkin'
                UNION ALL
                SELECT f.device_serial, f.residents FROM {{facts}} f WHERE f.kind = 'checkin') x
          CROSS JOIN LATERAL unnest(x.residents) AS r(ref)) y
    GROUP BY 1
"""

BED_EXITS = f"""
    WITH seg AS (
        SELECT d.device_serial, CAST(d.day AS timestamp) AT TIME ZONE '{LOCAL}' AS bucket, d.bed_first AS first_at,
               d.first_in_bed AS first_in, d.last_in_bed AS last_in, d.night_exits AS exits,
               d.night_exit_first AS exit_first, NULL::timestamptz AS in_bed_first, NULL::timestamptz AS out_of_bed_last
        {_DAILY} AND d.kind = 'mattress' AND d.bed_first IS NOT NULL
        UNION ALL
        SELECT f.device_serial, f.bucket, least(f.in_bed_first, f.out_of_bed_first), {_first_in("f")},
               {_last_in("f")}, 0, NULL, f.in_bed_first, f.out_of_bed_last
        FROM {{facts}} f
        WHERE f.kind = 'mattress' AND (f.in_bed_first IS NOT NULL OR f.out_of_bed_first IS NOT NULL)
    ), s AS (
        SELECT seg.*, lag(seg.last_in) OVER (PARTITION BY seg.device_serial ORDER BY seg.bucket) AS before FROM seg
    )
    SELECT s.device_serial AS serial, s.first_at AS time, 1 AS n FROM s
    WHERE s.bucket >= :start AND s.before AND NOT s.first_in AND {_night("s.first_at")}
    UNION ALL
    SELECT s.device_serial, s.exit_first, s.exits FROM s WHERE s.bucket >= :start AND s.exits > 0
    UNION ALL
    SELECT s.device_serial, x.time, 1 FROM s CROSS JOIN LATERAL ({_exits_inside("s")}) x
    WHERE s.bucket >= :start AND s.in_bed_first < s.out_of_bed_last AND {_night("s.bucket")}
"""
"""Night bed exits as (serial, time, n): `n` exits, the first at `time`. The sequence of whole days (daily rows)
and hours (hourly facts) of each mattress, from the day before the period: a segment whose first sample says out
of bed after a segment that ended in bed is an exit at that sample (at night); a day's own exits are on its row;
an hour's exits inside it are read from its raw samples (only night hours with a `true` before a `false`)."""


@dataclass
class Feeds:
    """What the terminals reported in the period, before it is assigned to facilities and residents."""

    vitals: list[tuple[str, date, int, int, datetime | None]] = field(default_factory=list)
    """(serial, local day, samples, out of range, first out of range)"""
    exits: list[tuple[str, datetime, int]] = field(default_factory=list)
    """(serial, time, n): `n` night bed exits, the first at `time`"""
    room: dict[str, tuple[int, int, datetime | None, int, datetime | None]] = field(default_factory=dict)
    """serial → (samples, out of range, first out of range, smoke, first smoke)"""
    checkins: list[tuple[str, date, int]] = field(default_factory=list)
    """(serial, local day, check-ins)"""
    refs: dict[str, set[str | None]] = field(default_factory=dict)
    """serial → the `resident_ref`s its check-ins named"""


def rollup_feeds(session: Session, *, serials: list[str], start: datetime, end: datetime) -> Feeds | None:
    """The feeds of [start, end) (local midnights) from the rollups: whole days before the daily watermark from
    `rollup_telemetry_daily`, the rest from the hourly facts (`facts`). None when the rollups cannot answer (never
    refreshed, or a period not on whole hours): read the raw samples instead."""
    hourly = telemetry_watermark(session)
    if hourly is None or not (on_the_hour(start) and on_the_hour(end)):
        return None
    first, last = local_day(start), local_day(end - timedelta(microseconds=1))
    days = (
        daily_watermark(session) if _midnight(first) == start and _midnight(last + timedelta(days=1)) == end else None
    )
    relation = facts("rollup", hourly)
    found = Feeds()

    def bounds(lower: date) -> dict[str, Any]:
        split = lower if days is None else min(max(days, lower), last + timedelta(days=1))
        return {"serials": serials, "first": lower, "split": split, "lo": _midnight(split), "end": end,
                "start": start, "watermark": hourly}  # fmt: skip

    room: dict[str, list[Any]] = defaultdict(list)
    for r in session.execute(text(FEEDS.format(facts=relation)), bounds(first)):
        if r.kind == "vitals":
            found.vitals.append((r.serial, r.day, int(r.samples), int(r.out_of_range), r.since))
        elif r.kind == "room":
            room[r.serial].append(r)
        else:
            found.checkins.append((r.serial, r.day, int(r.samples)))
    for serial, parts in room.items():
        since = [p.since for p in parts if p.since is not None]
        smoke_since = [p.smoke_since for p in parts if p.smoke_since is not None]
        found.room[serial] = (
            sum(int(p.samples) for p in parts),
            sum(int(p.out_of_range) for p in parts),
            min(since, default=None),
            sum(int(p.smoke) for p in parts),
            min(smoke_since, default=None),
        )
    refs = session.execute(text(CHECKIN_REFS.format(facts=relation)), bounds(first))
    found.refs = {r.serial: set(r.refs) for r in refs}
    exits = session.execute(text(BED_EXITS.format(facts=relation)), bounds(first - timedelta(days=1)))
    found.exits = sorted((r.serial, r.time, int(r.n)) for r in exits)
    return found
