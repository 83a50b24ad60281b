"""A small fixed world for the supervision figures, written with plain SQL so every number is countable by hand.

Areas: city 1 → district 2 → street 3 (communities 4, 5) and street 6 (community 7); district 8 → street 9 →
community 10. Institution 1 is in community 4, care center 1 in community 5. Residents: r1, r2 (and r6,
deceased) in community 4, r3 in 5, r4 in 7, r5 in 10. "Now" is TEST_NOW (2026-11-22 14:00 in Shanghai); the
period is 1–22 November (local days). The expected figures are worked out in tests/integration/
test_supervision_figures.py beside each assertion.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from eldercare_platform.core.security import hash_password
from tests.conftest import TEST_NOW
from tests.factories import PASSWORD

NOW = TEST_NOW


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant in 2026 (UTC)."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time in 2026 as an instant (UTC+8, no daylight saving)."""
    return utc(month, day, hour, minute) - timedelta(hours=8)


AREAS = [  # id, parent, level, name
    (1, None, "city", "常州市"),
    (2, 1, "district", "天宁区"),
    (3, 2, "street", "红梅街道"),
    (4, 3, "community", "红梅社区"),
    (5, 3, "community", "东青社区"),
    (6, 2, "street", "茶山街道"),
    (7, 6, "community", "丽华社区"),
    (8, 1, "district", "钟楼区"),
    (9, 8, "street", "南大街街道"),
    (10, 9, "community", "西横街社区"),
]
PATHS: dict[int, str] = {}
for _id, _parent, _level, _name in AREAS:
    PATHS[_id] = (PATHS[_parent] if _parent else "/") + f"{_id}/"

HOUSEHOLDS = {1: 4, 2: 4, 3: 5, 4: 7, 5: 10}  # household → community
RESIDENTS = {  # resident → (household, status)
    1: (1, "active"),
    2: (2, "active"),
    3: (3, "active"),
    4: (4, "active"),
    5: (5, "active"),
    6: (2, "deceased"),
}
HOME = {r: HOUSEHOLDS[h] for r, (h, _) in RESIDENTS.items()}  # resident → community

USERS = {  # username → (role, scope area, scope institution)
    "sv_admin": ("admin", None, None),
    "sv_city": ("supervisor", 1, None),
    "sv_district": ("supervisor", 2, None),
    "sv_street": ("supervisor", 3, None),
    "sv_community": ("supervisor", 4, None),
    "sv_institution": ("supervisor", None, 1),
    "sv_coordinator": ("coordinator", 4, None),
    "sv_operator": ("operator", None, None),
}


class Writer:
    """Inserts rows with explicit ids."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def row(self, table: str, **values: Any) -> None:
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        sql = f"INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE VALUES ({marks})"
        self.conn.execute(sql, list(values.values()))


def _alarm(
    w: Writer,
    id: int,
    type: str,
    *,
    opened: datetime,
    area: int,
    resident: int | None,
    serial: str | None,
    ack_s: int | None = None,
    resolve_s: int | None = None,
    outcome: str | None = None,
    ack_within: int = 60,
    resolve_within: int = 3600,
) -> None:
    acknowledged = opened + timedelta(seconds=ack_s) if ack_s is not None else None
    resolved = opened + timedelta(seconds=resolve_s) if resolve_s is not None else None
    state = "resolved" if resolved else "acknowledged" if acknowledged else "new"
    w.row(
        "alarm",
        id=id,
        source_key=f"k{id}",
        type=type,
        priority=2,
        state=state,
        resident_id=resident,
        area_path=PATHS[area],
        device_serial=serial,
        source="device" if serial else "welfare",
        opened_at=opened,
        last_event_at=opened,
        ack_due_at=opened + timedelta(seconds=ack_within),
        reach_due_at=opened + timedelta(seconds=600),
        resolve_due_at=opened + timedelta(seconds=resolve_within),
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        outcome=outcome,
    )


def _task(
    w: Writer,
    id: int,
    *,
    resident: int | None,
    window: tuple[datetime, datetime] | None,
    status: str,
    kind: str = "visit",
    staff: int | None = None,
    checked_in: datetime | None = None,
    completed: datetime | None = None,
    problem: bool = False,
    reason: str | None = None,
    follow_up_of: int | None = None,
    alarm: int | None = None,
) -> None:
    area = HOME[resident] if resident else None
    w.row(
        "task",
        id=id,
        kind=kind,
        status=status,
        resident_id=resident,
        area_id=area,
        area_path=PATHS[area] if area else None,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        assignee_staff_id=staff,
        checked_in_at=checked_in,
        completed_at=completed,
        problem_found=problem,
        status_reason=reason,
        follow_up_of=follow_up_of,
        alarm_id=alarm,
        source="manual",
    )


def build(url: str) -> None:
    """Write the world (the database is migrated and empty)."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        write_world(conn)


def write_world(connection: psycopg.Connection[Any]) -> None:
    """Write the world on a connection (in its transaction, if it has one): on PostgreSQL and on the TimescaleDB
    lane's server alike (statements are never prepared: PGlite cannot keep them)."""
    with nullcontext(connection) as conn:
        w = Writer(conn)
        for id, parent, level, name in AREAS:
            w.row("area", id=id, parent_id=parent, level=level, name=name, code=f"SV{id:04d}", path=PATHS[id])
        w.row("institution", id=1, name="红梅养老院", area_id=4, address="红梅路1号", beds=100, nursing_beds=40)
        w.row(
            "care_center",
            id=1,
            name="东青照料中心",
            area_id=5,
            address="东青路2号",
            kind="day_care_center",
            capacity=30,
        )
        for h, area in HOUSEHOLDS.items():
            w.row("household", id=h, area_id=area, address=f"幸福路{h}号")
        for r, (h, status) in RESIDENTS.items():
            w.row(
                "resident",
                id=r,
                household_id=h,
                name=f"老人{r}",
                gender="female",
                birth_date=datetime(1940, 1, r).date(),
                capability_level="mild",
                care_tier="key",
                consent_data_processing=True,
                consent_share_with_family=True,
                consent_camera=False,
                status=status,
            )
        password = hash_password(PASSWORD)
        for n, (username, (role, scope_area, institution)) in enumerate(USERS.items(), start=901):
            w.row(
                "app_user",
                id=n,
                username=username,
                full_name=username,
                role=role,
                scope_area_id=scope_area,
                scope_institution_id=institution,
                locale="zh-CN",
                active=True,
                password_hash=password,
            )
        w.row("staff", id=1, name="张护理", phone="13900000001", role="caregiver", home_area_id=4, active=True)
        w.row(
            "staff",
            id=2,
            name="李护理",
            phone="13900000002",
            role="caregiver",
            home_area_id=5,
            institution_id=1,
            active=True,
        )

        # Devices (owner → location) and their status at NOW.
        devices = [  # serial, kind, owner column, owner id, state, online, last seen, battery
            ("HOME-1", "home_alarm_unit", "household_id", 1, "active", True, NOW - timedelta(minutes=1), 80),
            ("HOME-2", "home_alarm_unit", "household_id", 2, "active", False, NOW - timedelta(hours=3), 15),
            ("HOME-3", "home_alarm_unit", "household_id", 3, "active", False, NOW - timedelta(days=2), 60),
            ("HOME-4", "home_alarm_unit", "household_id", 4, "active", False, NOW - timedelta(days=10), 60),
            ("HOME-5", "home_alarm_unit", "household_id", 5, "active", True, NOW - timedelta(minutes=2), 90),
            ("CC-1", "camera", "care_center_id", 1, "active", None, None, None),
            ("INS-1", "smart_mattress", "institution_id", 1, "active", True, NOW - timedelta(minutes=1), 10),
            ("RET-1", "home_alarm_unit", "household_id", 1, "retired", False, NOW - timedelta(days=30), 5),
        ]
        for n, (serial, kind, owner, owner_id, state, online, seen, battery) in enumerate(devices, start=1):
            w.row(
                "device",
                id=n,
                serial=serial,
                kind=kind,
                model="T-1",
                heartbeat_interval_s=60,
                state=state,
                **{owner: owner_id},
            )
            if online is not None:
                w.row("device_status", device_serial=serial, online=online, last_seen_at=seen, battery_pct=battery)

        # Alarms (not device faults). Seconds to acknowledge / resolve are the figures' raw material.
        _alarm(w, 1, "sos", opened=utc(11, 3, 2), area=4, resident=1, serial="HOME-1", ack_s=60, resolve_s=600,
               outcome="assisted_by_phone")  # fmt: skip
        _alarm(w, 2, "fall", opened=utc(11, 5, 12), area=4, resident=1, serial="HOME-1", ack_s=30, resolve_s=1200,
               outcome="taken_to_hospital")  # fmt: skip
        _alarm(w, 3, "sos", opened=utc(11, 10, 23, 30), area=4, resident=1, serial="HOME-1", ack_s=61, resolve_s=300,
               outcome="false_alarm")  # fmt: skip
        _alarm(w, 4, "inactivity", opened=utc(11, 12, 4), area=5, resident=3, serial="HOME-3", ack_s=200,
               resolve_within=7200)  # fmt: skip
        _alarm(w, 5, "sos", opened=utc(11, 20, 6), area=7, resident=4, serial="HOME-4")
        _alarm(w, 6, "sos", opened=utc(11, 15, 2), area=10, resident=5, serial="HOME-5", ack_s=10, resolve_s=100,
               outcome="assisted_by_phone")  # fmt: skip
        _alarm(w, 7, "bed_exit", opened=utc(11, 16, 16), area=4, resident=None, serial="INS-1", ack_s=90, resolve_s=400,
               outcome="assisted_at_home")  # fmt: skip
        _alarm(
            w,
            8,
            "sos",
            opened=utc(10, 31, 15),
            area=4,
            resident=2,
            serial="HOME-2",
            ack_s=5,
            resolve_s=50,
            outcome="assisted_by_phone",
        )  # fmt: skip  (23:00 on 31 October, local: before the period)
        _alarm(
            w,
            9,
            "sos",
            opened=utc(10, 31, 16, 30),
            area=4,
            resident=2,
            serial="HOME-2",
            ack_s=120,
            resolve_s=900,
            outcome="assisted_by_phone",
        )  # fmt: skip  (00:30 on 1 November, local: in the period)
        _alarm(w, 10, "meal_not_collected", opened=utc(11, 5, 5), area=4, resident=2, serial=None, ack_s=100,
               resolve_s=1000, outcome="assisted_at_home", ack_within=600)  # fmt: skip
        _alarm(w, 11, "meal_not_collected", opened=utc(11, 7, 5), area=7, resident=4, serial=None, ack_s=300,
               ack_within=600, resolve_within=14400)  # fmt: skip
        # Device faults: the devices section's.
        _alarm(w, 21, "device_silent", opened=NOW - timedelta(hours=30), area=5, resident=3, serial="HOME-3")
        _alarm(w, 22, "device_silent", opened=NOW - timedelta(days=5), area=7, resident=4, serial="HOME-4")
        _alarm(w, 23, "low_battery", opened=NOW - timedelta(hours=3), area=4, resident=2, serial="HOME-2")
        _alarm(w, 24, "low_battery", opened=NOW - timedelta(hours=1), area=4, resident=None, serial="INS-1")
        _alarm(w, 25, "mains_lost", opened=utc(11, 2), area=10, resident=5, serial="HOME-5", ack_s=60,
               resolve_s=3600, outcome="device_fixed")  # fmt: skip
        _task(w, 121, resident=3, window=None, status="planned", kind="substitute_cover", alarm=21)
        _task(w, 122, resident=4, window=None, status="planned", kind="maintenance", alarm=22)
        _task(w, 123, resident=2, window=None, status="cancelled", kind="maintenance", alarm=23)

        # Visits (window in local time) and their follow-ups.
        def hour(month: int, day: int, at: int) -> tuple[datetime, datetime]:
            return local(month, day, at), local(month, day, at + 1)

        _task(w, 1, resident=1, window=hour(11, 3, 9), status="completed", staff=1,
              checked_in=local(11, 3, 9, 5), completed=local(11, 3, 9, 40))  # fmt: skip
        _task(
            w,
            2,
            resident=1,
            window=hour(11, 4, 9),
            status="completed",
            staff=1,
            checked_in=local(11, 4, 9, 15),
            completed=local(11, 4, 9, 45),
            problem=True,
        )  # fmt: skip  (checked in at exactly +15 min: late)
        _task(w, 31, kind="follow_up", resident=1, window=hour(11, 5, 9), status="completed", staff=1,
              checked_in=local(11, 5, 9, 10), completed=local(11, 5, 9, 45), follow_up_of=2)  # fmt: skip
        _task(w, 3, resident=2, window=hour(11, 6, 9), status="missed", staff=1, reason="not_done_in_time")
        _task(w, 4, resident=2, window=hour(11, 8, 9), status="missed", staff=1, reason="no_answer")  # in hospital
        _task(w, 5, resident=2, window=hour(11, 9, 9), status="cancelled", reason="resident_in_hospital")
        _task(
            w,
            6,
            resident=3,
            window=hour(11, 21, 10),
            status="completed",
            staff=2,
            checked_in=local(11, 21, 10),
            completed=local(11, 21, 10, 40),
            problem=True,
        )  # fmt: skip  (moved here from the 20th)
        _task(w, 32, kind="follow_up", resident=3, window=hour(11, 23, 9), status="planned", follow_up_of=6)
        _task(w, 7, resident=3, window=hour(11, 22, 15), status="published", staff=2)  # later today: pending
        _task(w, 8, resident=4, window=hour(11, 10, 10), status="completed", staff=2, checked_in=local(11, 10, 10, 20),
              completed=local(11, 10, 10, 30), problem=True)  # fmt: skip
        _task(w, 33, kind="follow_up", resident=4, window=hour(11, 11, 10), status="completed", staff=2,
              checked_in=local(11, 11, 9, 30), completed=local(11, 11, 10), problem=True, follow_up_of=8)  # fmt: skip
        _task(w, 34, kind="follow_up", resident=4, window=hour(11, 12, 10), status="completed", staff=2,
              checked_in=local(11, 12, 9, 30), completed=local(11, 12, 10), follow_up_of=33)  # fmt: skip
        _task(w, 9, resident=4, window=hour(11, 12, 14), status="suspended", staff=2, reason="resident_away")
        _task(w, 12, resident=4, window=hour(11, 21, 9), status="published")  # window over, nobody came
        _task(w, 10, resident=5, window=hour(11, 5, 9), status="completed", staff=1, checked_in=local(11, 5, 9),
              completed=local(11, 5, 9, 30))  # fmt: skip
        _task(w, 11, resident=1, window=hour(10, 31, 9), status="completed", staff=1, checked_in=local(10, 31, 9),
              completed=local(10, 31, 9, 30))  # fmt: skip
        w.row("resident_state", id=1, resident_id=2, kind="hospital", starts_at=local(11, 7, 12),
              ends_at=local(11, 10, 12), reason="肺炎住院", recorded_at=local(11, 7, 12))  # fmt: skip

        # Meals: point 1 in community 4 (2 seats a meal), point 2 in community 7 (10 seats).
        for point, area, seats in ((1, 4, 2), (2, 7, 10)):
            w.row("meal_point", id=point, name=f"助餐点{point}", area_id=area, address="x", kind="meal_point",
                  daily_capacity=100, delivers=True, capacity_per_meal=seats)  # fmt: skip
        orders = [  # id, resident, point, local day, meal, mode, status, welfare alarm
            (1, 1, 1, 3, "lunch", "dine_in", "collected", None),
            (2, 2, 1, 3, "lunch", "dine_in", "collected", None),
            (3, 3, 1, 3, "lunch", "pick_up", "collected", None),
            (4, 1, 1, 4, "lunch", "delivery", "delivered", None),
            (5, 2, 1, 5, "lunch", "dine_in", "not_collected", 10),
            (6, 3, 1, 6, "lunch", "dine_in", "not_collected", None),
            (7, 4, 2, 7, "lunch", "dine_in", "not_collected", 11),
            (8, 4, 2, 8, "lunch", "dine_in", "cancelled", None),
            (9, 4, 2, 22, "dinner", "dine_in", "ordered", None),
            (10, 1, 1, 22, "breakfast", "dine_in", "ordered", None),
            (11, 5, 2, 5, "lunch", "delivery", "delivered", None),
        ]
        deadline_hour = {"breakfast": 9, "lunch": 13, "dinner": 19}
        for id, resident, point, day, meal, mode, status, welfare in orders:
            w.row(
                "meal_order",
                id=id,
                resident_id=resident,
                meal_point_id=point,
                service_date=datetime(2026, 11, day).date(),
                meal=meal,
                mode=mode,
                source="plan",
                status=status,
                deadline=local(11, day, deadline_hour[meal]),
                ordered_at=local(11, 1),
                welfare_alarm_id=welfare,
            )
