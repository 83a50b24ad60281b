"""What the history is written about: the seeded district as the database holds it (read once, in id order)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.care_plans.models import PurchasedService
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.tasks.slots import Plan


def local(day: date, hour: float = 0, minute: float = 0, second: float = 0.0) -> datetime:
    """A wall-clock time on a local day (Asia/Shanghai) as a UTC instant; minutes and seconds may overflow."""
    midnight = datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)
    return midnight + timedelta(hours=hour, minutes=minute, seconds=second)


@dataclass(frozen=True)
class Resident:
    """An active resident at home: where the home is."""

    id: int
    household_id: int
    area_id: int
    area_path: str
    street_id: int
    latitude: float | None
    longitude: float | None
    enrolled_at: datetime


@dataclass(frozen=True)
class Device:
    """A device in service and who or what owns it."""

    id: int
    serial: str
    kind: str
    household_id: int | None
    care_center_id: int | None
    resident_id: int | None
    installed_at: datetime


@dataclass(frozen=True)
class CarePlan:
    """A care-plan version (what the task generator and the meal-order job read)."""

    id: int
    resident_id: int
    valid_from: date
    valid_to: date | None
    tier: str
    services: list[Any]
    meals: list[dict[str, Any]]
    created_at: datetime

    def plan(self) -> Plan:
        """The task generator's view of the version."""
        services = []
        for entry in self.services:
            try:
                service, hours = PurchasedService(entry["service"]), float(entry["hours_per_month"])
            except (KeyError, TypeError, ValueError):
                continue  # not an entitlement the generator can read (it skips these too)
            if hours > 0:
                services.append((service, hours))
        return Plan(self.id, self.valid_from, self.valid_to, self.tier, services)

    def valid_on(self, day: date) -> bool:
        """Whether the version is in force on `day`."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Staff:
    """A staff member who works in homes."""

    id: int
    role: str
    skills: frozenset[str]
    home_area_id: int
    street_id: int
    user_id: int | None


@dataclass(frozen=True)
class AlarmType:
    """A row of `alarm_type`."""

    type: str
    priority: int
    ack_within_s: int
    reach_within_s: int
    resolve_within_s: int
    is_device_fault: bool


@dataclass(frozen=True)
class CareCenter:
    """A care center and where it is."""

    id: int
    kind: str
    area_id: int
    area_path: str


@dataclass
class World:
    """The seeded district, read from the database."""

    residents: dict[int, Resident]
    devices: list[Device]
    plans: dict[int, list[CarePlan]]
    staff: list[Staff]
    operators: list[int]
    alarm_types: dict[str, AlarmType]
    care_centers: dict[int, CareCenter]
    meal_points: dict[int, int]
    """meal point id → capacity per meal"""
    street_of: dict[int, int]
    """community id → street id"""
    coordinators: dict[int, int] = field(default_factory=dict)
    """community id → the user id of its coordinator account (the demo has one)"""
    by_household: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    """household id → its active residents, in id order"""


RESIDENTS = """
SELECT r.id, r.household_id, h.area_id, a.path, a.parent_id, h.latitude, h.longitude, h.enrolled_at
FROM resident r JOIN household h ON h.id = r.household_id JOIN area a ON a.id = h.area_id
WHERE r.status = 'active' ORDER BY r.id
"""
DEVICES = """
SELECT id, serial, kind, household_id, care_center_id, resident_id, installed_at FROM device
WHERE state = 'active' ORDER BY id
"""
PLANS = """
SELECT id, resident_id, valid_from, valid_to, visit_tier, services, meals, created_at FROM care_plan
WHERE superseded_by IS NULL ORDER BY resident_id, valid_from, version, id
"""
STAFF = """
SELECT s.id, s.role, s.skills, s.home_area_id, a.parent_id,
       (SELECT min(u.id) FROM app_user u WHERE u.staff_id = s.id AND u.active) AS user_id
FROM staff s JOIN area a ON a.id = s.home_area_id
WHERE s.active AND s.role IN ('caregiver', 'nurse', 'social_worker', 'volunteer') ORDER BY s.id
"""


def read_world(session: Session) -> World:
    """Everything the history needs to know about the district, in id order (so the same database and seed give
    the same history)."""
    residents = {
        int(r.id): Resident(
            int(r.id),
            int(r.household_id),
            int(r.area_id),
            str(r.path),
            int(r.parent_id or 0),
            r.latitude,
            r.longitude,
            r.enrolled_at,
        )
        for r in session.execute(text(RESIDENTS))
    }
    devices = [
        Device(int(d.id), str(d.serial), str(d.kind), d.household_id, d.care_center_id, d.resident_id, d.installed_at)
        for d in session.execute(text(DEVICES))
    ]
    plans: dict[int, list[CarePlan]] = defaultdict(list)
    for p in session.execute(text(PLANS)):
        meals = json.loads(p.meals) if isinstance(p.meals, str) else (p.meals or [])
        services = json.loads(p.services) if isinstance(p.services, str) else (p.services or [])
        plans[int(p.resident_id)].append(
            CarePlan(
                int(p.id),
                int(p.resident_id),
                p.valid_from,
                p.valid_to,
                str(p.visit_tier),
                services,
                meals,
                p.created_at,
            )
        )
    staff = [
        Staff(int(s.id), str(s.role), frozenset(s.skills or ()), int(s.home_area_id), int(s.parent_id or 0), s.user_id)
        for s in session.execute(text(STAFF))
    ]
    operators = [
        int(u)
        for u in session.execute(
            text("SELECT id FROM app_user WHERE role = 'operator' AND active ORDER BY id")
        ).scalars()
    ]
    types = {
        str(t.type): AlarmType(
            str(t.type),
            int(t.priority),
            int(t.ack_within_s),
            int(t.reach_within_s),
            int(t.resolve_within_s),
            bool(t.is_device_fault),
        )
        for t in session.execute(text("SELECT * FROM alarm_type ORDER BY type"))
    }
    centers = {
        int(c.id): CareCenter(int(c.id), str(c.kind), int(c.area_id), str(c.path))
        for c in session.execute(
            text(
                "SELECT c.id, c.kind, c.area_id, a.path FROM care_center c JOIN area a ON a.id = c.area_id"
                " ORDER BY c.id"
            )
        )
    }
    points = {
        int(p.id): int(p.capacity_per_meal or 0)
        for p in session.execute(text("SELECT id, capacity_per_meal FROM meal_point ORDER BY id"))
    }
    street_of = {
        int(a.id): int(a.parent_id)
        for a in session.execute(text("SELECT id, parent_id FROM area WHERE level = 'community' ORDER BY id"))
    }
    coordinators = {
        int(u.scope_area_id): int(u.id)
        for u in session.execute(
            text(
                "SELECT DISTINCT ON (scope_area_id) id, scope_area_id FROM app_user"
                " WHERE role = 'coordinator' AND active AND scope_area_id IS NOT NULL ORDER BY scope_area_id, id"
            )
        )
    }
    world = World(residents, devices, dict(plans), staff, operators, types, centers, points, street_of, coordinators)
    for resident in residents.values():
        world.by_household[resident.household_id].append(resident.id)
    return world
