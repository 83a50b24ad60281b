"""A small community for the planning tests: three caregivers based in it (one certified for nursing, one who
delivers meals), residents with located homes around it, a meal point, shifts and tasks on demand; a second
community with its own coordinator. Times are local (Asia/Shanghai) on the day of TEST_NOW (today, 14:00) or
the next (tomorrow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE, as_utc, local_date
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.tasks import service as tasks_service
from eldercare_platform.tasks.models import TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import TEST_NOW

TODAY = local_date(TEST_NOW)  # 2026-11-22, 14:00 local at TEST_NOW
TOMORROW = TODAY + timedelta(days=1)
CENTER = (32.2000, 119.4500)
SETTINGS = ApiSettings(environment="test", planner_seconds=0.2)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time of a day, in UTC."""
    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIMEZONE))


def near(dlat: float, dlon: float) -> tuple[float, float]:
    return round(CENTER[0] + dlat, 6), round(CENTER[1] + dlon, 6)


@dataclass
class PlanWorld:
    community: Any
    other: Any
    street: Any
    staff: dict[str, int]
    residents: list[Any]
    other_resident: Any
    coordinator: User
    other_coordinator: User
    caregiver_user: User
    tasks: dict[str, int] = field(default_factory=dict)


def add_staff(
    db: Session, *, name: str, area_id: int, at_point: tuple[float, float], skills: list[str], nurse: bool = False
) -> int:
    staff_id = db.execute(
        text(
            "INSERT INTO staff (name, phone, role, skills, home_area_id, active, home_latitude, home_longitude,"
            " travel_mode, max_tasks_per_shift) VALUES (:n, '13900000000', 'caregiver', :skills, :area, true, :lat,"
            " :lon, 'ebike', 8) RETURNING id"
        ),
        {"n": name, "skills": skills, "area": area_id, "lat": at_point[0], "lon": at_point[1]},
    ).scalar_one()
    if nurse:
        db.execute(
            text(
                "INSERT INTO staff_certification (staff_id, name, level, expires_on)"
                " VALUES (:s, '养老护理员职业技能等级证书', '四级', :until)"
            ),
            {"s": staff_id, "until": TODAY + timedelta(days=365)},
        )
    return int(staff_id)


def add_shift(db: Session, staff_id: int, day: date, start: int = 8, end: int = 17) -> int:
    return int(
        db.execute(
            text("INSERT INTO shift (staff_id, starts_at, ends_at, on_call) VALUES (:s, :a, :b, false) RETURNING id"),
            {"s": staff_id, "a": at(day, start), "b": at(day, end)},
        ).scalar_one()
    )


def add_task(
    db: Session,
    resident_id: int,
    day: date,
    start: tuple[int, int],
    end: tuple[int, int],
    *,
    priority: int = 3,
    skill: str | None = "visit",
    duration: int = 30,
    kind: TaskKind = TaskKind.VISIT,
) -> int:
    task_id = tasks_service.create_task(
        db,
        kind=kind,
        source=TaskSource.MANUAL,
        now=TEST_NOW - timedelta(days=1),
        window_start=at(day, *start),
        window_end=at(day, *end),
        resident_id=resident_id,
        service=str(kind),
        priority=priority,
        required_skill=skill,
        duration_minutes=duration,
    )
    assert task_id is not None
    return task_id


def build(db: Session, *, day: date = TOMORROW, shifts: bool = True) -> PlanWorld:
    """The community, its three caregivers (with shifts 08:00–17:00 on `day`), six residents around it, and the
    other community with a resident of its own."""
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="茶山街道", level=AreaLevel.STREET, parent=district)
    community = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=street)
    other = f.area(db, name="红梅社区", level=AreaLevel.COMMUNITY, parent=street)
    assert community.id is not None and other.id is not None
    residents = []
    for index, (dlat, dlon) in enumerate(
        [(0.004, 0.0), (0.0, 0.005), (-0.004, 0.0), (0.0, -0.005), (0.006, 0.006), (-0.006, -0.006)]
    ):
        resident = f.resident(db, community=community, name=f"老人{index + 1}")
        lat, lon = near(dlat, dlon)
        db.execute(
            text("UPDATE household SET latitude = :lat, longitude = :lon WHERE id = :h"),
            {"lat": lat, "lon": lon, "h": resident.household_id},
        )
        residents.append(resident)
    other_resident = f.resident(db, community=other, name="其他社区老人")
    staff = {
        "nurse": add_staff(
            db,
            name="孙护理",
            area_id=community.id,
            at_point=near(0.001, 0.001),
            skills=["visit", "nursing"],
            nurse=True,
        ),
        "visitor": add_staff(db, name="周探访", area_id=community.id, at_point=near(-0.001, 0.002), skills=["visit"]),
        "meals": add_staff(
            db, name="吴送餐", area_id=community.id, at_point=near(0.002, -0.001), skills=["visit", "meal_delivery"]
        ),
    }
    if shifts:
        for staff_id in staff.values():
            add_shift(db, staff_id, day)
    caregiver = f.user(db, role=Role.CAREGIVER)
    caregiver.staff_id = staff["visitor"]
    db.add(caregiver)
    db.flush()
    return PlanWorld(
        community=community,
        other=other,
        street=street,
        staff=staff,
        residents=residents,
        other_resident=other_resident,
        coordinator=f.user(db, role=Role.COORDINATOR, scope_area=community),
        other_coordinator=f.user(db, role=Role.COORDINATOR, scope_area=other),
        caregiver_user=caregiver,
    )


def task_row(db: Session, task_id: int) -> Any:
    return db.execute(
        text(
            "SELECT id, status, assignee_staff_id, plan_id, route_sequence, planned_start, window_start, window_end"
            " FROM task WHERE id = :id"
        ),
        {"id": task_id},
    ).one()


def plan_row(db: Session, plan_id: int) -> Any:
    return db.execute(text("SELECT * FROM plan WHERE id = :id"), {"id": plan_id}).one()


def trace(db: Session, task_id: int) -> list[Any]:
    return list(
        db.execute(
            text(
                "SELECT action, from_status, to_status, reason, detail FROM task_event WHERE task_id = :id ORDER BY id"
            ),
            {"id": task_id},
        ).all()
    )


def counts(db: Session) -> dict[str, int]:
    row = db.execute(
        text(
            "SELECT (SELECT count(*) FROM plan), (SELECT count(*) FROM plan_stop), (SELECT count(*) FROM task_event),"
            " (SELECT coalesce(max(version), 0) FROM task), (SELECT count(*) FROM alert)"
        )
    ).one()
    return dict(zip(("plan", "plan_stop", "task_event", "max_version", "alert"), (int(v) for v in row), strict=True))


def publish_to(db: Session, task_id: int, staff_id: int, *, when: datetime) -> None:
    """The task assigned to the staff member and published at `when`, as a coordinator would."""
    assert tasks_service.assign_to(db, task_id=task_id, staff_id=staff_id, now=when, user_id=None)
    assert tasks_service.move(
        db,
        task_id=task_id,
        action=TaskAction.PUBLISHED,
        to_status=TaskStatus.PUBLISHED,
        allowed_from={TaskStatus.ASSIGNED},
        now=when,
        set_sql="published_at = :now",
    )
