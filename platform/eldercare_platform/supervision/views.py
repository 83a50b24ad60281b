"""The supervision domain's routes (thin: guards and parameters from deps.py, work in service.py).

Every figure endpoint takes `area_id` (default: the root of the user's scope), `from`, `to` (local days) and
answers the common `SectionFigures`; with `format=csv|xlsx` it answers its children table as a file instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from eldercare_platform.core.deps import SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.exports import Column, table_response
from eldercare_platform.supervision import columns, service
from eldercare_platform.supervision.deps import AreaIdQuery, SectionQuery, SectionRequest, SupervisionReader
from eldercare_platform.supervision.exporting import export_section
from eldercare_platform.supervision.schemas import AreaRef, SectionFigures, TableRows

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


def _answer(figures: SectionFigures, table: list[Column], q: SectionRequest) -> SectionFigures | Response:
    if q.fmt is None:
        return figures
    return export_section(figures, columns.with_dotted(table, figures.totals), q.fmt, lang=q.lang)


@router.get("/alarms", response_model=SectionFigures, responses=RESPONSES)
def alarms(
    q: SectionQuery,
    session: SessionDep,
) -> SectionFigures | Response:
    """Alarms of the area: by type, outcome and hour, time to acknowledge / resolve (p50, p90), the shares
    acknowledged within 60 s and 180 s, repeat callers, alarms per 1,000 active residents."""
    return _answer(service.alarms_section(session, tier=q.tier, period=q.period, now=q.now), columns.ALARMS, q)


@router.get("/visits", response_model=SectionFigures, responses=RESPONSES)
def visits(
    q: SectionQuery,
    session: SessionDep,
    settings: SettingsDep,
) -> SectionFigures | Response:
    """Visits: 探访率 (done / due), late, missed with reasons, problems found, closed (闭环率), median time to close."""
    figures = service.visits_section(
        session, tier=q.tier, period=q.period, now=q.now, late_after=timedelta(minutes=settings.task_late_after_minutes)
    )
    return _answer(figures, columns.VISITS, q)


def _table(section: str, q: SectionRequest, rows: list[dict[str, Any]]) -> TableRows:
    return TableRows(
        section=section, area=q.tier.area, from_=q.period.first, to=q.period.last, generated_at=q.now, rows=rows
    )


def _rows_answer(table: TableRows, cols: list[Column], q: SectionRequest) -> TableRows | Response:
    if q.fmt is None:
        return table
    filename = f"supervision-{table.section}-{table.area.id}-{table.from_.isoformat()}-{table.to.isoformat()}"
    return table_response(table.rows, cols, q.fmt, filename=filename, lang=q.lang, sheet=table.section)


@router.get("/visits/caregivers", response_model=TableRows, responses=RESPONSES)
def visit_caregivers(
    q: SectionQuery,
    session: SessionDep,
    settings: SettingsDep,
) -> TableRows | Response:
    """The visit figures per caregiver (the assignee of each due visit)."""
    rows = service.caregiver_rows(
        session, tier=q.tier, period=q.period, now=q.now, late_after=timedelta(minutes=settings.task_late_after_minutes)
    )
    return _rows_answer(_table("visit_caregivers", q, rows), columns.CAREGIVERS, q)


@router.get("/meals", response_model=SectionFigures, responses=RESPONSES)
def meals(
    q: SectionQuery,
    session: SessionDep,
) -> SectionFigures | Response:
    """Meal orders: delivered / collected, 送达率, not collected and what followed (the welfare call's outcome)."""
    return _answer(service.meals_section(session, tier=q.tier, period=q.period, now=q.now), columns.MEALS, q)


@router.get("/meals/points", response_model=TableRows, responses=RESPONSES)
def meal_points(
    q: SectionQuery,
    session: SessionDep,
) -> TableRows | Response:
    """Capacity use per meal point of the area."""
    rows = service.point_rows(session, tier=q.tier, period=q.period)
    return _rows_answer(_table("meal_points", q, rows), columns.MEAL_POINTS, q)


@router.get("/devices", response_model=SectionFigures, responses=RESPONSES)
def devices(
    q: SectionQuery,
    session: SessionDep,
) -> SectionFigures | Response:
    """Devices: online share, silent devices by age of silence, low batteries, faults open > 2 h and their cover."""
    return _answer(service.devices_section(session, tier=q.tier, period=q.period, now=q.now), columns.DEVICES, q)


@router.get("/areas", response_model=list[AreaRef], responses=errors(404))
def areas(session: SessionDep, user: SupervisionReader, area_id: AreaIdQuery = None) -> list[AreaRef]:
    """The area (default: the root of the user's scope) followed by its children: the drill-down's next level."""
    tier = service.resolve_tier(session, user=user, area_id=area_id)
    return [tier.area, *tier.children]
