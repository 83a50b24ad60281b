"""Shared set-up of the meals tests: two communities, residents with care plans, a meal point, a canteen terminal.

Times are local times on the test's day (the local date of TEST_NOW), so the tests mean the same a year ahead.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE, as_utc, local_date
from eldercare_platform.devices.models import Device, DeviceKind
from eldercare_platform.facilities.models import CareCenter, CareCenterKind, MealPoint, MealPointKind
from eldercare_platform.users.models import Role
from tests import factories as f
from tests.conftest import TEST_NOW

DAY = local_date(TEST_NOW)
TOMORROW = DAY + timedelta(days=1)


def at(hour: int, minute: int = 0, *, day_offset: int = 0) -> datetime:
    """A local time on the test's day (or a day after), in UTC."""
    return as_utc(datetime.combine(DAY + timedelta(days=day_offset), time(hour, minute), tzinfo=LOCAL_TIMEZONE))


def care_plan(db: Session, *, resident_id: int, meals: list[dict[str, Any]], valid_from: Any = None) -> int:
    """An open care plan (version 1) with this meal plan."""
    return int(
        db.execute(
            text(
                "INSERT INTO care_plan (resident_id, version, valid_from, visit_tier, proposed_tier, meals, created_at)"
                " VALUES (:r, 1, :from, 'regular', 'regular', CAST(:meals AS jsonb), :now) RETURNING id"
            ),
            {
                "r": resident_id,
                "from": valid_from or DAY - timedelta(days=30),
                "meals": json.dumps(meals),
                "now": at(6),
            },
        ).scalar_one()
    )


def every_day(meal: str, mode: str, point: int) -> dict[str, Any]:
    """A meal plan entry served every day."""
    return {"days": [1, 2, 3, 4, 5, 6, 7], "meal": meal, "mode": mode, "meal_point_id": point, "diet": ["低盐"]}


def checkin(
    db: Session, *, serial: str, resident_id: int | None, received: datetime, meal: str | None = "lunch"
) -> None:
    """What the gateway writes for a canteen terminal's `meal_checkin` sample."""
    data: dict[str, Any] = {"resident_ref": f"R{resident_id:06d}" if resident_id else "R999999", "method": "face"}
    if meal is not None:
        data["meal"] = meal
    db.execute(
        text(
            "INSERT INTO telemetry (time, device_serial, seq, device_time, kind, data)"
            " VALUES (:t, :s, 1, :t, 'meal_checkin', CAST(:d AS jsonb))"
        ),
        {"t": received, "s": serial, "d": json.dumps(data)},
    )


def orders_of(db: Session, resident_id: int) -> list[Any]:
    return list(
        db.execute(
            text("SELECT * FROM meal_order WHERE resident_id = :r ORDER BY service_date, meal"), {"r": resident_id}
        ).mappings()
    )


@pytest.fixture
def meals_world(db: Session) -> dict[str, Any]:
    # Watermarks and check-ins other (committed) runs may have left would only add noise to the counts.
    db.execute(text("DELETE FROM meal_watch_state"))
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="雕庄街道", level=AreaLevel.STREET, parent=district)
    community_a = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=street)
    community_b = f.area(db, name="红梅新村社区", level=AreaLevel.COMMUNITY, parent=street)
    assert community_a.id is not None and community_b.id is not None
    point = MealPoint(
        name="丽华老年食堂",
        area_id=community_a.id,
        address="丽华路1号",
        phone="0519-0000000",
        kind=MealPointKind.CANTEEN,
        daily_capacity=60,
        capacity_per_meal=2,
        delivers=True,
    )
    center = CareCenter(
        name="丽华居家养老服务中心", area_id=community_a.id, address="丽华路1号", kind=CareCenterKind.HOME_CARE_CENTER
    )
    db.add(point)
    db.add(center)
    db.flush()
    assert point.id is not None and center.id is not None
    terminal = Device(
        serial=f"CT{point.id:07d}", kind=DeviceKind.CANTEEN_CHECKIN, model="EC-CT300-FACE", care_center_id=center.id
    )
    db.add(terminal)
    db.flush()
    resident_a = f.resident(db, community=community_a, name="张桂英")
    resident_b = f.resident(db, community=community_b, name="陈建国")
    resident_c = f.resident(db, community=community_a, name="李秀兰")
    return {
        "community_a": community_a,
        "community_b": community_b,
        "point": point.id,
        "terminal": terminal.serial,
        "resident_a": resident_a.id,
        "resident_b": resident_b.id,
        "resident_c": resident_c.id,
        "operator": f.user(db, role=Role.OPERATOR),
        "admin": f.user(db, role=Role.ADMIN),
        "coordinator_a": f.user(db, role=Role.COORDINATOR, scope_area=community_a),
        "coordinator_b": f.user(db, role=Role.COORDINATOR, scope_area=community_b),
    }
