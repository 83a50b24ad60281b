"""The alerts domain's routes (thin: guards from deps.py, work in service.py)."""

from __future__ import annotations

from fastapi import APIRouter

from eldercare_platform.alerts import service
from eldercare_platform.alerts.deps import AlertHandler, AlertReader
from eldercare_platform.alerts.models import AlertKind, AlertState
from eldercare_platform.alerts.schemas import AlertPublic, AlertResolve
from eldercare_platform.core.deps import NowDep, SessionDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import BigDbId, DbIdQuery
from eldercare_platform.core.scope import scope_of

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", response_model=list[AlertPublic], responses=errors(404))
def list_alerts(
    session: SessionDep,
    user: AlertReader,
    area_id: DbIdQuery = None,
    state: AlertState | None = None,
    kind: AlertKind | None = None,
) -> list[AlertPublic]:
    """Alerts in the user's scope, most urgent and oldest first (at most 500): by default the unresolved ones
    (open and acknowledged); `state` picks one state, `kind` one kind, `area_id` a community or street."""
    scope = scope_of(session, user)
    area_path = None if area_id is None else service.area_in_scope(session, scope=scope, area_id=area_id)[2]
    states = (AlertState.OPEN, AlertState.ACKNOWLEDGED) if state is None else (state,)
    return service.list_alerts(session, scope=scope, area_path=area_path, states=states, kind=kind)


@router.get("/{alert_id}", response_model=AlertPublic, responses=errors(404))
def one_alert(alert_id: BigDbId, session: SessionDep, user: AlertReader) -> AlertPublic:
    """One alert in the user's scope."""
    return service.get_alert(session, scope=scope_of(session, user), alert_id=alert_id)


@router.post("/{alert_id}/acknowledge", response_model=AlertPublic, responses=errors(404, 409))
def acknowledge(alert_id: BigDbId, session: SessionDep, user: AlertHandler, now: NowDep) -> AlertPublic:
    """Take an open alert: it stays on the board, marked as being handled by you."""
    assert user.id is not None
    alert = service.acknowledge_alert(
        session, scope=scope_of(session, user), alert_id=alert_id, user_id=user.id, now=now
    )
    session.commit()
    return alert


@router.post("/{alert_id}/resolve", response_model=AlertPublic, responses=errors(404, 409, 422))
def resolve(alert_id: BigDbId, body: AlertResolve, session: SessionDep, user: AlertHandler, now: NowDep) -> AlertPublic:
    """Close an open or acknowledged alert with what was done about it. A rule that still holds raises a new
    alert on its next run."""
    assert user.id is not None
    alert = service.resolve_alert(
        session, scope=scope_of(session, user), alert_id=alert_id, user_id=user.id, resolution=body.resolution, now=now
    )
    session.commit()
    return alert
