"""Who takes a task: the `Assigner` interface, the nearest-available assigner, and one check of a manual choice.

An `Assigner` is pure: it gets the tasks to place and the staff on shift (as `roster.service.available_staff`
returns them, one entry per staff member and shift) and answers with assignments and, for every task it could
not place, a reason code. It reads no database and writes nothing: the caller (`POST /api/tasks/auto-assign`,
an alarm's dispatch, a welfare call's urgent visit) applies the result through `tasks.service`. The routing
issue plugs an optimising assigner (PyVRP) behind the same Protocol (docs/services/tasks-lifecycle.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.geo import haversine_km
from eldercare_platform.roster import service as roster_service

if TYPE_CHECKING:  # only for annotations: roster.service imports tasks.service, which imports this module
    from eldercare_platform.roster.service import AvailableStaff


@dataclass(frozen=True)
class TaskToPlan:
    """A task to place: when, where (the home), how urgent, what skill; who may take it, if the caller knows.

    `eligible_staff_ids` is what the roster says for this very task (on shift for the whole window, not on
    leave, skilled, has not declined the resident); None when the caller did not ask (the assigner then checks
    the shift and the skill itself).
    """

    id: int
    window_start: datetime
    window_end: datetime
    priority: int
    latitude: float | None = None
    longitude: float | None = None
    required_skill: str | None = None
    resident_id: int | None = None
    duration_minutes: int = 30
    eligible_staff_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Assignment:
    """A task given to a staff member (in one of their shifts), and how far they travel to it."""

    task_id: int
    staff_id: int
    shift_id: int
    distance_km: float | None


@dataclass(frozen=True)
class Unplaced:
    """A task no one could take, with a reason code (`no_staff_on_shift`, `no_staff_with_skill`, `no_capacity`)."""

    task_id: int
    reason: str


@dataclass
class AssignmentResult:
    """What an assigner did: the assignments, and the tasks left unassigned with a reason each."""

    assignments: list[Assignment] = field(default_factory=list)
    unassigned: list[Unplaced] = field(default_factory=list)


class Assigner(Protocol):
    """Places tasks on staff. Implementations must not mutate their inputs and must answer every task once."""

    def assign(self, tasks: Sequence[TaskToPlan], staff: Sequence[AvailableStaff]) -> AssignmentResult:
        """Assignments for the tasks it could place, a reason for each one it could not."""
        ...


class NearestAvailableAssigner:
    """Each task, most urgent first (priority, then earliest window end), to the nearest staff member whose shift
    overlaps its window by at least its duration,
    with the skill and room left in that shift (`max_tasks_per_shift` minus the shift's load).

    "Nearest" is from the staff member's previous task in this run (the latest one starting no later than this
    task), else their home base; a staff member with no known position comes after those with one, and a task
    with no coordinates goes to the least loaded. Ties: least loaded, then lowest id.
    """

    def assign(self, tasks: Sequence[TaskToPlan], staff: Sequence[AvailableStaff]) -> AssignmentResult:
        result = AssignmentResult()
        room = {s.shift_id: s.max_tasks_per_shift - s.load for s in staff}
        taken: dict[int, list[tuple[datetime, float | None, float | None]]] = {}
        for task in sorted(tasks, key=lambda t: (t.priority, t.window_end, t.window_start, t.id)):
            need = timedelta(minutes=task.duration_minutes)
            on_shift = [
                s
                for s in staff
                if min(s.ends_at, task.window_end) - max(s.starts_at, task.window_start) >= need
                and (task.eligible_staff_ids is None or s.id in task.eligible_staff_ids)
            ]
            if not on_shift:
                result.unassigned.append(Unplaced(task.id, "no_staff_on_shift"))
                continue
            skilled = [s for s in on_shift if task.required_skill is None or task.required_skill in s.skills]
            if not skilled:
                result.unassigned.append(Unplaced(task.id, "no_staff_with_skill"))
                continue
            free = [s for s in skilled if room[s.shift_id] > 0]
            if not free:
                result.unassigned.append(Unplaced(task.id, "no_capacity"))
                continue

            def distance(s: AvailableStaff, task: TaskToPlan = task) -> float | None:
                if task.latitude is None or task.longitude is None:
                    return None
                before = [p for p in taken.get(s.id, []) if p[0] <= task.window_start and p[1] is not None]
                if before:
                    _, lat, lon = max(before, key=lambda p: p[0])
                elif s.home_latitude is not None and s.home_longitude is not None:
                    lat, lon = s.home_latitude, s.home_longitude
                else:
                    return None
                assert lat is not None and lon is not None
                return haversine_km(lat, lon, task.latitude, task.longitude)

            scored = [(distance(s), s) for s in free]
            km, best = min(
                scored,
                key=lambda pair: (
                    pair[0] is None,
                    pair[0] or 0.0,
                    pair[1].max_tasks_per_shift - room[pair[1].shift_id],
                    pair[1].id,
                ),
            )
            room[best.shift_id] -= 1
            taken.setdefault(best.id, []).append((task.window_start, task.latitude, task.longitude))
            result.assignments.append(Assignment(task.id, best.id, best.shift_id, None if km is None else round(km, 3)))
        return result


DEFAULT_ASSIGNER: Assigner = NearestAvailableAssigner()
"""The assigner the API and the alarm console use (swap here for an optimising one)."""


_STAFF_FACTS = """
SELECT s.active, s.skills, s.max_tasks_per_shift,
       (SELECT sh.id FROM shift sh WHERE sh.staff_id = s.id
          AND least(sh.ends_at, :end) - greatest(sh.starts_at, :start) >= make_interval(mins => :minutes)
        ORDER BY sh.starts_at LIMIT 1) AS shift_id,
       EXISTS (SELECT 1 FROM staff_leave l WHERE l.staff_id = s.id AND l.cancelled_at IS NULL
               AND l.starts_at < :end AND l.ends_at > :start) AS on_leave,
       EXISTS (SELECT 1 FROM staff_preference p WHERE p.staff_id = s.id AND p.resident_id = :resident
               AND p.kind = 'declined') AS declined
FROM staff s WHERE s.id = :staff
"""

_SHIFT_LOAD = """
SELECT count(*) FROM task t JOIN shift sh ON sh.id = :shift
WHERE t.assignee_staff_id = :staff AND t.status IN ('assigned', 'published', 'en_route', 'checked_in')
  AND t.window_start >= sh.starts_at AND t.window_start < sh.ends_at AND t.id <> :task
"""


_EARLIEST_SLOT = """
SELECT greatest(sh.starts_at, CAST(:start AS timestamptz)) FROM shift sh
WHERE sh.staff_id = :staff AND sh.starts_at < :end AND sh.ends_at > :start
  AND least(sh.ends_at, CAST(:end AS timestamptz)) - greatest(sh.starts_at, CAST(:start AS timestamptz))
      >= make_interval(mins => :minutes)
ORDER BY sh.starts_at LIMIT 1
"""


def why_not_assignable(
    session: Session,
    *,
    staff_id: int,
    start: datetime,
    end: datetime,
    skill: str | None,
    resident_id: int | None,
    task_id: int | None = None,
    duration_minutes: int = 30,
) -> list[str]:
    """Why this staff member cannot take a task of `duration_minutes` in the window [start, end] (empty: they can).
    A shift must overlap the window by at least the task's duration (`not_on_shift` otherwise).

    Codes: `staff_not_found`, `staff_inactive`, `not_on_shift`, `on_leave`, `missing_skill`, `declined_resident`,
    `no_capacity`. The roster's own `why_not_assignable` is used when the roster domain provides it.
    """
    roster_check = getattr(roster_service, "why_not_assignable", None)
    if roster_check is not None:
        # The roster judges a concrete slot: the earliest part of the window that one of the person's shifts
        # covers for the task's duration (a 24-hour follow-up window fits in no single shift, a visit does).
        slot_start = session.execute(
            text(_EARLIEST_SLOT), {"staff": staff_id, "start": start, "end": end, "minutes": duration_minutes}
        ).scalar()
        if slot_start is not None:
            start, end = slot_start, slot_start + timedelta(minutes=duration_minutes)
        return list(
            roster_check(session, staff_id=staff_id, start=start, end=end, skill=skill, resident_id=resident_id)
        )
    row = session.execute(
        text(_STAFF_FACTS),
        {"staff": staff_id, "start": start, "end": end, "resident": resident_id, "minutes": duration_minutes},
    ).first()
    if row is None:
        return ["staff_not_found"]
    reasons: list[str] = []
    if not row.active:
        reasons.append("staff_inactive")
    if row.shift_id is None:
        reasons.append("not_on_shift")
    if row.on_leave:
        reasons.append("on_leave")
    if skill is not None and skill not in (row.skills or []):
        reasons.append("missing_skill")
    if row.declined:
        reasons.append("declined_resident")
    if row.shift_id is not None:
        load = session.execute(
            text(_SHIFT_LOAD), {"shift": row.shift_id, "staff": staff_id, "task": task_id or 0}
        ).scalar_one()
        if int(load) >= int(row.max_tasks_per_shift):
            reasons.append("no_capacity")
    return reasons
