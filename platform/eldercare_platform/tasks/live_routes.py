"""Caregivers' live routes, read from the task table: what an urgent insertion starts from (tasks/urgent.py).

A live route is a staff member's shift as it stands now (docs/scheduling/urgent.md, "The live route"):

- its stops: their open tasks of the shift (window start inside it, as the roster counts load) not yet under way
  — `assigned` or `published` — in route order: `planned_start` (else the window start), then `route_sequence`;
- where they are and from when they are free: the home of the task they are checked in at (free at check-in +
  its duration) or on their way to (free at its planned start, else now, + its duration), else of the task they
  completed last in the shift (free now), else their home base at the shift's start;
- the sequence number the open stops continue from (the tasks of the shift already done or under way).

A stop already late keeps its lateness as its latest start (its window end is taken as max(window end, the start
the route gives it now)): an insertion may not make it later, and does not fail because of a delay that was there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.roster import service as roster_service
from eldercare_platform.routing.problem import Caregiver, Point, Route, Visit
from eldercare_platform.routing.schedule import RouteTiming, time_route
from eldercare_platform.routing.table import TravelTable, caregiver_points, visit_points
from eldercare_platform.routing.travel import TravelModel

_SHIFT_TASKS = """
SELECT t.id, t.assignee_staff_id AS staff_id, t.status, t.window_start, t.window_end, t.duration_minutes,
       t.priority, t.required_skill, t.resident_id, t.route_sequence, t.planned_start, t.checked_in_at,
       t.completed_at, t.kind, t.service, h.latitude, h.longitude
FROM unnest(CAST(:staff AS integer[]), CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
     AS c(staff_id, starts_at, ends_at)
JOIN task t ON t.assignee_staff_id = c.staff_id AND t.window_start >= c.starts_at AND t.window_start < c.ends_at
LEFT JOIN household h ON h.id = t.household_id
WHERE t.status IN ('assigned', 'published', 'en_route', 'checked_in', 'completed')
ORDER BY t.assignee_staff_id, coalesce(t.planned_start, t.window_start), t.route_sequence NULLS LAST, t.id
"""

_DECLINED = "SELECT staff_id, resident_id FROM staff_preference WHERE staff_id = ANY(:staff) AND kind = 'declined'"


@dataclass(frozen=True)
class RouteTask:
    """A stop of a live route as the task table holds it."""

    task_id: int
    status: str
    route_sequence: int | None
    planned_start: datetime | None


@dataclass(frozen=True)
class LiveRoute:
    """One candidate's shift now: the routing view (caregiver, open visits, timed route) and the rows behind it."""

    staff: roster_service.AvailableStaff
    caregiver: Caregiver
    visits: tuple[Visit, ...]  # the open stops, in route order
    tasks: tuple[RouteTask, ...]  # the same, as rows
    timing: RouteTiming  # the route as it stands, timed from where the caregiver is now
    sequence_base: int  # route_sequence of the last stop done or under way (0: none)

    @property
    def route(self) -> Route:
        return self.timing.route


def _point(latitude: float | None, longitude: float | None) -> Point | None:
    return None if latitude is None or longitude is None else Point(float(latitude), float(longitude))


def _visit(row: Any, staff_id: int) -> Visit:
    return Visit(
        task_id=int(row.id),
        location=_point(row.latitude, row.longitude),
        window_start=row.window_start,
        window_end=row.window_end if row.window_end is not None else row.window_start + timedelta(hours=2),
        duration_minutes=int(row.duration_minutes),
        priority=int(row.priority),
        required_skill=row.required_skill,
        resident_id=row.resident_id,
        pinned_staff_id=staff_id,
        kind=str(row.kind),
        service=row.service,
    )


def _where_and_when(rows: Sequence[Any], staff: roster_service.AvailableStaff, now: datetime) -> tuple[Any, datetime]:
    """The row of the task the caregiver is at or heading to (else the last one done), and when they are free."""
    under_way = [r for r in rows if r.status in ("checked_in", "en_route")]
    if under_way:
        row = under_way[-1]
        began = row.checked_in_at if row.status == "checked_in" else max(row.planned_start or now, now)
        return row, max(now, (began or now) + timedelta(minutes=int(row.duration_minutes)))
    done = [r for r in rows if r.status == "completed" and r.completed_at is not None and r.completed_at <= now]
    if done:
        return max(done, key=lambda r: r.completed_at), now
    return None, max(now, staff.starts_at)


def live_routes(
    session: Session, *, staff: Sequence[roster_service.AvailableStaff], now: datetime, travel: TravelModel
) -> list[LiveRoute]:
    """The live route of every staff member of `staff` (one shift each, as `roster.service.available_staff`
    answers), timed from where they are now. One query for all their tasks, one for their declined residents."""
    if not staff:
        return []
    rows = session.execute(
        text(_SHIFT_TASKS),
        {
            "staff": [s.id for s in staff],
            "starts": [s.starts_at for s in staff],
            "ends": [s.ends_at for s in staff],
        },
    ).all()
    by_staff: dict[int, list[Any]] = {}
    for row in rows:
        by_staff.setdefault(int(row.staff_id), []).append(row)
    declined: dict[int, set[int]] = {}
    for staff_id, resident_id in session.execute(text(_DECLINED), {"staff": [s.id for s in staff]}).all():
        declined.setdefault(int(staff_id), set()).add(int(resident_id))
    return [_live_route(s, by_staff.get(s.id, []), declined.get(s.id, set()), now, travel) for s in staff]


def _live_route(
    staff: roster_service.AvailableStaff, rows: list[Any], declined: set[int], now: datetime, travel: TravelModel
) -> LiveRoute:
    at, free_from = _where_and_when(rows, staff, now)
    open_rows = [r for r in rows if r.status in ("assigned", "published")]
    behind = [r for r in rows if r.status in ("completed", "checked_in", "en_route")]
    home = _point(staff.home_latitude, staff.home_longitude)
    caregiver = Caregiver(
        staff_id=staff.id,
        shift_id=staff.shift_id,
        shift_start=staff.starts_at,
        shift_end=staff.ends_at,
        start=home,
        end=home,
        travel_mode=staff.travel_mode,
        skills=frozenset(staff.skills or ()),
        # the roster's cap counts what is assigned or under way in the shift; the route holds the open part
        max_tasks=max(0, staff.max_tasks_per_shift - sum(1 for r in rows if r.status in ("checked_in", "en_route"))),
        declined_residents=frozenset(declined),
        available_from=free_from,
        position=_point(at.latitude, at.longitude) if at is not None else None,
    )
    visits = [_visit(r, staff.id) for r in open_rows]
    promised = {r.id: r.planned_start.timestamp() for r in open_rows if r.planned_start is not None}
    table = TravelTable(travel, [*caregiver_points(caregiver), *(p for v in visits for p in visit_points(v))])
    timing = time_route(caregiver, visits, table, now=now, not_before=promised)
    starts = {stop.task_id: stop.start for stop in timing.route.stops}
    # a stop already late: its latest start is where it stands now (an insertion may not make it later)
    visits = [
        replace(v, window_end=starts[v.task_id]) if v.task_id in starts and starts[v.task_id] > v.window_end else v
        for v in visits
    ]
    if any(b.code == "window_missed" for b in timing.breaches):
        timing = time_route(caregiver, visits, table, now=now, not_before=promised)
    base = max([int(r.route_sequence or 0) for r in behind] + [len(behind)], default=0)
    return LiveRoute(
        staff=staff,
        caregiver=caregiver,
        visits=tuple(visits),
        tasks=tuple(RouteTask(int(r.id), str(r.status), r.route_sequence, r.planned_start) for r in open_rows),
        timing=timing,
        sequence_base=base,
    )
