"""The alarm center's API: the queue, the card, one-click actions, the priority table, and the live socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Path, Request, WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service
from eldercare_platform.alarms.card import last_day, nearest_caregivers
from eldercare_platform.alarms.live import Console
from eldercare_platform.alarms.models import (
    ActionRequest,
    AlarmOut,
    NoteRequest,
    PriorityUpdate,
    ResolveRequest,
    TransitionOut,
)
from eldercare_platform.areas.service import scope_path
from eldercare_platform.audit.service import record
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.deps import SessionDep, require_roles
from eldercare_platform.core.errors import ConflictError, NotFoundError, UnprocessableError, errors
from eldercare_platform.core.params import BigDbId, Version
from eldercare_platform.core.security import decode_access_token
from eldercare_platform.core.types import utcnow
from eldercare_platform.residents.service import age_on, get_card
from eldercare_platform.residents.views import ResidentCard
from eldercare_platform.users.models import Role, User

router = APIRouter(prefix="/alarms", tags=["alarm center"])
types_router = APIRouter(prefix="/alarm-types", tags=["alarm center"])
ReaderDep = Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))]
HandlerDep = Annotated[User, Depends(require_roles(Role.OPERATOR, Role.ADMIN))]
AdminDep = Annotated[User, Depends(require_roles(Role.ADMIN))]


class Changes(BaseModel):
    """Alarms changed since a version, for a console catching up."""

    alarms: list[AlarmOut]
    version: int


class TaskCreated(BaseModel):
    """The result of an action."""

    alarm: AlarmOut
    task_id: int | None = None


@contextmanager
def _errors() -> Iterator[None]:
    """Domain errors → HTTP: 404 not found, 409 illegal transition or lost race, 422 broken rule (by `code`)."""
    try:
        yield
    except service.AlarmNotFoundError as exc:
        raise NotFoundError(str(exc), code="alarm_not_found") from exc
    except service.AlarmConflictError as exc:
        raise ConflictError(str(exc), code=exc.code, **exc.context) from exc
    except service.AlarmRuleError as exc:
        raise UnprocessableError(str(exc), code=exc.code, **exc.context) from exc


def _change(session: Session, user: User, alarm_id: int, apply: Callable[[], Any]) -> tuple[AlarmOut, Any]:
    with _errors():
        try:
            result = apply()
            session.commit()
        except Exception:
            session.rollback()
            raise
        return service.get_alarm(session, user=user, alarm_id=alarm_id, now=utcnow()), result


@router.get("", response_model=list[AlarmOut])
def queue(session: SessionDep, user: ReaderDep) -> list[AlarmOut]:
    """Open alarms in the user's scope by priority, then waiting time."""
    return service.open_queue(session, user=user, now=utcnow())


@router.get("/changes", response_model=Changes)
def changes(session: SessionDep, user: ReaderDep, since: Version = 0) -> Changes:
    """Alarms changed after version `since` (open or not), and the newest version."""
    alarms = service.changes_since(session, user=user, version=since, now=utcnow())
    latest = session.execute(text("SELECT coalesce(max(version), 0) FROM alarm")).scalar_one()
    return Changes(alarms=alarms, version=int(latest))


@router.get("/handover", response_model=list[dict[str, Any]])
def handover(session: SessionDep, user: ReaderDep) -> list[dict[str, Any]]:
    """Shift hand-over (交接班): every open alarm with its latest notes and actions."""
    now = utcnow()
    alarms = service.open_queue(session, user=user, now=now)
    return [
        {
            "alarm": alarm.model_dump(mode="json"),
            "recent": [t.model_dump(mode="json") for t in service.trace(session, alarm_id=alarm.id)[-5:]],
        }
        for alarm in alarms
    ]


@router.get("/{alarm_id}", response_model=AlarmOut, responses=errors(404))
def one(alarm_id: BigDbId, session: SessionDep, user: ReaderDep) -> AlarmOut:
    """One alarm."""
    with _errors():
        return service.get_alarm(session, user=user, alarm_id=alarm_id, now=utcnow())


@router.get("/{alarm_id}/trace", response_model=list[TransitionOut], responses=errors(404))
def alarm_trace(alarm_id: BigDbId, session: SessionDep, user: ReaderDep) -> list[TransitionOut]:
    """Who did what, when and why (全程留痕)."""
    with _errors():
        service.get_alarm(session, user=user, alarm_id=alarm_id, now=utcnow())
    return service.trace(session, alarm_id=alarm_id)


@router.get("/{alarm_id}/card", responses=errors(404))
def card(alarm_id: BigDbId, session: SessionDep, user: ReaderDep, request: Request) -> dict[str, Any]:
    """The resident card at a glance, nearest caregivers, and the device's last 24 h. Audited."""
    now = utcnow()
    with _errors():
        alarm = service.get_alarm(session, user=user, alarm_id=alarm_id, now=now)
    resident: dict[str, Any] | None = None
    if alarm.resident_id is not None:
        found = get_card(session, user=user, resident_id=alarm.resident_id)
        if found is not None:
            found["age"] = age_on(found["resident"].birth_date, now.date())
            resident = ResidentCard.model_validate(found, from_attributes=True).model_dump(mode="json")
        record(
            session,
            user_id=user.id,
            action="read",
            entity="resident",
            entity_id=alarm.resident_id,
            detail={"via": "alarm", "alarm_id": alarm_id},
            client_ip=request.client.host if request.client else None,
        )
        session.commit()
    caregivers = nearest_caregivers(session, household_id=alarm.household_id, now=now) if alarm.household_id else []
    return {
        "alarm": alarm.model_dump(mode="json"),
        "resident": resident,
        "caregivers": caregivers,
        "last_24h": last_day(session, household_id=alarm.household_id, device_serial=alarm.device_serial, now=now),
    }


@router.post("/{alarm_id}/acknowledge", response_model=AlarmOut, responses=errors(404, 409))
def acknowledge(alarm_id: BigDbId, session: SessionDep, user: HandlerDep) -> AlarmOut:
    """Take the alarm. Exactly one of two operators clicking together wins; the other gets 409."""
    alarm, _ = _change(
        session, user, alarm_id, lambda: service.acknowledge(session, user=user, alarm_id=alarm_id, now=utcnow())
    )
    return alarm


@router.post("/{alarm_id}/actions", response_model=TaskCreated, responses=errors(404, 409, 422))
def action(alarm_id: BigDbId, body: ActionRequest, session: SessionDep, user: HandlerDep) -> TaskCreated:
    """Call back, notify contacts, dispatch someone, or call 120/119/110."""
    alarm, task_id = _change(
        session, user, alarm_id, lambda: service.act(session, user=user, alarm_id=alarm_id, request=body, now=utcnow())
    )
    return TaskCreated(alarm=alarm, task_id=task_id)


@router.post("/{alarm_id}/resolve", response_model=AlarmOut, responses=errors(404, 409, 422))
def resolve(alarm_id: BigDbId, body: ResolveRequest, session: SessionDep, user: HandlerDep) -> AlarmOut:
    """Close with an outcome and how the resident was reached."""
    alarm, _ = _change(
        session,
        user,
        alarm_id,
        lambda: service.resolve(session, user=user, alarm_id=alarm_id, request=body, now=utcnow()),
    )
    return alarm


@router.post("/{alarm_id}/notes", response_model=AlarmOut, responses=errors(404))
def note(alarm_id: BigDbId, body: NoteRequest, session: SessionDep, user: HandlerDep) -> AlarmOut:
    """Add a note to the alarm's trace."""
    alarm, _ = _change(
        session,
        user,
        alarm_id,
        lambda: service.add_note(session, user=user, alarm_id=alarm_id, note=body.text, now=utcnow()),
    )
    return alarm


@types_router.get("")
def alarm_types(session: SessionDep, user: ReaderDep) -> list[dict[str, Any]]:
    """The priority table."""
    rows = session.execute(text("SELECT * FROM alarm_type ORDER BY priority, type")).mappings()
    return [dict(row) for row in rows]


@types_router.put("/{alarm_type}", responses=errors(404))
def update_alarm_type(
    alarm_type: Annotated[str, Path(max_length=64)], body: PriorityUpdate, session: SessionDep, admin: AdminDep
) -> dict[str, Any]:
    """Change a type's priority and SLA (admins); applies to alarms opened from now on."""
    row = (
        session.execute(
            text(
                "UPDATE alarm_type SET priority = :priority, ack_within_s = coalesce(:ack, ack_within_s),"
                " reach_within_s = coalesce(:reach, reach_within_s),"
                " resolve_within_s = coalesce(:resolve, resolve_within_s),"
                " updated_at = now(), updated_by = :user WHERE type = :type RETURNING *"
            ),
            {
                "priority": body.priority,
                "ack": body.ack_within_s,
                "reach": body.reach_within_s,
                "resolve": body.resolve_within_s,
                "user": admin.id,
                "type": alarm_type,
            },
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"unknown alarm type {alarm_type}", code="alarm_type_not_found")
    record(
        session,
        user_id=admin.id,
        action="update",
        entity="alarm_type",
        entity_id=alarm_type,
        detail=body.model_dump(exclude_none=True),
    )
    session.commit()
    return dict(row)


def _websocket_user(websocket: WebSocket, token: str | None) -> User | None:
    settings = websocket.app.state.settings
    if not token:
        return None
    try:
        claims = decode_access_token(
            token, secret=settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm
        )
    except jwt.InvalidTokenError:
        return None
    with Session(engine_for(settings.sqlalchemy_url, settings.db_pool_size), expire_on_commit=False) as session:
        user = session.get(User, int(claims["sub"]))
        if user is None or not user.active or user.role != claims.get("role"):
            return None
        if user.role not in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
            return None
        user.__dict__["_scope"] = scope_path(session, user=user)
        return user


@router.websocket("/live")
async def live(websocket: WebSocket, token: str | None = None, since: int = 0) -> None:
    """Push alarm changes. Send `?since=<version>` after a reconnect to receive what was missed first."""
    user = await asyncio.to_thread(_websocket_user, websocket, token)
    if user is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="not authenticated or not allowed")
        return
    await websocket.accept()
    hub = websocket.app.state.alarm_hub
    console = Console(websocket=websocket, scope=user.__dict__.get("_scope"))
    hub.consoles.add(console)
    try:
        settings = websocket.app.state.settings

        def catch_up() -> Changes:
            with Session(engine_for(settings.sqlalchemy_url, settings.db_pool_size)) as session:
                alarms = service.changes_since(session, user=user, version=since, now=utcnow(), limit=5000)
                latest = session.execute(text("SELECT coalesce(max(version), 0) FROM alarm")).scalar_one()
            return Changes(alarms=alarms, version=int(latest))

        missed = await asyncio.to_thread(catch_up)
        await websocket.send_json(
            {
                "type": "hello",
                "version": missed.version,
                "user": user.username,
                "missed": [a.model_dump(mode="json") for a in missed.alarms],
            }
        )

        async def pump() -> None:
            while True:
                await websocket.send_json(await console.queue.get())

        sender = asyncio.create_task(pump())
        try:
            while True:
                message = await websocket.receive_text()
                if message == "ping":
                    await websocket.send_json({"type": "pong"})
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    except WebSocketDisconnect:
        pass
    finally:
        hub.consoles.discard(console)
