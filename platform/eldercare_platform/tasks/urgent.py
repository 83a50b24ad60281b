"""An urgent task into the live route of the best on-shift caregiver (docs/scheduling/urgent.md).

`route_urgent` is what `tasks.service.create_urgent_task` calls when no staff member is named:

1. who could take it: `roster.service.available_staff` for now → now + its duration, its skill, its resident
   (declined), the user's scope when a user asked;
2. their live routes (tasks/live_routes.py) as a small `PlanningProblem` and `Plan`;
3. the planner's `insert` (routing/insertion.py: the cheapest feasible insertion, every other route and stop
   fixed, only later stops of the chosen route may start later);
4. the answer applied: the urgent task assigned and published with its `route_sequence` and `planned_start`, the
   chosen caregiver's later stops given their new order and start (a `rescheduled` line on each one's trace when
   it moved), nobody else's task touched;
5. a record of it all (who, the added km, each later task's delay, the candidates) on the urgent task's trace and,
   through the recorder the planning domain registers (`register_recorder`), as a `plan` row of kind
   `urgent_insertion`. The task engine never imports the planning domain (planning imports tasks): the plan
   tables are planning's, written by planning's function.

When none of the candidates has a live route (nobody has open work in their shift) or the home has no
coordinates, insertion and nearest are the same question: the old nearest-available assigner answers it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.geo import haversine_km
from eldercare_common.logging import get_logger
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.scope import Scope
from eldercare_platform.roster import service as roster_service
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.problem import Plan, Planner, PlanningProblem, Point, Visit
from eldercare_platform.routing.travel import GreatCircleTravel, TravelModel
from eldercare_platform.tasks import live_routes as live
from eldercare_platform.tasks import queries

log = get_logger(__name__)

CANDIDATE_RADIUS_KM = 20.0
"""Only staff based within this distance of the home are candidates (an e-bike covers ~7 km in 30 minutes)."""

REASON_WORDS: dict[str, str] = {
    "no_staff_on_shift": "无人在班 nobody on shift",
    "no_staff_with_skill": "在班人员无所需技能 nobody on shift has the skill",
    "declined_by_all": "在班人员均回避该老人 everyone on shift declined this resident",
    "window_infeasible": "无人能在时限内赶到 nobody can get there in time",
    "no_capacity": "在班人员本班任务已满 everyone on shift is full",
    "no_location": "老人住址无坐标 the home has no coordinates",
}
"""The alert's words for why nobody could take an urgent task (codes: routing.problem.UNASSIGNED_REASONS)."""


@dataclass(frozen=True)
class RoutedStop:
    """A stop of the chosen route after the insertion, and how it moved."""

    task_id: int
    sequence: int  # route_sequence in the shift
    planned_start: datetime
    planned_end: datetime
    travel_km: float
    travel_minutes: float
    previous_sequence: int | None = None
    previous_start: datetime | None = None  # as the task table had it (None: never planned)
    delay_minutes: float = 0.0  # later than the route as it stood (its start timed from now)


@dataclass(frozen=True)
class UrgentRouting:
    """What the insertion decided, for the task's trace and the planning domain's `plan` row."""

    task_id: int
    now: datetime
    area_id: int | None
    area_path: str | None
    day: date  # the local day of `now`
    solver: str
    staff_id: int | None  # None: nobody
    shift_id: int | None
    reason: str | None  # why nobody (routing.problem.UNASSIGNED_REASONS)
    chosen_by: str  # "urgent_insertion" | "nearest_available"
    stops: tuple[RoutedStop, ...] = ()  # the chosen route after the insertion (the open part)
    inputs: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    runtime_ms: int = 0
    user_id: int | None = None
    plan_id: int | None = None  # set once recorded

    def detail(self) -> dict[str, Any]:
        """The trace line's detail (JSON)."""
        return {"chosen_by": self.chosen_by, "solver": self.solver, **self.cost, "changes": self.changes}


Recorder = Callable[[Session, UrgentRouting], int | None]
"""Writes the `plan` row of an urgent insertion and answers its id (the planning domain registers one)."""

_RECORDERS: list[Recorder] = []
TRAVEL: list[TravelModel] = [GreatCircleTravel()]  # the app sets it from its settings (main.py)
PLANNER: list[Callable[[TravelModel], Planner]] = [GreedyPlanner]  # what `insert`s: swap for another Planner


def register_recorder(recorder: Recorder) -> None:
    """The planning domain's function that records an urgent insertion as a `plan` row (idempotent)."""
    if recorder not in _RECORDERS:
        _RECORDERS.append(recorder)


def configure(*, travel: TravelModel) -> None:
    """The travel model of every urgent insertion in this process (the settings' circuity and speeds)."""
    TRAVEL[0] = travel


def record(session: Session, routing: UrgentRouting) -> int | None:
    """The registered recorder's plan id (None without one: the trace still holds everything)."""
    if not _RECORDERS:
        log.warning("urgent insertion not recorded as a plan: no recorder registered", task_id=routing.task_id)
    plan_id = None
    for recorder in _RECORDERS:
        plan_id = recorder(session, routing) or plan_id
    return plan_id


_URGENT_TASK = """
SELECT t.id, t.kind, t.service, t.resident_id, t.area_id, t.area_path, t.window_start, t.window_end,
       t.duration_minutes, t.priority, t.required_skill, h.latitude AS home_latitude, h.longitude AS home_longitude
FROM task t LEFT JOIN household h ON h.id = t.household_id WHERE t.id = :id
"""

_MOVE_STOP = """
UPDATE task SET route_sequence = :sequence, planned_start = :start, plan_id = coalesce(CAST(:plan AS bigint), plan_id),
       updated_at = :now, updated_by = :user
WHERE id = :id AND status IN ('assigned', 'published') AND assignee_staff_id = :staff
RETURNING status
"""


def _visit_of(task: Any, now: datetime) -> Visit:
    location = None
    if task.home_latitude is not None and task.home_longitude is not None:
        location = Point(float(task.home_latitude), float(task.home_longitude))
    return Visit(
        task_id=int(task.id),
        location=location,
        window_start=max(task.window_start, now),
        window_end=max(task.window_end, now),
        duration_minutes=int(task.duration_minutes),
        priority=int(task.priority),
        required_skill=task.required_skill,
        resident_id=task.resident_id,
        kind=str(task.kind),
        service=task.service,
    )


def _moves(route: live.LiveRoute, inserted: tuple[Any, ...], task_id: int) -> tuple[RoutedStop, ...]:
    """The chosen route's stops after the insertion beside where they stood."""
    before = {stop.task_id: stop.start for stop in route.route.stops}
    rows = {row.task_id: row for row in route.tasks}
    stops = []
    for stop in inserted:
        row = rows.get(stop.task_id)
        was = before.get(stop.task_id)
        stops.append(
            RoutedStop(
                task_id=stop.task_id,
                sequence=route.sequence_base + stop.sequence,
                planned_start=stop.start,
                planned_end=stop.end,
                travel_km=round(stop.travel_km, 3),
                travel_minutes=round(stop.travel_minutes, 1),
                previous_sequence=None if row is None else row.route_sequence,
                previous_start=None if row is None else row.planned_start,
                delay_minutes=0.0 if was is None else round(max(0.0, (stop.start - was).total_seconds() / 60), 1),
            )
        )
    return tuple(stops)


def _within_reach(staff: roster_service.AvailableStaff, home: Point | None) -> bool:
    """A candidate based farther than `CANDIDATE_RADIUS_KM` from the home is not asked (a city-wide roster would
    otherwise be read for one alarm); one with no home base, or a home with no coordinates, always is."""
    if home is None or staff.home_latitude is None or staff.home_longitude is None:
        return True
    return haversine_km(staff.home_latitude, staff.home_longitude, home.latitude, home.longitude) <= CANDIDATE_RADIUS_KM


def _why_nobody(session: Session, slot: dict[str, Any], skill: str | None) -> str:
    """Why the roster has nobody for the task: nobody on shift, nobody with the skill, or all declined it."""
    if not roster_service.available_staff(session, **slot):
        return "no_staff_on_shift"
    if skill is not None and not roster_service.available_staff(session, **slot, skill=skill):
        return "no_staff_with_skill"
    return "declined_by_all"


def route_urgent(
    session: Session, *, task_id: int, now: datetime, scope: Scope | None = None, user_id: int | None = None
) -> UrgentRouting | None:
    """The urgent insertion's decision for a planned task (nothing written), or None when no candidate has a live
    route or the home has no coordinates (the caller asks the nearest-available assigner instead)."""
    started = perf_counter()
    task = session.execute(text(_URGENT_TASK), {"id": task_id}).one()
    base: dict[str, Any] = {
        "task_id": task_id,
        "now": now,
        "area_id": task.area_id,
        "area_path": task.area_path,
        "day": local_date(now),
        "solver": "insertion",
        "chosen_by": "urgent_insertion",
        "user_id": user_id,
    }
    slot: dict[str, Any] = {"start": now, "end": now + timedelta(minutes=int(task.duration_minutes)), "scope": scope}
    roster = roster_service.available_staff(session, **slot, skill=task.required_skill, resident_id=task.resident_id)
    visit = _visit_of(task, now)
    staff = [s for s in roster if _within_reach(s, visit.location)]
    if not staff:
        reason = "window_infeasible" if roster else _why_nobody(session, slot, task.required_skill)
        return UrgentRouting(
            **base,
            staff_id=None,
            shift_id=None,
            reason=reason,
            inputs={"candidates": 0},
            cost={"candidates": 0},
            runtime_ms=int((perf_counter() - started) * 1000),
        )
    travel = TRAVEL[0]
    routes = live.live_routes(session, staff=staff, now=now, travel=travel)
    if visit.location is None or not any(route.visits for route in routes):
        return None
    problem = PlanningProblem(
        caregivers=[r.caregiver for r in routes],
        visits=[v for r in routes for v in r.visits],
        now=now,
        label=f"urgent task {task_id}",
    )
    current = Plan(
        solver="live", routes=tuple(r.route for r in routes), unassigned=(), cost={}, runtime_seconds=0, feasible=True
    )
    planner = PLANNER[0](travel)
    answer = planner.insert(problem, current, visit)
    chosen = next((r for r in answer.routes if any(s.task_id == task_id for s in r.stops)), None)
    base["solver"] = f"{planner.name}.insert"
    inputs = {
        "candidates": len(routes),
        "candidates_with_route": sum(1 for r in routes if r.visits),
        "stops_considered": sum(len(r.visits) for r in routes),
        "window_start": visit.window_start.isoformat(),
        "window_end": visit.window_end.isoformat(),
        "required_skill": visit.required_skill,
        "travel": travel.name,
    }
    if chosen is None:
        why = next((u.reason for u in answer.unassigned if u.task_id == task_id), "window_infeasible")
        if why == "no_staff_on_shift":
            why = "window_infeasible"  # the roster says they are on shift: busy (checked in) past the window
        return UrgentRouting(
            **base,
            staff_id=None,
            shift_id=None,
            reason=why,
            inputs=inputs,
            cost={"candidates": len(routes)},
            runtime_ms=int((perf_counter() - started) * 1000),
        )
    was = next(r for r in routes if (r.staff.id, r.staff.shift_id) == (chosen.staff_id, chosen.shift_id))
    stops = _moves(was, chosen.stops, task_id)
    later = [s for s in stops if s.task_id != task_id and s.delay_minutes > 0]
    added_km = round(chosen.travel_km - was.route.travel_km, 3)
    mine = next(s for s in stops if s.task_id == task_id)
    return UrgentRouting(
        **base,
        staff_id=chosen.staff_id,
        shift_id=chosen.shift_id,
        reason=None,
        stops=stops,
        inputs=inputs,
        cost={
            "added_km": added_km,
            "route_km_before": round(was.route.travel_km, 3),
            "route_km_after": round(chosen.travel_km, 3),
            "planned_start": mine.planned_start.isoformat(),
            "delayed_tasks": len(later),
            "delay_minutes_total": round(sum(s.delay_minutes for s in later), 1),
            "delay_minutes_max": max((s.delay_minutes for s in later), default=0.0),
        },
        changes={
            "staff_id": chosen.staff_id,
            "inserted": {
                "task_id": task_id,
                "sequence": mine.sequence,
                "planned_start": mine.planned_start.isoformat(),
            },
            "moved": [
                {
                    "task_id": s.task_id,
                    "sequence": [s.previous_sequence, s.sequence],
                    "planned_start": [
                        None if s.previous_start is None else s.previous_start.isoformat(),
                        s.planned_start.isoformat(),
                    ],
                    "delay_minutes": s.delay_minutes,
                }
                for s in stops
                if s.task_id != task_id and (s.previous_sequence != s.sequence or s.previous_start != s.planned_start)
            ],
        },
        runtime_ms=int((perf_counter() - started) * 1000),
    )


def reroute(session: Session, *, routing: UrgentRouting, now: datetime) -> UrgentRouting:
    """Record the insertion (the planning domain's `plan` row, when a recorder is registered) and give the chosen
    caregiver's later stops their new order and start; answers `routing` with its `plan_id`. The urgent task
    itself is assigned and published by the caller (`tasks.service.create_urgent_task`)."""
    routing = replace(routing, plan_id=record(session, routing))
    for stop in routing.stops:
        if stop.task_id == routing.task_id:
            continue
        if stop.previous_sequence == stop.sequence and stop.previous_start == stop.planned_start:
            continue
        status = session.execute(
            text(_MOVE_STOP),
            {
                "id": stop.task_id,
                "sequence": stop.sequence,
                "start": stop.planned_start,
                "plan": routing.plan_id,
                "now": now,
                "user": routing.user_id,
                "staff": routing.staff_id,
            },
        ).scalar()
        if status is None or stop.previous_start is None:
            continue  # gone meanwhile, or never planned before (nothing promised moved)
        session.execute(
            text(queries.INSERT_EVENT),
            {
                "task": stop.task_id,
                "now": now,
                "user": routing.user_id,
                "staff": None,
                "action": "rescheduled",
                "from_status": status,
                "to_status": status,
                "reason": f"urgent task {routing.task_id} inserted into the route",
                "detail": json.dumps(
                    {
                        "urgent_task_id": routing.task_id,
                        "plan_id": routing.plan_id,
                        "route_sequence": [stop.previous_sequence, stop.sequence],
                        "planned_start": [stop.previous_start.isoformat(), stop.planned_start.isoformat()],
                        "delay_minutes": stop.delay_minutes,
                    }
                ),
            },
        )
    return routing


def inserted_stop(routing: UrgentRouting) -> RoutedStop | None:
    """The urgent task's own stop in the chosen route (None: nobody, or chosen by the nearest assigner)."""
    return next((stop for stop in routing.stops if stop.task_id == routing.task_id), None)


def nearest_routing(
    session: Session,
    *,
    task_id: int,
    now: datetime,
    staff_id: int | None,
    km: float | None,
    reason: str | None,
    user_id: int | None = None,
) -> UrgentRouting:
    """The record of a decision the nearest-available assigner made (no live route to insert into)."""
    task = session.execute(text(_URGENT_TASK), {"id": task_id}).one()
    return UrgentRouting(
        task_id=task_id,
        now=now,
        area_id=task.area_id,
        area_path=task.area_path,
        day=local_date(now),
        solver="nearest_available",
        staff_id=staff_id,
        shift_id=None,
        reason=reason,
        chosen_by="nearest_available",
        inputs={"live_routes": 0},
        cost={"distance_km": km},
        changes={"staff_id": staff_id} if staff_id is not None else {},
        user_id=user_id,
    )
