"""Routes of the purchased-services statement and of the care-center monitor (thin: the work is in
statement.py and monitor.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import DbId, Offset
from eldercare_platform.supervision.deps import (
    AreaIdQuery,
    FormatQuery,
    FromQuery,
    LangQuery,
    MonthQuery,
    SectionQuery,
    SupervisionReader,
    ToQuery,
)
from eldercare_platform.supervision.exporting import export_section
from eldercare_platform.supervision.monitor import monitor_section, resident_vitals
from eldercare_platform.supervision.monitor_columns import MONITOR_COLUMNS
from eldercare_platform.supervision.monitor_schemas import MonitorFigures, ResidentVitals, ServicesStatement
from eldercare_platform.supervision.statement import export_statement, services_statement
from eldercare_platform.supervision.tier import month_period, resolve_period, resolve_tier

router = APIRouter(prefix="/supervision", tags=["supervision"])

FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
        "description": "JSON, or with `format` the table as a CSV (UTF-8 with BOM) or XLSX file",
    }
}


@router.get("/services/statement", response_model=ServicesStatement, responses={**FILE, **errors(404, 422)})
def get_services_statement(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    settings: SettingsDep,
    area_id: AreaIdQuery = None,
    month: MonthQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
    limit: Annotated[int, Query(ge=1, le=1000, description="Lines per page (an export has them all)")] = 200,
    offset: Offset = 0,
) -> ServicesStatement | Response:
    """The purchased-services settlement of a month (default: the current one): per resident × service ×
    provider, hours entitled and delivered, sessions, EVV-verified share and the evidence (task ids). The figures
    count every line; `lines` is one page of them (`lines_total` in all, in area, resident, service, provider
    order)."""
    tier = resolve_tier(session, user=user, area_id=area_id)
    statement = services_statement(
        session,
        tier=tier,
        period=month_period(month, now=now),
        now=now,
        verified_within_m=settings.checkin_verified_within_m,
        limit=None if fmt is not None else limit,
        offset=0 if fmt is not None else offset,
    )
    if fmt is not None:
        return export_statement(statement, fmt, lang="en" if lang == "en" else "zh")
    return statement


@router.get("/monitor", response_model=MonitorFigures, responses={**FILE, **errors(404, 422)})
def get_monitor(q: SectionQuery, session: SessionDep) -> MonitorFigures | Response:
    """Care centers and institutions: their terminals' feeds, exceptions first, one row per child area and per
    facility."""
    figures = monitor_section(session, tier=q.tier, period=q.period, now=q.now)
    if q.fmt is not None:
        return export_section(figures, MONITOR_COLUMNS, q.fmt, lang=q.lang)
    return figures


@router.get("/monitor/residents/{resident_id}", response_model=ResidentVitals, responses=errors(404, 422))
def get_monitor_resident(
    resident_id: DbId,
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    request: Request,
    first: FromQuery = None,
    to: ToQuery = None,
) -> ResidentVitals:
    """A resident's vitals trends (hourly means) with out-of-range marks, bed exits at night and check-ins.
    The read is written to the audit log."""
    vitals = resident_vitals(
        session,
        user=user,
        resident_id=resident_id,
        period=resolve_period(first, to, now=now),
        now=now,
        client_ip=request.client.host if request.client else None,
    )
    session.commit()
    return vitals
