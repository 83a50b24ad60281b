"""The alarm center's API: the queue, the card, one-click actions, the priority table, and the live socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from eldercare_platform.alarms import priorities, service
from eldercare_platform.alarms.card import alarm_card
from eldercare_platform.alarms.deps import AlarmHandler, AlarmReader, AlarmTypesAdmin, CurrentAlarm
from eldercare_platform.alarms.live import Console
from eldercare_platform.alarms.schemas import (
    ActionRequest,
    AlarmCard,
    AlarmOut,
    AlarmType,
    Changes,
    HandoverItem,
    NoteRequest,
    PriorityUpdate,
    ResolveRequest,
    TaskCreated,
    TransitionOut,
)
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep, get_clock
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import BigDbId, Version
from eldercare_platform.core.sockets import (
    BAD_MESSAGE,
    TOKEN_IN_URL,
    UNAUTHENTICATED,
    WS_BAD_MESSAGE,
    WS_FORBIDDEN,
    WS_UNAUTHENTICATED,
    first_message,
    serve_live,
    socket_user,
)
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, roles_with

router = APIRouter(prefix="/alarms", tags=["alarm center"])
types_router = APIRouter(prefix="/alarm-types", tags=["alarm center"])

T = TypeVar("T")


def _change(session: Session, user: User, alarm_id: int, now: datetime, apply: Callable[[], T]) -> tuple[AlarmOut, T]:
    """Apply a change and commit (rolled back if it fails); the alarm as it is now, and what `apply` returned."""
    try:
        result = apply()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return service.get_alarm(session, user=user, alarm_id=alarm_id, now=now), result


@router.get("", response_model=list[AlarmOut])
def queue(session: SessionDep, user: AlarmReader, now: NowDep) -> list[AlarmOut]:
    """Open alarms in the user's scope by priority, then waiting time."""
    return service.open_queue(session, user=user, now=now)


@router.get("/changes", response_model=Changes)
def changes(session: SessionDep, user: AlarmReader, now: NowDep, since: Version = 0) -> Changes:
    """Alarms changed after version `since` (open or not), and the newest version."""
    return service.changes(session, user=user, since=since, now=now)


@router.get("/handover", response_model=list[HandoverItem])
def handover(session: SessionDep, user: AlarmReader, now: NowDep) -> list[HandoverItem]:
    """Shift hand-over (交接班): every open alarm with its latest notes and actions."""
    return service.handover(session, user=user, now=now)


@router.get("/{alarm_id}", response_model=AlarmOut, responses=errors(404))
def one(alarm: CurrentAlarm) -> AlarmOut:
    """One alarm."""
    return alarm


@router.get("/{alarm_id}/trace", response_model=list[TransitionOut], responses=errors(404))
def alarm_trace(alarm: CurrentAlarm, session: SessionDep) -> list[TransitionOut]:
    """Who did what, when and why (全程留痕)."""
    return service.trace(session, alarm_id=alarm.id)


@router.get("/{alarm_id}/card", response_model=AlarmCard, responses=errors(404))
def card(alarm: CurrentAlarm, session: SessionDep, user: AlarmReader, request: Request, now: NowDep) -> AlarmCard:
    """The resident card at a glance, nearest caregivers, and the device's last 24 h. Audited."""
    found = alarm_card(
        session, user=user, alarm=alarm, now=now, client_ip=request.client.host if request.client else None
    )
    session.commit()
    return found


@router.post("/{alarm_id}/acknowledge", response_model=AlarmOut, responses=errors(404, 409))
def acknowledge(alarm_id: BigDbId, session: SessionDep, user: AlarmHandler, now: NowDep) -> AlarmOut:
    """Take the alarm. Exactly one of two operators clicking together wins; the other gets 409."""
    alarm, _ = _change(
        session, user, alarm_id, now, lambda: service.acknowledge(session, user=user, alarm_id=alarm_id, now=now)
    )
    return alarm


@router.post("/{alarm_id}/actions", response_model=TaskCreated, responses=errors(404, 409, 422))
def action(
    alarm_id: BigDbId,
    body: ActionRequest,
    session: SessionDep,
    user: AlarmHandler,
    now: NowDep,
    settings: SettingsDep,
) -> TaskCreated:
    """Call back, notify contacts, dispatch someone, or call 120/119/110."""
    alarm, task_id = _change(
        session,
        user,
        alarm_id,
        now,
        lambda: service.act(
            session,
            user=user,
            alarm_id=alarm_id,
            request=body,
            now=now,
            urgent_visit_within_minutes=settings.urgent_visit_within_minutes,
        ),
    )
    return TaskCreated(alarm=alarm, task_id=task_id)


@router.post("/{alarm_id}/resolve", response_model=AlarmOut, responses=errors(404, 409, 422))
def resolve(
    alarm_id: BigDbId,
    body: ResolveRequest,
    session: SessionDep,
    user: AlarmHandler,
    now: NowDep,
    settings: SettingsDep,
) -> AlarmOut:
    """Close with an outcome and how the resident was reached."""
    alarm, _ = _change(
        session,
        user,
        alarm_id,
        now,
        lambda: service.resolve(
            session,
            user=user,
            alarm_id=alarm_id,
            request=body,
            now=now,
            follow_up_within_hours=settings.follow_up_within_hours,
        ),
    )
    return alarm


@router.post("/{alarm_id}/notes", response_model=AlarmOut, responses=errors(404))
def note(alarm_id: BigDbId, body: NoteRequest, session: SessionDep, user: AlarmHandler, now: NowDep) -> AlarmOut:
    """Add a note to the alarm's trace."""
    alarm, _ = _change(
        session,
        user,
        alarm_id,
        now,
        lambda: service.add_note(session, user=user, alarm_id=alarm_id, note=body.text, now=now),
    )
    return alarm


@types_router.get("", response_model=list[AlarmType])
def alarm_types(session: SessionDep, user: AlarmReader) -> list[AlarmType]:
    """The priority table."""
    return priorities.alarm_types(session)


@types_router.put("/{alarm_type}", response_model=AlarmType, responses=errors(404))
def update_alarm_type(
    alarm_type: Annotated[str, Path(max_length=64)],
    body: PriorityUpdate,
    session: SessionDep,
    admin: AlarmTypesAdmin,
    now: NowDep,
) -> AlarmType:
    """Change a type's priority and SLA (admins); applies to alarms opened from now on."""
    updated = priorities.update_alarm_type(session, admin=admin, alarm_type=alarm_type, update=body, now=now)
    session.commit()
    return updated


LIVE_ROLES = frozenset(roles_with(Permission.ALARMS_READ))  # the same table as the HTTP guards
_REASONS = {
    WS_BAD_MESSAGE: BAD_MESSAGE,
    WS_UNAUTHENTICATED: UNAUTHENTICATED,
    WS_FORBIDDEN: "this role may not watch alarms",
}


@router.websocket("/live")
async def live(websocket: WebSocket, since: Annotated[int, Query(ge=0)] = 0) -> None:
    """Push alarm changes in the user's scope.

    The client's first message authenticates: `{"type": "auth", "token": "<access token>"}` within
    5 s (never `?token=` in the URL: URLs are logged). After a reconnect, `?since=<version>` (or
    `"since"` in the auth message) sends what was missed first. Refusals close the socket with 4401
    (not authenticated), 4403 (role not allowed) or 4400 (malformed first message); the socket is
    closed with 4401 when the token expires.
    """
    await websocket.accept()
    if "token" in websocket.query_params:
        await websocket.close(code=WS_UNAUTHENTICATED, reason=TOKEN_IN_URL)
        return
    settings = websocket.app.state.settings
    hub = websocket.app.state.alarm_hub
    console: Console | None = None
    try:
        first = await first_message(websocket)
        if isinstance(first, int):
            await websocket.close(code=first, reason=_REASONS[first])
            return
        token, asked = first
        since = since if asked is None else asked
        watcher = await asyncio.to_thread(socket_user, settings, token, get_clock(websocket).now())
        if watcher is None:
            await websocket.close(code=WS_UNAUTHENTICATED, reason=_REASONS[WS_UNAUTHENTICATED])
            return
        if watcher.user.role not in LIVE_ROLES:
            await websocket.close(code=WS_FORBIDDEN, reason=_REASONS[WS_FORBIDDEN])
            return
        user = watcher.user
        console = Console(websocket=websocket, scope=watcher.scope)
        hub.consoles.add(console)

        def catch_up() -> Changes:
            with Session(engine_for(settings.sqlalchemy_url, settings.db_pool_size)) as session:
                now = get_clock(websocket).now()
                return service.changes(session, user=user, since=since, now=now, limit=5000)

        missed = await asyncio.to_thread(catch_up)
        await websocket.send_json(
            {
                "type": "hello",
                "version": missed.version,
                "user": user.username,
                "missed": [a.model_dump(mode="json") for a in missed.alarms],
            }
        )
        await serve_live(websocket, console.queue, expires_at=watcher.expires_at, clock=get_clock(websocket))
    except WebSocketDisconnect:
        pass
    finally:
        if console is not None:
            hub.consoles.discard(console)
