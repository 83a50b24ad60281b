"""The task engine's core: create a task and move it along its life, every step on its trace (全程留痕).

Every other domain creates and ends tasks through these functions (alarms dispatch, meals deliver, temporary
states suspend, care plans generate). Service functions take keyword-only arguments and `now` from the
injected clock; they flush, never commit: the caller's transaction decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alert_service
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.core.errors import ConflictError, NotFoundError, UnprocessableError
from eldercare_platform.core.scope import Scope, scope_of
from eldercare_platform.roster import service as roster_service
from eldercare_platform.tasks import assign as assigning
from eldercare_platform.tasks import queries, urgent
from eldercare_platform.tasks.models import (
    HIGH,
    NORMAL,
    OPEN_STATUSES,
    URGENT,
    TaskAction,
    TaskKind,
    TaskSource,
    TaskStatus,
)
from eldercare_platform.users.models import User

if TYPE_CHECKING:
    from eldercare_platform.routing.travel import TravelModel
    from eldercare_platform.tasks.urgent import UrgentRouting as UrgentRouting  # the recorder's argument


def register_route_recorder(recorder: urgent.Recorder) -> None:
    """The planning domain registers the function that records an urgent insertion (`UrgentRouting`: who, where
    in their route, the added km, the delays; tasks/urgent.py) as a `plan` row."""
    urgent.register_recorder(recorder)


def configure_urgent_routing(*, travel: TravelModel) -> None:
    """The travel model of urgent insertions in this process (main.py: from the settings)."""
    urgent.configure(travel=travel)


class TaskNotFoundError(NotFoundError):
    """No such task in the user's scope (or, for a caregiver, not theirs): 404 `task_not_found`."""

    code = "task_not_found"


class TaskStateConflictError(ConflictError):
    """The task's status does not allow this: 409 `task_state_conflict`, the current status in the context as
    `task_status` (`status` is the HTTP status's name in the error machinery)."""

    code = "task_state_conflict"

    def __init__(self, detail: str, *, task_status: str, code: str | None = None, **context: Any) -> None:
        super().__init__(detail, code=code, task_status=str(task_status), **context)


class TaskRuleError(UnprocessableError):
    """The request breaks a rule of the task engine (422; `code` says which, e.g. `staff_not_assignable`)."""

    code = "task_rule_broken"


def scope_clause(session: Session, user: User) -> tuple[str, dict[str, Any]]:
    """SQL restricting tasks (alias `t`) to the user's scope, and its parameters."""
    scope = scope_of(session, user)
    return scope.path_sql("t.area_path"), scope.params


def lock_task(session: Session, *, user: User, task_id: int, own: bool = False) -> Any:
    """The task's row, locked for a change, if it is in the user's scope (and, with `own`, assigned to the
    user's staff record); else 404 `task_not_found`."""
    clause, params = scope_clause(session, user)
    if own:
        clause += " AND t.assignee_staff_id = :me"
        params = {**params, "me": user.staff_id if user.staff_id is not None else -1}
    row = session.execute(text(queries.LOCK_TASK + f" AND {clause} FOR UPDATE OF t"), {**params, "id": task_id}).first()
    if row is None:
        raise TaskNotFoundError(f"task {task_id} not found")
    return row


def refuse(task_id: int, status: str, wanted: str) -> TaskStateConflictError:
    """The 409 for a transition the task's current status does not allow."""
    return TaskStateConflictError(f"task {task_id} is {status}; it cannot be {wanted}", task_status=status)


def transition(
    session: Session,
    *,
    task: Any,
    action: TaskAction,
    to_status: TaskStatus,
    allowed_from: frozenset[TaskStatus] | set[TaskStatus],
    now: datetime,
    **kwargs: Any,
) -> str:
    """`move` on a locked task row, or 409 `task_state_conflict` naming its status."""
    previous = move(
        session, task_id=int(task.id), action=action, to_status=to_status, allowed_from=allowed_from, now=now, **kwargs
    )
    if previous is None:
        raise refuse(int(task.id), str(task.status), str(to_status))
    return previous


def assign_to(
    session: Session,
    *,
    task_id: int,
    staff_id: int,
    now: datetime,
    user_id: int | None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str | None:
    """planned → assigned to this staff member (no checks: the caller checked). Returns the previous status."""
    return move(
        session,
        task_id=task_id,
        action=TaskAction.ASSIGNED,
        to_status=TaskStatus.ASSIGNED,
        allowed_from={TaskStatus.PLANNED},
        now=now,
        user_id=user_id,
        staff_id=staff_id,
        reason=reason,
        detail={"to_staff_id": staff_id} | (detail or {}),
        set_sql="assignee_staff_id = :staff, assigned_at = :now, accepted_at = NULL,"
        " acknowledged_at = NULL, acknowledged_version = NULL",
        params={"staff": staff_id},
    )


def nearest_staff(
    session: Session,
    *,
    task_id: int,
    now: datetime | None = None,
    assigner: assigning.Assigner | None = None,
    scope: Scope | None = None,
) -> tuple[int | None, float | None, str | None]:
    """Who the assigner picks for one task among the staff the roster says are available at its earliest slot
    (window start, or now if later, for its duration): (staff id, distance km, None), or (None, None, reason).
    A user's request passes the user's `scope`: only staff in it are candidates (the system's own runs pass none)."""
    row = session.execute(text(queries.LOCK_TASK), {"id": task_id}).one()
    earliest = max(row.window_start, now) if now is not None else row.window_start
    staff = roster_service.available_staff(
        session,
        start=earliest,
        end=earliest + timedelta(minutes=row.duration_minutes),
        skill=row.required_skill,
        resident_id=row.resident_id,
        scope=scope,
    )
    plan = assigning.TaskToPlan(
        id=task_id,
        window_start=row.window_start,
        window_end=row.window_end,
        priority=row.priority,
        latitude=row.home_latitude,
        longitude=row.home_longitude,
        required_skill=row.required_skill,
        resident_id=row.resident_id,
    )
    result = (assigner or assigning.DEFAULT_ASSIGNER).assign([plan], staff)
    if result.assignments:
        chosen = result.assignments[0]
        return chosen.staff_id, chosen.distance_km, None
    return None, None, result.unassigned[0].reason if result.unassigned else "no_staff_on_shift"


def create_urgent_task(
    session: Session,
    *,
    kind: TaskKind,
    source: TaskSource,
    now: datetime,
    within: timedelta,
    resident_id: int | None = None,
    household_id: int | None = None,
    device_serial: str | None = None,
    alarm_id: int | None = None,
    staff_id: int | None = None,
    service: str | None = None,
    slot: str | None = None,
    notes: str | None = None,
    user_id: int | None = None,
    reason: str | None = None,
    area_path: str | None = None,
    scope: Scope | None = None,
) -> int | None:
    """An urgent task (priority 1, window now → now + `within`) sent out at once: to `staff_id`, else inserted
    into the live route of the best on-shift caregiver (tasks/urgent.py: the cheapest feasible insertion, only
    their later stops move; the nearest available staff member when nobody has a live route), and published with
    its place in the route. When nobody can take it, it stays `planned` and an alert TASK_UNASSIGNED (subject
    `task:<id>`) says why in words. A user's request passes the user's `scope` (only staff in it are candidates).
    Returns its id (None: the slot exists)."""
    task_id = create_task(
        session,
        kind=kind,
        source=source,
        now=now,
        window_start=now,
        window_end=now + within,
        resident_id=resident_id,
        household_id=household_id,
        device_serial=device_serial,
        alarm_id=alarm_id,
        service=service,
        slot=slot,
        area_path=area_path,
        priority=URGENT,
        notes=notes,
        user_id=user_id,
        reason=reason,
    )
    if task_id is None:
        return None
    detail: dict[str, Any] = {}
    route: dict[str, Any] = {"sequence": None, "start": None, "plan": None}
    if staff_id is None:
        routing = urgent.route_urgent(session, task_id=task_id, now=now, scope=scope, user_id=user_id)
        if routing is None:  # nobody has a live route: insertion is nearest
            staff_id, km, why = nearest_staff(session, task_id=task_id, now=now, scope=scope)
            routing = urgent.nearest_routing(
                session, task_id=task_id, now=now, staff_id=staff_id, km=km, reason=why, user_id=user_id
            )
        routing = urgent.reroute(session, routing=routing, now=now)
        staff_id, detail = routing.staff_id, routing.detail()
        if staff_id is None:
            why = routing.reason or "no_staff_on_shift"
            alert_service.raise_alert(
                session,
                kind=AlertKind.TASK_UNASSIGNED,
                subject_key=f"task:{task_id}",
                message=f"紧急任务 {task_id} 无人可派：{urgent.REASON_WORDS.get(why, why)}"
                f" (urgent {kind} task {task_id}: nobody can take it)",
                now=now,
                severity=1,
                task_id=task_id,
                resident_id=resident_id,
                detail={"reason": why, "plan_id": routing.plan_id, "candidates": routing.inputs.get("candidates")},
            )
            return task_id
        stop = urgent.inserted_stop(routing)
        route = {
            "sequence": stop.sequence if stop else None,
            "start": stop.planned_start if stop else None,
            "plan": routing.plan_id,
        }
    assign_to(session, task_id=task_id, staff_id=staff_id, now=now, user_id=user_id, reason=reason, detail=detail)
    move(
        session,
        task_id=task_id,
        action=TaskAction.PUBLISHED,
        to_status=TaskStatus.PUBLISHED,
        allowed_from={TaskStatus.ASSIGNED},
        now=now,
        user_id=user_id,
        reason="urgent: published at once",
        set_sql="published_at = :now, route_sequence = :sequence, planned_start = :start, plan_id = :plan",
        params=route,
    )
    return task_id


def create_follow_up(
    session: Session,
    *,
    resident_id: int,
    source: TaskSource,
    now: datetime,
    within_hours: int,
    slot: str,
    follow_up_of: int | None = None,
    alarm_id: int | None = None,
    priority: int = HIGH,
    notes: str | None = None,
    user_id: int | None = None,
    reason: str | None = None,
) -> int | None:
    """A follow-up visit (kind FOLLOW_UP) within `within_hours`, `planned` for the coordinator to assign.

    `slot` makes it once only (e.g. `alarm:<id>:follow_up`, `finding:<task id>`): None when it exists already.
    """
    return create_task(
        session,
        kind=TaskKind.FOLLOW_UP,
        source=source,
        now=now,
        window_start=now,
        window_end=now + timedelta(hours=within_hours),
        resident_id=resident_id,
        alarm_id=alarm_id,
        service=str(TaskKind.FOLLOW_UP),
        slot=slot,
        follow_up_of=follow_up_of,
        priority=priority,
        notes=notes,
        user_id=user_id,
        reason=reason,
    )


def create_task(
    session: Session,
    *,
    kind: TaskKind,
    source: TaskSource,
    now: datetime,
    window_start: datetime,
    window_end: datetime,
    resident_id: int | None = None,
    household_id: int | None = None,
    service: str | None = None,
    slot: str | None = None,
    care_plan_id: int | None = None,
    area_path: str | None = None,
    device_serial: str | None = None,
    alarm_id: int | None = None,
    meal_order_id: int | None = None,
    follow_up_of: int | None = None,
    duration_minutes: int = 30,
    priority: int = NORMAL,
    required_skill: str | None = None,
    staff_id: int | None = None,
    notes: str | None = None,
    user_id: int | None = None,
    reason: str | None = None,
) -> int | None:
    """Create a task (`assigned` when a staff member is named, else `planned`) and write `created` on its trace.

    Returns its id, or None when a generated task with the same (resident, service, slot) already exists.
    """
    row = session.execute(
        text(queries.INSERT_TASK),
        {
            "kind": kind,
            "source": source,
            "resident": resident_id,
            "household": household_id,
            "serial": device_serial,
            "alarm": alarm_id,
            "staff": staff_id,
            "service": service,
            "slot": slot,
            "care_plan": care_plan_id,
            "area_path": area_path,
            "window_start": window_start,
            "window_end": window_end,
            "duration": duration_minutes,
            "priority": priority,
            "skill": required_skill,
            "follow_up_of": follow_up_of,
            "meal_order": meal_order_id,
            "notes": notes,
            "now": now,
            "user": user_id,
        },
    ).first()
    if row is None:
        return None
    task_id = int(row.id)
    record_event(
        session,
        task_id=task_id,
        action=TaskAction.CREATED,
        from_status=None,
        to_status=row.status,
        now=now,
        user_id=user_id,
        reason=reason,
        detail={"source": str(source), "kind": str(kind)} | ({"staff_id": staff_id} if staff_id else {}),
    )
    return task_id


def record_event(
    session: Session,
    *,
    task_id: int,
    action: TaskAction | str,
    from_status: str | None,
    to_status: str,
    now: datetime,
    user_id: int | None = None,
    staff_id: int | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One line on a task's trace: who (user or staff member), what, from which status to which, why."""
    session.execute(
        text(queries.INSERT_EVENT),
        {
            "task": task_id,
            "now": now,
            "user": user_id,
            "staff": staff_id,
            "action": str(action),
            "from_status": from_status,
            "to_status": to_status,
            "reason": reason,
            "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
        },
    )


def move(
    session: Session,
    *,
    task_id: int,
    action: TaskAction,
    to_status: TaskStatus,
    allowed_from: frozenset[TaskStatus] | set[TaskStatus],
    now: datetime,
    user_id: int | None = None,
    staff_id: int | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    set_sql: str = "",
    params: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> str | None:
    """A guarded transition: `UPDATE … WHERE status IN allowed_from RETURNING` the previous status.

    `set_sql` adds assignments (e.g. `checked_in_at = :now`) with their `params`. Returns the previous
    status, or None when the task is not in an allowed status (the caller answers 409 or skips).
    `at` is when it happened where it happened (a caregiver's phone) when that differs from `now` (when the
    server heard of it): the trace line is dated `at`, the row's `updated_at` is `now`.
    """
    previous = session.execute(
        text(
            "UPDATE task t SET status = :to, status_reason = coalesce(:reason, t.status_reason), updated_at = :now,"
            f" updated_by = :user, version = nextval('task_version_seq'){', ' + set_sql if set_sql else ''}"
            " FROM (SELECT id, status FROM task WHERE id = :id FOR UPDATE) old"
            " WHERE t.id = old.id AND old.status = ANY(:allowed) RETURNING old.status"
        ),
        {
            "id": task_id,
            "to": str(to_status),
            "reason": reason,
            "now": now,
            "user": user_id,
            "allowed": [str(status) for status in allowed_from],
            **(params or {}),
        },
    ).scalar()
    if previous is None:
        return None
    record_event(
        session,
        task_id=task_id,
        action=action,
        from_status=str(previous),
        to_status=str(to_status),
        now=at or now,
        user_id=user_id,
        staff_id=staff_id,
        reason=reason,
        detail=detail,
    )
    return str(previous)


def move_each(session: Session, *, task_ids: Iterable[int], **transition: Any) -> list[int]:
    """`move` every task of `task_ids` with the same transition (keyword arguments of `move` but `task_id`);
    returns the ids that moved (a task no longer in an allowed status is skipped)."""
    return [int(task_id) for task_id in task_ids if move(session, task_id=int(task_id), **transition)]


def suspend_for_resident(
    session: Session,
    *,
    resident_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    reason: str,
    now: datetime,
    user_id: int | None = None,
) -> list[int]:
    """The resident is away (hospital, family): tasks not yet under way whose window starts in the period are
    suspended with the reason. Returns their ids."""
    ids = session.execute(
        text(
            "SELECT id FROM task WHERE resident_id = :r AND status IN ('planned', 'assigned', 'published')"
            " AND coalesce(window_start, created_at) >= :start"
            " AND (CAST(:end AS timestamptz) IS NULL OR coalesce(window_start, created_at) < :end)"
            " AND kind NOT IN ('maintenance', 'substitute_cover') ORDER BY id"
        ),
        {"r": resident_id, "start": starts_at, "end": ends_at},
    ).scalars()
    return move_each(
        session,
        task_ids=ids,
        action=TaskAction.SUSPENDED,
        to_status=TaskStatus.SUSPENDED,
        allowed_from={TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED},
        now=now,
        user_id=user_id,
        reason=reason,
    )


def resume_for_resident(
    session: Session, *, resident_id: int, reason: str, now: datetime, user_id: int | None = None
) -> list[int]:
    """The resident is back: suspended tasks whose window has not closed go back to `planned` (unassigned)."""
    ids = session.execute(
        text(
            "SELECT id FROM task WHERE resident_id = :r AND status = 'suspended'"
            " AND (window_end IS NULL OR window_end > :now) ORDER BY id"
        ),
        {"r": resident_id, "now": now},
    ).scalars()
    return move_each(
        session,
        task_ids=ids,
        action=TaskAction.RESUMED,
        to_status=TaskStatus.PLANNED,
        allowed_from={TaskStatus.SUSPENDED},
        now=now,
        user_id=user_id,
        reason=reason,
        set_sql="assignee_staff_id = NULL, assigned_at = NULL, published_at = NULL, planned_start = NULL",
    )


def cancel_for_resident(
    session: Session, *, resident_id: int, reason: str, now: datetime, user_id: int | None = None
) -> list[int]:
    """The resident moved away or died: every task still open (or suspended) is cancelled with the reason."""
    ids = session.execute(
        text(
            "SELECT id FROM task WHERE resident_id = :r"
            " AND status NOT IN ('completed', 'missed', 'cancelled') ORDER BY id"
        ),
        {"r": resident_id},
    ).scalars()
    return move_each(
        session,
        task_ids=ids,
        action=TaskAction.CANCELLED,
        to_status=TaskStatus.CANCELLED,
        allowed_from=OPEN_STATUSES | {TaskStatus.SUSPENDED},
        now=now,
        user_id=user_id,
        reason=reason,
    )


# --- a plan's hand on tasks (issue 12): defined in tasks/routes.py, re-exported here, the domain's front door ------
# --- when a task counts as late (one definition for the alert, the board and supervision): tasks/lateness.py -------
from eldercare_platform.tasks.lateness import late_deadline as late_deadline  # noqa: E402
from eldercare_platform.tasks.routes import (  # noqa: E402  (routes.py builds on the functions above)
    assign_for_plan as assign_for_plan,
)
from eldercare_platform.tasks.routes import publish_for_plan as publish_for_plan  # noqa: E402
from eldercare_platform.tasks.routes import set_route as set_route  # noqa: E402
from eldercare_platform.tasks.routes import set_routes as set_routes  # noqa: E402
from eldercare_platform.tasks.routes import unassign_for_plan as unassign_for_plan  # noqa: E402
