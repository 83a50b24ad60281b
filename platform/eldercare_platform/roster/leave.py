"""Leave and sick days: recorded, cancelled, listed; work already assigned in the period goes back to planning.

A leave of any kind that overlaps tasks already assigned to the person: every such task not yet under way
(`assigned` or `published`) goes back to `planned`, unassigned, with the reason on its trace, and the coordinator
of the task's area gets a `task_unassigned` alert (subject `task:<id>`). Tasks under way (`en_route`,
`checked_in`) are left to the person and the coordinator. Cancelling a leave does not give the tasks back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alerts_service
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.core.errors import ConflictError, NotFoundError
from eldercare_platform.roster.models import LeaveKind
from eldercare_platform.roster.owners import coordinator_for
from eldercare_platform.roster.schemas import LeavePublic
from eldercare_platform.tasks import service as tasks_service  # module access: tasks.service may import ours
from eldercare_platform.tasks.models import TaskAction, TaskStatus

UNASSIGN_SQL = "assignee_staff_id = NULL, assigned_at = NULL, published_at = NULL, planned_start = NULL"
LEAVE_COLUMNS = "id, staff_id, kind, starts_at, ends_at, reason, recorded_at, recorded_by, cancelled_at"


class LeaveNotFoundError(NotFoundError):
    """No such leave for this staff member."""

    code = "leave_not_found"


@dataclass(frozen=True)
class LeaveRecorded:
    """A leave written, and the tasks it took back."""

    leave_id: int
    unassigned_task_ids: list[int]


def record_leave(
    session: Session,
    *,
    staff_id: int,
    kind: LeaveKind | str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None,
    now: datetime,
    user_id: int | None = None,
) -> LeaveRecorded:
    """Write a leave (the caller checked the staff member and ends_at > starts_at); unassign the tasks it hits."""
    leave_id = session.execute(
        text(
            "INSERT INTO staff_leave (staff_id, kind, starts_at, ends_at, reason, recorded_at, recorded_by)"
            " VALUES (:staff, :kind, :starts, :ends, :reason, :now, :user) RETURNING id"
        ),
        {
            "staff": staff_id,
            "kind": str(kind),
            "starts": starts_at,
            "ends": ends_at,
            "reason": reason,
            "now": now,
            "user": user_id,
        },
    ).scalar_one()
    unassigned = unassign_overlapping(
        session,
        staff_id=staff_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=f"staff_leave:{kind}" + (f": {reason}" if reason else ""),
        now=now,
        user_id=user_id,
        detail={"leave_id": int(leave_id), "leave_kind": str(kind)},
    )
    return LeaveRecorded(leave_id=int(leave_id), unassigned_task_ids=unassigned)


def unassign_overlapping(
    session: Session,
    *,
    staff_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime,
    user_id: int | None = None,
    detail: dict[str, object] | None = None,
) -> list[int]:
    """Tasks of the staff member not yet under way whose window overlaps [starts_at, ends_at) go back to
    `planned` (unassigned) with the reason; each raises a `task_unassigned` alert for the area's coordinator."""
    tasks = session.execute(
        text(
            "SELECT id, area_id, area_path, resident_id FROM task WHERE assignee_staff_id = :staff"
            " AND status IN ('assigned', 'published')"
            " AND coalesce(window_start, created_at) < :ends"
            " AND coalesce(window_end, coalesce(window_start, created_at)"
            "     + make_interval(mins => duration_minutes)) > :starts ORDER BY id"
        ),
        {"staff": staff_id, "starts": starts_at, "ends": ends_at},
    ).all()
    done: list[int] = []
    for task in tasks:
        previous = tasks_service.move(
            session,
            task_id=int(task.id),
            action=TaskAction.UNASSIGNED,
            to_status=TaskStatus.PLANNED,
            allowed_from={TaskStatus.ASSIGNED, TaskStatus.PUBLISHED},
            now=now,
            user_id=user_id,
            reason=reason,
            detail={"staff_id": staff_id, **(detail or {})},
            set_sql=UNASSIGN_SQL,
        )
        if previous is None:
            continue
        done.append(int(task.id))
        alerts_service.raise_alert(
            session,
            kind=AlertKind.TASK_UNASSIGNED,
            subject_key=f"task:{task.id}",
            message=f"任务 #{task.id} 的护理员请假, 需重新指派 the assignee is on leave: reassign task #{task.id}",
            now=now,
            severity=2,
            task_id=int(task.id),
            resident_id=task.resident_id,
            area_id=task.area_id,
            area_path=task.area_path,
            owner_user_id=coordinator_for(session, area_path=task.area_path),
            detail={"reason": "staff_leave", "staff_id": staff_id, **(detail or {})},
        )
    return done


def cancel_leave(session: Session, *, staff_id: int, leave_id: int, now: datetime) -> None:
    """Cancel a leave (it stays listed, with `cancelled_at`); 404 if it is not this person's, 409 if cancelled."""
    row = session.execute(
        text("SELECT cancelled_at FROM staff_leave WHERE id = :id AND staff_id = :staff FOR UPDATE"),
        {"id": leave_id, "staff": staff_id},
    ).first()
    if row is None:
        raise LeaveNotFoundError(f"leave {leave_id} not found for staff {staff_id}")
    if row.cancelled_at is not None:
        raise ConflictError(f"leave {leave_id} is already cancelled", code="leave_cancelled")
    session.execute(text("UPDATE staff_leave SET cancelled_at = :now WHERE id = :id"), {"id": leave_id, "now": now})


def list_leave(session: Session, *, staff_id: int) -> list[LeavePublic]:
    """Every leave of the staff member (cancelled ones included), latest first."""
    rows = session.execute(
        text(f"SELECT {LEAVE_COLUMNS} FROM staff_leave WHERE staff_id = :id ORDER BY starts_at DESC, id DESC"),
        {"id": staff_id},
    ).mappings()
    return [LeavePublic.model_validate(dict(row)) for row in rows]


def get_leave(session: Session, *, staff_id: int, leave_id: int) -> LeavePublic:
    """One leave of the staff member; `LeaveNotFoundError` otherwise."""
    row = (
        session.execute(
            text(f"SELECT {LEAVE_COLUMNS} FROM staff_leave WHERE id = :id AND staff_id = :staff"),
            {"id": leave_id, "staff": staff_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise LeaveNotFoundError(f"leave {leave_id} not found for staff {staff_id}")
    return LeavePublic.model_validate(dict(row))
