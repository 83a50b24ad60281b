"""A plan's hand on tasks (issue 12, docs/scheduling.md): the route order and planned start it gives a task, and
the staff changes it makes, each through `service.move` with a trace line that names the plan.

Reached through `tasks.service` (which re-exports these functions at its end): import `tasks.service`, never this
module directly. A plan never calls these on a task it pinned (published or under way with its caregiver): the
planning domain decides that; these functions only refuse what the task's status does not allow (None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.tasks.models import TaskAction, TaskStatus
from eldercare_platform.tasks.service import assign_to, move, move_each, record_event

UNASSIGN_SQL = (
    "assignee_staff_id = NULL, assigned_at = NULL, published_at = NULL, accepted_at = NULL,"
    " acknowledged_at = NULL, acknowledged_version = NULL, planned_start = NULL"
)

_SET_ROUTES = """
UPDATE task t SET plan_id = CAST(:plan AS bigint), route_sequence = v.sequence, planned_start = v.planned_start,
       version = nextval('task_version_seq')
FROM unnest(CAST(:ids AS bigint[]), CAST(:sequences AS smallint[]), CAST(:starts AS timestamptz[]))
     AS v(task_id, sequence, planned_start)
WHERE t.id = v.task_id
  AND (t.plan_id IS DISTINCT FROM CAST(:plan AS bigint) OR t.route_sequence IS DISTINCT FROM v.sequence
       OR t.planned_start IS DISTINCT FROM v.planned_start)
"""


def set_routes(session: Session, *, plan_id: int, stops: Sequence[tuple[int, int | None, datetime | None]]) -> int:
    """Each task's place in the plan: (task id, route sequence, planned start); (id, None, None) for a task the plan
    could not serve. One statement; a task whose values do not change is not written (its version stays).
    No trace line: the route order is the plan's (`plan_stop`), not a change of who does the task.
    Returns how many tasks changed."""
    if not stops:
        return 0
    result = session.execute(
        text(_SET_ROUTES),
        {
            "plan": plan_id,
            "ids": [int(task_id) for task_id, _, _ in stops],
            "sequences": [sequence for _, sequence, _ in stops],
            "starts": [start for _, _, start in stops],
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_route(
    session: Session, *, task_id: int, plan_id: int, sequence: int | None, planned_start: datetime | None
) -> bool:
    """One task's place in a plan (see `set_routes`); True if it changed."""
    return set_routes(session, plan_id=plan_id, stops=[(task_id, sequence, planned_start)]) > 0


def _task(session: Session, task_id: int) -> Any:
    return session.execute(
        text("SELECT id, status, assignee_staff_id FROM task WHERE id = :id FOR UPDATE"), {"id": task_id}
    ).first()


def _tell(
    session: Session, *, task_id: int, status: str, staff_id: int, now: datetime, reason: str, plan_id: int
) -> None:
    """The caregiver a published task was taken from is told (a notification line on the trace, as a
    coordinator's reassignment writes it)."""
    record_event(
        session,
        task_id=task_id,
        action=TaskAction.NOTE,
        from_status=None,
        to_status=status,
        now=now,
        staff_id=staff_id,
        reason=reason,
        detail={"notify_staff_id": staff_id, "notification": "task_taken_from_you", "plan_id": plan_id},
    )


def assign_for_plan(
    session: Session,
    *,
    task_id: int,
    staff_id: int,
    plan_id: int,
    now: datetime,
    reason: str,
    user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> str | None:
    """Give a task to the staff member a plan chose: `planned` → `assigned` ("assigned"); an `assigned` or
    `published` task of someone else is reassigned in place, its status kept and its acceptance reset
    ("reassigned"; the previous caregiver of a published task is told). None when nothing changed (already
    theirs) or the status allows no assignment (under way, closed)."""
    task = _task(session, task_id)
    if task is None:
        return None
    extra = {"plan_id": plan_id} | (detail or {})
    status = str(task.status)
    if status == TaskStatus.PLANNED:
        previous = assign_to(
            session, task_id=task_id, staff_id=staff_id, now=now, user_id=user_id, reason=reason, detail=extra
        )
        return "assigned" if previous else None
    if status not in (TaskStatus.ASSIGNED, TaskStatus.PUBLISHED) or task.assignee_staff_id == staff_id:
        return None
    before = int(task.assignee_staff_id)
    moved = move(
        session,
        task_id=task_id,
        action=TaskAction.ASSIGNED,
        to_status=TaskStatus(status),
        allowed_from={TaskStatus(status)},
        now=now,
        user_id=user_id,
        staff_id=staff_id,
        reason=reason,
        detail={"reassigned": True, "from_staff_id": before, "to_staff_id": staff_id} | extra,
        set_sql="assignee_staff_id = :staff, assigned_at = :now, accepted_at = NULL,"
        " acknowledged_at = NULL, acknowledged_version = NULL",
        params={"staff": staff_id},
    )
    if moved is None:
        return None
    if status == TaskStatus.PUBLISHED:
        _tell(session, task_id=task_id, status=status, staff_id=before, now=now, reason=reason, plan_id=plan_id)
    return "reassigned"


def unassign_for_plan(
    session: Session,
    *,
    task_id: int,
    plan_id: int,
    now: datetime,
    reason: str,
    user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int | None:
    """A task a plan could not keep on its caregiver: `assigned` / `published` → `planned`, nobody, with the
    reason on its trace (the previous caregiver of a published task is told). Returns the previous assignee's
    id, or None when the status allows no unassignment."""
    task = _task(session, task_id)
    if task is None or task.assignee_staff_id is None:
        return None
    status = str(task.status)
    before = int(task.assignee_staff_id)
    moved = move(
        session,
        task_id=task_id,
        action=TaskAction.UNASSIGNED,
        to_status=TaskStatus.PLANNED,
        allowed_from={TaskStatus.ASSIGNED, TaskStatus.PUBLISHED},
        now=now,
        user_id=user_id,
        reason=reason,
        detail={"from_staff_id": before, "plan_id": plan_id} | (detail or {}),
        set_sql=UNASSIGN_SQL,
    )
    if moved is None:
        return None
    if status == TaskStatus.PUBLISHED:
        _tell(
            session,
            task_id=task_id,
            status=TaskStatus.PLANNED,
            staff_id=before,
            now=now,
            reason=reason,
            plan_id=plan_id,
        )
    return before


def publish_for_plan(
    session: Session,
    *,
    task_ids: Sequence[int],
    plan_id: int,
    now: datetime,
    reason: str = "plan_published",
    user_id: int | None = None,
) -> list[int]:
    """A published plan's tasks: `assigned` → `published` (onto the caregivers' lists), the same transition as
    publishing a day by hand. Returns the ids that moved (others were not `assigned`)."""
    return move_each(
        session,
        task_ids=task_ids,
        action=TaskAction.PUBLISHED,
        to_status=TaskStatus.PUBLISHED,
        allowed_from={TaskStatus.ASSIGNED},
        now=now,
        user_id=user_id,
        reason=reason,
        detail={"plan_id": plan_id},
        set_sql="published_at = :now",
    )
