"""The supervision domain's routes (thin: guards and parameters from deps.py, work in service.py).

Every figure endpoint takes `area_id` (default: the root of the user's scope), `from`, `to` (local days) and
answers the common `SectionFigures`; with `format=csv|xlsx` it answers its children table as a file instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from fastapi import APIRouter
from fastapi.responses import Response

from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.exports import Column, Lang, table_response
from eldercare_platform.supervision import columns, service
from eldercare_platform.supervision.deps import (
    AreaIdQuery,
    FormatQuery,
    FromQuery,
    LangQuery,
    SupervisionReader,
    ToQuery,
)
from eldercare_platform.supervision.exporting import export_section
from eldercare_platform.supervision.schemas import AreaRef, SectionFigures, TableRows
from eldercare_platform.supervision.tier import Period, Tier

router = APIRouter(prefix="/supervision", tags=["supervision"])

FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
        "description": "The figures (JSON), or with `format` the children table as a file",
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = {**FILES, **errors(404, 422)}


def _answer(figures: SectionFigures, table: list[Column], fmt: Any, lang: str) -> SectionFigures | Response:
    if fmt is None:
        return figures
    return export_section(figures, columns.with_dotted(table, figures.totals), fmt, lang=cast(Lang, lang))


def _request(
    session: SessionDep, user: SupervisionReader, area_id: int | None, first: Any, last: Any, now: Any
) -> tuple[Tier, Period]:
    return service.resolve_tier(session, user=user, area_id=area_id), service.resolve_period(first, last, now=now)


@router.get("/alarms", response_model=SectionFigures, responses=RESPONSES)
def alarms(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> SectionFigures | Response:
    """Alarms of the area: by type, outcome and hour, time to acknowledge / resolve (p50, p90), the shares
    acknowledged within 60 s and 180 s, repeat callers, alarms per 1,000 active residents."""
    tier, period = _request(session, user, area_id, first, to, now)
    return _answer(service.alarms_section(session, tier=tier, period=period, now=now), columns.ALARMS, fmt, lang)


@router.get("/visits", response_model=SectionFigures, responses=RESPONSES)
def visits(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    settings: SettingsDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> SectionFigures | Response:
    """Visits: 探访率 (done / due), late, missed with reasons, problems found, closed (闭环率), median time to close."""
    tier, period = _request(session, user, area_id, first, to, now)
    figures = service.visits_section(
        session, tier=tier, period=period, now=now, late_after=timedelta(minutes=settings.task_late_after_minutes)
    )
    return _answer(figures, columns.VISITS, fmt, lang)


def _table(section: str, tier: Tier, period: Period, now: Any, rows: list[dict[str, Any]]) -> TableRows:
    return TableRows(section=section, area=tier.area, from_=period.first, to=period.last, generated_at=now, rows=rows)


def _rows_answer(table: TableRows, cols: list[Column], fmt: Any, lang: str) -> TableRows | Response:
    if fmt is None:
        return table
    filename = f"supervision-{table.section}-{table.area.id}-{table.from_.isoformat()}-{table.to.isoformat()}"
    return table_response(table.rows, cols, fmt, filename=filename, lang=cast(Lang, lang), sheet=table.section)


@router.get("/visits/caregivers", response_model=TableRows, responses=RESPONSES)
def visit_caregivers(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    settings: SettingsDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> TableRows | Response:
    """The visit figures per caregiver (the assignee of each due visit)."""
    tier, period = _request(session, user, area_id, first, to, now)
    rows = service.caregiver_rows(
        session, tier=tier, period=period, now=now, late_after=timedelta(minutes=settings.task_late_after_minutes)
    )
    return _rows_answer(_table("visit_caregivers", tier, period, now, rows), columns.CAREGIVERS, fmt, lang)


@router.get("/meals", response_model=SectionFigures, responses=RESPONSES)
def meals(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> SectionFigures | Response:
    """Meal orders: delivered / collected, 送达率, not collected and what followed (the welfare call's outcome)."""
    tier, period = _request(session, user, area_id, first, to, now)
    return _answer(service.meals_section(session, tier=tier, period=period, now=now), columns.MEALS, fmt, lang)


@router.get("/meals/points", response_model=TableRows, responses=RESPONSES)
def meal_points(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> TableRows | Response:
    """Capacity use per meal point of the area."""
    tier, period = _request(session, user, area_id, first, to, now)
    rows = service.point_rows(session, tier=tier, period=period)
    return _rows_answer(_table("meal_points", tier, period, now, rows), columns.MEAL_POINTS, fmt, lang)


@router.get("/devices", response_model=SectionFigures, responses=RESPONSES)
def devices(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> SectionFigures | Response:
    """Devices: online share, silent devices by age of silence, low batteries, faults open > 2 h and their cover."""
    tier, period = _request(session, user, area_id, first, to, now)
    return _answer(service.devices_section(session, tier=tier, period=period, now=now), columns.DEVICES, fmt, lang)


@router.get("/areas", response_model=list[AreaRef], responses=errors(404))
def areas(session: SessionDep, user: SupervisionReader, area_id: AreaIdQuery = None) -> list[AreaRef]:
    """The area (default: the root of the user's scope) followed by its children: the drill-down's next level."""
    tier = service.resolve_tier(session, user=user, area_id=area_id)
    return [tier.area, *tier.children]
