"""The coordinator's side of a task's life: ad-hoc tasks, assign / reassign / unassign, publish a day, cancel,
missed (reassign as a new task or escalate), auto-assign. Every change goes through `service.move` and leaves
a trace line saying who and why; a status that does not allow it is a 409 `task_state_conflict`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alert_service
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.roster import service as roster_service
from eldercare_platform.roster.models import Unassignable
from eldercare_platform.tasks import assign as assigning
from eldercare_platform.tasks import queries
from eldercare_platform.tasks.models import OPEN_STATUSES, TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.tasks.reads import local_day
from eldercare_platform.tasks.schemas import AutoAssigned, AutoAssignResult, NotAssigned, TaskCreate
from eldercare_platform.tasks.service import (
    TaskRuleError,
    TaskStateConflictError,
    assign_to,
    create_task,
    lock_task,
    move,
    nearest_staff,
    record_event,
    refuse,
    scope_clause,
    transition,
)
from eldercare_platform.users.models import User

REASSIGNABLE = frozenset({TaskStatus.ASSIGNED, TaskStatus.PUBLISHED})


class AreaNotFoundError(NotFoundError):
    """No such area in the user's scope."""

    code = "area_not_found"


class ResidentNotFoundError(NotFoundError):
    """No such resident in the user's scope."""

    code = "resident_not_found"


def create_adhoc(session: Session, *, user: User, request: TaskCreate, now: datetime) -> int:
    """A task made by hand for a resident in the coordinator's scope (`planned`, source `manual`)."""
    if request.window_end <= request.window_start:
        raise TaskRuleError("window_end must be after window_start", code="window_invalid")
    scope = scope_of(session, user)
    found = session.execute(
        text(f"SELECT 1 FROM resident r WHERE r.id = :id AND {scope.residents_sql('r')}"),
        {**scope.params, "id": request.resident_id},
    ).first()
    if found is None:
        raise ResidentNotFoundError(f"resident {request.resident_id} not found")
    task_id = create_task(
        session,
        kind=TaskKind(request.kind),
        source=TaskSource.MANUAL,
        now=now,
        window_start=request.window_start,
        window_end=request.window_end,
        resident_id=request.resident_id,
        service=request.service,
        priority=request.priority,
        duration_minutes=request.duration_minutes,
        required_skill=request.required_skill,
        notes=request.notes,
        user_id=user.id,
    )
    assert task_id is not None  # no slot: never a duplicate
    return task_id


def check_assignable(session: Session, *, user: User, task: Any, staff_id: int, now: datetime) -> None:
    """422 `staff_not_assignable` with the reasons when the staff member cannot take the task. A staff member
    outside the user's scope (`Scope.staff_sql`) is `unknown_staff`, as one that does not exist: nothing about
    them is told, and nobody outside the scope is given the task."""
    scope = scope_of(session, user)
    if not scope.unrestricted and (
        session.execute(
            text(f"SELECT 1 FROM staff s WHERE s.id = :id AND {scope.staff_sql('s')}"),
            {**scope.params, "id": staff_id},
        ).first()
        is None
    ):
        raise TaskRuleError(
            f"staff {staff_id} cannot take task {task.id}: {Unassignable.UNKNOWN_STAFF}",
            code="staff_not_assignable",
            staff_id=staff_id,
            reasons=[str(Unassignable.UNKNOWN_STAFF)],
        )
    start = task.window_start or now
    end = task.window_end or start + timedelta(minutes=30)
    reasons = assigning.why_not_assignable(
        session,
        staff_id=staff_id,
        start=start,
        end=end,
        skill=task.required_skill,
        resident_id=task.resident_id,
        task_id=int(task.id),
        duration_minutes=int(task.duration_minutes),
    )
    if reasons:
        raise TaskRuleError(
            f"staff {staff_id} cannot take task {task.id}: {', '.join(reasons)}",
            code="staff_not_assignable",
            staff_id=staff_id,
            reasons=reasons,
        )


def _tell_previous(session: Session, *, task: Any, previous_staff: int, now: datetime, user: User, why: str) -> None:
    """The previous assignee is told (for now: a notification line on the trace; the app will push it)."""
    record_event(
        session,
        task_id=int(task.id),
        action=TaskAction.NOTE,
        from_status=None,
        to_status=str(task.status),
        now=now,
        user_id=user.id,
        staff_id=previous_staff,
        reason=why,
        detail={"notify_staff_id": previous_staff, "notification": "task_taken_from_you"},
    )


def assign(session: Session, *, user: User, task_id: int, staff_id: int, reason: str | None, now: datetime) -> None:
    """planned → assigned; on an assigned or published task, a reassignment (status kept, acceptance reset)."""
    task = lock_task(session, user=user, task_id=task_id)
    status = TaskStatus(task.status)
    if status != TaskStatus.PLANNED and status not in REASSIGNABLE:
        raise refuse(task_id, status, "assigned")
    if task.assignee_staff_id == staff_id:
        raise TaskStateConflictError(
            f"task {task_id} is already assigned to staff {staff_id}", task_status=status, staff_id=staff_id
        )
    check_assignable(session, user=user, task=task, staff_id=staff_id, now=now)
    if status == TaskStatus.PLANNED:
        assign_to(session, task_id=task_id, staff_id=staff_id, now=now, user_id=user.id, reason=reason)
        return
    previous = int(task.assignee_staff_id)
    transition(
        session,
        task=task,
        action=TaskAction.ASSIGNED,
        to_status=status,
        allowed_from={status},
        now=now,
        user_id=user.id,
        staff_id=staff_id,
        reason=reason,
        detail={"reassigned": True, "from_staff_id": previous, "to_staff_id": staff_id},
        set_sql="assignee_staff_id = :staff, assigned_at = :now, accepted_at = NULL,"
        " acknowledged_at = NULL, acknowledged_version = NULL",
        params={"staff": staff_id},
    )
    _tell_previous(session, task=task, previous_staff=previous, now=now, user=user, why=reason or "reassigned")


def unassign(session: Session, *, user: User, task_id: int, reason: str | None, now: datetime) -> None:
    """assigned / published → planned, nobody (and no planned start: nobody is on the way)."""
    task = lock_task(session, user=user, task_id=task_id)
    transition(
        session,
        task=task,
        action=TaskAction.UNASSIGNED,
        to_status=TaskStatus.PLANNED,
        allowed_from=REASSIGNABLE,
        now=now,
        user_id=user.id,
        reason=reason,
        detail={"from_staff_id": task.assignee_staff_id},
        # nobody is planned to arrive any more: late counts from the window start again (tasks/lateness.py)
        set_sql="assignee_staff_id = NULL, assigned_at = NULL, published_at = NULL, accepted_at = NULL,"
        " acknowledged_at = NULL, acknowledged_version = NULL, planned_start = NULL",
    )
    _tell_previous(
        session, task=task, previous_staff=int(task.assignee_staff_id), now=now, user=user, why=reason or "unassigned"
    )


def _area_path(session: Session, *, user: User, area_id: int) -> str:
    scope = scope_of(session, user)
    path = session.execute(
        text(f"SELECT a.path FROM area a WHERE a.id = :id AND {scope.path_sql('a.path')}"),
        {**scope.params, "id": area_id},
    ).scalar()
    if path is None:
        raise AreaNotFoundError(f"area {area_id} not found")
    return str(path)


def _day_tasks(session: Session, *, user: User, area_id: int, day: date, status: TaskStatus) -> list[int]:
    path = _area_path(session, user=user, area_id=area_id)
    clause, params = scope_clause(session, user)
    start, end = local_day(day)
    return [
        int(i)
        for i in session.execute(
            text(
                f"SELECT t.id FROM task t WHERE {clause} AND t.area_path LIKE :path || '%' AND t.status = :status"
                " AND t.window_start >= :start AND t.window_start < :end ORDER BY t.window_start, t.priority, t.id"
            ),
            {**params, "path": path, "status": str(status), "start": start, "end": end},
        ).scalars()
    ]


def publish_day(session: Session, *, user: User, area_id: int, day: date, now: datetime) -> list[int]:
    """Every assigned task of the area's local day → published (onto the caregivers' lists)."""
    done = []
    for task_id in _day_tasks(session, user=user, area_id=area_id, day=day, status=TaskStatus.ASSIGNED):
        if move(
            session,
            task_id=task_id,
            action=TaskAction.PUBLISHED,
            to_status=TaskStatus.PUBLISHED,
            allowed_from={TaskStatus.ASSIGNED},
            now=now,
            user_id=user.id,
            set_sql="published_at = :now",
        ):
            done.append(task_id)
    return done


def cancel(session: Session, *, user: User, task_id: int, reason: str, now: datetime) -> None:
    """Any task not yet closed → cancelled, with a reason."""
    task = lock_task(session, user=user, task_id=task_id)
    transition(
        session,
        task=task,
        action=TaskAction.CANCELLED,
        to_status=TaskStatus.CANCELLED,
        allowed_from=OPEN_STATUSES | {TaskStatus.SUSPENDED},
        now=now,
        user_id=user.id,
        reason=reason,
    )


def missed(
    session: Session, *, user: User, task_id: int, reason: str, action: str, staff_id: int | None, now: datetime
) -> tuple[int | None, int | None]:
    """Mark a task missed (if still open; a task already missed is handled as is) and then:

    - `reassign`: a NEW task for the same resident (same kind, source, service; `follow_up_of` = this task;
      window now → now + the old window's length), assigned to `staff_id` (checked) or the nearest available;
      if nobody can take it, it stays planned with a TASK_UNASSIGNED alert. Returns (new task id, None).
    - `escalate`: an alert TASK_MISSED (severity 1, owned by the coordinator) on the board. Returns
      (None, alert id or None when one is open already).
    """
    task = lock_task(session, user=user, task_id=task_id)
    if TaskStatus(task.status) in OPEN_STATUSES:
        transition(
            session,
            task=task,
            action=TaskAction.MISSED,
            to_status=TaskStatus.MISSED,
            allowed_from=OPEN_STATUSES,
            now=now,
            user_id=user.id,
            reason=reason,
            detail={"then": action},
        )
    elif task.status != TaskStatus.MISSED:
        raise refuse(task_id, task.status, "marked missed")
    if action == "escalate":
        alert_id = alert_service.raise_alert(
            session,
            kind=AlertKind.TASK_MISSED,
            subject_key=f"task:{task_id}",
            message=f"task {task_id} missed and escalated: {reason}",
            now=now,
            severity=1,
            task_id=task_id,
            resident_id=task.resident_id,
            owner_user_id=user.id,
            detail={"escalated_by": user.id, "reason": reason},
        )
        record_event(
            session,
            task_id=task_id,
            action=TaskAction.NOTE,
            from_status=TaskStatus.MISSED,
            to_status=TaskStatus.MISSED,
            now=now,
            user_id=user.id,
            reason=reason,
            detail={"escalated": True, "alert_id": alert_id},
        )
        return None, alert_id
    again = session.execute(
        text("SELECT id FROM task WHERE follow_up_of = :id AND kind = :kind AND status <> 'cancelled' LIMIT 1"),
        {"id": task_id, "kind": task.kind},
    ).scalar()
    if again is not None:
        raise TaskStateConflictError(
            f"task {task_id} was already reassigned as task {again}",
            code="task_already_reassigned",
            task_status=TaskStatus.MISSED,
            new_task_id=int(again),
        )
    length = (task.window_end - task.window_start) if task.window_start and task.window_end else timedelta(hours=2)
    new_id = create_task(
        session,
        kind=TaskKind(task.kind),
        source=TaskSource(task.source),
        now=now,
        window_start=now,
        window_end=now + length,
        resident_id=task.resident_id,
        household_id=task.household_id,
        alarm_id=task.alarm_id,
        service=task.service,
        follow_up_of=task_id,
        duration_minutes=task.duration_minutes,
        priority=task.priority,
        required_skill=task.required_skill,
        notes=task.notes,
        user_id=user.id,
        reason=f"reassigned after missed task {task_id}: {reason}",
    )
    assert new_id is not None
    new_task = lock_task(session, user=user, task_id=new_id)
    detail: dict[str, Any] = {}
    if staff_id is not None:
        check_assignable(session, user=user, task=new_task, staff_id=staff_id, now=now)
    else:
        staff_id, km, why = nearest_staff(session, task_id=new_id, now=now, scope=scope_of(session, user))
        detail = {"chosen_by": "nearest_available", "distance_km": km, "unassigned_reason": why}
    if staff_id is not None:
        assign_to(session, task_id=new_id, staff_id=staff_id, now=now, user_id=user.id, reason=reason, detail=detail)
    else:
        alert_service.raise_alert(
            session,
            kind=AlertKind.TASK_UNASSIGNED,
            subject_key=f"task:{new_id}",
            message=f"task {new_id} (replacing missed task {task_id}): nobody available"
            f" ({detail['unassigned_reason']})",
            now=now,
            severity=2,
            task_id=new_id,
            resident_id=task.resident_id,
            detail=detail,
        )
    record_event(
        session,
        task_id=task_id,
        action=TaskAction.FOLLOW_UP_CREATED,
        from_status=TaskStatus.MISSED,
        to_status=TaskStatus.MISSED,
        now=now,
        user_id=user.id,
        reason=reason,
        detail={"new_task_id": new_id, "staff_id": staff_id},
    )
    return new_id, None


def auto_assign(
    session: Session,
    *,
    user: User,
    area_id: int,
    day: date,
    now: datetime,
    assigner: assigning.Assigner | None = None,
) -> AutoAssignResult:
    """Run the assigner on the area's planned tasks of a local day and apply what it decided."""
    chosen = assigner or assigning.DEFAULT_ASSIGNER
    ids = _day_tasks(session, user=user, area_id=area_id, day=day, status=TaskStatus.PLANNED)
    scope = scope_of(session, user)  # only staff the user may see are candidates
    plans: list[assigning.TaskToPlan] = []
    staff: dict[int, roster_service.AvailableStaff] = {}
    for task_id in ids:
        row = session.execute(text(queries.LOCK_TASK), {"id": task_id}).one()
        if row.window_start is None or row.window_end is None:
            continue
        earliest = max(row.window_start, now)
        available = roster_service.available_staff(
            session,
            start=earliest,
            end=earliest + timedelta(minutes=row.duration_minutes),
            skill=row.required_skill,
            resident_id=row.resident_id,
            scope=scope,
        )
        staff.update({s.shift_id: s for s in available})
        plans.append(
            assigning.TaskToPlan(
                id=task_id,
                window_start=row.window_start,
                window_end=row.window_end,
                priority=row.priority,
                latitude=row.home_latitude,
                longitude=row.home_longitude,
                required_skill=row.required_skill,
                resident_id=row.resident_id,
                duration_minutes=row.duration_minutes,
                eligible_staff_ids=frozenset(s.id for s in available),
            )
        )
    result = chosen.assign(plans, list(staff.values()))
    applied = []
    for a in result.assignments:
        if assign_to(
            session,
            task_id=a.task_id,
            staff_id=a.staff_id,
            now=now,
            user_id=user.id,
            reason="auto-assign",
            detail={"assigner": type(chosen).__name__, "distance_km": a.distance_km},
        ):
            applied.append(AutoAssigned(task_id=a.task_id, staff_id=a.staff_id, distance_km=a.distance_km))
    return AutoAssignResult(
        assigner=type(chosen).__name__,
        assigned=applied,
        unassigned=[NotAssigned(task_id=u.task_id, reason=u.reason) for u in result.unassigned],
    )
