"""Reading tasks: the coordinator's list and detail (trace, EVV), a caregiver's own list. Scoped by
`Scope.path_sql('t.area_path')`; a caregiver sees only the tasks assigned to their staff record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.geo import haversine_km
from eldercare_platform.core.clock import LOCAL_TIMEZONE, age_on, local_date
from eldercare_platform.tasks import queries
from eldercare_platform.tasks.checklists import checklist_for
from eldercare_platform.tasks.models import URGENT, TaskKind
from eldercare_platform.tasks.schemas import EvvRecord, MyTask, Place, TaskDetail, TaskEventPublic, TaskPage, TaskPublic
from eldercare_platform.tasks.service import TaskNotFoundError, scope_clause
from eldercare_platform.users.models import User

VERIFIED_WITHIN_M = 200.0
"""The default of the setting `checkin_verified_within_m`: a check-in or check-out farther than this from the
home is accepted but not location-verified (flagged, the distance on the record)."""

CAREGIVER_STATUSES = ("published", "en_route", "checked_in", "completed", "missed")
"""What a caregiver's list shows: tasks sent to them (not those the coordinator has not published yet)."""


def local_day(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local (Asia/Shanghai) day."""
    start = datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE)
    return start, start + timedelta(days=1)


def distance_m(home_lat: float | None, home_lon: float | None, lat: float | None, lon: float | None) -> float | None:
    """Metres from the home, None if either position is unknown."""
    if None in (home_lat, home_lon, lat, lon):
        return None
    assert home_lat is not None and home_lon is not None and lat is not None and lon is not None
    return round(haversine_km(home_lat, home_lon, lat, lon) * 1000.0, 1)


def public(row: Any) -> TaskPublic:
    """A TaskPublic from a TASK_SELECT row."""
    return TaskPublic.model_validate(dict(row._mapping))


def list_tasks(
    session: Session,
    *,
    user: User,
    area_id: int | None = None,
    day: date | None = None,
    status: str | None = None,
    staff_id: int | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> TaskPage:
    """Tasks in scope by window start, filtered."""
    clause, params = scope_clause(session, user)
    where = [clause]
    if area_id is not None:
        where.append("t.area_path LIKE (SELECT path FROM area WHERE id = :area) || '%'")
        params["area"] = area_id
    if day is not None:
        params["day_start"], params["day_end"] = local_day(day)
        where.append("t.window_start >= :day_start AND t.window_start < :day_end")
    if status is not None:
        where.append("t.status = :status")
        params["status"] = status
    if staff_id is not None:
        where.append("t.assignee_staff_id = :staff")
        params["staff"] = staff_id
    if kind is not None:
        where.append("t.kind = :kind")
        params["kind"] = kind
    condition = " AND ".join(where)
    total = session.execute(text(f"SELECT count(*) FROM task t WHERE {condition}"), params).scalar_one()
    rows = session.execute(
        text(
            queries.TASK_SELECT + f" WHERE {condition} ORDER BY t.window_start NULLS LAST, t.priority, t.id"
            " LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    )
    return TaskPage(items=[public(row) for row in rows], total=int(total), limit=limit, offset=offset)


def _row(session: Session, *, user: User, task_id: int, own: bool = False) -> Any:
    clause, params = scope_clause(session, user)
    if own:
        clause += " AND t.assignee_staff_id = :me"
        params["me"] = user.staff_id if user.staff_id is not None else -1
    row = session.execute(text(queries.TASK_SELECT + f" WHERE t.id = :id AND {clause}"), {**params, "id": task_id})
    found = row.first()
    if found is None:
        raise TaskNotFoundError(f"task {task_id} not found")
    return found


def get_task(session: Session, *, user: User, task_id: int, own: bool = False) -> TaskPublic:
    """One task in scope (with `own`, only if it is the caregiver's)."""
    return public(_row(session, user=user, task_id=task_id, own=own))


def trace(session: Session, *, task_id: int) -> list[TaskEventPublic]:
    """A task's trace, oldest first."""
    return [
        TaskEventPublic.model_validate(dict(r))
        for r in session.execute(text(queries.TRACE), {"task": task_id}).mappings()
    ]


def evv_of(row: Any, *, verified_within_m: float = VERIFIED_WITHIN_M) -> EvvRecord:
    """The EVV block of a TASK_SELECT row (location verified: check-in and check-out within `verified_within_m`)."""
    home_lat, home_lon = row.home_latitude, row.home_longitude
    d_in = distance_m(home_lat, home_lon, row.check_in_latitude, row.check_in_longitude)
    d_out = distance_m(home_lat, home_lon, row.check_out_latitude, row.check_out_longitude)
    verified: bool | None = None
    if d_in is not None:
        verified = d_in <= verified_within_m and (d_out is None or d_out <= verified_within_m)
    record = EvvRecord(
        task_id=row.id,
        service_type=row.service or row.kind,
        resident_id=row.resident_id,
        resident_name=row.resident_name,
        date=None if row.checked_in_at is None else local_date(row.checked_in_at),
        caregiver_staff_id=row.assignee_staff_id,
        caregiver_name=row.assignee_name,
        start=row.checked_in_at,
        end=row.completed_at,
        home=Place(latitude=home_lat, longitude=home_lon),
        check_in=Place(latitude=row.check_in_latitude, longitude=row.check_in_longitude, distance_m=d_in),
        check_out=Place(latitude=row.check_out_latitude, longitude=row.check_out_longitude, distance_m=d_out),
        location_verified=verified,
        complete=False,
    )
    record.complete = None not in (
        record.resident_id,
        record.date,
        record.caregiver_staff_id,
        record.start,
        record.end,
        row.check_in_latitude,
        row.check_out_latitude,
    )
    return record


def evv(session: Session, *, user: User, task_id: int, verified_within_m: float = VERIFIED_WITHIN_M) -> EvvRecord:
    """The EVV block of a task in scope."""
    return evv_of(_row(session, user=user, task_id=task_id), verified_within_m=verified_within_m)


def task_detail(
    session: Session, *, user: User, task_id: int, verified_within_m: float = VERIFIED_WITHIN_M
) -> TaskDetail:
    """A task with its trace, EVV block and photo ids."""
    row = _row(session, user=user, task_id=task_id)
    return TaskDetail.model_validate(
        dict(row._mapping)
        | {
            "trace": trace(session, task_id=task_id),
            "evv": evv_of(row, verified_within_m=verified_within_m),
            "photo_ids": list(row.photo_ids or []),
        }
    )


def my_task_of(values: Mapping[Any, Any], *, today: date, verified_within_m: float = VERIFIED_WITHIN_M) -> MyTask:
    """A MyTask from a TASK_SELECT row's mapping: its checklist, urgency, the resident's age on `today`, and its
    check-in's distance from the home against `verified_within_m`."""
    birth = values.get("resident_birth_date")
    metres = distance_m(
        values.get("home_latitude"),
        values.get("home_longitude"),
        values.get("check_in_latitude"),
        values.get("check_in_longitude"),
    )
    return MyTask.model_validate(
        dict(values)
        | {
            "check_in_distance_m": metres,
            "location_verified": None if metres is None else metres <= verified_within_m,
            "checkin_verified_within_m": verified_within_m,
            "resident_age": None if birth is None else age_on(birth, today),
            "is_urgent": values["kind"] == TaskKind.URGENT_VISIT or values["priority"] == URGENT,
            "checklist": [asdict(item) for item in checklist_for(values["kind"], values.get("service"))],
            "photos": list(values.get("photo_ids") or []),
        }
    )


def my_task(
    session: Session, *, user: User, task_id: int, today: date, verified_within_m: float = VERIFIED_WITHIN_M
) -> MyTask:
    """One of the caregiver's own tasks as their list shows it."""
    row = _row(session, user=user, task_id=task_id, own=True)
    return my_task_of(row._mapping, today=today, verified_within_m=verified_within_m)


def my_tasks(
    session: Session,
    *,
    user: User,
    day: date,
    today: date | None = None,
    verified_within_m: float = VERIFIED_WITHIN_M,
) -> list[MyTask]:
    """A caregiver's tasks of a local day (sent to them), in route order (`queries.ROUTE_ORDER`)."""
    if user.staff_id is None:
        return []
    start, end = local_day(day)
    rows = session.execute(
        text(
            queries.TASK_SELECT + " WHERE t.assignee_staff_id = :me AND t.status = ANY(:statuses)"
            f" AND t.window_start < :end AND t.window_end > :start ORDER BY {queries.ROUTE_ORDER}"
        ),
        {"me": user.staff_id, "statuses": list(CAREGIVER_STATUSES), "start": start, "end": end},
    )
    return [my_task_of(row._mapping, today=today or day, verified_within_m=verified_within_m) for row in rows]
