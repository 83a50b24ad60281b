"""One scope rule everywhere: every GET endpoint and the live WebSocket, for every role and every kind of scope.

The world is the seeded demo district (1,000 residents, seed 7) in a database of this module's own,
plus a second district, a device at each of two institutions, a home device in three communities
and in the other district, a care-center device, an open alarm and a device event at each, and
users of every role and every kind of scope: the whole city (operator, admin, caregiver), a
supervisor scoped to the city area, the district, a street, a community, the other district, and
to each of two institutions (`supervisor_home` is the seeded one from issue 9).

What each user should see is computed here independently of the platform (walking area parent
links, not path prefixes) and compared *exactly* with what every endpoint returns: nothing outside
the scope comes back, and everything inside does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from eldercare_common.devstack import MosquittoInstance, PostgresInstance, free_port
from eldercare_common.settings import DEMO_JWT_SECRET, DEMO_MQTT_PASSWORD
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.alarms.jobs import EscalationPolicy, escalate
from eldercare_platform.alarms.service import open_welfare_call
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.alerts.service import raise_alert
from eldercare_platform.areas.models import Area, AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE, FixedClock, local_date
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.security import hash_password
from eldercare_platform.devices.models import Device, DeviceKind
from eldercare_platform.main import create_app
from eldercare_platform.meals.orders import generate_orders
from eldercare_platform.planning.models import PlanKind
from eldercare_platform.planning.service import run_plan
from eldercare_platform.planning.solver import travel_model
from eldercare_platform.roster.service import available_staff
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.seed.generator import DEMO_PASSWORD
from eldercare_platform.tasks.generation import generate_tasks
from eldercare_platform.tasks.lifecycle import auto_assign, missed, publish_day
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_platform.tasks.reads import local_day
from eldercare_platform.tasks.service import assign_to, create_task
from eldercare_platform.users.models import Role, User
from eldercare_platform.users.permissions import ROLE_PERMISSIONS, Permission
from tests import factories as f
from tests.conftest import TEST_NOW, psql, seeded_database, unpooled_engine
from tests.integration.gateway_support import wait_for

LIVE = "/api/alarms/live"
MY_TASKS_LIVE = "/api/me/tasks/live"


# --- the world ---


@dataclass
class World:
    """Ids of what this module added, and its users' scopes as (kind, id)."""

    url: str
    users: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)  # unique text (name, address, serial) → device serial
    serials: dict[str, str] = field(default_factory=dict)  # role in the world → device serial
    added_residents: list[int] = field(default_factory=list)
    tasks: dict[str, int] = field(default_factory=dict)  # role in the world → task id (issue 11's services)
    areas: dict[str, int] = field(default_factory=dict)  # role in the world → area id (the boards walked)
    photos: dict[str, tuple[int, int]] = field(default_factory=dict)  # task's role → (task id, photo id) (issue 13)


def _event(session: Session, serial: str, event_type: str, at: datetime) -> None:
    """What the gateway's alarm lane writes: the device event and its outbox row."""
    event_id = session.execute(
        text(
            "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)"
            " VALUES (:s, :e, :t, :at, :at) RETURNING id"
        ),
        {"s": serial, "e": f"{event_type}-{serial}-{at.timestamp()}", "t": event_type, "at": at},
    ).scalar_one()
    session.execute(
        text("INSERT INTO outbox (topic, payload) VALUES ('device_event', jsonb_build_object('device_event_id', :id))"),
        {"id": event_id},
    )


def _user(
    session: Session,
    username: str,
    *,
    area: Area | None = None,
    institution: int | None = None,
    role: Role = Role.SUPERVISOR,
    staff_id: int | None = None,
) -> None:
    session.add(
        User(
            username=username,
            full_name=f"测试{username}",
            role=role,
            scope_area_id=area.id if area else None,
            scope_institution_id=institution,
            staff_id=staff_id,
            password_hash=hash_password(DEMO_PASSWORD),
        )
    )


def world_area(area: Area) -> int:
    assert area.id is not None
    return area.id


def _staff_of(session: Session, area: Area) -> list[int]:
    """Active field staff (not operators) whose home zone is this community, by id."""
    return list(
        session.execute(
            text("SELECT id FROM staff WHERE home_area_id = :a AND active AND role <> 'operator' ORDER BY id"),
            {"a": area.id},
        ).scalars()
    )


def _services(session: Session, world: World, homes: dict[str, Area], street: Area, district: Area) -> None:
    """Issue 11's services in the world, at TEST_NOW: the 14-day task window from the seeded care plans, the day's
    meal orders, a visit today for each added resident, tasks of community a1 assigned to a caregiver of a1
    (signed in as `caregiver_a1`) and one to a caregiver of community b, published; alerts about a task, a
    resident, staff and an area; two welfare calls (alarms without a device); coordinators of a1 and of street a."""
    settings = ApiSettings(environment="test", database_url=world.url)
    generate_tasks(session, now=TEST_NOW)
    generate_orders(session, settings=settings, now=TEST_NOW)
    admin = session.exec(select(User).where(User.username == "admin")).one()
    mine, stranger = _staff_of(session, homes["a1"])[0], _staff_of(session, homes["b"])[0]
    for key, resident_id in zip(homes, world.added_residents, strict=True):
        task_id = create_task(
            session,
            kind=TaskKind.VISIT,
            source=TaskSource.MANUAL,
            now=TEST_NOW - timedelta(hours=3),
            window_start=TEST_NOW - timedelta(hours=1),
            window_end=TEST_NOW + timedelta(hours=2),
            resident_id=resident_id,
            user_id=admin.id,
        )
        assert task_id is not None
        world.tasks[key] = task_id
    day = local_date(TEST_NOW)
    today_a1 = list(
        session.execute(
            text(
                "SELECT t.id FROM task t JOIN household h ON h.id = t.household_id WHERE h.area_id = :a"
                " AND t.status = 'planned' AND t.window_start >= :start AND t.window_start < :start + interval '1 day'"
                " ORDER BY t.id"
            ),
            {"a": homes["a1"].id, "start": local_day(day)[0]},
        ).scalars()
    )
    assert world.tasks["a1"] in today_a1 and len(today_a1) >= 3, today_a1
    world.tasks["a1_stranger"] = next(task for task in today_a1 if task != world.tasks["a1"])
    for task_id in today_a1:
        staff = stranger if task_id == world.tasks["a1_stranger"] else mine
        assert assign_to(session, task_id=task_id, staff_id=staff, now=TEST_NOW - timedelta(hours=2), user_id=admin.id)
    assert assign_to(session, task_id=world.tasks["other"], staff_id=mine, now=TEST_NOW, user_id=admin.id)
    assert publish_day(session, user=admin, area_id=world_area(homes["a1"]), day=day, now=TEST_NOW - timedelta(hours=2))
    for key in ("a1", "a1_stranger"):  # issue 13: a visit photo on caregiver_a1's task and on a colleague's
        world.photos[key] = (
            world.tasks[key],
            session.execute(
                text(
                    "INSERT INTO task_photo (task_id, staff_id, content_type, size, sha256, data, created_at)"
                    " VALUES (:t, NULL, 'image/png', 8, repeat('0', 64), :data, :now) RETURNING id"
                ),
                {"t": world.tasks[key], "data": b"\x89PNG\r\n\x1a\n", "now": TEST_NOW},
            ).scalar_one(),
        )
    residents = dict(zip(homes, world.added_residents, strict=True))
    a2_staff = _staff_of(session, homes["a2"])[0]
    district_staff = (
        session.execute(
            text(
                "SELECT s.id FROM staff s JOIN area a ON a.id = s.home_area_id WHERE a.level = 'district' ORDER BY s.id"
            )
        )
        .scalars()
        .first()
    )
    for kind, subject, where in (
        (AlertKind.TASK_LATE, f"task:{world.tasks['a1']}", {"task_id": world.tasks["a1"]}),
        (AlertKind.TASK_LATE, f"task:{world.tasks['a1_stranger']}", {"task_id": world.tasks["a1_stranger"]}),
        (AlertKind.REASSESSMENT_OVERDUE, f"resident:{residents['b']}", {"resident_id": residents["b"]}),
        (AlertKind.REASSESSMENT_OVERDUE, f"resident:{residents['other']}", {"resident_id": residents["other"]}),
        (AlertKind.CERTIFICATION_EXPIRING, f"staff:{a2_staff}", {"staff_id": a2_staff}),
        (AlertKind.CERTIFICATION_EXPIRING, f"staff:{district_staff}", {"staff_id": district_staff}),
        (AlertKind.COVERAGE_BEHIND, f"area:{homes['b'].id}", {"area_id": homes["b"].id}),
    ):
        assert raise_alert(
            session, kind=kind, subject_key=subject, message=f"范围测试 {subject}", now=TEST_NOW, **where
        )
    assert open_welfare_call(
        session, alarm_type="meal_not_collected", resident_id=residents["a1"], now=TEST_NOW, reason="meal_not_collected"
    )
    assert open_welfare_call(
        session,
        alarm_type="visit_no_answer",
        resident_id=residents["other"],
        now=TEST_NOW,
        reason="visit_no_answer",
        task_id=world.tasks["other"],
    )
    # A caregiver of the other district, on shift now (a copy of `mine` living there): their name is a marker.
    columns = [
        column
        for column in session.execute(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'staff' AND column_name <> 'id'"
            )
        ).scalars()
        if column not in ("name", "phone", "home_area_id", "institution_id", "care_center_id")
    ]
    faraway = session.execute(
        text(
            f"INSERT INTO staff (name, phone, home_area_id, {', '.join(columns)})"
            f" SELECT '范围远方护理员', '13900009999', :area, {', '.join(columns)} FROM staff WHERE id = :mine"
            " RETURNING id"
        ),
        {"area": homes["other"].id, "mine": mine},
    ).scalar_one()
    session.execute(
        text("INSERT INTO shift (staff_id, starts_at, ends_at, on_call) VALUES (:s, :start, :end, false)"),
        {"s": faraway, "start": TEST_NOW - timedelta(hours=4), "end": TEST_NOW + timedelta(hours=4)},
    )
    world.markers["范围远方护理员"] = world.serials["home_other"]
    _user(session, "coordinator_community", area=homes["a1"], role=Role.COORDINATOR)
    _user(session, "coordinator_street", area=street, role=Role.COORDINATOR)
    _user(session, "caregiver_a1", role=Role.CAREGIVER, staff_id=mine)
    places = {"a1": homes["a1"], "street_a": street, "b": homes["b"], "other": homes["other"], "district": district}
    world.areas = {key: area.id for key, area in places.items() if area.id is not None}
    # Issue 12: a coordinator's plan of tomorrow for two communities of the district and one of the other district.
    planner = GreedyPlanner(travel_model(settings))
    for key in ("a1", "b", "other"):
        run_plan(
            session,
            area_id=world_area(homes[key]),
            day=day + timedelta(days=1),
            kind=PlanKind.MANUAL,
            now=TEST_NOW,
            settings=settings,
            user_id=admin.id,
            planner=planner,
        )


@pytest.fixture(scope="module")
def world(postgres: PostgresInstance, seeded_template: str) -> World:
    url = seeded_database(postgres, seeded_template, "eldercare_scope")  # its week of shifts holds TEST_NOW
    engine = unpooled_engine(url)
    result = World(url=url)
    with Session(engine, expire_on_commit=False) as s:
        city = s.exec(select(Area).where(Area.level == AreaLevel.CITY)).one()
        district = s.exec(select(Area).where(Area.level == AreaLevel.DISTRICT)).one()
        street_a, street_b = s.exec(select(Area).where(Area.parent_id == district.id).order_by(col(Area.id))).all()[:2]
        community_a1, community_a2 = s.exec(
            select(Area).where(Area.parent_id == street_a.id).order_by(col(Area.id))
        ).all()[:2]
        community_b = s.exec(select(Area).where(Area.parent_id == street_b.id).order_by(col(Area.id))).first()
        assert community_b is not None
        other_district = f.area(s, name="武进区", level=AreaLevel.DISTRICT, parent=city)
        other_street = f.area(s, name="湖塘镇", level=AreaLevel.STREET, parent=other_district)
        other_community = f.area(s, name="花园社区", level=AreaLevel.COMMUNITY, parent=other_street)
        homes = {"a1": community_a1, "a2": community_a2, "b": community_b, "other": other_community}
        for key, community in homes.items():
            person = f.resident(s, community=community, name=f"范围{key}老人")
            unit = f.device(s, household_id=person.household_id, serial=f"SCOPE-HOME-{key}")
            result.serials[f"home_{key}"] = unit.serial
            result.markers[person.name] = unit.serial
            assert person.id is not None
            result.added_residents.append(person.id)
            result.markers[unit.serial] = unit.serial
        home_institution = s.exec(select(User).where(User.username == "supervisor_home")).one().scope_institution_id
        other_institution = s.execute(
            text("SELECT min(id) FROM institution WHERE id <> :i"), {"i": home_institution}
        ).scalar_one()
        for key, institution in (("inst_home", home_institution), ("inst_other", other_institution)):
            device = Device(serial=f"SCOPE-{key}", kind=DeviceKind.ROOM_SENSOR, model="T-1", institution_id=institution)
            s.add(device)
            result.serials[key] = device.serial
            result.markers[device.serial] = device.serial
        center_device = s.exec(
            select(Device).where(col(Device.care_center_id).is_not(None)).order_by(col(Device.id))
        ).first()
        assert center_device is not None
        result.serials["center"] = center_device.serial
        _user(s, "supervisor_city", area=city)
        _user(s, "supervisor_community", area=community_a1)
        _user(s, "supervisor_other_district", area=other_district)
        _user(s, "supervisor_home2", institution=other_institution)
        s.flush()
        now = TEST_NOW  # the API under test runs on this clock too: nothing here depends on today's date
        for serial in result.serials.values():
            s.execute(
                text("INSERT INTO device_status (device_serial, online, last_seen_at) VALUES (:s, true, :t)"),
                {"s": serial, "t": now},
            )
            _event(s, serial, "sos", now - timedelta(hours=1))
        _event(s, result.serials["home_b"], "checkin", now - timedelta(days=2))  # an event with no alarm, not recent
        assert len(intake_pending(s, now=now)) == len(result.serials)
        _services(s, result, homes, street_a, district)
        s.commit()
        for username, area_id, institution_id, role in s.execute(
            text("SELECT username, scope_area_id, scope_institution_id, role FROM app_user")
        ).all():
            if institution_id is not None:
                result.users[username] = ("institution", institution_id)
            elif area_id is not None:
                result.users[username] = ("area", area_id)
            else:
                assert role not in (Role.SUPERVISOR, Role.COORDINATOR)
                result.users[username] = ("all", None)
    engine.dispose()
    assert {kind for kind, _ in result.users.values()} == {"all", "area", "institution"}
    return result


# --- what each user should see, computed independently of the platform ---


class Oracle:
    """Locations of everything, read straight from the tables; scope by walking parent links."""

    def __init__(self, url: str) -> None:
        self.parent = dict(psql(url, "SELECT id, parent_id FROM area"))
        self.household_area = dict(psql(url, "SELECT id, area_id FROM household"))
        center_area = dict(psql(url, "SELECT id, area_id FROM care_center"))
        institution_area = dict(psql(url, "SELECT id, area_id FROM institution"))
        self.residents = {
            rid: (hid, status) for rid, hid, status in psql(url, "SELECT id, household_id, status FROM resident")
        }
        self.devices: dict[int, tuple[int, int | None]] = {}
        self.device_by_serial: dict[str, tuple[int, int | None]] = {}
        for did, serial, hh, cc, inst in psql(
            url, "SELECT id, serial, household_id, care_center_id, institution_id FROM device"
        ):
            area = self.household_area[hh] if hh else center_area[cc] if cc else institution_area[inst]
            self.devices[did] = self.device_by_serial[serial] = (area, inst)
        self.events = {eid: serial for eid, serial in psql(url, "SELECT id, device_serial FROM device_event")}
        self.recent_events = {
            eid
            for (eid,) in psql(
                url, "SELECT id FROM device_event WHERE received_at > %s", (TEST_NOW - timedelta(hours=24),)
            )
        }
        self.alarms = {
            aid: (serial, resident)
            for aid, serial, resident in psql(url, "SELECT id, device_serial, resident_id FROM alarm")
        }
        self.staff = {
            sid: (area, inst, active)
            for sid, area, inst, active in psql(url, "SELECT id, home_area_id, institution_id, active FROM staff")
        }
        self.online = {serial for (serial,) in psql(url, "SELECT device_serial FROM device_status WHERE online")}
        # Issue 11's services: tasks and alerts are located where their resident's home is (an alert about staff,
        # at the staff member's home zone; about an area, at that area); institutions hold no homes.
        self.tasks = {
            tid: (resident, household, status, staff, start, end)
            for tid, resident, household, status, staff, start, end in psql(
                url,
                "SELECT id, resident_id, household_id, status, assignee_staff_id, window_start, window_end FROM task",
            )
        }
        self.alerts = {
            aid: (resident, task, staff, area, state)
            for aid, resident, task, staff, area, state in psql(
                url, "SELECT id, resident_id, task_id, staff_id, area_id, state FROM alert"
            )
        }
        self.plans: dict[int, int] = dict(psql(url, "SELECT id, area_id FROM plan"))
        self.plan_tasks: dict[int, set[int]] = {}
        for plan_id, task_id in psql(
            url, "SELECT plan_id, task_id FROM plan_stop UNION ALL SELECT plan_id, task_id FROM plan_unassigned"
        ):
            self.plan_tasks.setdefault(plan_id, set()).add(task_id)
        self.by_resident: dict[str, dict[int, set[int]]] = {}
        for table in ("assessment", "care_plan", "resident_state"):
            found: dict[int, set[int]] = {}
            for row_id, resident in psql(url, f"SELECT id, resident_id FROM {table}"):
                found.setdefault(resident, set()).add(row_id)
            self.by_resident[table] = found
        self.on_shift_now = {
            sid
            for (sid,) in psql(
                url,
                "SELECT DISTINCT sh.staff_id FROM shift sh WHERE sh.starts_at <= %s AND sh.ends_at >= %s"
                " AND NOT EXISTS (SELECT 1 FROM staff_leave l WHERE l.staff_id = sh.staff_id"
                " AND l.cancelled_at IS NULL AND l.starts_at < %s AND l.ends_at > %s)",
                (TEST_NOW, TEST_NOW, TEST_NOW, TEST_NOW),
            )
        }

    def _chain(self, area: int | None) -> set[int]:
        seen: set[int] = set()
        while area is not None:
            seen.add(area)
            area = self.parent[area]
        return seen

    def sees(self, scope: tuple[str, int | None], area: int | None, institution: int | None) -> bool:
        kind, target = scope
        if kind == "all":
            return True
        if kind == "area":
            return target in self._chain(area)
        return institution is not None and institution == target

    def residents_of(self, scope: tuple[str, int | None]) -> set[int]:
        return {rid for rid, (hid, _) in self.residents.items() if self.sees(scope, self.household_area[hid], None)}

    def devices_of(self, scope: tuple[str, int | None]) -> set[int]:
        return {did for did, loc in self.devices.items() if self.sees(scope, *loc)}

    def serial_seen(self, scope: tuple[str, int | None], serial: str) -> bool:
        return serial in self.device_by_serial and self.sees(scope, *self.device_by_serial[serial])

    def events_of(self, scope: tuple[str, int | None]) -> set[int]:
        return {eid for eid, serial in self.events.items() if self.serial_seen(scope, serial)}

    def resident_area(self, resident: int) -> int:
        return int(self.household_area[self.residents[resident][0]])

    def alarm_seen(self, scope: tuple[str, int | None], alarm: int) -> bool:
        """A device's alarm where its device is; a welfare call (no device) at its resident's home."""
        serial, resident = self.alarms[alarm]
        if serial is None:
            return self.sees(scope, self.resident_area(resident), None)
        return self.serial_seen(scope, serial)

    def alarms_of(self, scope: tuple[str, int | None]) -> set[int]:
        return {aid for aid in self.alarms if self.alarm_seen(scope, aid)}

    def task_area(self, task: int) -> int:
        resident, household, *_ = self.tasks[task]
        return self.resident_area(resident) if resident is not None else self.household_area[household]

    def tasks_of(self, scope: tuple[str, int | None]) -> set[int]:
        return {tid for tid in self.tasks if self.sees(scope, self.task_area(tid), None)}

    def alert_area(self, alert: int) -> int:
        resident, task, staff, area, _ = self.alerts[alert]
        if resident is not None:
            return self.resident_area(resident)
        if task is not None:
            return self.task_area(task)
        if staff is not None:
            return int(self.staff[staff][0])
        return int(area)

    def alerts_of(self, scope: tuple[str, int | None], *, unresolved: bool = False) -> set[int]:
        return {
            aid
            for aid, row in self.alerts.items()
            if self.sees(scope, self.alert_area(aid), None) and not (unresolved and row[4] == "resolved")
        }

    def staff_of(self, scope: tuple[str, int | None]) -> set[int]:
        return {sid for sid, (area, inst, _) in self.staff.items() if self.sees(scope, area, inst)}

    def under(self, area: int, located: int) -> bool:
        """Whether `located` lies in `area`'s subtree (walking parents)."""
        return area in self._chain(located)

    def counts_of(self, scope: tuple[str, int | None]) -> dict[str, int]:
        residents = self.residents_of(scope)
        return {
            "residents": sum(1 for rid in residents if self.residents[rid][1] == "active"),
            "households": sum(1 for area in self.household_area.values() if self.sees(scope, area, None)),
            "devices": len(self.devices_of(scope)),
            "devices_online": sum(1 for serial in self.online if self.serial_seen(scope, serial)),
            "staff": sum(1 for area, inst, active in self.staff.values() if active and self.sees(scope, area, inst)),
            "events_24h": len(self.events_of(scope) & self.recent_events),
        }


# --- the walk ---


@dataclass
class Walk:
    """A signed-in user walking the API."""

    client: TestClient
    world: World
    oracle: Oracle
    username: str
    role: Role
    headers: dict[str, str]

    @property
    def scope(self) -> tuple[str, int | None]:
        return self.world.users[self.username]

    def may(self, permission: Permission) -> bool:
        """Whether the user's role holds the permission (users/permissions.py): without it, a 403."""
        return permission in ROLE_PERMISSIONS[self.role]

    def get(self, path: str, expect: int | None = None) -> Any:
        """GET as this user; checks the status and that no out-of-scope marker appears anywhere in the body."""
        response = self.client.get(path, headers=self.headers, follow_redirects=False)
        assert response.status_code < 500 or path == "/health", (path, response.text)  # 503: this app has no broker
        if expect is not None:
            assert response.status_code == expect, (self.username, path, response.status_code, response.text[:300])
        for marker, serial in self.world.markers.items():
            if not self.oracle.serial_seen(self.scope, serial):
                assert marker not in response.text, f"{self.username} got {marker} (out of scope) from {path}"
        return response.json() if "json" in response.headers.get("content-type", "") else response.text

    def readable(self, path: str, permission: Permission) -> Any | None:
        """The body for a role holding the permission; a 403 (and None) for the other roles."""
        if not self.may(permission):
            self.get(path, expect=403)
            return None
        return self.get(path, expect=200)

    def paged(self, path: str, limit: int, permission: Permission) -> list[dict[str, Any]] | None:
        join = "&" if "?" in path else "?"
        if not self.may(permission):
            self.get(f"{path}{join}limit=1", expect=403)
            return None
        items: list[dict[str, Any]] = []
        while True:
            body = self.get(f"{path}{join}limit={limit}&offset={len(items)}", expect=200)
            page = body["items"] if isinstance(body, dict) else body
            items += page
            if len(page) < limit:
                return items


def _residents(walk: Walk) -> None:
    items = walk.paged("/api/residents", 500, Permission.RESIDENTS_READ)
    if items is not None:
        expected = walk.oracle.residents_of(walk.scope)
        assert {item["id"] for item in items} == expected
        assert walk.get("/api/residents?limit=1")["total"] == len(expected)


def _resident_card(walk: Walk) -> None:
    sample = sorted(walk.oracle.residents)[::97] + walk.world.added_residents  # a spread of the seeded ones, and ours
    for rid in sample:
        hid = walk.oracle.residents[rid][0]
        visible = walk.oracle.sees(walk.scope, walk.oracle.household_area[hid], None)
        walk.get(
            f"/api/residents/{rid}", expect=(200 if visible else 404) if walk.may(Permission.RESIDENTS_READ) else 403
        )


def _devices(walk: Walk) -> None:
    items = walk.paged("/api/devices", 1000, Permission.DEVICES_READ)
    if items is not None:
        assert {item["id"] for item in items} == walk.oracle.devices_of(walk.scope)


def _device_events(walk: Walk) -> None:
    items = walk.readable("/api/device-events?limit=500", Permission.DEVICES_READ)
    if items is not None:
        assert {item["id"] for item in items} == walk.oracle.events_of(walk.scope)


def _alarm_ids(walk: Walk, path: str, pick: Callable[[Any], list[int]]) -> None:
    body = walk.readable(path, Permission.ALARMS_READ)
    if body is not None:
        assert set(pick(body)) == walk.oracle.alarms_of(walk.scope), path


def _each_alarm(walk: Walk, suffix: str) -> None:
    visible = walk.oracle.alarms_of(walk.scope)
    reader = walk.may(Permission.ALARMS_READ)
    for aid in sorted(walk.oracle.alarms):
        body = walk.get(f"/api/alarms/{aid}{suffix}", expect=(200 if aid in visible else 404) if reader else 403)
        if suffix == "/card" and aid in visible and reader and body["resident"] is not None:
            rid = body["resident"]["resident"]["id"]
            assert rid in walk.oracle.residents_of(walk.scope)
        if suffix == "/card" and aid in visible and reader:
            for caregiver in body["caregivers"]:  # staff names and phones: only those in scope
                area, institution, _ = walk.oracle.staff[caregiver["id"]]
                assert walk.oracle.sees(walk.scope, area, institution), (walk.username, caregiver["id"])


def _system_status(walk: Walk) -> None:
    counts = walk.get("/api/system/status", expect=200)["counts"]
    expected = walk.oracle.counts_of(walk.scope)
    assert {k: v for k, v in counts.items() if k != "dead_letters_24h"} == expected
    assert ("dead_letters_24h" in counts) == (walk.scope[0] == "all")


def _me(walk: Walk) -> None:
    assert walk.get("/api/auth/me", expect=200)["username"] == walk.username


def _users(walk: Walk) -> None:
    body = walk.get("/api/users", expect=200 if walk.role == Role.ADMIN else 403)
    if walk.role == Role.ADMIN:
        assert walk.username in {u["username"] for u in body}


def _live_hello(walk: Walk) -> None:
    with walk.client.websocket_connect(f"{LIVE}?since=0") as socket:
        socket.send_json({"type": "auth", "token": walk.headers["Authorization"].split()[1]})
        if not walk.may(Permission.ALARMS_READ):
            with pytest.raises(WebSocketDisconnect) as refused:
                socket.receive_json()
            assert refused.value.code == 4403
            return
        hello = socket.receive_json()
    assert hello["type"] == "hello" and hello["user"] == walk.username
    assert {alarm["id"] for alarm in hello["missed"]} == walk.oracle.alarms_of(walk.scope)
    for marker, serial in walk.world.markers.items():
        if not walk.oracle.serial_seen(walk.scope, serial):
            assert marker not in json.dumps(hello, ensure_ascii=False)


def _my_tasks_live(walk: Walk) -> None:
    """The caregiver's task channel: only a caregiver with a staff record, and only their own tasks (hello's catch-up
    from version 0: their tasks sent to them, nobody else's)."""
    [(staff,)] = psql(walk.world.url, "SELECT staff_id FROM app_user WHERE username = %s", (walk.username,))
    with walk.client.websocket_connect(MY_TASKS_LIVE) as socket:
        socket.send_json({"type": "auth", "token": walk.headers["Authorization"].split()[1], "since": 0})
        if not walk.may(Permission.TASKS_WORK) or staff is None:
            with pytest.raises(WebSocketDisconnect) as refused:
                socket.receive_json()
            assert refused.value.code == 4403
            return
        hello = socket.receive_json()
    assert hello["type"] == "hello" and hello["staff_id"] == staff
    sent = {"published", "en_route", "checked_in", "completed", "missed"}
    expected = {
        tid
        for tid, (_, _, status, assignee, _, t_end) in walk.oracle.tasks.items()
        if assignee == staff and status in sent and t_end > TEST_NOW - timedelta(days=2)
    }
    shown = [m for m in hello["missed"] if m["task"] is not None]
    assert {m["task_id"] for m in shown} == expected
    assert all(m["task"]["assignee_staff_id"] == staff for m in shown)


def _meal_reader(walk: Walk) -> bool:
    return walk.may(Permission.MEALS_READ)


def _meal_orders(walk: Walk) -> None:
    """Orders of the residents in scope (located at the resident's home)."""
    if not _meal_reader(walk):
        walk.get("/api/meals/orders?limit=1", expect=403)
        return
    residents = walk.oracle.residents_of(walk.scope)
    expected = {oid for oid, rid in psql(walk.world.url, "SELECT id, resident_id FROM meal_order") if rid in residents}
    items = walk.get("/api/meals/orders?limit=1000", expect=200)
    assert {item["id"] for item in items} <= expected and len(items) == min(len(expected), 1000)


def _meal_point_day(walk: Walk) -> None:
    """A meal point's day: the point's community must be in the user's area (an institution sees none)."""
    for point, area in psql(walk.world.url, "SELECT id, area_id FROM meal_point ORDER BY id")[::7]:
        visible = walk.scope[0] != "institution" and walk.oracle.sees(walk.scope, area, None)
        expect = (200 if visible else 404) if _meal_reader(walk) else 403
        walk.get(f"/api/meals/points/{point}/day", expect=expect)


# --- issue 11's services: care plans, the roster, tasks, alerts ---


def _sample_residents(walk: Walk) -> list[int]:
    return sorted(walk.oracle.residents)[::97] + walk.world.added_residents  # a spread of the seeded ones, and ours


def _resident_records(suffix: str, table: str) -> Callable[[Walk], None]:
    """A resident's assessments, care plan(s) or states: exactly that resident's rows in scope, 404 outside."""

    def check(walk: Walk) -> None:
        may = walk.may(Permission.CARE_PLANS_READ)
        for rid in _sample_residents(walk):
            visible = walk.oracle.sees(walk.scope, walk.oracle.resident_area(rid), None)
            body = walk.get(f"/api/residents/{rid}/{suffix}", expect=(200 if visible else 404) if may else 403)
            if not (may and visible):
                continue
            rows = walk.oracle.by_resident[table].get(rid, set())
            if suffix == "care-plan":  # the version in force today, if any
                assert body["current"] is None or body["current"]["id"] in rows, (rid, body["current"])
            else:
                assert {row["id"] for row in body} == rows, (rid, suffix)
                assert all(row["resident_id"] == rid for row in body)

    return check


def _staff_list(walk: Walk) -> None:
    items = walk.paged("/api/roster/staff", 500, Permission.ROSTER_READ)
    if items is not None:
        assert {item["id"] for item in items} == walk.oracle.staff_of(walk.scope)


def _each_staff(suffix: str) -> Callable[[Walk], None]:
    """A staff member's record (detail, patterns, certifications, leave): 200 in scope, 404 outside."""

    def check(walk: Walk) -> None:
        may = walk.may(Permission.ROSTER_READ)
        visible = walk.oracle.staff_of(walk.scope)
        residents = walk.oracle.residents_of(walk.scope)
        for sid in sorted(walk.oracle.staff):
            body = walk.get(f"/api/roster/staff/{sid}{suffix}", expect=(200 if sid in visible else 404) if may else 403)
            if may and sid in visible and suffix == "":
                assert body["staff"]["id"] == sid
                for preference in body["preferences"]:  # the residents a staff member prefers or declines
                    assert preference["resident_id"] in residents, (walk.username, sid, preference)
            elif may and sid in visible:
                assert all(row.get("staff_id", sid) == sid for row in body), (sid, suffix)

    return check


def _availability(walk: Walk) -> None:
    body = walk.readable("/api/roster/availability", Permission.ROSTER_READ)
    if body is not None:
        active = {sid for sid in walk.oracle.staff_of(walk.scope) if walk.oracle.staff[sid][2]}
        assert {item["staff"]["id"] for item in body["items"]} == active


def _on_shift(walk: Walk) -> None:
    body = walk.readable("/api/roster/on-shift", Permission.ROSTER_READ)
    if body is not None:
        expected = {
            sid for sid in walk.oracle.staff_of(walk.scope) & walk.oracle.on_shift_now if walk.oracle.staff[sid][2]
        }
        assert expected or walk.scope[0] != "all", "somebody is on shift at TEST_NOW, or this check proves nothing"
        assert {item["id"] for item in body} == expected


def _tasks(walk: Walk) -> None:
    items = walk.paged("/api/tasks", 500, Permission.TASKS_READ)
    if items is not None:
        assert {item["id"] for item in items} == walk.oracle.tasks_of(walk.scope)


def _each_task(suffix: str) -> Callable[[Walk], None]:
    """A task's detail or EVV block: 200 in scope, 404 outside (a spread of the generated ones, and ours)."""

    def check(walk: Walk) -> None:
        may = walk.may(Permission.TASKS_READ)
        visible = walk.oracle.tasks_of(walk.scope)
        for tid in sorted(walk.oracle.tasks)[::41] + sorted(walk.world.tasks.values()):
            body = walk.get(f"/api/tasks/{tid}{suffix}", expect=(200 if tid in visible else 404) if may else 403)
            if may and tid in visible:
                assert body["id" if suffix == "" else "task_id"] == tid

    return check


def _area_visible(walk: Walk, area: int) -> bool:
    """A board's area is the user's when it lies inside an area scope (an area above it is not); all see all."""
    kind, target = walk.scope
    return kind == "all" or (kind == "area" and target is not None and walk.oracle.under(target, area))


def _board(walk: Walk) -> None:
    """Today's board of communities, a street and districts: the area's tasks of the day and unresolved alerts in
    scope, and no staff member outside the scope with their phone, shifts or load."""
    may = walk.may(Permission.TASKS_READ)
    start, end = local_day(local_date(TEST_NOW))
    oracle = walk.oracle
    for area in walk.world.areas.values():
        visible = _area_visible(walk, area)
        body = walk.get(f"/api/tasks/board?area_id={area}", expect=(200 if visible else 404) if may else 403)
        if not (may and visible):
            continue
        shown = {t["id"] for t in body["unassigned"]} | {t["id"] for lane in body["staff"] for t in lane["tasks"]}
        assert shown == {
            tid
            for tid in oracle.tasks_of(walk.scope)
            if oracle.under(area, oracle.task_area(tid)) and start <= oracle.tasks[tid][4] < end
        }, area
        mine = oracle.staff_of(walk.scope)
        for lane in body["staff"]:
            if lane["id"] not in mine:  # an assignee from elsewhere: their tasks here, nothing of their own
                assert lane["phone"] is None and lane["shifts"] == [], (walk.username, area, lane["id"])
        assert {a["id"] for a in body["alerts"]} == {
            aid for aid in oracle.alerts_of(walk.scope, unresolved=True) if oracle.under(area, oracle.alert_area(aid))
        }, area


def _my_tasks(walk: Walk) -> None:
    """A caregiver's own tasks of the day: published to their staff record or further along."""
    if not walk.may(Permission.TASKS_WORK):
        walk.get("/api/me/tasks", expect=403)
        return
    body = walk.get("/api/me/tasks", expect=200)
    [(staff,)] = psql(walk.world.url, "SELECT staff_id FROM app_user WHERE username = %s", (walk.username,))
    start, end = local_day(local_date(TEST_NOW))
    sent = {"published", "en_route", "checked_in", "completed", "missed"}
    expected = {
        tid
        for tid, (_, _, status, assignee, t_start, t_end) in walk.oracle.tasks.items()
        if staff is not None and assignee == staff and status in sent and t_start < end and t_end > start
    }
    assert {task["id"] for task in body} == expected
    if walk.username == "caregiver_a1":
        assert walk.world.tasks["a1"] in expected and walk.world.tasks["other"] not in expected  # not published


def _staff_id(walk: Walk) -> int | None:
    [(staff,)] = psql(walk.world.url, "SELECT staff_id FROM app_user WHERE username = %s", (walk.username,))
    return None if staff is None else int(staff)


def _task_photos(walk: Walk) -> None:
    """A visit photo: the board's readers in scope of its task, a caregiver only on their own task; 404 otherwise."""
    staff = _staff_id(walk)
    visible = walk.oracle.tasks_of(walk.scope)
    answers = {}
    for key, (tid, pid) in walk.world.photos.items():
        if walk.may(Permission.TASKS_READ):
            expect = 200 if tid in visible else 404
        elif walk.may(Permission.TASKS_WORK):
            expect = 200 if staff is not None and walk.oracle.tasks[tid][3] == staff else 404
        else:
            expect = 403
        walk.get(f"/api/tasks/{tid}/photos/{pid}", expect=expect)
        answers[key] = expect
    if walk.username == "caregiver_a1":
        assert answers == {"a1": 200, "a1_stranger": 404}


WITHIN_BEHIND, WITHIN_AHEAD = timedelta(hours=12), timedelta(hours=24)


def _own_residents(walk: Walk) -> tuple[set[int], set[int]]:
    """Residents of the caregiver's own tasks whose window overlaps [now − 12 h, now + 24 h]: those sent to them and
    open (readable), and those closed (readable only within 2 h of closing: not judged here)."""
    staff = _staff_id(walk)
    opened, closed = set(), set()
    for resident, _, status, assignee, start, end in walk.oracle.tasks.values():
        if staff is None or assignee != staff or resident is None:
            continue
        if not (start < TEST_NOW + WITHIN_AHEAD and end > TEST_NOW - WITHIN_BEHIND):
            continue
        if status in ("published", "en_route", "checked_in"):
            opened.add(resident)
        elif status in ("completed", "missed"):
            closed.add(resident)
    return opened, closed - opened


def _my_residents(walk: Walk) -> None:
    """The essentials of the residents on the caregiver's current tasks, nobody else's, and no ID number."""
    if not walk.may(Permission.TASKS_WORK):
        walk.get("/api/me/residents", expect=403)
        return
    body = walk.get("/api/me/residents", expect=200)
    opened, closed = _own_residents(walk)
    got = {item["id"] for item in body}
    assert opened <= got <= opened | closed
    assert not any({"id_number", "categories"} & set(item) for item in body)
    if walk.username == "caregiver_a1":
        assert walk.world.added_residents[0] in got


def _my_resident(walk: Walk) -> None:
    """One resident's essentials: 200 on the caregiver's current tasks, else 403 (a resident that exists or not)."""
    sample = sorted(walk.oracle.residents)[::97] + walk.world.added_residents + [2_000_000_000]
    if not walk.may(Permission.TASKS_WORK):
        walk.get(f"/api/me/residents/{sample[0]}", expect=403)
        return
    opened, closed = _own_residents(walk)
    answers = set()
    for rid in sample:
        if rid in closed:
            continue
        body = walk.get(f"/api/me/residents/{rid}", expect=200 if rid in opened else 403)
        answers.add(200 if rid in opened else 403)
        if rid in opened:
            assert body["id"] == rid
        else:
            assert body["code"] == "resident_not_on_your_tasks"
    if walk.username == "caregiver_a1":
        assert answers == {200, 403}


def _alerts(walk: Walk) -> None:
    body = walk.readable("/api/alerts", Permission.ALERTS_READ)
    if body is not None:
        assert {alert["id"] for alert in body} == walk.oracle.alerts_of(walk.scope, unresolved=True)


def _each_alert(walk: Walk) -> None:
    may = walk.may(Permission.ALERTS_READ)
    visible = walk.oracle.alerts_of(walk.scope)
    for aid in sorted(walk.oracle.alerts):
        body = walk.get(f"/api/alerts/{aid}", expect=(200 if aid in visible else 404) if may else 403)
        if may and aid in visible:
            assert body["id"] == aid
            if body["staff_id"] is not None:
                assert body["staff_id"] in walk.oracle.staff_of(walk.scope) or walk.scope[0] == "area", body


def _plans_of(walk: Walk) -> set[int]:
    """Plans are located at their community, like its tasks: an area scope sees those under it, an institution none."""
    kind, _ = walk.scope
    return {
        pid
        for pid, area in walk.oracle.plans.items()
        if kind != "institution" and walk.oracle.sees(walk.scope, area, None)
    }


def _plans(walk: Walk) -> None:
    assert len(walk.oracle.plans) == 3, "the world has three plans, or this check proves nothing"
    items = walk.paged("/api/plans", 200, Permission.TASKS_READ)
    if items is not None:
        assert {item["id"] for item in items} == _plans_of(walk)


def _each_plan(walk: Walk) -> None:
    """A plan in full: 200 in scope (every task it names is in scope too), 404 outside."""
    may = walk.may(Permission.TASKS_READ)
    visible = _plans_of(walk)
    tasks = walk.oracle.tasks_of(walk.scope)
    for pid in sorted(walk.oracle.plans):
        body = walk.get(f"/api/plans/{pid}", expect=(200 if pid in visible else 404) if may else 403)
        if may and pid in visible:
            named = {stop["task_id"] for route in body["routes"] for stop in route["stops"]}
            named |= {item["task_id"] for item in body["unassigned"]}
            assert body["id"] == pid and named == walk.oracle.plan_tasks.get(pid, set()) and named <= tasks


def _report_pdf(walk: Walk) -> None:
    """The monthly report of each walked area (as the figure sections: 200 inside the scope, 404 outside it, an area
    above it too); no out-of-scope marker in the PDF's text (pypdfium2 reads it); 403 without supervision.read."""
    import pypdfium2 as pdfium

    if not walk.may(Permission.SUPERVISION_READ):
        walk.get("/api/supervision/report.pdf?month=2026-11", expect=403)
        return
    for area, visible in _supervision_areas(walk):
        query = "" if area is None else f"area_id={area}&"
        response = walk.client.get(f"/api/supervision/report.pdf?{query}month=2026-11", headers=walk.headers)
        assert response.status_code == (200 if visible else 404), (area, response.status_code, response.text[:200])
        if response.status_code != 200:
            continue
        pdf = pdfium.PdfDocument(response.content)
        words = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        pdf.close()
        for marker, serial in walk.world.markers.items():
            if not walk.oracle.serial_seen(walk.scope, serial):
                assert marker not in words, f"{walk.username} got {marker} (out of scope) in the report of {area}"


def _plain(path: str, expect: int) -> Callable[[Walk], None]:
    """An endpoint that returns nothing located: every user gets `expect`, and no out-of-scope marker."""
    return lambda walk: walk.get(path, expect=expect)


# --- issue 14: the supervision figures of a tier (records in the area's subtree and in the user's scope) ---


def _month(walk: Walk) -> tuple[datetime, datetime]:
    """The figures' default period: this local month up to today, as instants."""
    first, _ = local_day(local_date(TEST_NOW).replace(day=1))
    _, end = local_day(local_date(TEST_NOW))
    return first, end


def _supervision_root(walk: Walk) -> int:
    kind, target = walk.scope
    if kind == "area":
        assert target is not None
        return target
    if kind == "institution":
        return int(psql(walk.world.url, "SELECT area_id FROM institution WHERE id = %s", (target,))[0][0])
    return int(psql(walk.world.url, "SELECT min(id) FROM area WHERE parent_id IS NULL")[0][0])


def _supervision_areas(walk: Walk) -> list[tuple[int | None, bool]]:
    """The areas walked (None = the default: the user's scope root) and whether the user may look at each."""
    root = _supervision_root(walk)
    kind = walk.scope[0]
    walked: list[tuple[int | None, bool]] = [(None, True)]
    return walked + [(area, kind == "all" or walk.oracle.under(root, area)) for area in walk.world.areas.values()]


def _supervision_expected(walk: Walk, section: str, area: int) -> dict[str, int]:
    """What the totals must count, from the oracle (scope by parent links) and the tables."""
    oracle, scope, url = walk.oracle, walk.scope, walk.world.url
    start, end = _month(walk)
    if section == "devices":
        retired = {did for (did,) in psql(url, "SELECT id FROM device WHERE state = 'retired'")}
        located = {did for did in oracle.devices_of(scope) - retired if oracle.under(area, oracle.devices[did][0])}
        return {"devices": len(located)}
    if section == "alarms":
        faults = {t for (t,) in psql(url, "SELECT type FROM alarm_type WHERE is_device_fault")}
        opened = {aid: (at, t) for aid, at, t in psql(url, "SELECT id, opened_at, type FROM alarm")}

        def where(aid: int) -> int:
            serial, resident = oracle.alarms[aid]
            return oracle.device_by_serial[serial][0] if serial else oracle.resident_area(resident)

        return {
            "alarms": sum(
                1
                for aid in oracle.alarms_of(scope)
                if start <= opened[aid][0] < end and opened[aid][1] not in faults and oracle.under(area, where(aid))
            )
        }
    if section == "visits":
        kinds = dict(psql(url, "SELECT id, kind FROM task"))
        return {
            "due+excused+pending": sum(
                1
                for tid in oracle.tasks_of(scope)
                if kinds[tid] == "visit"
                and start <= oracle.tasks[tid][4] < end
                and oracle.under(area, oracle.task_area(tid))
            )
        }
    residents = {r for r in oracle.residents_of(scope) if oracle.under(area, oracle.resident_area(r))}
    days = (start.date(), local_date(TEST_NOW))
    return {
        "orders+cancelled": sum(
            1
            for rid, day in psql(url, "SELECT resident_id, service_date FROM meal_order")
            if rid in residents and days[0] <= day <= days[1]
        )
    }


def _supervision(section: str) -> Callable[[Walk], None]:
    """A figure section: 403 without `supervision.read`; 404 for an area outside the scope; inside, the totals
    count exactly the records of the area's subtree that the user's scope holds, and the children are the area's."""

    def check(walk: Walk) -> None:
        may = walk.may(Permission.SUPERVISION_READ)
        for area, visible in _supervision_areas(walk):
            query = "" if area is None else f"?area_id={area}"
            body = walk.get(f"/api/supervision/{section}{query}", expect=(200 if visible else 404) if may else 403)
            if not (may and visible):
                continue
            shown = body["area"]["id"] if section != "areas" else body[0]["id"]
            assert shown == (area if area is not None else _supervision_root(walk))
            child_ids = {child for child, parent in walk.oracle.parent.items() if parent == shown}
            if section == "areas":
                assert {a["id"] for a in body[1:]} == child_ids
                continue
            if "rows" in body:
                continue
            assert {row["area"]["id"] for row in body["children"]} == child_ids
            totals = body["totals"]
            for key, value in _supervision_expected(walk, section, shown).items():
                got = sum(totals[part] for part in key.split("+"))
                assert got == value, (section, area, key, got, value)
                if walk.scope[0] == "all" and area is None:
                    assert value > 0, f"{section}: the world has nothing to count ({key}), the check is vacuous"

    return check


def _supervision_table(section: str, rows: Callable[[Walk, int, Any], None]) -> Callable[[Walk], None]:
    """A table of a tier (per caregiver, per meal point): the same 403/404 rule, then `rows` checks the rows."""

    def check(walk: Walk) -> None:
        may = walk.may(Permission.SUPERVISION_READ)
        for area, visible in _supervision_areas(walk):
            query = "" if area is None else f"?area_id={area}"
            body = walk.get(f"/api/supervision/{section}{query}", expect=(200 if visible else 404) if may else 403)
            if may and visible:
                rows(walk, body["area"]["id"], body["rows"])

    return check


def _meal_points_in(walk: Walk, area: int, rows: list[dict[str, Any]]) -> None:
    """Exactly the meal points located in the area (meal points are home services: an institution holds none)."""
    assert {row["meal_point_id"] for row in rows} == {
        point
        for point, point_area in psql(walk.world.url, "SELECT id, area_id FROM meal_point")
        if walk.scope[0] != "institution"
        and walk.oracle.under(area, point_area)
        and walk.oracle.sees(walk.scope, point_area, None)
    }


def _caregivers_in(walk: Walk, area: int, rows: list[dict[str, Any]]) -> None:
    """The per-caregiver rows split the area's due visits: they add up to the visits section's."""
    due = walk.get(f"/api/supervision/visits?area_id={area}", expect=200)["totals"]["due"]
    assert sum(row["due"] for row in rows) == due


# Every GET route of the app and the WebSocket, each with its check. A route missing here fails
# test_every_get_route_and_the_socket_are_walked: a new endpoint cannot skip the scope test.
CHECKS: dict[str, Callable[[Walk], None]] = {
    "/health": _plain("/health", 503),  # no personal data; 503 as no broker is connected here
    "/metrics": _plain("/metrics", 200),
    "/": _plain("/", 307),
    "/api/openapi.json": _plain("/api/openapi.json", 200),
    "/api/docs": _plain("/api/docs", 200),
    "/api/docs/oauth2-redirect": _plain("/api/docs/oauth2-redirect", 200),
    "/api/redoc": _plain("/api/redoc", 200),
    "/api/auth/me": _me,
    "/api/users": _users,
    "/api/areas": _plain("/api/areas", 200),  # names and codes of areas: every signed-in role
    "/api/alarm-types": lambda walk: walk.readable("/api/alarm-types", Permission.ALARMS_READ),
    "/api/residents": _residents,
    "/api/residents/{resident_id}": _resident_card,
    "/api/devices": _devices,
    "/api/device-events": _device_events,
    "/api/alarms": lambda walk: _alarm_ids(walk, "/api/alarms", lambda body: [a["id"] for a in body]),
    "/api/alarms/changes": lambda walk: _alarm_ids(
        walk, "/api/alarms/changes?since=0", lambda body: [a["id"] for a in body["alarms"]]
    ),
    "/api/alarms/handover": lambda walk: _alarm_ids(
        walk, "/api/alarms/handover", lambda body: [item["alarm"]["id"] for item in body]
    ),
    "/api/alarms/{alarm_id}": lambda walk: _each_alarm(walk, ""),
    "/api/alarms/{alarm_id}/trace": lambda walk: _each_alarm(walk, "/trace"),
    "/api/alarms/{alarm_id}/card": lambda walk: _each_alarm(walk, "/card"),
    "/api/system/status": _system_status,
    "/api/meta/labels": _plain("/api/meta/labels", 200),  # words for codes: every signed-in role
    "/api/meta/assessment-scale": _plain("/api/meta/assessment-scale", 200),  # the standard's scale: every role
    "/api/residents/{resident_id}/assessments": _resident_records("assessments", "assessment"),
    "/api/residents/{resident_id}/care-plan": _resident_records("care-plan", "care_plan"),
    "/api/residents/{resident_id}/care-plans": _resident_records("care-plans", "care_plan"),
    "/api/residents/{resident_id}/states": _resident_records("states", "resident_state"),
    "/api/roster/staff": _staff_list,
    "/api/roster/staff/{staff_id}": _each_staff(""),
    "/api/roster/staff/{staff_id}/patterns": _each_staff("/patterns"),
    "/api/roster/staff/{staff_id}/certifications": _each_staff("/certifications"),
    "/api/roster/staff/{staff_id}/leave": _each_staff("/leave"),
    "/api/roster/availability": _availability,
    "/api/roster/on-shift": _on_shift,
    "/api/tasks": _tasks,
    "/api/tasks/{task_id:int}": _each_task(""),
    "/api/tasks/{task_id}/evv": _each_task("/evv"),
    "/api/tasks/board": _board,
    "/api/me/tasks": _my_tasks,
    "/api/me/residents": _my_residents,
    "/api/me/residents/{resident_id}": _my_resident,
    "/api/tasks/{task_id}/photos/{photo_id}": _task_photos,
    f"WS {MY_TASKS_LIVE}": _my_tasks_live,
    "/api/alerts": _alerts,
    "/api/alerts/{alert_id}": _each_alert,
    "/api/meals/orders": _meal_orders,
    "/api/meals/points/{meal_point_id}/day": _meal_point_day,
    "/api/plans": _plans,
    "/api/plans/{plan_id}": _each_plan,
    f"WS {LIVE}": _live_hello,
    "/api/supervision/report.pdf": _report_pdf,
    "/api/supervision/alarms": _supervision("alarms"),
    "/api/supervision/visits": _supervision("visits"),
    "/api/supervision/meals": _supervision("meals"),
    "/api/supervision/devices": _supervision("devices"),
    "/api/supervision/areas": _supervision("areas"),
    "/api/supervision/visits/caregivers": _supervision_table("visits/caregivers", _caregivers_in),
    "/api/supervision/meals/points": _supervision_table("meals/points", _meal_points_in),
}


# --- issue 14's services statement and care-center monitor (supervision.read) ---

_NOVEMBER = (date(2026, 11, 1), date(2026, 12, 1))  # TEST_NOW's local month: the statement's default


def _statement(walk: Walk) -> None:
    """The settlement lines: exactly the residents in scope with a service entitlement or a delivered service in
    the month, evidence only from tasks in scope; an institution holds no homes, so no lines."""
    body = walk.readable("/api/supervision/services/statement?limit=1000", Permission.SUPERVISION_READ)
    if body is None:
        return
    while len(body["lines"]) < body["lines_total"]:  # the lines come in pages; the figures count them all
        more = walk.get(f"/api/supervision/services/statement?limit=1000&offset={len(body['lines'])}", expect=200)
        assert more["totals"] == body["totals"] and more["lines"]
        body["lines"] += more["lines"]
    start, end = (datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TIMEZONE) for day in _NOVEMBER)
    candidates = {
        rid
        for (rid,) in psql(
            walk.world.url,
            "SELECT resident_id FROM care_plan WHERE superseded_by IS NULL AND jsonb_array_length(services) > 0"
            " AND valid_from < %s AND (valid_to IS NULL OR valid_to >= %s)"
            " UNION SELECT resident_id FROM task WHERE kind = 'service' AND status = 'completed'"
            " AND coalesce(checked_in_at, completed_at) >= %s AND coalesce(checked_in_at, completed_at) < %s",
            (_NOVEMBER[1], _NOVEMBER[0], start, end),
        )
    }
    expected = candidates & walk.oracle.residents_of(walk.scope) if walk.scope[0] != "institution" else set()
    assert expected or walk.scope[0] != "all", "the seeded care plans entitle services, or this proves nothing"
    assert {line["resident_id"] for line in body["lines"]} == expected
    visible_tasks = walk.oracle.tasks_of(walk.scope)
    assert all(e["task_id"] in visible_tasks for line in body["lines"] for e in line["evidence"])


def _facilities_in_scope(walk: Walk) -> set[tuple[str, int]]:
    centers = psql(walk.world.url, "SELECT 'care_center', id, area_id, NULL::int FROM care_center")
    institutions = psql(walk.world.url, "SELECT 'institution', id, area_id, id FROM institution")
    return {(kind, fid) for kind, fid, area, inst in centers + institutions if walk.oracle.sees(walk.scope, area, inst)}


def _monitor(walk: Walk) -> None:
    """The care centers and institutions in scope (an institution: itself), exceptions only about its terminals."""
    body = walk.readable("/api/supervision/monitor", Permission.SUPERVISION_READ)
    if body is None:
        return
    assert {(p["kind"], p["id"]) for p in body["facilities"]} == _facilities_in_scope(walk)
    for exception in body["exceptions"]:
        assert walk.oracle.serial_seen(walk.scope, exception["subject"].split(" · ")[-1]), exception


def _monitor_resident(walk: Walk) -> None:
    """A resident's vitals: 200 when their home is in scope or a care center's / institution's terminal in scope is
    theirs, 404 otherwise."""
    may = walk.may(Permission.SUPERVISION_READ)
    worn = psql(
        walk.world.url, "SELECT resident_id, serial FROM device WHERE resident_id IS NOT NULL AND household_id IS NULL"
    )
    for rid in _sample_residents(walk):
        visible = walk.oracle.sees(walk.scope, walk.oracle.resident_area(rid), None) or any(
            r == rid and walk.oracle.serial_seen(walk.scope, serial) for r, serial in worn
        )
        body = walk.get(f"/api/supervision/monitor/residents/{rid}", expect=(200 if visible else 404) if may else 403)
        if may and visible:
            assert body["resident"]["id"] == rid


CHECKS.update(
    {
        "/api/supervision/services/statement": _statement,
        "/api/supervision/monitor": _monitor,
        "/api/supervision/monitor/residents/{resident_id}": _monitor_resident,
    }
)


@pytest.fixture(scope="module")
def scope_client(world: World) -> Iterator[TestClient]:
    app = create_app(
        ApiSettings(environment="test", database_url=world.url), connect_broker=False, clock=FixedClock(TEST_NOW)
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def oracle(world: World) -> Oracle:
    return Oracle(world.url)


def _token(client: TestClient, username: str) -> str:
    response = client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _routes(client: TestClient) -> set[str]:
    """Every GET route and WebSocket the app serves, included routers flattened (as the OpenAPI document is built)."""
    found = set()
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route.original_route, APIWebSocketRoute | WebSocketRoute):
            found.add(f"WS {route.path}")
        elif "GET" in (route.methods or set()):
            found.add(str(route.path))
    return found


def test_every_get_route_and_the_socket_are_walked(scope_client: TestClient) -> None:
    assert _routes(scope_client) == set(CHECKS), "add the new route to CHECKS with what it may return to whom"


USERNAMES = [
    "admin",
    "operator1",
    "caregiver1",
    "supervisor_city",
    "supervisor_district",
    "supervisor_street",
    "supervisor_community",
    "supervisor_other_district",
    "supervisor_home",
    "supervisor_home2",
    "coordinator_community",
    "coordinator_street",
    "caregiver_a1",
]


@pytest.mark.parametrize("username", USERNAMES)
def test_every_endpoint_returns_exactly_the_users_scope(
    scope_client: TestClient, world: World, oracle: Oracle, username: str
) -> None:
    role = Role(psql(world.url, "SELECT role FROM app_user WHERE username = %s", (username,))[0][0])
    walk = Walk(
        scope_client, world, oracle, username, role, {"Authorization": f"Bearer {_token(scope_client, username)}"}
    )
    for route, check in CHECKS.items():
        try:
            check(walk)
        except AssertionError as exc:
            raise AssertionError(f"{username} on {route}: {exc}") from exc


def test_the_walk_is_not_vacuous(world: World, oracle: Oracle) -> None:
    """Every kind of thing is seen by a scoped user and hidden from another; every scoped user sees something."""
    scoped = [name for name in USERNAMES if world.users[name][0] != "all"]
    narrower = [name for name in scoped if name != "supervisor_city"]  # the city area holds every place here
    for what in (oracle.residents_of, oracle.devices_of, oracle.events_of, oracle.alarms_of):
        everything = what(("all", None))
        assert what(world.users["supervisor_city"]) == everything, what.__name__
        for name in narrower:
            assert what(world.users[name]) < everything, (what.__name__, name)
        seen_by_someone_narrower = set().union(*(what(world.users[name]) for name in narrower))
        assert seen_by_someone_narrower == everything, what.__name__
    for name in scoped:
        assert oracle.alarms_of(world.users[name]) and oracle.devices_of(world.users[name]), name
        assert oracle.events_of(world.users[name]), name
    # Issue 11's services: tasks and alerts (located at homes: institutions hold none) and staff.
    for services in (oracle.tasks_of, oracle.alerts_of, oracle.staff_of):
        everything = services(("all", None))
        assert services(world.users["supervisor_city"]) == everything, services.__name__
        assert set().union(*(services(world.users[name]) for name in narrower)) == everything, services.__name__
        for name in narrower:
            assert services(world.users[name]) < everything, (services.__name__, name)
            if services is not oracle.staff_of and world.users[name][0] == "area":
                assert services(world.users[name]), (services.__name__, name)


def test_the_institution_supervisor_of_issue_9(scope_client: TestClient, world: World) -> None:
    """supervisor_home: only its institution's device events and alarms, no city-wide status counts."""
    headers = {"Authorization": f"Bearer {_token(scope_client, 'supervisor_home')}"}
    events = scope_client.get("/api/device-events", headers=headers).json()
    assert {e["device_serial"] for e in events} == {world.serials["inst_home"]}
    assert all(e["resident_name"] is None for e in events)
    assert {a["device_serial"] for a in scope_client.get("/api/alarms", headers=headers).json()} == {
        world.serials["inst_home"]
    }
    counts = scope_client.get("/api/system/status", headers=headers).json()["counts"]
    assert counts["residents"] == 0 and counts["households"] == 0 and counts["devices"] == 1
    assert "dead_letters_24h" not in counts


def test_the_alarm_cards_caregivers_are_only_staff_in_the_users_scope(
    scope_client: TestClient, world: World, oracle: Oracle
) -> None:
    """Staff names and phones on an alarm card: a community supervisor sees only the community's staff."""
    [alarm_id] = [aid for aid, (serial, _) in oracle.alarms.items() if serial == world.serials["home_a1"]][:1]
    cards = {
        name: scope_client.get(
            f"/api/alarms/{alarm_id}/card", headers={"Authorization": f"Bearer {_token(scope_client, name)}"}
        ).json()
        for name in ("operator1", "supervisor_community")
    }
    scope = world.users["supervisor_community"]
    outside = [c["id"] for c in cards["operator1"]["caregivers"] if not oracle.sees(scope, *oracle.staff[c["id"]][:2])]
    assert outside, "the operator's nearest caregivers should reach past the community, or this test proves nothing"
    mine = [c["id"] for c in cards["supervisor_community"]["caregivers"]]
    assert mine, "the community has caregivers of its own"
    assert all(oracle.sees(scope, *oracle.staff[sid][:2]) for sid in mine), mine


def test_escalation_tells_only_the_supervisors_whose_scope_covers_the_alarm(world: World) -> None:
    engine = unpooled_engine(world.url)
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        escalate(session, now=TEST_NOW + timedelta(hours=1), policy=EscalationPolicy())
        told = {
            (serial, username)
            for serial, username in session.execute(
                text(
                    "SELECT a.device_serial, u.username FROM notification n JOIN alarm a ON a.id = n.alarm_id"
                    " JOIN app_user u ON u.id = n.user_id"
                )
            ).all()
        }
        outer.rollback()
    engine.dispose()
    assert (world.serials["inst_home"], "supervisor_home") in told
    assert (world.serials["inst_other"], "supervisor_home2") in told
    assert (world.serials["inst_other"], "supervisor_home") not in told
    assert (world.serials["home_a1"], "supervisor_home") not in told
    assert (world.serials["home_a1"], "supervisor_community") in told
    assert (world.serials["home_a2"], "supervisor_community") not in told
    assert (world.serials["home_other"], "supervisor_district") not in told
    assert (world.serials["inst_home"], "admin") in told
    assert not any(username == "operator1" for _, username in told)


# --- bad tokens: a clean 401 / close code, never a server error ---


def _forged(sub: object, **extra: object) -> str:
    claims = {"sub": sub, "role": "operator", "exp": TEST_NOW + timedelta(hours=1), **extra}
    return jwt.encode(claims, DEMO_JWT_SECRET, algorithm="HS256")


BAD_TOKENS = {
    "non-numeric sub": _forged("abc"),
    "sub beyond an integer id": _forged("99999999999999999999"),
    "negative sub": _forged("-1"),
    "numeric sub as a number": _forged(1),
    "no sub": jwt.encode({"role": "operator", "exp": TEST_NOW + timedelta(hours=1)}, DEMO_JWT_SECRET),
    "expired": _forged("2", exp=datetime(2020, 1, 1, tzinfo=UTC)),
    "not a JWT": "not-a-jwt",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_a_bad_token_is_a_clean_401_over_http(scope_client: TestClient, name: str) -> None:
    response = scope_client.get("/api/alarms", headers={"Authorization": f"Bearer {BAD_TOKENS[name]}"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_a_bad_token_closes_the_socket_with_4401(scope_client: TestClient, name: str) -> None:
    with scope_client.websocket_connect(LIVE) as socket:
        socket.send_json({"type": "auth", "token": BAD_TOKENS[name]})
        with pytest.raises(WebSocketDisconnect) as refused:
            socket.receive_json()
    assert refused.value.code == 4401


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ("ping", 4400),
        ('{"type": "hello"}', 4400),
        ('{"type": "auth", "token": 5}', 4400),
        ('{"type": "auth", "token": "x", "since": -1}', 4400),
        ("[]", 4400),
    ],
)
def test_a_malformed_first_message_closes_the_socket_with_4400(scope_client: TestClient, first: str, code: int) -> None:
    with scope_client.websocket_connect(LIVE) as socket:
        socket.send_text(first)
        with pytest.raises(WebSocketDisconnect) as refused:
            socket.receive_json()
    assert refused.value.code == code


@pytest.mark.timeout(60)
def test_the_socket_closes_when_its_token_expires(scope_client: TestClient, world: World) -> None:
    [(user_id,)] = psql(world.url, "SELECT id FROM app_user WHERE username = 'operator1'")
    short = jwt.encode(
        {"sub": str(user_id), "role": "operator", "exp": TEST_NOW + timedelta(seconds=2)}, DEMO_JWT_SECRET
    )
    with scope_client.websocket_connect(LIVE) as socket:
        socket.send_json({"type": "auth", "token": short})
        assert socket.receive_json()["type"] == "hello"
        socket.send_bytes(b"\x00 not text")  # ignored, not an error
        socket.send_text("ping")
        assert socket.receive_json() == {"type": "pong"}
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                socket.receive_json()
    assert closed.value.code == 4401 and closed.value.reason == "token expired"


def test_a_token_in_the_url_is_refused(scope_client: TestClient) -> None:
    token = _token(scope_client, "operator1")
    with (
        scope_client.websocket_connect(f"{LIVE}?token={token}") as socket,
        pytest.raises(WebSocketDisconnect) as refused,
    ):
        socket.receive_json()
    assert refused.value.code == 4401 and "URL" in (refused.value.reason or "")


# --- the real API process: pushes and logs ---


@dataclass
class LiveApi:
    """`eldercare-api` as deployed (uvicorn, structlog JSON logs to stderr), with its stderr in a file."""

    base: str
    log: Path

    def token(self, username: str) -> str:
        body = f"username={username}&password={DEMO_PASSWORD}".encode()
        with urllib.request.urlopen(f"{self.base}/api/auth/token", data=body, timeout=10) as response:
            return str(json.loads(response.read())["access_token"])

    def socket_url(self, query: str = "") -> str:
        return self.base.replace("http://", "ws://") + LIVE + query


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@pytest.fixture(scope="module")
def live_api(world: World, mosquitto: MosquittoInstance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    port = free_port()
    log = tmp_path_factory.mktemp("api-log") / "stderr.log"
    env = {
        **os.environ,
        "ELDERCARE_ENV": "test",
        "DATABASE_URL": world.url,
        "MQTT_URL": mosquitto.url,
        "MQTT_USERNAME": "platform",
        "MQTT_PASSWORD": DEMO_MQTT_PASSWORD,
        "ELDERCARE_PORT": str(port),
        "ELDERCARE_WORKERS": "1",
        "ELDERCARE_LOG_LEVEL": "INFO",
        "ELDERCARE_LOG_JSON": "true",
    }
    with log.open("wb") as sink:
        api = subprocess.Popen([sys.executable, "-m", "eldercare_platform.cli"], env=env, stderr=sink)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _status(f"{base}/health") == 200, timeout=60, what="the API to become healthy")
            yield LiveApi(base=base, log=log)
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(timeout=30)


class Watcher:
    """A console's socket on the real API, authenticated with its first message."""

    def __init__(self, live: LiveApi, username: str) -> None:
        self.username = username
        self.socket = ws_connect(live.socket_url(), open_timeout=10)
        self.socket.send(json.dumps({"type": "auth", "token": live.token(username)}))
        hello = json.loads(self.socket.recv(timeout=10))
        assert hello["type"] == "hello" and hello["user"] == username, hello
        self.received: list[dict[str, Any]] = []

    def until(self, serial: str, alarm_type: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Every alarm pushed up to and including the first of `alarm_type` from `serial`."""
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while True:
            remaining = (deadline - datetime.now(UTC)).total_seconds()
            assert remaining > 0, f"{self.username} never got the {alarm_type} of {serial}: {self.received}"
            message = json.loads(self.socket.recv(timeout=remaining))
            if message["type"] == "alarm":
                self.received.append(message["alarm"])
                if message["alarm"]["device_serial"] == serial and message["alarm"]["type"] == alarm_type:
                    return self.received


def test_the_socket_pushes_an_alarm_inside_the_scope_and_never_one_outside(
    live_api: LiveApi, world: World, oracle: Oracle
) -> None:
    watchers = {
        name: Watcher(live_api, name)
        for name in ("supervisor_home", "supervisor_street", "supervisor_community", "operator1")
    }
    try:
        engine = unpooled_engine(world.url)
        outside = [world.serials["inst_other"], world.serials["home_other"], world.serials["home_b"]]
        inside = [world.serials["home_a1"], world.serials["inst_home"]]
        with Session(engine) as session:  # first the alarms outside every watcher's scope but the operator's…
            now = session.execute(text("SELECT now()")).scalar_one()
            for serial in outside:
                _event(session, serial, "fall", now)
            session.commit()
        wait_for(
            lambda: (
                len(psql(world.url, "SELECT 1 FROM alarm WHERE type = 'fall' AND device_serial = ANY(%s)", (outside,)))
                == len(outside)
            ),
            timeout=30,
            what="the API's intake to open the outside alarms",
        )
        with Session(engine) as session:  # …then one inside each supervisor's scope
            for serial in inside:
                _event(session, serial, "fall", now)
            session.commit()
        engine.dispose()
        expected = {
            "supervisor_home": world.serials["inst_home"],
            "supervisor_street": world.serials["home_a1"],
            "supervisor_community": world.serials["home_a1"],
        }
        for name, serial in expected.items():
            scope = world.users[name]
            pushed = watchers[name].until(serial, "fall")  # everything pushed to it before, in order
            assert all(oracle.serial_seen(scope, alarm["device_serial"]) for alarm in pushed), (name, pushed)
            assert not {alarm["device_serial"] for alarm in pushed} & set(outside), name
        operator = watchers["operator1"]
        for serial in [*outside, *inside]:
            if not any(a["device_serial"] == serial and a["type"] == "fall" for a in operator.received):
                operator.until(serial, "fall")
    finally:
        for watcher in watchers.values():
            watcher.socket.close()


def _first_close(url: str, first: str | None = None) -> int | None:
    """Open a socket, optionally send a first message, and return the close code it gets.

    None when a message came instead, or when the handshake itself was refused.
    """
    try:
        with ws_connect(url, open_timeout=10) as socket:
            if first is not None:
                socket.send(first)
            socket.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except InvalidStatus:
        return None
    return None


def test_tokens_never_reach_the_log(live_api: LiveApi) -> None:
    token = live_api.token("operator1")
    bad = _forged("not-a-number")
    # A client still putting the token in the URL, a token whose sub is no user id, tokens on HTTP.
    in_url = _first_close(live_api.socket_url(f"?token={token}&since=0"))
    bad_sub = _first_close(live_api.socket_url(), json.dumps({"type": "auth", "token": bad}))
    assert _status(f"{live_api.base}/api/alarms?token={token}", {"Authorization": f"Bearer {token}"}) == 200
    assert _status(f"{live_api.base}/api/alarms", {"Authorization": f"Bearer {bad}"}) == 401
    wait_for(lambda: "token=" in live_api.log.read_text(), timeout=10, what="the socket's request line in the log")
    logged = live_api.log.read_text()
    assert token not in logged and bad not in logged
    for part in (*token.split("."), *bad.split(".")):
        assert len(part) < 20 or part not in logged  # not even a piece of a signature or claims
    assert "token=[REDACTED]" in logged, "the request line is logged, with the token redacted"
    assert "Traceback" not in logged
    for line in logged.splitlines():
        if line.startswith("{"):
            json.loads(line)  # redaction keeps every JSON line valid
    assert in_url == 4401, "a token in the URL is refused"
    assert bad_sub == 4401, "a sub that is no user id is refused cleanly"


# --- issue 11: who may be given a task ---


def test_a_coordinator_gives_tasks_only_to_staff_in_their_scope(
    scope_client: TestClient, world: World, oracle: Oracle
) -> None:
    """Manual assignment, auto-assign and a missed task's reassignment choose only staff in the user's scope; a
    staff member outside it is `unknown_staff`, as one who does not exist."""
    headers = {"Authorization": f"Bearer {_token(scope_client, 'coordinator_community')}"}
    scope = world.users["coordinator_community"]
    outside = sorted(sid for sid in oracle.staff if sid not in oracle.staff_of(scope))
    for staff_id in (oracle.tasks[world.tasks["a1_stranger"]][3], outside[0]):
        assert staff_id not in oracle.staff_of(scope)
        refused = scope_client.post(
            f"/api/tasks/{world.tasks['a1']}/assign", json={"staff_id": staff_id, "reason": "范围"}, headers=headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "staff_not_assignable" and refused.json()["reasons"] == ["unknown_staff"]

    street = world.users["coordinator_street"]
    engine = unpooled_engine(world.url)
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        coordinator = session.exec(select(User).where(User.username == "coordinator_street")).one()
        everyone = {s.id for s in available_staff(session, start=TEST_NOW, end=TEST_NOW + timedelta(minutes=30))}
        assert everyone - oracle.staff_of(street), "staff outside the street are on shift, or this proves nothing"
        result = auto_assign(
            session, user=coordinator, area_id=world.areas["street_a"], day=local_date(TEST_NOW), now=TEST_NOW
        )
        assigned = {a.staff_id for a in result.assigned}
        missed_task = world.tasks["a1"]
        new_id, _ = missed(
            session,
            user=coordinator,
            task_id=missed_task,
            reason="范围",
            action="reassign",
            staff_id=None,
            now=TEST_NOW,
        )
        if new_id is not None:
            assigned |= set(
                session.execute(
                    text("SELECT assignee_staff_id FROM task WHERE id = :id AND assignee_staff_id IS NOT NULL"),
                    {"id": new_id},
                ).scalars()
            )
        outer.rollback()
    engine.dispose()
    assert assigned, "auto-assign placed something, or this proves nothing"
    assert assigned <= oracle.staff_of(street), assigned - oracle.staff_of(street)
