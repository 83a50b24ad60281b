"""A community's day as a planning problem, from the database (docs/scheduling.md, "From the database to a problem").

- **Caregivers** (vehicles): every shift overlapping the local day of the active staff based in the community
  (`roster.service.planning_shifts`), minus their leave: what is left of a shift is the part before the first
  leave that cuts it (a sick day recorded at 10:00 ends the shift at 10:00), or, when the leave covers its start,
  the part after it. A shift with nothing left after `now` is no vehicle. Skills are those usable that day
  (certified), the cap is `max_tasks_per_shift` minus the tasks already completed in the shift, and, during the
  day, the caregiver starts from the home of their last completed task.
- **Visits**: the community's open tasks (planned, assigned, published, en_route, checked_in) whose window starts
  that local day. Published and en_route tasks are pinned to their caregiver, checked-in ones to their caregiver
  and their check-in time. A published task whose caregiver has no vehicle any more (on leave, shift gone) is not
  pinned: the plan moves it, and its trace says why. A task under way whose caregiver has no vehicle that can hold
  it is left out (the coordinator and the caregiver handle it: `roster/leave.py`).
- **Meal deliveries**: picked up at the order's meal point when the meal's window opens, at the door within
  `meal_delivery_limit_minutes`; the handover itself takes `MEAL_HANDOVER_MINUTES` (the task's own duration is
  the hot-food limit, see docs/services/meals.md).
- **Continuity**: completed tasks per (resident, staff member) over `continuity_weeks` before `now`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE, as_utc
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.core.errors import NotFoundError, UnprocessableError
from eldercare_platform.planning import queries
from eldercare_platform.planning.solver import planner_settings, travel_model
from eldercare_platform.roster import service as roster_service
from eldercare_platform.routing.problem import Caregiver, MealPickup, PlanningProblem, Point, Visit
from eldercare_platform.routing.travel import TravelModel

MEAL_HANDOVER_MINUTES = 10
"""A meal delivery's time at the door (the task's `duration_minutes` is the hot-food limit, not the handover)."""

PINNED_STATUSES = ("published", "en_route", "checked_in")
UNDER_WAY = ("en_route", "checked_in")


class AreaNotFoundError(NotFoundError):
    """No such area (in the user's scope)."""

    code = "area_not_found"


class AreaNotCommunityError(UnprocessableError):
    """Plans are made per community: a street or a district is planned community by community."""

    code = "area_not_community"


@dataclass(frozen=True)
class AreaDay:
    """The community and the local day of a plan."""

    area_id: int
    path: str
    name: str
    day: date
    start: datetime  # the local day's first instant, UTC
    end: datetime


@dataclass(frozen=True)
class TaskFact:
    """What applying a plan needs to know of a task in the problem."""

    task_id: int
    status: str
    assignee_staff_id: int | None
    resident_id: int | None
    priority: int
    pinned: bool
    unavailable: str | None = None  # a published task's caregiver has no vehicle: why (it moves)


@dataclass
class ProblemContext:
    """The problem's place in the database: the area and day, each task's facts, what was left out and why."""

    area: AreaDay
    travel: TravelModel
    tasks: dict[int, TaskFact] = field(default_factory=dict)
    left_out: dict[int, str] = field(default_factory=dict)  # task id → why it is not in the problem
    staff_names: dict[int, str] = field(default_factory=dict)
    unavailable_staff: dict[int, str] = field(default_factory=dict)  # staff id → on_leave / shift_over
    inputs: dict[str, Any] = field(default_factory=dict)


def local_day(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local (Asia/Shanghai) day, in UTC."""
    start = as_utc(datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE))
    return start, start + timedelta(days=1)


def community(session: Session, *, area_id: int, day: date) -> AreaDay:
    """The community of a plan (404 `area_not_found`, 422 `area_not_community` for a street or a district)."""
    row = session.execute(text("SELECT id, path, name, level FROM area WHERE id = :id"), {"id": area_id}).first()
    if row is None:
        raise AreaNotFoundError(f"area {area_id} not found")
    if row.level != AreaLevel.COMMUNITY:
        raise AreaNotCommunityError(
            f"area {area_id} is a {row.level}: plans are made per community", area_id=area_id, level=str(row.level)
        )
    start, end = local_day(day)
    return AreaDay(area_id=int(row.id), path=str(row.path), name=str(row.name), day=day, start=start, end=end)


def available_period(
    shift: roster_service.PlanningShift, now: datetime, under_way: Sequence[datetime]
) -> tuple[datetime, datetime] | None:
    """What is left of a shift after its leave, as one period: of the pieces leave leaves (a sick day recorded at
    10:00 until the evening leaves the morning), those not over by `now`; the one holding a task under way (a
    check-in time), else the one `now` falls in, else the longest (the earliest of equals). None: nothing left."""
    pieces = [(shift.starts_at, shift.ends_at)]
    for leave_start, leave_end in shift.leave:
        pieces = [
            part
            for start, end in pieces
            for part in ((start, min(end, leave_start)), (max(start, leave_end), end))
            if part[1] > part[0]
        ]
    pieces = [(start, end) for start, end in pieces if end > now]
    if not pieces:
        return None
    for start, end in pieces:
        if any(start <= at < end for at in under_way):
            return start, end
    for start, end in pieces:
        if start <= now < end:
            return start, end
    return max(pieces, key=lambda piece: (piece[1] - piece[0], -piece[0].timestamp()))


def _point(latitude: float | None, longitude: float | None) -> Point | None:
    return None if latitude is None or longitude is None else Point(float(latitude), float(longitude))


def build_problem(
    session: Session, *, area_id: int, day: date, now: datetime, settings: ServiceRulesMixin
) -> tuple[PlanningProblem, ProblemContext]:
    """The community's local day as a `PlanningProblem` (see the module docstring), and its context."""
    area = community(session, area_id=area_id, day=day)
    context = ProblemContext(area=area, travel=travel_model(settings))
    tasks = session.execute(
        text(queries.PROBLEM_TASKS), {"path": area.path, "start": area.start, "end": area.end}
    ).all()
    shifts = roster_service.planning_shifts(session, area_path=area.path, start=area.start, end=area.end)
    caregivers = _caregivers(session, shifts, tasks, area, now, context)
    visits = _visits(session, tasks, caregivers, now, settings, context)
    label = f"{area.name} {day.isoformat()}"
    problem = PlanningProblem(
        caregivers=caregivers, visits=visits, now=now, settings=planner_settings(settings), label=label
    )
    context.inputs = inputs_of(problem, context)
    return problem, context


def _caregivers(
    session: Session,
    shifts: Sequence[roster_service.PlanningShift],
    tasks: Sequence[Any],
    area: AreaDay,
    now: datetime,
    context: ProblemContext,
) -> list[Caregiver]:
    checked_in: dict[int, list[datetime]] = {}
    for task in tasks:
        if task.status == "checked_in" and task.assignee_staff_id is not None and task.checked_in_at is not None:
            checked_in.setdefault(int(task.assignee_staff_id), []).append(task.checked_in_at)
    shift_ids = [s.shift_id for s in shifts]
    done = {
        int(row.shift_id): int(row.done) for row in session.execute(text(queries.DONE_IN_SHIFT), {"shifts": shift_ids})
    }
    last = {
        int(row.staff_id): row
        for row in session.execute(
            text(queries.LAST_COMPLETED),
            {"staff": sorted({s.staff_id for s in shifts}), "start": area.start, "now": now},
        )
    }
    caregivers = []
    for shift in shifts:
        context.staff_names[shift.staff_id] = shift.name
        window = available_period(shift, now, checked_in.get(shift.staff_id, []))
        if window is None:
            continue
        start, end = window
        home = _point(shift.home_latitude, shift.home_longitude)
        position, free_from = None, None
        recent = last.get(shift.staff_id)
        if recent is not None and start <= recent.completed_at < end:
            position, free_from = _point(recent.latitude, recent.longitude), recent.completed_at
        caregivers.append(
            Caregiver(
                staff_id=shift.staff_id,
                shift_id=shift.shift_id,
                shift_start=start,
                shift_end=end,
                start=home,
                end=home,
                travel_mode=shift.travel_mode,
                skills=shift.skills,
                max_tasks=max(0, shift.max_tasks_per_shift - done.get(shift.shift_id, 0)),
                declined_residents=shift.declined_residents,
                available_from=free_from,
                position=position,
            )
        )
    with_vehicle = {c.staff_id for c in caregivers}
    for shift in shifts:
        if shift.staff_id not in with_vehicle:
            context.unavailable_staff[shift.staff_id] = "on_leave" if shift.leave else "shift_over"
    return caregivers


def _holds(caregivers: Sequence[Caregiver], staff_id: int, start: datetime, minutes: int) -> bool:
    """Whether one of the staff member's vehicles can hold a visit from `start` for `minutes`."""
    end = start + timedelta(minutes=minutes)
    return any(c.staff_id == staff_id and c.shift_start <= start and end <= c.shift_end for c in caregivers)


def _reachable(caregivers: Sequence[Caregiver], staff_id: int, window_start: datetime, window_end: datetime) -> bool:
    """Whether one of the staff member's vehicles overlaps the window (the published task can stay theirs)."""
    return any(
        c.staff_id == staff_id and c.shift_start <= window_end and c.shift_end > window_start for c in caregivers
    )


def _visits(
    session: Session,
    tasks: Sequence[Any],
    caregivers: Sequence[Caregiver],
    now: datetime,
    settings: ServiceRulesMixin,
    context: ProblemContext,
) -> list[Visit]:
    residents = sorted({int(t.resident_id) for t in tasks if t.resident_id is not None})
    served: dict[int, dict[int, int]] = {}
    since = now - timedelta(weeks=settings.continuity_weeks)
    for row in session.execute(text(queries.CONTINUITY), {"residents": residents, "since": since, "now": now}):
        served.setdefault(int(row.resident_id), {})[int(row.staff_id)] = int(row.visits)
    visits = []
    for task in tasks:
        task_id, status = int(task.id), str(task.status)
        staff = None if task.assignee_staff_id is None else int(task.assignee_staff_id)
        window_end = task.window_end or task.window_start + timedelta(hours=2)
        meal = task.kind == "meal_delivery"
        duration = min(int(task.duration_minutes), MEAL_HANDOVER_MINUTES) if meal else int(task.duration_minutes)
        pinned_staff, pinned_start, unavailable = None, None, None
        if status == "checked_in" and staff is not None:
            at = task.checked_in_at or now
            if not _holds(caregivers, staff, at, duration):
                context.left_out[task_id] = "under_way_off_shift"
                continue
            pinned_staff, pinned_start = staff, at
        elif status == "en_route" and staff is not None:
            if not _holds(caregivers, staff, max(now, task.window_start), duration):
                context.left_out[task_id] = "under_way_off_shift"
                continue
            pinned_staff = staff
        elif status == "published" and staff is not None:
            if _reachable(caregivers, staff, task.window_start, window_end):
                pinned_staff = staff
            else:
                unavailable = context.unavailable_staff.get(staff, "not_on_shift")
        pickup = None
        if meal and task.meal and task.service_date is not None:
            point = _point(task.meal_point_latitude, task.meal_point_longitude)
            if point is not None:
                ready = getattr(settings, f"meal_{task.meal}_start")
                pickup = MealPickup(
                    point=point,
                    ready_at=as_utc(datetime.combine(task.service_date, ready, tzinfo=LOCAL_TIMEZONE)),
                    max_minutes=settings.meal_delivery_limit_minutes,
                    meal_point_id=None if task.meal_point_id is None else int(task.meal_point_id),
                )
        resident = None if task.resident_id is None else int(task.resident_id)
        visits.append(
            Visit(
                task_id=task_id,
                location=_point(task.latitude, task.longitude),
                window_start=task.window_start,
                window_end=window_end,
                duration_minutes=duration,
                priority=int(task.priority),
                required_skill=task.required_skill,
                resident_id=resident,
                served_by=dict(served.get(resident, {})) if resident is not None else {},
                pinned_staff_id=pinned_staff,
                pinned_start=pinned_start,
                pickup=pickup,
                kind=str(task.kind),
                service=task.service,
            )
        )
        context.tasks[task_id] = TaskFact(
            task_id=task_id,
            status=status,
            assignee_staff_id=staff,
            resident_id=resident,
            priority=int(task.priority),
            pinned=pinned_staff is not None,
            unavailable=unavailable,
        )
    return visits


def _point_key(p: Point | None) -> list[float] | None:
    return None if p is None else [round(p.latitude, 6), round(p.longitude, 6)]


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _caregiver_key(c: Caregiver) -> list[Any]:
    return [c.staff_id, c.shift_id, _when(c.shift_start), _when(c.shift_end), _point_key(c.start), c.travel_mode,
            sorted(c.skills), c.max_tasks, sorted(c.declined_residents), _when(c.available_from),
            _point_key(c.position)]  # fmt: skip


def _visit_key(v: Visit) -> list[Any]:
    pickup = v.pickup
    meal = None if pickup is None else [_point_key(pickup.point), _when(pickup.ready_at), pickup.max_minutes]
    return [v.task_id, _point_key(v.location), _when(v.window_start), _when(v.window_end), v.duration_minutes,
            v.priority, v.required_skill, v.resident_id, sorted(v.served_by.items()), v.pinned_staff_id,
            _when(v.pinned_start), meal]  # fmt: skip


def digest(problem: PlanningProblem) -> str:
    """A SHA-256 of the problem's canonical form: two plans with the same digest solved the same problem."""
    canonical = {
        "now": problem.now.isoformat(),
        "settings": problem.settings.as_dict(),
        "caregivers": [_caregiver_key(c) for c in sorted(problem.caregivers, key=lambda c: (c.staff_id, c.shift_id))],
        "visits": [_visit_key(v) for v in sorted(problem.visits, key=lambda v: v.task_id)],
    }
    body = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def inputs_of(problem: PlanningProblem, context: ProblemContext) -> dict[str, Any]:
    """What a plan records of its inputs: counts, what was left out and why, and the problem's digest."""
    visits: Sequence[Visit] = problem.visits
    left_out: Mapping[int, str] = context.left_out
    return {
        "caregivers": len(problem.caregivers),
        "staff": len({c.staff_id for c in problem.caregivers}),
        "visits": len(visits),
        "mandatory": sum(1 for v in visits if v.mandatory),
        "pinned": sum(1 for v in visits if v.pinned_staff_id is not None),
        "meal_deliveries": sum(1 for v in visits if v.pickup is not None),
        "without_location": sum(1 for v in visits if v.location is None),
        "left_out": {str(task_id): why for task_id, why in sorted(left_out.items())},
        "unavailable_staff": {str(staff): why for staff, why in sorted(context.unavailable_staff.items())},
        "travel": context.travel.name,
        "digest": digest(problem),
    }
