"""What the caregiver's live channel sends: changes of a staff member's tasks, read from the task table.

Migration 0012 keeps `task_staff_feed` (staff, task, newest version) for every change of a task that concerns a
staff member — their own, or one that was theirs until it was given to someone else — and NOTIFYs
`task_changed` with the staff id. These functions turn feed rows into messages (docs/scheduling/urgent.md):

    {"type": "task", "version": 812, "task_id": 91, "change": "published" | "assigned" | "moved" | "cancelled"
     | "removed" | <another trace action>, "task": {…as in GET /api/me/tasks…} | null,
     "route": {"sequence": 3, "planned_start": "…", "plan_id": 17} | null}

`task` is what the caregiver's list (`GET /api/me/tasks`) shows — their task, sent to them (published or further
along) — or null when it left their list (given to someone else, unassigned, suspended, cancelled). `change` is
the task's newest trace line in words a client can switch on: `moved` for a route change (a trace line
`rescheduled`: an urgent task inserted before it, a replan), `removed` when it is no longer theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M, my_task_of
from eldercare_platform.tasks.schemas import MyTask

CAREGIVER_STATUSES = ("published", "en_route", "checked_in", "completed", "missed")
"""A task on a caregiver's list (tasks/reads.py shows the same)."""

RECENT = timedelta(days=2)
"""A socket catching up from version 0 gets the changes of tasks whose window ended at most this long ago."""

_CHANGES = """
SELECT f.staff_id, f.version AS feed_version, t.plan_id AS route_plan_id, t.route_sequence AS route_seq,
       t.planned_start AS route_start,
       (SELECT e.action FROM task_event e WHERE e.task_id = t.id ORDER BY e.at DESC, e.id DESC LIMIT 1) AS last_action,
       t.id, t.kind, t.status, t.source, t.service, t.slot, t.priority, t.resident_id, r.name AS resident_name,
       t.household_id, h.address, t.area_id, t.alarm_id, t.meal_order_id, t.follow_up_of, t.assignee_staff_id,
       s.name AS assignee_name, t.window_start, t.window_end, t.duration_minutes, t.required_skill,
       t.status_reason, t.notes, t.assigned_at, t.published_at, t.accepted_at, t.en_route_at, t.checked_in_at,
       t.completed_at, t.problem_found, t.findings, t.version, t.area_path,
       r.phone AS resident_phone, h.access_notes, h.latitude AS home_latitude, h.longitude AS home_longitude,
       t.plan_id, t.route_sequence, t.planned_start, t.check_in_latitude, t.check_in_longitude,
       t.acknowledged_at, t.acknowledged_version, r.birth_date AS resident_birth_date,
       ARRAY(SELECT p.id FROM task_photo p WHERE p.task_id = t.id ORDER BY p.id) AS photo_ids,
       mp.name AS meal_point_name, mp.address AS meal_point_address, mp.latitude AS meal_point_latitude,
       mp.longitude AS meal_point_longitude
FROM task_staff_feed f
JOIN task t ON t.id = f.task_id
LEFT JOIN resident r ON r.id = t.resident_id
LEFT JOIN household h ON h.id = t.household_id
LEFT JOIN staff s ON s.id = t.assignee_staff_id
LEFT JOIN meal_order mo ON mo.id = t.meal_order_id
LEFT JOIN meal_point mp ON mp.id = mo.meal_point_id
WHERE f.staff_id = ANY(:staff) AND f.version > :since
  AND (t.window_end IS NULL OR t.window_end > :recent)
ORDER BY f.version
LIMIT :limit
"""
"""A staff member's feed rows with the task as the caregiver's list shows it (tasks.queries.TASK_SELECT's columns)
and its place in its route."""

_ACTION_TO_CHANGE = {"created": "assigned", "rescheduled": "moved", "unassigned": "removed"}


@dataclass(frozen=True)
class TaskChange:
    """One change of one task, as one staff member's channel sees it."""

    staff_id: int
    task_id: int
    version: int
    change: str
    task: MyTask | None
    route: Mapping[str, Any] | None

    def message(self) -> dict[str, Any]:
        """The JSON message of the channel."""
        return {
            "type": "task",
            "version": self.version,
            "task_id": self.task_id,
            "change": self.change,
            "task": None if self.task is None else self.task.model_dump(mode="json"),
            "route": None if self.route is None else dict(self.route),
        }


def _change_of(row: Any, *, today: date, verified_within_m: float) -> TaskChange | None:
    """A feed row's message for its staff member, or None when there is nothing to tell them (a task assigned to
    them but not yet published: not on their list, never seen)."""
    mine = row.assignee_staff_id == row.staff_id
    visible = mine and row.status in CAREGIVER_STATUSES
    if mine and not visible and row.status in ("planned", "assigned"):
        return None
    if not mine:
        change = "removed"
    elif row.status == "cancelled":
        change = "cancelled"
    elif not visible:
        change = "removed"  # suspended: the resident is away
    else:
        action = str(row.last_action or "published")
        change = _ACTION_TO_CHANGE.get(action, action)
    route = None
    if visible and (row.route_seq is not None or row.route_start is not None):
        route = {
            "sequence": row.route_seq,
            "planned_start": None if row.route_start is None else row.route_start.isoformat(),
            "plan_id": row.route_plan_id,
        }
    task = my_task_of(row._mapping, today=today, verified_within_m=verified_within_m) if visible else None
    return TaskChange(
        staff_id=int(row.staff_id),
        task_id=int(row.id),
        version=int(row.feed_version),
        change=change,
        task=task,
        route=route,
    )


def staff_changes(
    session: Session,
    *,
    staff_ids: Iterable[int],
    since: int,
    now: datetime,
    limit: int = 5000,
    verified_within_m: float = VERIFIED_WITHIN_M,
) -> list[TaskChange]:
    """Changes of these staff members' tasks after feed version `since`, oldest first (unscoped: the live hub
    hands each to the sockets of its own staff member only). Tasks whose window ended more than `RECENT` ago are
    left out; so is a task assigned but not yet published (the caregiver has not been sent it)."""
    ids = sorted(set(staff_ids))
    if not ids:
        return []
    rows = session.execute(text(_CHANGES), {"staff": ids, "since": since, "recent": now - RECENT, "limit": limit}).all()
    today = local_date(now)
    changes = (_change_of(row, today=today, verified_within_m=verified_within_m) for row in rows)
    return [change for change in changes if change is not None]


def latest_staff_version(session: Session, *, staff_id: int) -> int:
    """The newest feed version of a staff member's tasks (0 before the first)."""
    return int(
        session.execute(
            text("SELECT coalesce(max(version), 0) FROM task_staff_feed WHERE staff_id = :s"), {"s": staff_id}
        ).scalar_one()
    )
