"""The coordinator's board (GET /api/tasks/board): one area's day in three queries, whatever its size.

1. the day's tasks of the area (window start in the local day), with resident, address and assignee names;
2. the staff members to show: those whose home zone is in the area with a shift overlapping the day, plus every
   assignee of one of those tasks, each with their shifts that day, whether they are on leave, and their load
   (their tasks that day anywhere, not cancelled or suspended) against `max_tasks_per_shift`. An assignee outside
   the user's scope (`Scope.staff_sql`: say, a caregiver of the next community sent by an operator) shows only
   their name and role with their tasks on this board: no phone, shifts, leave or load from elsewhere;
3. the area's unresolved alerts (alerts.service.list_alerts).

Late and missed follow the alert rules' thresholds (settings `task_late_after_minutes`, `task_missed_after_minutes`)
read against the request's clock — late past the TASK_LATE rule's own deadline (tasks/lateness.py: after the
planned start, else the window start; at the latest the window end) — and an open `task_late` / `task_missed`
alert marks its task too, so the board agrees with the alerts even between two runs of the rules.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.logging import get_logger
from eldercare_platform.alerts import service as alerts
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.core.scope import Scope
from eldercare_platform.routing.problem import Point
from eldercare_platform.tasks import urgent
from eldercare_platform.tasks.lateness import late_deadline
from eldercare_platform.tasks.models import OPEN_STATUSES, TaskStatus
from eldercare_platform.tasks.schemas import Board, BoardArea, BoardShift, BoardStaff, BoardTask

log = get_logger(__name__)

BOARD_TASKS = """
SELECT t.id, t.kind, t.status, t.source, t.service, t.slot, t.priority, t.resident_id, r.name AS resident_name,
       t.household_id, h.address, t.area_id, t.alarm_id, t.meal_order_id, t.follow_up_of, t.assignee_staff_id,
       s.name AS assignee_name, t.window_start, t.window_end, t.duration_minutes, t.required_skill,
       t.status_reason, t.notes, t.checked_in_at, t.completed_at, t.problem_found, t.findings, t.version,
       t.plan_id, t.route_sequence, t.planned_start, h.latitude AS home_latitude, h.longitude AS home_longitude,
       {late_at} AS late_at,
       EXISTS (SELECT 1 FROM task_event e WHERE e.task_id = t.id AND e.action = 'assigned'
               AND e.detail->>'chosen_by' = 'urgent_insertion') AS urgent_inserted
FROM task t
LEFT JOIN resident r ON r.id = t.resident_id
LEFT JOIN household h ON h.id = t.household_id
LEFT JOIN staff s ON s.id = t.assignee_staff_id
WHERE t.area_path LIKE :area_path || '%' AND {scope}
  AND t.window_start >= :day_start AND t.window_start < :day_end
ORDER BY coalesce(t.planned_start, t.window_start), t.route_sequence NULLS LAST, t.priority, t.id
"""

BOARD_STAFF = """
SELECT s.id, s.name, s.role, s.phone, s.max_tasks_per_shift, {scope} AS in_scope, s.home_latitude,
       s.home_longitude, s.travel_mode,
       coalesce((SELECT json_agg(json_build_object('starts_at', sh.starts_at, 'ends_at', sh.ends_at,
                                                   'on_call', sh.on_call) ORDER BY sh.starts_at)
                 FROM shift sh WHERE sh.staff_id = s.id AND sh.starts_at < :day_end AND sh.ends_at > :day_start),
                '[]'::json) AS shifts,
       EXISTS (SELECT 1 FROM staff_leave lv WHERE lv.staff_id = s.id AND lv.cancelled_at IS NULL
               AND lv.starts_at < :day_end AND lv.ends_at > :day_start) AS on_leave,
       (SELECT count(*) FROM task x WHERE x.assignee_staff_id = s.id AND x.window_start >= :day_start
               AND x.window_start < :day_end AND x.status NOT IN ('cancelled', 'suspended')) AS load
FROM staff s
WHERE s.id = ANY(:assignees)
   OR (s.active AND s.role <> 'operator' AND {scope}
       AND EXISTS (SELECT 1 FROM area za WHERE za.id = s.home_area_id AND za.path LIKE :area_path || '%')
       AND EXISTS (SELECT 1 FROM shift sh WHERE sh.staff_id = s.id
                   AND sh.starts_at < :day_end AND sh.ends_at > :day_start))
ORDER BY s.name, s.id
"""

_RUNNING = frozenset({TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED, TaskStatus.EN_ROUTE})
"""Open and not yet at the door: late once past the late deadline (tasks/lateness.py)."""


ROUTED = frozenset({"assigned", "published", "en_route", "checked_in", "completed"})
"""A lane's tasks that make its route (not cancelled, suspended or missed)."""


def _point(latitude: float | None, longitude: float | None) -> Point | None:
    return None if latitude is None or longitude is None else Point(float(latitude), float(longitude))


def lane_km(staff: Any, tasks: list[BoardTask], homes: dict[int, Point | None]) -> float | None:
    """A lane's route in km: from the staff member's home base through the homes of its tasks in route order and
    back, with the planner's travel model (tasks/urgent.py `TRAVEL`, set from the settings). None without a home
    base or a located task, or when the travel model fails (an unreachable routing service)."""
    base = _point(staff.home_latitude, staff.home_longitude)
    stops = [home for task in tasks if task.status in ROUTED and (home := homes.get(task.id)) is not None]
    if base is None or not stops:
        return None
    places = [base, *stops, base]
    try:
        matrix = urgent.TRAVEL[0].matrix(places, staff.travel_mode or "ebike")
    except Exception:  # a routing service that is down must not take the board with it
        log.warning("lane travel km not available", staff_id=staff.id)
        return None
    return round(float(sum(matrix.km[i, i + 1] for i in range(len(places) - 1))), 2)


def local_day(day: date, zone: str) -> tuple[datetime, datetime]:
    """The local day's bounds as aware datetimes (a day in Asia/Shanghai is 24 h: no daylight saving)."""
    start = datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(zone))


def today(now: datetime, zone: str) -> date:
    """The local date at `now`."""
    return now.astimezone(ZoneInfo(zone)).date()


def _late_and_missed(
    tasks: list[BoardTask],
    *,
    now: datetime,
    missed_after: timedelta,
    flagged: dict[str, set[int]],
    late_at: dict[int, datetime | None],
) -> tuple[list[int], list[int]]:
    late: list[int] = []
    missed: list[int] = []
    for task in tasks:
        is_open = task.status in OPEN_STATUSES
        if (
            task.status == TaskStatus.MISSED
            or task.id in flagged["missed"]
            or (is_open and task.window_end is not None and task.window_end + missed_after < now)
        ):
            missed.append(task.id)
        elif is_open and (
            task.id in flagged["late"]
            or (task.status in _RUNNING and (deadline := late_at.get(task.id)) is not None and deadline < now)
        ):
            late.append(task.id)
    return late, missed


def board(
    session: Session,
    *,
    scope: Scope,
    area_id: int,
    day: date | None,
    now: datetime,
    zone: str,
    late_after_minutes: int,
    missed_after_minutes: int,
) -> Board:
    """The board of an area (a community, or a street: everything under it) for a local day (default today).

    404 `area_not_found` for an area outside the user's scope."""
    area_id, area_name, area_path, area_level = alerts.area_in_scope(session, scope=scope, area_id=area_id)
    day = day or today(now, zone)
    day_start, day_end = local_day(day, zone)
    bounds = {"area_path": area_path, "day_start": day_start, "day_end": day_end, **scope.params}

    late_after = timedelta(minutes=late_after_minutes)
    rows = session.execute(
        text(BOARD_TASKS.format(scope=scope.path_sql("t.area_path"), late_at=late_deadline("t"))),
        {**bounds, "late_after": late_after},
    ).all()
    tasks = [BoardTask.model_validate(dict(row._mapping)) for row in rows]
    homes = {int(row.id): _point(row.home_latitude, row.home_longitude) for row in rows}
    late_at = {int(row.id): row.late_at for row in rows}
    assignees = sorted({task.assignee_staff_id for task in tasks if task.assignee_staff_id is not None})
    staff_rows = session.execute(
        text(BOARD_STAFF.format(scope=scope.staff_sql("s"))), {**bounds, "assignees": assignees}
    ).all()
    open_alerts = alerts.list_alerts(session, scope=scope, area_path=area_path)

    by_staff: dict[int, list[BoardTask]] = {}
    unassigned: list[BoardTask] = []
    for task in tasks:
        if task.assignee_staff_id is None:
            unassigned.append(task)
        else:
            by_staff.setdefault(task.assignee_staff_id, []).append(task)
    staff = [
        BoardStaff(
            id=row.id,
            name=row.name,
            role=row.role,
            phone=row.phone,
            shifts=[BoardShift.model_validate(shift) for shift in row.shifts],
            on_leave=row.on_leave,
            load=row.load,
            max_tasks_per_shift=row.max_tasks_per_shift,
            tasks=by_staff.get(row.id, []),
            travel_km=lane_km(row, by_staff.get(row.id, []), homes),
        )
        if row.in_scope
        else BoardStaff(  # an assignee outside the scope: their tasks here, nothing of their own
            id=row.id,
            name=row.name,
            role=row.role,
            phone=None,
            shifts=[],
            load=len(by_staff.get(row.id, [])),
            max_tasks_per_shift=row.max_tasks_per_shift,
            tasks=by_staff.get(row.id, []),
        )
        for row in staff_rows
    ]
    flagged: dict[str, set[int]] = {"late": set(), "missed": set()}
    for alert in open_alerts:
        if alert.task_id is not None and alert.kind in (AlertKind.TASK_LATE, AlertKind.TASK_MISSED):
            flagged["late" if alert.kind == AlertKind.TASK_LATE else "missed"].add(alert.task_id)
    late, missed = _late_and_missed(
        tasks,
        now=now,
        missed_after=timedelta(minutes=missed_after_minutes),
        flagged=flagged,
        late_at=late_at,
    )
    versions: list[Any] = [task.version for task in tasks] + [alert.version for alert in open_alerts]
    return Board(
        date=day,
        timezone=zone,
        area=BoardArea(id=area_id, name=area_name, level=area_level),
        staff=staff,
        unassigned=unassigned,
        late=late,
        missed=missed,
        alerts=open_alerts,
        counts=dict(Counter(str(task.status) for task in tasks)),
        version=max(versions, default=0),
        generated_at=now,
    )
