"""The purchased-services monthly settlement statement (政府购买服务月度结算): hours entitled by the care plans
against hours delivered by completed service tasks, per resident × service × provider, with the EVV evidence
behind every line (docs/supervision.md, "Purchased services").

- Entitled: every care-plan version valid on some day of the month (`superseded_by IS NULL`) contributes
  `hours_per_month × days it is valid in the month / days in the month` for each service it lists.
- Delivered: completed tasks of kind `service` whose EVV start (`checked_in_at`, else `completed_at`) falls in
  the month (local days, Asia/Shanghai); hours = end − start (`completed_at − checked_in_at`), none without a
  check-in.
- Provider: the institution of the staff member the task was assigned to when it was completed, else the
  platform's own caregivers ("平台自有", `provider_id` null).
- EVV-verified: start, end, caregiver, and check-in and check-out positions all recorded, both within
  `checkin_verified_within_m` of the home.

A line is located at the resident's home; a statement covers the homes in the area (an institution-scoped
supervisor has no homes: `Scope.residents_sql`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from fastapi.responses import Response
from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.geo import haversine_m_sql
from eldercare_platform.core.clock import LOCAL_TIMEZONE, local_date
from eldercare_platform.core.exports import ExportFormat, Lang, table_response
from eldercare_platform.core.scope import Scope
from eldercare_platform.supervision.monitor_columns import STATEMENT_COLUMNS
from eldercare_platform.supervision.monitor_schemas import (
    EvidenceOut,
    Provider,
    ServicesStatement,
    StatementExceptionKind,
    StatementLine,
)
from eldercare_platform.supervision.schemas import ChildFigures, Exception_, Series, worst_first
from eldercare_platform.supervision.sections import MAX_EXCEPTIONS, plain_plans
from eldercare_platform.supervision.tier import Period, Tier
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M, distance_m

Source = Literal["rollup", "raw"]

PLATFORM_PROVIDER = "平台自有"
"""The provider of a service delivered by a caregiver of no institution (the platform's own staff)."""

OVER_ENTITLEMENT_TOLERANCE = 0.0
"""Hours delivered beyond the entitlement before it is an exception (none: any excess is reported)."""


def month_bounds(month: date) -> tuple[date, date, datetime, datetime]:
    """First and last local day of the month of `month`, and its [start, end) instants."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    start = datetime.combine(first, time(0), tzinfo=LOCAL_TIMEZONE)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL_TIMEZONE)
    return first, last, start, end


LOCATED = """
    SELECT r.id AS resident_id, r.name AS resident_name, a.id AS area_id, a.name AS area_name, a.path AS area_path,
           h.latitude AS home_latitude, h.longitude AS home_longitude
    FROM resident r
    JOIN household h ON h.id = r.household_id
    JOIN area a ON a.id = h.area_id
    WHERE a.path LIKE :area_path || '%' AND {scope}
"""

ENTITLED = """
    SELECT cp.resident_id, e->>'service' AS service, min(l.child) AS child,
           (array_agg(e->>'funder' ORDER BY cp.valid_from DESC))[1] AS funder,
           round(sum((e->>'hours_per_month')::numeric
                     * ((least(coalesce(cp.valid_to, :last_day), :last_day) - greatest(cp.valid_from, :first_day)) + 1))
                 / :days_in_month, 2) AS hours
    FROM care_plan cp
    JOIN located l ON l.resident_id = cp.resident_id
    CROSS JOIN LATERAL jsonb_array_elements(cp.services) e
    WHERE cp.superseded_by IS NULL AND cp.valid_from <= :last_day
      AND (cp.valid_to IS NULL OR cp.valid_to >= :first_day)
      AND jsonb_typeof(e->'hours_per_month') = 'number' AND {plans}
    GROUP BY cp.resident_id, e->>'service'
"""
"""Each (resident, service) entitlement of the month: Σ hours_per_month × days valid in the month, over the days in
the month, rounded to 2 places (half away from zero); with the resident's child area."""


LOCAL_TZ = "Asia/Shanghai"


def _metres(lat: str, lon: str) -> str:
    """Metres from the home (`l.home_latitude`, `l.home_longitude`): `eldercare_common.geo`'s haversine."""
    return haversine_m_sql("l.home_latitude", "l.home_longitude", lat, lon)


SESSIONS = f"""
    SELECT t.id AS task_id, t.resident_id, coalesce(t.service, 'other') AS service, s.institution_id AS provider_id,
           t.area_path AS task_area_path, t.checked_in_at, coalesce(t.checked_in_at, t.completed_at) AS moment,
           round(extract(epoch FROM t.completed_at - t.checked_in_at) / 3600, 4) AS hours,
           (t.assignee_staff_id IS NOT NULL AND t.checked_in_at IS NOT NULL AND t.completed_at IS NOT NULL
            AND coalesce({_metres("t.check_in_latitude", "t.check_in_longitude")} < :within, false)
            AND coalesce({_metres("t.check_out_latitude", "t.check_out_longitude")} < :within, false)) AS verified
    FROM task t
    JOIN located l ON l.resident_id = t.resident_id
    LEFT JOIN staff s ON s.id = t.assignee_staff_id
    WHERE t.kind = 'service' AND t.status = 'completed' AND t.area_path LIKE :area_path || '%'
      AND coalesce(t.checked_in_at, t.completed_at) >= :start AND coalesce(t.checked_in_at, t.completed_at) < :end
      AND {{task_scope}} AND {{tail}}
"""
"""Every completed service task of the month (its EVV start in the month) with its hours (4 places) and whether its
EVV is verified. `:within` is the setting + 0.05 m: a distance is compared after rounding to 0.1 m, and
round(d, 1) ≤ 200 ⟺ d < 200.05."""

NO_DIRTY = "SELECT NULL::integer AS resident_id WHERE false"
NO_KEPT = "SELECT k.* FROM rollup_statement_line k WHERE false"
NO_KEPT_ENTITLED = "SELECT NULL::integer, NULL::text, NULL::integer, NULL::text, NULL::numeric WHERE false"
"""The raw path: nothing kept, every resident's sessions and entitlements computed."""

DIRTY = """
    SELECT t.resident_id FROM task t
    WHERE t.version > :seen AND t.kind = 'service' AND t.status = 'completed' AND t.resident_id IS NOT NULL
    UNION
    SELECT s.resident_id FROM task t JOIN rollup_statement_session s ON s.task_id = t.id WHERE t.version > :seen
    UNION
    SELECT resident_id FROM rollup_statement_stale
"""
"""Residents whose kept rows may be out of date (read raw): a completed service task of theirs changed (or was
completed) since the refresh, or a task kept for them did, or a trigger logged them (migration 0020: a care plan
written, a move, the home's coordinates, a caregiver's institution)."""

KEPT = """
    SELECT k.* FROM rollup_statement_line k
    JOIN located l ON l.resident_id = k.resident_id
    WHERE k.month = :first_day AND k.area_path LIKE :area_path || '%' AND {kept_scope}
      AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.resident_id = k.resident_id)
"""
"""The month's kept lines (final sessions) of the homes in the statement, but for the dirty residents."""

KEPT_ENTITLED = """
    SELECT e.resident_id, e.service, l.child, e.funder, e.hours FROM rollup_statement_entitled e
    JOIN located l ON l.resident_id = e.resident_id
    WHERE e.month = :first_day AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.resident_id = e.resident_id)
"""
"""The month's kept entitlements of the homes in the statement, but for the dirty residents."""

DIRTY_IDS = "SELECT unnest(CAST(:dirty AS integer[])) AS resident_id"

NO_FINAL = "SELECT f.*, NULL::int AS child FROM rollup_statement_final f WHERE false"

FINAL = """
    SELECT f.*, NULLIF(split_part(f.home_path, '/', :child_field), '')::int AS child
    FROM rollup_statement_final f
    WHERE f.month = :first_day AND f.home_path LIKE :area_path || '%' AND {final_scope}
      AND NOT (f.resident_id = ANY(:raw))
"""
"""The month's final lines (migration 0021) of the homes in the statement (by the home kept with them, which a move
logs stale), but for the residents built from their kept lines and sessions (`:raw`)."""

TAIL_RESIDENTS = """
    SELECT DISTINCT t.resident_id FROM task t
    WHERE t.kind = 'service' AND t.status = 'completed' AND t.resident_id IS NOT NULL
      AND coalesce(t.checked_in_at, t.completed_at) >= :tail_from AND coalesce(t.checked_in_at, t.completed_at) < :end
"""
"""Residents with a session of the month from the refresh's local day on (not in their final lines yet)."""

RAW_ONLY = "AND r.id = ANY(:raw)"

TAIL = "coalesce(t.checked_in_at, t.completed_at) >= :horizon"
DIRTY_TAIL = "t.resident_id = ANY(:dirty) AND coalesce(t.checked_in_at, t.completed_at) < :horizon"
"""The sessions read raw on the rollup path: from the refresh's local day on (by the EVV start's index), and the
earlier ones of the dirty residents (by resident)."""

LINE_ORDER = """x.area_path COLLATE "C", x.resident_name COLLATE "C", x.resident_id, x.service COLLATE "C",
             coalesce(x.provider_name, '') COLLATE "C", coalesce(x.provider_id, 0)"""
"""The lines' order (the page's, and its lines' in the answer: the join that adds their area does not keep it)."""

STATEMENT = f"""
WITH located AS MATERIALIZED (
    SELECT r.id AS resident_id, r.name AS resident_name, h.area_id, a.path AS area_path,
           h.latitude AS home_latitude, h.longitude AS home_longitude,
           NULLIF(split_part(a.path, '/', :child_field), '')::int AS child
    FROM resident r
    JOIN household h ON h.id = r.household_id
    JOIN area a ON a.id = h.area_id
    WHERE a.path LIKE :area_path || '%' AND {{scope}} {{raw_only}}
),
dirty AS MATERIALIZED ({{dirty}}),
kept AS MATERIALIZED ({{kept}}),
entitled AS MATERIALIZED ({ENTITLED} UNION ALL {{kept_entitled}}),
sessions AS MATERIALIZED ({SESSIONS} {{more_sessions}}),
delivered AS MATERIALIZED (
    SELECT x.resident_id, x.service, x.provider_id, false AS undelivered, sum(x.sessions) AS sessions,
           round(coalesce(sum(x.hours), 0), 2) AS hours, sum(x.verified) AS verified, sum(x.unverified) AS unverified,
           min(x.unverified_since) AS unverified_since, min(x.since) AS since
    FROM (SELECT k.resident_id, k.service, k.provider_id, k.sessions, k.hours, k.verified, k.unverified,
                 k.unverified_since, k.since
          FROM kept k
          UNION ALL
          SELECT s.resident_id, s.service, s.provider_id, 1, s.hours, s.verified::int, (NOT s.verified)::int,
                 CASE WHEN NOT s.verified THEN s.moment END, s.moment
          FROM sessions s) x
    GROUP BY 1, 2, 3
),
built AS MATERIALIZED (
    SELECT x.*, l.resident_name, l.area_id, l.area_path, l.child,
           CASE WHEN x.undelivered THEN NULL WHEN x.provider_id IS NULL THEN :platform ELSE i.name END AS provider_name
    FROM (SELECT * FROM delivered
          UNION ALL
          SELECT e.resident_id, e.service, NULL, true, 0, 0, 0, 0, NULL, NULL
          FROM entitled e
          WHERE NOT EXISTS (SELECT 1 FROM delivered d WHERE d.resident_id = e.resident_id AND d.service = e.service)
         ) x
    JOIN located l ON l.resident_id = x.resident_id
    LEFT JOIN institution i ON i.id = x.provider_id
),
final AS MATERIALIZED ({{final}}),
lines AS MATERIALIZED (
    SELECT b.resident_id, b.service, b.provider_id, b.undelivered, b.sessions, b.hours, b.verified, b.unverified,
           b.unverified_since, b.since, b.resident_name, b.area_id, b.area_path, b.child, b.provider_name,
           NULL::text AS kept_funder, NULL::numeric AS kept_entitled
    FROM built b
    UNION ALL
    SELECT f.resident_id, f.service, f.provider_id, f.undelivered, f.sessions, f.hours, f.verified, f.unverified,
           f.unverified_since, f.since, f.resident_name, f.home_area_id, f.home_path, f.child,
           CASE WHEN f.undelivered THEN NULL WHEN f.provider_id IS NULL THEN :platform ELSE i.name END,
           f.funder, f.entitled
    FROM final f
    LEFT JOIN institution i ON i.id = f.provider_id
),
figures AS (
    SELECT GROUPING(r.child) = 1 AS is_total, r.child, count(*) AS residents, sum(r.lines) AS lines,
           sum(r.hours) AS hours_delivered, sum(r.sessions) AS sessions, sum(r.verified) AS evv_verified_sessions
    FROM (SELECT x.resident_id, min(x.child) AS child, count(*) AS lines, sum(x.hours) AS hours,
                 sum(x.sessions) AS sessions, sum(x.verified) AS verified
          FROM lines x GROUP BY 1) r
    GROUP BY GROUPING SETS ((r.child), ())
),
entitlements AS (
    SELECT GROUPING(e.child) = 1 AS is_total, e.child, sum(e.hours) AS hours_entitled
    FROM (SELECT e.child, e.hours FROM entitled e
          UNION ALL
          SELECT f.child, f.entitled FROM final f WHERE f.pair_first AND f.entitled IS NOT NULL) e
    GROUP BY GROUPING SETS ((e.child), ())
),
pairs AS (
    SELECT p.resident_id, l.resident_name, l.area_id, p.service, p.hours, p.sessions, p.since,
           coalesce(e.hours, 0) AS due
    FROM (SELECT d.resident_id, d.service, sum(d.hours) AS hours, sum(d.sessions) AS sessions, min(d.since) AS since
          FROM delivered d GROUP BY 1, 2) p
    JOIN located l ON l.resident_id = p.resident_id
    LEFT JOIN entitled e ON e.resident_id = p.resident_id AND e.service = p.service
    UNION ALL
    SELECT f.resident_id, f.resident_name, f.home_area_id, f.service, f.pair_hours, f.pair_sessions, f.pair_since,
           coalesce(f.entitled, 0)
    FROM final f WHERE f.pair_first
),
findings AS (
    SELECT 'evv_unverified' AS kind, 2 AS severity, x.resident_id, x.resident_name, x.area_id, x.service,
           x.provider_name, x.unverified, x.sessions, NULL::numeric AS hours, NULL::numeric AS due,
           x.unverified_since AS since, x.provider_id,
           x.resident_name || ' · ' || x.service || ' · ' || x.provider_name AS subject
    FROM lines x WHERE x.unverified > 0
    UNION ALL
    SELECT 'over_entitlement', 2, p.resident_id, p.resident_name, p.area_id, p.service, NULL, NULL, p.sessions,
           p.hours, p.due, p.since, NULL, p.resident_name || ' · ' || p.service
    FROM pairs p WHERE p.hours > p.due + CAST(:tolerance AS numeric) AND p.sessions > 0
    UNION ALL
    SELECT 'not_delivered', 3, x.resident_id, x.resident_name, x.area_id, x.service, NULL, NULL, 0, 0, x.due,
           NULL, NULL, x.resident_name || ' · ' || x.service
    FROM (SELECT x.*, coalesce(e.hours, x.kept_entitled) AS due
          FROM lines x LEFT JOIN entitled e ON e.resident_id = x.resident_id AND e.service = x.service
          WHERE x.undelivered) x
    WHERE :month_over AND x.due > 0
),
worst AS (
    SELECT f.* FROM findings f
    ORDER BY f.severity, f.since NULLS LAST, f.subject COLLATE "C", f.kind COLLATE "C"
    LIMIT :findings
),
page AS (
    SELECT x.* FROM lines x
    ORDER BY {LINE_ORDER}
    LIMIT :limit OFFSET :offset
)
SELECT
    (SELECT jsonb_agg(to_jsonb(f)) FROM figures f) AS figures,
    (SELECT jsonb_agg(to_jsonb(e)) FROM entitlements e) AS entitlements,
    (SELECT jsonb_agg(jsonb_build_array(d.day, d.hours))
     FROM (SELECT y.day, sum(y.hours) AS hours
           FROM (SELECT unnest(k.days) AS day, unnest(k.day_hours) AS hours FROM kept k
                 UNION ALL
                 SELECT unnest(f.days), unnest(f.day_hours) FROM final f
                 UNION ALL
                 SELECT (x.moment AT TIME ZONE '{LOCAL_TZ}')::date, x.hours FROM sessions x WHERE x.hours IS NOT NULL
                ) y GROUP BY 1) d) AS series,
    (SELECT jsonb_agg(to_jsonb(w) || jsonb_build_object('task_id', u.task_id))
     FROM worst w
     LEFT JOIN (SELECT DISTINCT ON (s.resident_id, s.service, s.provider_id) s.resident_id, s.service,
                       s.provider_id, s.task_id
                FROM (SELECT k.resident_id, k.service, k.provider_id, k.first_unverified_task AS task_id,
                             k.first_unverified_at AS checked_in_at
                      FROM kept k WHERE k.first_unverified_task IS NOT NULL
                      UNION ALL
                      SELECT f.resident_id, f.service, f.provider_id, f.first_unverified_task, f.first_unverified_at
                      FROM final f WHERE f.first_unverified_task IS NOT NULL
                      UNION ALL
                      SELECT s.resident_id, s.service, s.provider_id, s.task_id, s.checked_in_at
                      FROM sessions s WHERE NOT s.verified) s
                ORDER BY s.resident_id, s.service, s.provider_id, s.checked_in_at NULLS LAST, s.task_id) u
       ON w.kind = 'evv_unverified' AND u.resident_id = w.resident_id AND u.service = w.service
      AND u.provider_id IS NOT DISTINCT FROM w.provider_id) AS findings,
    (SELECT count(*) FROM lines) AS lines_total,
    (SELECT jsonb_agg(to_jsonb(x) || jsonb_build_object('area_name', a.name,
                                                         'funder', coalesce(e.funder, x.kept_funder),
                                                         'hours_entitled', coalesce(e.hours, x.kept_entitled, 0))
                      ORDER BY {LINE_ORDER})
     FROM page x
     JOIN area a ON a.id = x.area_id
     LEFT JOIN entitled e ON e.resident_id = x.resident_id AND e.service = x.service) AS page
"""
"""The whole statement in one pass over the month's service tasks: figures of the area and of each child (GROUPING
SETS), entitlements, hours per day, the worst `:findings` findings (the order of `worst_first`: severity, the
oldest, subject — names in code-point order, as Python compares them), the number of lines and one page of lines
(in the lines' order: area path, resident name, resident, service, provider)."""

EVIDENCE = f"""
    SELECT t.id AS task_id, t.resident_id, coalesce(t.service, 'other') AS service, s.institution_id AS provider_id,
           t.assignee_staff_id AS staff_id, s.name AS staff_name, t.checked_in_at, t.completed_at,
           round(extract(epoch FROM t.completed_at - t.checked_in_at) / 3600, 4) AS hours,
           t.check_in_latitude, t.check_in_longitude, t.check_out_latitude, t.check_out_longitude,
           h.latitude AS home_latitude, h.longitude AS home_longitude, x.verified
    FROM ({SESSIONS}) x
    JOIN task t ON t.id = x.task_id
    JOIN resident r ON r.id = t.resident_id
    JOIN household h ON h.id = r.household_id
    LEFT JOIN staff s ON s.id = t.assignee_staff_id
    ORDER BY t.checked_in_at NULLS LAST, t.id
"""
"""The EVV records of a page's lines (`located` restricted to their residents)."""


@dataclass
class Evidence:
    """One completed service task behind a line: its EVV record."""

    task_id: int
    date: date | None
    staff_id: int | None
    staff_name: str | None
    start: datetime | None
    end: datetime | None
    hours: float | None
    check_in_distance_m: float | None
    check_out_distance_m: float | None
    verified: bool


@dataclass
class Line:
    """A settlement line: one resident, one service, one provider (none for an entitlement nobody delivered)."""

    resident_id: int
    resident_name: str
    area_id: int
    area_name: str
    area_path: str
    service: str
    funder: str | None
    provider_id: int | None
    provider_name: str | None
    hours_entitled: float
    hours_delivered: float = 0.0
    sessions: int = 0
    evv_verified_sessions: int = 0
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def evv_verified_share(self) -> float | None:
        """Verified sessions / sessions (None without sessions)."""
        return None if self.sessions == 0 else round(self.evv_verified_sessions / self.sessions, 4)


@dataclass
class Finding:
    """An exception of the statement (mapped onto the common `exceptions` shape by the views)."""

    kind: str
    severity: int
    area_id: int
    subject: str
    message: str
    since: datetime | None
    resident_id: int
    task_ids: list[int]


@dataclass
class Statement:
    """A month's statement: the figures of the area (`totals`) and of each child area, hours per local day, the
    findings, how many lines there are, one page of lines (all of them without a limit) and the entitlement of
    each (resident, service) pair of those lines."""

    first_day: date
    last_day: date
    lines: list[Line]
    entitled: dict[tuple[int, str], float]
    totals: dict[str, float | int | None] = field(default_factory=dict)
    children: dict[int, dict[str, float | int | None]] = field(default_factory=dict)
    hours_per_day: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    lines_total: int = 0


def _evidence(row: Any) -> Evidence:
    """A session's EVV record (hours and `verified` as the statement's SQL computed them)."""
    moment = row.checked_in_at or row.completed_at
    return Evidence(
        task_id=int(row.task_id),
        date=None if moment is None else local_date(moment),
        staff_id=row.staff_id,
        staff_name=row.staff_name,
        start=row.checked_in_at,
        end=row.completed_at,
        hours=None if row.hours is None else float(row.hours),
        check_in_distance_m=distance_m(
            row.home_latitude, row.home_longitude, row.check_in_latitude, row.check_in_longitude
        ),
        check_out_distance_m=distance_m(
            row.home_latitude, row.home_longitude, row.check_out_latitude, row.check_out_longitude
        ),
        verified=bool(row.verified),
    )


def _shape(values: dict[str, Any], hours_entitled: Any) -> dict[str, float | int | None]:
    """A figures row from the SQL sums (`figures`' keys and rounding)."""
    entitled = round(float(hours_entitled or 0), 2)
    delivered = round(float(values.get("hours_delivered") or 0), 2)
    sessions = int(values.get("sessions") or 0)
    verified = int(values.get("evv_verified_sessions") or 0)
    return {
        "residents": int(values.get("residents") or 0),
        "lines": int(values.get("lines") or 0),
        "hours_entitled": entitled,
        "hours_delivered": delivered,
        "delivered_share": None if entitled == 0 else round(delivered / entitled, 4),
        "sessions": sessions,
        "evv_verified_sessions": verified,
        "evv_verified_share": None if sessions == 0 else round(verified / sessions, 4),
    }


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class StatementRollupState:
    """What the last statement refresh saw: the task version and the start of its local day (the sessions before
    it are kept)."""

    seen: int
    horizon: datetime


def within_mm(within_m: float) -> int:
    """`checkin_verified_within_m` as kept in `rollup_state` (whole millimetres)."""
    return round(within_m * 1000)


def statement_rollup_state(session: Session, *, month: date, within_m: float) -> StatementRollupState | None:
    """The rollup's state if it keeps `month` with the same EVV distance, else None (read raw)."""
    row = session.execute(
        text(
            "SELECT s.seen_version, s.refreshed_at, w.seen_version AS within_mm FROM rollup_state s"
            " JOIN rollup_state w ON w.rollup = 'statement_within' WHERE s.rollup = 'statement'"
            " AND EXISTS (SELECT 1 FROM rollup_statement_month m WHERE m.month = :month)"
        ),
        {"month": month.replace(day=1)},
    ).first()
    if row is None or row.refreshed_at is None or row.within_mm != within_mm(within_m):
        return None
    day = local_date(row.refreshed_at)
    return StatementRollupState(
        seen=int(row.seen_version or 0), horizon=datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE)
    )


def statement(
    session: Session,
    *,
    scope: Scope,
    area_path: str,
    month: date,
    verified_within_m: float = VERIFIED_WITHIN_M,
    month_over: bool = True,
    limit: int | None = None,
    offset: int = 0,
    source: Source = "rollup",
) -> Statement:
    """The statement of the homes under `area_path` (already checked to be in scope) for a month: figures,
    findings (`not_delivered` only when `month_over`), and the lines `offset` … `offset + limit` (all without a
    limit) with their evidence."""
    plain_plans(session)
    first, last, start, end = month_bounds(month)
    located = LOCATED.format(scope=scope.home_sql("r", "a.path"))
    params: dict[str, Any] = {
        **scope.params,
        "area_path": area_path,
        "first_day": first,
        "last_day": last,
        "days_in_month": (last - first).days + 1,
        "start": start,
        "end": end,
        "platform": PLATFORM_PROVIDER,
        "within": verified_within_m + 0.05,
        "child_field": area_path.count("/") + 1,
        "month_over": month_over,
        "findings": MAX_EXCEPTIONS,
        "tolerance": OVER_ENTITLEMENT_TOLERANCE,
        "limit": limit,
        "offset": offset,
    }
    task_scope = scope.path_sql("t.area_path")
    kept = None if source == "raw" else statement_rollup_state(session, month=first, within_m=verified_within_m)
    if kept is None:
        pieces = {
            "dirty": NO_DIRTY,
            "kept": NO_KEPT,
            "kept_entitled": NO_KEPT_ENTITLED,
            "plans": "true",
            "tail": "true",
            "more_sessions": "",
            "final": NO_FINAL,
            "raw_only": "",
        }
    else:
        dirty = list(session.execute(text(DIRTY), {"seen": kept.seen}).scalars())
        params |= {"horizon": kept.horizon, "dirty": dirty}
        # Built from the kept lines and sessions as on the raw path: the dirty residents, those with a session of
        # the month since the refresh, those with a session kept where their home is not (0021's `mixed`).
        raw = {*dirty}
        if end > kept.horizon:
            tail = {"tail_from": max(start, kept.horizon), "end": end}
            raw.update(session.execute(text(TAIL_RESIDENTS), tail).scalars())
        raw.update(
            session.execute(
                text("SELECT resident_id FROM rollup_statement_mixed WHERE month = :first_day"), {"first_day": first}
            ).scalars()
        )
        params["raw"] = sorted(raw)
        pieces = {
            "dirty": DIRTY_IDS,
            "kept": KEPT.format(kept_scope=scope.path_sql("k.area_path")),
            "kept_entitled": KEPT_ENTITLED,
            "plans": "cp.resident_id = ANY(:dirty)",
            "tail": TAIL,
            "more_sessions": "UNION ALL " + SESSIONS.format(task_scope=task_scope, tail=DIRTY_TAIL),
            "final": FINAL.format(final_scope=scope.home_sql("f", "f.home_path")),
            "raw_only": RAW_ONLY,
        }
    sql = STATEMENT.format(scope=scope.home_sql("r", "a.path"), task_scope=task_scope, **pieces)
    row = session.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql}).one()
    entitled_by = {(e["is_total"], e["child"]): e["hours_entitled"] for e in row.entitlements or []}
    st = Statement(first_day=first, last_day=last, lines=[], entitled={}, lines_total=int(row.lines_total))
    st.totals = _shape({}, entitled_by.get((True, None)))
    for f in row.figures or []:
        values = _shape(f, entitled_by.get((f["is_total"], f["child"])))
        if f["is_total"]:
            st.totals = values
        elif f["child"] is not None:
            st.children[int(f["child"])] = values
    for (is_total, child), hours in entitled_by.items():
        if not is_total and child is not None and child not in st.children:
            st.children[int(child)] = _shape({}, hours)
    st.hours_per_day = {day: round(float(hours), 2) for day, hours in row.series or []}
    st.findings = [_finding(f) for f in row.findings or []]
    st.lines = _page(session, row.page or [], located=located, task_scope=task_scope, params=params)
    st.entitled = {(line.resident_id, line.service): line.hours_entitled for line in st.lines}
    return st


def _page(
    session: Session, rows: list[dict[str, Any]], *, located: str, task_scope: str, params: dict[str, Any]
) -> list[Line]:
    """The page's lines with the evidence of each (its sessions in EVV order)."""
    lines: dict[tuple[int, str, int | None, bool], Line] = {}
    for r in rows:
        key = (int(r["resident_id"]), str(r["service"]), r["provider_id"], r["provider_name"] is None)
        lines[key] = Line(
            resident_id=key[0],
            resident_name=r["resident_name"],
            area_id=int(r["area_id"]),
            area_name=r["area_name"],
            area_path=r["area_path"],
            service=key[1],
            funder=r["funder"],
            provider_id=r["provider_id"],
            provider_name=r["provider_name"],
            hours_entitled=round(float(r["hours_entitled"]), 2),
            hours_delivered=round(float(r["hours"]), 2),
            sessions=int(r["sessions"]),
            evv_verified_sessions=int(r["verified"]),
        )
    served = sorted({line.resident_id for line in lines.values() if line.sessions})
    if served:
        # By resident (`ix_task_resident_window`), not by EVV start: a page's residents, not the whole month.
        scoped = f"{task_scope} AND t.resident_id = ANY(:served)"
        sql = f"WITH located AS ({located} AND r.id = ANY(:served)) {EVIDENCE.format(task_scope=scoped, tail='true')}"
        bound = {**params, "served": served}
        for session_row in session.execute(text(sql), {k: v for k, v in bound.items() if f":{k}" in sql}):
            key = (int(session_row.resident_id), str(session_row.service), session_row.provider_id, False)
            if (line := lines.get(key)) is not None:
                line.evidence.append(_evidence(session_row))
    return list(lines.values())


def _finding(row: dict[str, Any]) -> Finding:
    """A finding from its row: sessions without verified EVV (severity 2), more hours delivered than entitled (2),
    an entitlement nobody delivered (3; only once the month is over)."""
    kind = StatementExceptionKind(row["kind"])
    if kind is StatementExceptionKind.EVV_UNVERIFIED:
        message = f"{row['unverified']}/{row['sessions']} sessions without verified EVV"
    else:
        hours, due = round(float(row["hours"]), 2), round(float(row["due"]), 2)
        message = f"{hours:g} h delivered, {due:g} h entitled"
    return Finding(
        kind=kind,
        severity=int(row["severity"]),
        area_id=int(row["area_id"]),
        subject=row["subject"],
        message=message,
        since=_instant(row["since"]),
        resident_id=int(row["resident_id"]),
        task_ids=[] if row["task_id"] is None else [int(row["task_id"])],
    )


def figures(lines: list[Line], entitled: dict[tuple[int, str], float]) -> dict[str, float | int | None]:
    """The statement's figures over some lines: each (resident, service) entitlement counted once."""
    pairs = {(line.resident_id, line.service) for line in lines}
    hours_entitled = round(sum(entitled.get(pair, 0.0) for pair in pairs), 2)
    hours_delivered = round(sum(line.hours_delivered for line in lines), 2)
    sessions = sum(line.sessions for line in lines)
    verified = sum(line.evv_verified_sessions for line in lines)
    return {
        "residents": len({line.resident_id for line in lines}),
        "lines": len(lines),
        "hours_entitled": hours_entitled,
        "hours_delivered": hours_delivered,
        "delivered_share": None if hours_entitled == 0 else round(hours_delivered / hours_entitled, 4),
        "sessions": sessions,
        "evv_verified_sessions": verified,
        "evv_verified_share": None if sessions == 0 else round(verified / sessions, 4),
    }


# --- the section (common shape) ----------------------------------------------------------------------------


def _evidence_out(e: Evidence) -> EvidenceOut:
    return EvidenceOut(**e.__dict__)


def _line_out(line: Line) -> StatementLine:
    provider = (
        None if line.provider_name is None else Provider(institution_id=line.provider_id, name=line.provider_name)
    )
    return StatementLine(
        resident_id=line.resident_id,
        resident_name=line.resident_name,
        area_id=line.area_id,
        area_name=line.area_name,
        service=line.service,
        funder=line.funder,
        provider=provider,
        hours_entitled=line.hours_entitled,
        hours_delivered=line.hours_delivered,
        sessions=line.sessions,
        evv_verified_sessions=line.evv_verified_sessions,
        evv_verified_share=line.evv_verified_share,
        evidence=[_evidence_out(e) for e in line.evidence],
    )


def services_statement(
    session: Session,
    *,
    tier: Tier,
    period: Period,
    now: datetime,
    verified_within_m: float = VERIFIED_WITHIN_M,
    limit: int | None = None,
    offset: int = 0,
    source: Source = "rollup",
) -> ServicesStatement:
    """The settlement statement of the tier's homes for the month `period` covers (a `month_period`): the figures
    over every line, and the lines `offset` … `offset + limit` (all without a limit) with their evidence."""
    st = statement(
        session,
        scope=tier.scope,
        area_path=tier.area.path,
        month=period.first,
        verified_within_m=verified_within_m,
        month_over=month_bounds(period.first)[1] < local_date(now),
        limit=limit,
        offset=offset,
        source=source,
    )
    empty = _shape({}, 0)
    children = [ChildFigures(area=child, figures=st.children.get(child.id, empty)) for child in tier.children]
    series = [
        Series(
            key="hours_delivered",
            points=[(d.isoformat(), st.hours_per_day.get(d.isoformat(), 0.0)) for d in period.days],
        )
    ]
    links: dict[str, str] = {StatementExceptionKind.EVV_UNVERIFIED: "/api/tasks/{task}/evv"}
    exceptions = [
        Exception_(
            kind=f.kind,
            severity=f.severity,
            area_id=f.area_id,
            subject=f.subject,
            message=f.message,
            since=f.since,
            link=links[f.kind].format(task=f.task_ids[0]) if f.kind in links and f.task_ids else None,
        )
        for f in st.findings
    ]
    return ServicesStatement(
        section="services",
        area=tier.area,
        from_=st.first_day,
        to=st.last_day,
        generated_at=now,
        totals=st.totals,
        children=children,
        series=series,
        exceptions=worst_first(exceptions)[:MAX_EXCEPTIONS],
        month=st.first_day.strftime("%Y-%m"),
        lines_total=st.lines_total,
        lines=[_line_out(line) for line in st.lines],
    )


def statement_rows(st: ServicesStatement, *, lang: Lang = "zh") -> list[dict[str, Any]]:
    """The lines as table rows, then a totals row (entitlements counted once per resident and service)."""
    rows: list[dict[str, Any]] = []
    for line in st.lines:
        row = line.model_dump(exclude={"evidence", "provider"})
        row["provider"] = None if line.provider is None else line.provider.name
        row["evidence"] = " ".join(str(e.task_id) for e in line.evidence)
        rows.append(row)
    label = "合计" if lang == "zh" else "Total"
    rows.append({"area_name": f"{st.area.name}（{label}）", **st.totals})
    return rows


def export_statement(st: ServicesStatement, fmt: ExportFormat, *, lang: Lang = "zh") -> Response:
    """The statement's lines (and a totals row) as CSV or XLSX."""
    return table_response(
        statement_rows(st, lang=lang),
        STATEMENT_COLUMNS,
        fmt,
        filename=f"supervision-services-statement-{st.area.id}-{st.month}",
        lang=lang,
        sheet=f"services {st.month}",
    )
