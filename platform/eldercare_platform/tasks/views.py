"""The tasks domain's routes (thin: guards from deps.py, work in service.py and its companions).

Coordinators (TaskManager) create, assign, publish, cancel and mark tasks missed in their scope; caregivers
(TaskWorker) act on the tasks assigned to their own staff record (`/api/me/tasks`, accept … complete)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep, get_clock
from eldercare_platform.core.errors import errors
from eldercare_platform.core.idempotency import IdempotencyDep, IdempotentRequest, once
from eldercare_platform.core.params import BigDbId, DbId, DbIdQuery, Instant, Offset
from eldercare_platform.core.scope import scope_of
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
from eldercare_platform.tasks import board, essentials, lifecycle, photos, reads, work
from eldercare_platform.tasks.deps import TaskManager, TaskReader, TaskViewer, TaskWorker
from eldercare_platform.tasks.live import CaregiverSocket
from eldercare_platform.tasks.models import TaskKind, TaskStatus
from eldercare_platform.tasks.schemas import (
    AcknowledgeRequest,
    AreaDay,
    AssignRequest,
    AutoAssignResult,
    Board,
    CompleteRequest,
    EvvRecord,
    IsoDay,
    MissedRequest,
    MissedResult,
    MyTask,
    NoAnswerRequest,
    NoAnswerResult,
    OptionalReason,
    PhotoPublic,
    Position,
    PublishResult,
    ReasonRequest,
    ResidentEssentials,
    StepRequest,
    TaskCreate,
    TaskDetail,
    TaskPage,
    TaskPublic,
)
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, roles_with

router = APIRouter(prefix="/tasks", tags=["tasks"])
me_router = APIRouter(prefix="/me", tags=["tasks"])


# --- the coordinator's board (tasks/board.py): declared before `/{task_id}` routes ----------------------------------
BoardAreaQuery = Annotated[int, Query(ge=1, le=2**31 - 1, description="The community (or street) of the board")]
BoardDayQuery = Annotated[
    IsoDay | None,
    Query(ge=date(2000, 1, 1), le=date(2099, 12, 31), description="Local day (Asia/Shanghai); default today"),
]


@router.get("/board", response_model=Board, responses=errors(404, 422))
def coordinator_board(
    session: SessionDep,
    user: TaskReader,
    settings: SettingsDep,
    now: NowDep,
    area_id: BoardAreaQuery,
    date: BoardDayQuery = None,
) -> Board:
    """The coordinator's board of an area and a local day: tasks by staff member (with their shifts and load
    against their maximum), the unassigned lane, the ids of late and missed tasks, the area's unresolved alerts,
    counts by status, and `version` (the highest task/alert version shown: a page may skip redrawing when it is
    unchanged). 404 `area_not_found` for an area outside the user's scope."""
    return board.board(
        session,
        scope=scope_of(session, user),
        area_id=area_id,
        day=date,
        now=now,
        zone=settings.display_timezone,
        late_after_minutes=settings.task_late_after_minutes,
        missed_after_minutes=settings.task_missed_after_minutes,
    )


T = TypeVar("T")

IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "The image"}
}


def _commit(session: Session, apply: Callable[[], T]) -> T:
    """Apply a change and commit (rolled back if it fails)."""
    try:
        result = apply()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _task(session: Session, user: User, task_id: int, *, own: bool = False) -> TaskPublic:
    return reads.get_task(session, user=user, task_id=task_id, own=own)


# --- coordinators ------------------------------------------------------------------------------------------


@router.post("", response_model=TaskPublic, status_code=201, responses=errors(404, 422))
def create(body: TaskCreate, session: SessionDep, user: TaskManager, now: NowDep) -> TaskPublic:
    """An ad-hoc task for a resident in scope (planned, source manual)."""
    task_id = _commit(session, lambda: lifecycle.create_adhoc(session, user=user, request=body, now=now))
    return _task(session, user, task_id)


@router.get("", response_model=TaskPage)
def list_tasks(
    session: SessionDep,
    user: TaskReader,
    area_id: DbIdQuery = None,
    day: Annotated[
        IsoDay | None, Query(alias="date", description="Local day (Asia/Shanghai) of window start, YYYY-MM-DD")
    ] = None,
    status: TaskStatus | None = None,
    staff_id: DbIdQuery = None,
    kind: TaskKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> TaskPage:
    """Tasks in the user's scope by window start, filtered."""
    return reads.list_tasks(
        session,
        user=user,
        area_id=area_id,
        day=day,
        status=status,
        staff_id=staff_id,
        kind=kind,
        limit=limit,
        offset=offset,
    )


@router.post("/publish", response_model=PublishResult, responses=errors(404))
def publish(body: AreaDay, session: SessionDep, user: TaskManager, now: NowDep) -> PublishResult:
    """Every assigned task of the area's day → published (onto the caregivers' lists)."""
    ids = _commit(
        session, lambda: lifecycle.publish_day(session, user=user, area_id=body.area_id, day=body.date, now=now)
    )
    return PublishResult(published=ids)


@router.post("/auto-assign", response_model=AutoAssignResult, responses=errors(404))
def auto_assign(body: AreaDay, session: SessionDep, user: TaskManager, now: NowDep) -> AutoAssignResult:
    """Run the assigner (nearest available) on the area's planned tasks of the day; what it did."""
    return _commit(
        session, lambda: lifecycle.auto_assign(session, user=user, area_id=body.area_id, day=body.date, now=now)
    )


@router.get("/{task_id:int}", response_model=TaskDetail, responses=errors(404))
def detail(task_id: BigDbId, session: SessionDep, user: TaskReader, settings: SettingsDep) -> TaskDetail:
    """A task with its trace (who did what, when, why), its EVV block and its photos' ids."""
    return reads.task_detail(session, user=user, task_id=task_id, verified_within_m=settings.checkin_verified_within_m)


@router.get("/{task_id}/evv", response_model=EvvRecord, responses=errors(404))
def evv(task_id: BigDbId, session: SessionDep, user: TaskReader, settings: SettingsDep) -> EvvRecord:
    """The visit's six EVV items and whether its location is verified (within `checkin_verified_within_m`)."""
    return reads.evv(session, user=user, task_id=task_id, verified_within_m=settings.checkin_verified_within_m)


@router.get(
    "/{task_id}/photos/{photo_id}",
    response_class=Response,
    responses={**IMAGE_RESPONSE, **errors(404)},
)
def photo(task_id: BigDbId, photo_id: BigDbId, session: SessionDep, user: TaskViewer) -> Response:
    """A visit photo's bytes: for a coordinator whose scope holds the task, or the task's own caregiver (404
    `photo_not_found` otherwise)."""
    found = photos.read(session, user=user, task_id=task_id, photo_id=photo_id)
    return Response(
        content=found.data,
        media_type=found.content_type,
        headers={"Cache-Control": "private, max-age=86400", "ETag": f'"{found.sha256}"'},
    )


@router.post("/{task_id}/assign", response_model=TaskPublic, responses=errors(404, 409, 422))
def assign(task_id: BigDbId, body: AssignRequest, session: SessionDep, user: TaskManager, now: NowDep) -> TaskPublic:
    """Assign (planned), or reassign (assigned, published); 422 `staff_not_assignable` with the reasons."""
    _commit(
        session,
        lambda: lifecycle.assign(
            session, user=user, task_id=task_id, staff_id=body.staff_id, reason=body.reason, now=now
        ),
    )
    return _task(session, user, task_id)


@router.post("/{task_id}/unassign", response_model=TaskPublic, responses=errors(404, 409, 422))
def unassign(
    task_id: BigDbId, session: SessionDep, user: TaskManager, now: NowDep, body: OptionalReason | None = None
) -> TaskPublic:
    """Back to planned, nobody assigned (the previous assignee is told)."""
    reason = body.reason if body else None
    _commit(session, lambda: lifecycle.unassign(session, user=user, task_id=task_id, reason=reason, now=now))
    return _task(session, user, task_id)


@router.post("/{task_id}/cancel", response_model=TaskPublic, responses=errors(404, 409, 422))
def cancel(task_id: BigDbId, body: ReasonRequest, session: SessionDep, user: TaskManager, now: NowDep) -> TaskPublic:
    """Cancel a task not yet closed, with a reason."""
    _commit(session, lambda: lifecycle.cancel(session, user=user, task_id=task_id, reason=body.reason, now=now))
    return _task(session, user, task_id)


@router.post("/{task_id}/missed", response_model=MissedResult, responses=errors(404, 409, 422))
def missed(task_id: BigDbId, body: MissedRequest, session: SessionDep, user: TaskManager, now: NowDep) -> MissedResult:
    """Mark missed, then reassign as a new task (to `staff_id` or the nearest available) or escalate (alert)."""
    new_id, alert_id = _commit(
        session,
        lambda: lifecycle.missed(
            session,
            user=user,
            task_id=task_id,
            reason=body.reason,
            action=body.action,
            staff_id=body.staff_id,
            now=now,
        ),
    )
    return MissedResult(task=_task(session, user, task_id), new_task_id=new_id, alert_id=alert_id)


# --- caregivers (their own tasks) ----------------------------------------------------------------------------


@me_router.get("/tasks", response_model=list[MyTask])
def my_tasks(
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    settings: SettingsDep,
    day: Annotated[IsoDay | None, Query(alias="date", description="Local day, YYYY-MM-DD; default today")] = None,
) -> list[MyTask]:
    """The caregiver's tasks of the day (published to them or further along) in route order: planned start (else
    window start), then route sequence. Each carries its checklist, the resident's age, whether it is urgent,
    the version last acknowledged and its photos' ids."""
    return reads.my_tasks(
        session,
        user=user,
        day=day or local_date(now),
        today=local_date(now),
        verified_within_m=settings.checkin_verified_within_m,
    )


def _window(settings: ApiSettings, now: datetime) -> essentials.Window:
    return essentials.Window(
        now=now, after_hours=settings.essentials_after_hours, ahead_hours=settings.essentials_ahead_hours
    )


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@me_router.get("/residents", response_model=list[ResidentEssentials])
def my_residents(
    session: SessionDep, user: TaskWorker, now: NowDep, settings: SettingsDep, request: Request
) -> list[ResidentEssentials]:
    """The essentials of every resident on the caregiver's current tasks (the app's offline cache), in route
    order; each read is audited. Current: as for `GET /api/me/residents/{resident_id}`."""
    found = essentials.read_all(
        session, user=user, window=_window(settings, now), today=local_date(now), client_ip=_client_ip(request)
    )
    session.commit()
    return found


@me_router.get(
    "/residents/{resident_id}",
    response_model=ResidentEssentials,
    responses=errors(403, s403="`resident_not_on_your_tasks`: not on one of your current tasks (or no such resident)"),
)
def my_resident(
    resident_id: DbId, session: SessionDep, user: TaskWorker, now: NowDep, settings: SettingsDep, request: Request
) -> ResidentEssentials:
    """What the caregiver needs at the door of a resident on one of their own tasks — published, en route, checked
    in, or completed/missed within `essentials_after_hours` — whose window overlaps [now − 12 h, now +
    `essentials_ahead_hours`]: name, age, phone, address, access notes, keyholders, conditions, emergency contacts.
    No ID number, no categories. Every read (and every refusal) is audited. Else 403 `resident_not_on_your_tasks`,
    whether or not the resident exists."""
    try:
        found = essentials.read_one(
            session,
            user=user,
            resident_id=resident_id,
            window=_window(settings, now),
            today=local_date(now),
            client_ip=_client_ip(request),
        )
    except essentials.ResidentNotOnYourTasksError:
        session.commit()  # the refusal's audit row stays
        raise
    session.commit()  # the read's audit row
    return found


TASK_LIVE_ROLES = frozenset(roles_with(Permission.TASKS_WORK))  # the same table as the HTTP guard


@me_router.websocket("/tasks/live")
async def my_tasks_live(websocket: WebSocket, since: Annotated[int, Query(ge=0)] = 0) -> None:
    """Push the changes of the caregiver's own tasks: assigned or published to them, moved in their route (an
    urgent task inserted before them), cancelled, or given to someone else (docs/scheduling/urgent.md).

    The first message authenticates like the alarm console's socket: `{"type": "auth", "token": "<access
    token>", "since"?: <version>}` within 5 s. The answer is `{"type": "hello", "version", "staff_id",
    "missed": [changes after since]}`, then one `{"type": "task", "version", "task_id", "change", "task",
    "route"}` per change. Reconnect with the last `version` seen (`?since=` or in the auth message): nothing is
    missed. 4401 not authenticated (and when the token expires), 4403 a role without `tasks.work` or a user
    with no staff record, 4400 a malformed first message."""
    await websocket.accept()
    if "token" in websocket.query_params:
        await websocket.close(code=WS_UNAUTHENTICATED, reason=TOKEN_IN_URL)
        return
    hub = websocket.app.state.task_hub
    socket: CaregiverSocket | None = None
    try:
        first = await first_message(websocket)
        if isinstance(first, int):
            await websocket.close(code=first, reason=BAD_MESSAGE if first == WS_BAD_MESSAGE else UNAUTHENTICATED)
            return
        token, asked = first
        since = since if asked is None else asked
        settings = websocket.app.state.settings
        holder = await asyncio.to_thread(socket_user, settings, token, get_clock(websocket).now())
        if holder is None:
            await websocket.close(code=WS_UNAUTHENTICATED, reason=UNAUTHENTICATED)
            return
        staff_id = holder.user.staff_id
        if holder.user.role not in TASK_LIVE_ROLES or staff_id is None:
            await websocket.close(code=WS_FORBIDDEN, reason="only a caregiver with a staff record has a task channel")
            return
        socket = CaregiverSocket(websocket=websocket, staff_id=staff_id, since=since)
        hub.sockets.add(socket)
        missed = await asyncio.to_thread(hub.catch_up, socket)
        await websocket.send_json(
            {
                "type": "hello",
                "version": max([since, *(change.version for change in missed)]),
                "staff_id": staff_id,
                "missed": [change.message() for change in missed],
            }
        )
        await serve_live(websocket, socket.queue, expires_at=holder.expires_at, clock=get_clock(websocket))
    except WebSocketDisconnect:
        pass
    finally:
        if socket is not None:
            hub.sockets.discard(socket)


# --- the caregiver's writes: each exactly once per `Idempotency-Key` (core/idempotency.py) ------------------------
Replayable = TaskPublic | JSONResponse
WRITE_ERRORS = errors(404, 409, 422)


def _own_step(
    session: Session,
    *,
    user: User,
    task_id: int,
    now: datetime,
    idem: IdempotentRequest,
    body: BaseModel | None,
    step: Callable[[], object],
) -> Replayable:
    """Do a caregiver's step on their task and answer with the task; once per idempotency key."""

    def effect() -> TaskPublic:
        step()
        return _task(session, user, task_id, own=True)

    assert user.id is not None
    return once(session, request=idem, user_id=user.id, body=body, now=now, effect=effect)


@router.post("/{task_id}/accept", response_model=TaskPublic, responses=WRITE_ERRORS)
def accept(
    task_id: BigDbId,
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    idem: IdempotencyDep,
    body: StepRequest | None = None,
) -> Replayable:
    """Take a published task."""
    at = body.at if body else None
    return _own_step(
        session,
        user=user,
        task_id=task_id,
        now=now,
        idem=idem,
        body=body,
        step=lambda: work.accept(session, user=user, task_id=task_id, at=at, now=now),
    )


@router.post("/{task_id}/en-route", response_model=TaskPublic, responses=WRITE_ERRORS)
def en_route(
    task_id: BigDbId,
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    idem: IdempotencyDep,
    body: StepRequest | None = None,
) -> Replayable:
    """On the way."""
    at = body.at if body else None
    return _own_step(
        session,
        user=user,
        task_id=task_id,
        now=now,
        idem=idem,
        body=body,
        step=lambda: work.en_route(session, user=user, task_id=task_id, at=at, now=now),
    )


@router.post("/{task_id}/check-in", response_model=TaskPublic, responses=WRITE_ERRORS)
def check_in(
    task_id: BigDbId,
    body: Position,
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    settings: SettingsDep,
    idem: IdempotencyDep,
) -> Replayable:
    """At the home (EVV start); farther than `checkin_verified_within_m` (200 m) is accepted but flagged, the
    distance on the trace."""
    return _own_step(
        session,
        user=user,
        task_id=task_id,
        now=now,
        idem=idem,
        body=body,
        step=lambda: work.check_in(
            session,
            user=user,
            task_id=task_id,
            latitude=body.latitude,
            longitude=body.longitude,
            at=body.at,
            now=now,
            verified_within_m=settings.checkin_verified_within_m,
        ),
    )


@router.post("/{task_id}/complete", response_model=TaskPublic, responses=WRITE_ERRORS)
def complete(
    task_id: BigDbId,
    body: CompleteRequest,
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    settings: SettingsDep,
    idem: IdempotencyDep,
) -> Replayable:
    """Done (EVV end) with findings: the checklist answered, a problem found (with its category) opens a
    follow-up task and an alert; a meal delivery needs its outcome."""
    return _own_step(
        session,
        user=user,
        task_id=task_id,
        now=now,
        idem=idem,
        body=body,
        step=lambda: work.complete(
            session,
            user=user,
            task_id=task_id,
            request=body,
            now=now,
            follow_up_within_hours=settings.follow_up_within_hours,
        ),
    )


@router.post("/{task_id}/no-answer", response_model=NoAnswerResult, responses=WRITE_ERRORS)
def no_answer(
    task_id: BigDbId, body: NoAnswerRequest, session: SessionDep, user: TaskWorker, now: NowDep, idem: IdempotencyDep
) -> NoAnswerResult | JSONResponse:
    """Nobody answers at the door: the task is missed and a welfare call goes to the operators."""

    def effect() -> NoAnswerResult:
        welfare_id = work.no_answer(session, user=user, task_id=task_id, request=body, now=now)
        return NoAnswerResult(task=_task(session, user, task_id, own=True), welfare_alarm_id=welfare_id)

    assert user.id is not None
    return once(session, request=idem, user_id=user.id, body=body, now=now, effect=effect)


@router.post("/{task_id}/acknowledge", response_model=MyTask, responses=WRITE_ERRORS)
def acknowledge(
    task_id: BigDbId,
    body: AcknowledgeRequest,
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    settings: SettingsDep,
    idem: IdempotencyDep,
) -> MyTask | JSONResponse:
    """The caregiver saw the task's change of `version` (a re-plan, an urgent task pushed to them): recorded on the
    task (`acknowledged_version`, `acknowledged_at`) and its trace (`acknowledged`). An urgent task not
    acknowledged within `urgent_ack_minutes` raises an alert `task_not_acknowledged`. A version no newer than the
    one acknowledged changes nothing; 422 `version_unknown` for a version the task never had."""

    def effect() -> MyTask:
        work.acknowledge(session, user=user, task_id=task_id, version=body.version, at=body.at, now=now)
        return reads.my_task(
            session,
            user=user,
            task_id=task_id,
            today=local_date(now),
            verified_within_m=settings.checkin_verified_within_m,
        )

    assert user.id is not None
    return once(session, request=idem, user_id=user.id, body=body, now=now, effect=effect)


@me_router.post(
    "/tasks/{task_id}/photos",
    response_model=PhotoPublic,
    status_code=201,
    responses=errors(404, 409, 413, 422, s413="`photo_too_large` (over `photo_max_bytes`) or `payload_too_large`"),
)
def upload_photo(
    task_id: BigDbId,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image (judged by its bytes)")],
    session: SessionDep,
    user: TaskWorker,
    now: NowDep,
    settings: SettingsDep,
    idem: IdempotencyDep,
    taken_at: Annotated[Instant | None, Form(description="When the phone took it (default: now)")] = None,
) -> PhotoPublic | JSONResponse:
    """A photo for the visit record of the caregiver's own task, while checked in or within 2 h of completing it
    (409 `photo_not_accepted` otherwise). JPEG, PNG or WebP by magic bytes (422 `photo_type_not_allowed`), at most
    `photo_max_bytes` (413 `photo_too_large`). Name its id in `findings.photo_ids` when completing."""
    data = file.file.read(settings.photo_max_bytes + 1)
    identity = {"sha256": hashlib.sha256(data).hexdigest(), "taken_at": None if taken_at is None else taken_at}

    def effect() -> PhotoPublic:
        return photos.add(
            session,
            user=user,
            task_id=task_id,
            data=data,
            taken_at=taken_at,
            now=now,
            max_bytes=settings.photo_max_bytes,
        )

    assert user.id is not None
    return once(session, request=idem, user_id=user.id, body=identity, now=now, effect=effect, status_code=201)
