"""`/health` (public, for probes: no personal data) and `/api/system/status` (signed-in users)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from eldercare_common.ops_server import health_payload
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from eldercare_platform.core.scope import scope_of
from eldercare_platform.system.schemas import StatusUser, SystemStatus
from eldercare_platform.system.service import broker_check, database_check, headline_counts

health_router = APIRouter(tags=["system"])
router = APIRouter(prefix="/system", tags=["system"])


def _checks(request: Request, settings: SettingsDep) -> dict[str, str]:
    engine = engine_for(settings.sqlalchemy_url, settings.db_pool_size)
    return {"database": database_check(engine), "broker": broker_check(request.app.state.broker)}


_HEALTH_BODY = {"application/json": {"schema": {"type": "object", "required": ["status", "checks"]}}}


@health_router.get(
    "/health",
    responses={
        200: {"description": "Every component is reachable", "content": _HEALTH_BODY},
        503: {"description": "A component is down; the same body says which", "content": _HEALTH_BODY},
    },
)
def health(request: Request, settings: SettingsDep) -> JSONResponse:
    """200 with `ok` per component when the database and the broker are reachable, else 503."""
    status, body = health_payload(_checks(request, settings))
    return JSONResponse(body, status_code=status)


@router.get("/status", response_model=SystemStatus)
def system_status(
    request: Request, settings: SettingsDep, user: CurrentUser, session: SessionDep, now: NowDep
) -> SystemStatus:
    """Component health, the display time zone, and headline counts within the user's scope."""
    checks = _checks(request, settings)
    counts = headline_counts(session, scope_of(session, user), now=now) if checks["database"] == "ok" else {}
    return SystemStatus(
        checks=checks,
        counts=counts,
        environment=settings.environment,
        display_timezone=settings.display_timezone,
        user=StatusUser(username=user.username, full_name=user.full_name, role=user.role),
    )
