"""The route of the printable monthly report (thin: the work is in report.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.supervision.deps import AreaIdQuery, MonthQuery, SupervisionReader
from eldercare_platform.supervision.report import monthly_report
from eldercare_platform.supervision.tier import month_period, resolve_tier

router = APIRouter(prefix="/supervision", tags=["supervision"])

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The monthly report of the tier, A4, in Chinese"}
}


@router.get("/report.pdf", response_class=Response, responses={**PDF, **errors(404, 422, 503)})
def get_report_pdf(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    settings: SettingsDep,
    request: Request,
    area_id: AreaIdQuery = None,
    month: MonthQuery = None,
) -> Response:
    """The printable monthly report of a tier (default: the user's scope root and the current month): every
    section's key figures, exceptions, sub-areas and charts. 503 `report_font_missing` without a CJK font. The
    read is written to the audit log."""
    tier = resolve_tier(session, user=user, area_id=area_id)
    period = month_period(month, now=now)
    pdf = monthly_report(
        session,
        tier=tier,
        period=period,
        now=now,
        verified_within_m=settings.checkin_verified_within_m,
        task_late_after_minutes=settings.task_late_after_minutes,
        user_id=user.id,
        client_ip=request.client.host if request.client else None,
    )
    session.commit()
    name = f"supervision-report-{tier.area.id}-{period.first.strftime('%Y-%m')}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
