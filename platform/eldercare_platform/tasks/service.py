"""The task engine's core: create a task and move it along its life, every step on its trace (全程留痕).

Every other domain creates and ends tasks through these functions (alarms dispatch, meals deliver, temporary
states suspend, care plans generate). Service functions take keyword-only arguments and `now` from the
injected clock; they flush, never commit: the caller's transaction decides.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.tasks import queries
from eldercare_platform.tasks.models import NORMAL, OPEN_STATUSES, TaskAction, TaskKind, TaskSource, TaskStatus


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
) -> str | None:
    """A guarded transition: `UPDATE … WHERE status IN allowed_from RETURNING` the previous status.

    `set_sql` adds assignments (e.g. `checked_in_at = :now`) with their `params`. Returns the previous
    status, or None when the task is not in an allowed status (the caller answers 409 or skips).
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
        now=now,
        user_id=user_id,
        staff_id=staff_id,
        reason=reason,
        detail=detail,
    )
    return str(previous)


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
    done: list[int] = []
    for task_id in ids:
        if move(
            session,
            task_id=int(task_id),
            action=TaskAction.SUSPENDED,
            to_status=TaskStatus.SUSPENDED,
            allowed_from={TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED},
            now=now,
            user_id=user_id,
            reason=reason,
        ):
            done.append(int(task_id))
    return done


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
    done: list[int] = []
    for task_id in ids:
        if move(
            session,
            task_id=int(task_id),
            action=TaskAction.RESUMED,
            to_status=TaskStatus.PLANNED,
            allowed_from={TaskStatus.SUSPENDED},
            now=now,
            user_id=user_id,
            reason=reason,
            set_sql="assignee_staff_id = NULL, assigned_at = NULL, published_at = NULL",
        ):
            done.append(int(task_id))
    return done


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
    done: list[int] = []
    for task_id in ids:
        if move(
            session,
            task_id=int(task_id),
            action=TaskAction.CANCELLED,
            to_status=TaskStatus.CANCELLED,
            allowed_from=OPEN_STATUSES | {TaskStatus.SUSPENDED},
            now=now,
            user_id=user_id,
            reason=reason,
        ):
            done.append(int(task_id))
    return done
