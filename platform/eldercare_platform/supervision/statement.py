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
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi.responses import Response
from sqlalchemy import text
from sqlmodel import Session

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
from eldercare_platform.supervision.sections import plain_plans
from eldercare_platform.supervision.tier import Period, Tier
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M, distance_m

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
WITH located AS ({located})
SELECT cp.resident_id, e->>'service' AS service,
       (array_agg(e->>'funder' ORDER BY cp.valid_from DESC))[1] AS funder,
       sum((e->>'hours_per_month')::numeric
           * ((least(coalesce(cp.valid_to, :last_day), :last_day) - greatest(cp.valid_from, :first_day)) + 1)
           / :days_in_month) AS hours
FROM care_plan cp
JOIN located l ON l.resident_id = cp.resident_id
CROSS JOIN LATERAL jsonb_array_elements(cp.services) e
WHERE cp.superseded_by IS NULL AND cp.valid_from <= :last_day AND (cp.valid_to IS NULL OR cp.valid_to >= :first_day)
  AND jsonb_typeof(e->'hours_per_month') = 'number'
GROUP BY cp.resident_id, e->>'service'
"""

DELIVERED = """
WITH located AS ({located})
SELECT t.id AS task_id, t.resident_id, coalesce(t.service, 'other') AS service, t.assignee_staff_id AS staff_id,
       s.name AS staff_name, s.institution_id, i.name AS institution_name,
       t.checked_in_at, t.completed_at,
       t.check_in_latitude, t.check_in_longitude, t.check_out_latitude, t.check_out_longitude,
       l.home_latitude, l.home_longitude
FROM task t
JOIN located l ON l.resident_id = t.resident_id
LEFT JOIN staff s ON s.id = t.assignee_staff_id
LEFT JOIN institution i ON i.id = s.institution_id
WHERE t.kind = 'service' AND t.status = 'completed' AND t.area_path LIKE :area_path || '%'
  AND coalesce(t.checked_in_at, t.completed_at) >= :start AND coalesce(t.checked_in_at, t.completed_at) < :end
  AND {task_scope}
ORDER BY t.checked_in_at NULLS LAST, t.id
"""


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
class Statement:
    """The lines of a month and the entitlement of each (resident, service) pair, counted once."""

    first_day: date
    last_day: date
    lines: list[Line]
    entitled: dict[tuple[int, str], float]


def _evidence(row: Any, verified_within_m: float) -> Evidence:
    d_in = distance_m(row.home_latitude, row.home_longitude, row.check_in_latitude, row.check_in_longitude)
    d_out = distance_m(row.home_latitude, row.home_longitude, row.check_out_latitude, row.check_out_longitude)
    hours = None
    if row.checked_in_at is not None and row.completed_at is not None:
        hours = round((row.completed_at - row.checked_in_at).total_seconds() / 3600, 4)
    verified = (
        hours is not None
        and row.staff_id is not None
        and d_in is not None
        and d_out is not None
        and d_in <= verified_within_m
        and d_out <= verified_within_m
    )
    moment = row.checked_in_at or row.completed_at
    return Evidence(
        task_id=int(row.task_id),
        date=None if moment is None else local_date(moment),
        staff_id=row.staff_id,
        staff_name=row.staff_name,
        start=row.checked_in_at,
        end=row.completed_at,
        hours=hours,
        check_in_distance_m=d_in,
        check_out_distance_m=d_out,
        verified=verified,
    )


def statement(
    session: Session,
    *,
    scope: Scope,
    area_path: str,
    month: date,
    verified_within_m: float = VERIFIED_WITHIN_M,
) -> Statement:
    """The settlement lines of the homes under `area_path` (already checked to be in scope) for a month."""
    plain_plans(session)
    first, last, start, end = month_bounds(month)
    located = LOCATED.format(scope=scope.residents_sql("r"))
    params: dict[str, Any] = {
        **scope.params,
        "area_path": area_path,
        "first_day": first,
        "last_day": last,
        "days_in_month": (last - first).days + 1,
        "start": start,
        "end": end,
    }
    people = {
        row.resident_id: row
        for row in session.execute(text(located), {k: v for k, v in params.items() if f":{k}" in located})
    }
    entitled: dict[tuple[int, str], float] = {}
    funders: dict[tuple[int, str], str | None] = {}
    for row in session.execute(text(ENTITLED.format(located=located)), params):
        key = (int(row.resident_id), str(row.service))
        entitled[key] = round(float(row.hours), 2)
        funders[key] = row.funder
    lines: dict[tuple[int, str, int | None, bool], Line] = {}

    def line_for(resident_id: int, service: str, provider_id: int | None, provider_name: str | None) -> Line:
        person = people[resident_id]
        key = (resident_id, service, provider_id, provider_name is None)
        if key not in lines:
            lines[key] = Line(
                resident_id=resident_id,
                resident_name=person.resident_name,
                area_id=person.area_id,
                area_name=person.area_name,
                area_path=person.area_path,
                service=service,
                funder=funders.get((resident_id, service)),
                provider_id=provider_id,
                provider_name=provider_name,
                hours_entitled=entitled.get((resident_id, service), 0.0),
            )
        return lines[key]

    delivered = DELIVERED.format(located=located, task_scope=scope.path_sql("t.area_path"))
    served: set[tuple[int, str]] = set()
    for row in session.execute(text(delivered), params):
        provider_name = row.institution_name if row.institution_id is not None else PLATFORM_PROVIDER
        line = line_for(int(row.resident_id), str(row.service), row.institution_id, provider_name)
        proof = _evidence(row, verified_within_m)
        line.evidence.append(proof)
        line.sessions += 1
        line.hours_delivered = round(line.hours_delivered + (proof.hours or 0.0), 4)
        line.evv_verified_sessions += int(proof.verified)
        served.add((line.resident_id, line.service))
    for resident_id, service in entitled:
        if (resident_id, service) not in served:
            line_for(resident_id, service, None, None)
    ordered = sorted(
        lines.values(),
        key=lambda x: (
            x.area_path,
            x.resident_name,
            x.resident_id,
            x.service,
            x.provider_name or "",
            x.provider_id or 0,
        ),
    )
    for line in ordered:
        line.hours_delivered = round(line.hours_delivered, 2)
    return Statement(first_day=first, last_day=last, lines=ordered, entitled=entitled)


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


def _earliest(evidence: list[Evidence]) -> datetime | None:
    moments = [m for e in evidence if (m := e.start or e.end) is not None]
    return min(moments, default=None)


def findings(st: Statement, *, month_over: bool = True) -> list[Finding]:
    """What a settlement clerk must look at, worst first: sessions without verified EVV (severity 2), more
    hours delivered than entitled (2), an entitlement nobody delivered (3; only once the month is over)."""
    found: list[Finding] = []
    pairs: dict[tuple[int, str], list[Line]] = defaultdict(list)
    for line in st.lines:
        pairs[(line.resident_id, line.service)].append(line)
        unverified = [e for e in line.evidence if not e.verified]
        if unverified:
            found.append(
                Finding(
                    kind=StatementExceptionKind.EVV_UNVERIFIED,
                    severity=2,
                    area_id=line.area_id,
                    subject=f"{line.resident_name} · {line.service} · {line.provider_name}",
                    message=f"{len(unverified)}/{line.sessions} sessions without verified EVV",
                    since=_earliest(unverified),
                    resident_id=line.resident_id,
                    task_ids=[e.task_id for e in unverified],
                )
            )
    for (resident_id, service), group in pairs.items():
        hours = round(sum(x.hours_delivered for x in group), 2)
        due = st.entitled.get((resident_id, service), 0.0)
        first = group[0]
        if hours > due + OVER_ENTITLEMENT_TOLERANCE and any(x.sessions for x in group):
            found.append(
                Finding(
                    kind=StatementExceptionKind.OVER_ENTITLEMENT,
                    severity=2,
                    area_id=first.area_id,
                    subject=f"{first.resident_name} · {service}",
                    message=f"{hours:g} h delivered, {due:g} h entitled",
                    since=_earliest([e for x in group for e in x.evidence]),
                    resident_id=resident_id,
                    task_ids=[e.task_id for x in group for e in x.evidence],
                )
            )
        if month_over and due > 0 and not any(x.sessions for x in group):
            found.append(
                Finding(
                    kind=StatementExceptionKind.NOT_DELIVERED,
                    severity=3,
                    area_id=first.area_id,
                    subject=f"{first.resident_name} · {service}",
                    message=f"0 h delivered, {due:g} h entitled",
                    since=None,
                    resident_id=resident_id,
                    task_ids=[],
                )
            )
    found.sort(key=lambda f: (f.severity, f.kind, f.subject))
    return found


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
    session: Session, *, tier: Tier, period: Period, now: datetime, verified_within_m: float = VERIFIED_WITHIN_M
) -> ServicesStatement:
    """The settlement statement of the tier's homes for the month `period` covers (a `month_period`)."""
    st = statement(
        session, scope=tier.scope, area_path=tier.area.path, month=period.first, verified_within_m=verified_within_m
    )
    children = [
        ChildFigures(area=child, figures=figures([x for x in st.lines if x.area_path.startswith(p)], st.entitled))
        for child in tier.children
        for p in [child.path]
    ]
    by_day: dict[str, float] = defaultdict(float)
    for line in st.lines:
        for e in line.evidence:
            if e.date is not None and e.hours is not None:
                by_day[e.date.isoformat()] += e.hours
    series = [
        Series(
            key="hours_delivered",
            points=[(d.isoformat(), round(by_day.get(d.isoformat(), 0.0), 2)) for d in period.days],
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
        for f in findings(st, month_over=st.last_day < local_date(now))
    ]
    return ServicesStatement(
        section="services",
        area=tier.area,
        from_=st.first_day,
        to=st.last_day,
        generated_at=now,
        totals=figures(st.lines, st.entitled),
        children=children,
        series=series,
        exceptions=worst_first(exceptions),
        month=st.first_day.strftime("%Y-%m"),
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
