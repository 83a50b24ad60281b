"""Device faults (设备故障): low batteries, mains lost and silent devices, as the gateway raises them and the alarm
center handles them — a maintenance task for each (alarms/intake.py), a substitute cover for a device silent past
two hours (alarms/jobs.py, JGJ/T 484), resolved once the device is fixed. A few are open now, on devices that are
offline (`device_status`): silent for hours, a day and over a week, and two whose battery ran flat, one of them
with its maintenance task missed and nothing else covering it.

Only offline devices get a status row: an online one that no simulator plays would be swept silent by the gateway
minutes after the demo starts (the gateway judges silence by the database's clock), raising a fault for each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eldercare_platform.alarms.models import ReachMethod
from eldercare_platform.seed.history.alarms import FAULT_RATES, AlarmDesk, _times
from eldercare_platform.seed.history.book import Row, minutes, poisson, seconds
from eldercare_platform.seed.history.work import assign, do, end, new_task
from eldercare_platform.seed.history.world import Device, Resident
from eldercare_platform.tasks.models import NORMAL, TaskKind, TaskSource, TaskStatus

SILENT_AFTER = timedelta(minutes=3)
"""The gateway's sweep: three missed heartbeats of a minute."""
COVER_AFTER = timedelta(hours=2)
RESOLVED_WITHIN_HOURS = {"device_silent": (0.5, 20.0), "low_battery": (4.0, 40.0), "mains_lost": (0.5, 6.0)}
OPEN_FAULTS: tuple[tuple[str, float, float | None, int | None], ...] = (
    # device kind, hours silent now, hours since a low battery (None: none), battery %
    ("home_alarm_unit", 3.0, None, None),
    ("home_alarm_unit", 30.0, None, None),
    ("smoke_sensor", 9 * 24.0, None, None),
    ("fall_detector", 0.7, 6.0, 8),
    ("gas_sensor", 20.0, 48.0, 5),
)
MAINTENANCE_NOTES = "设备故障跟进 device fault follow-up: {type}"
COVER_NOTES = "设备失联超过2小时: 安排替代设备或人工照看 substitute device or manual cover"


def _home_of(desk: AlarmDesk, device: Device) -> Resident | None:
    members = desk.world.by_household.get(device.household_id or 0)
    if not members:
        return None
    return desk.world.residents[device.resident_id if device.resident_id in desk.world.residents else members[0]]


def _maintenance(desk: AlarmDesk, row: Row, home: Resident) -> Row:
    at = row["opened_at"]
    return new_task(
        desk.book,
        kind=TaskKind.MAINTENANCE.value,
        source=TaskSource.DEVICE.value,
        home=home,
        window_start=at,
        window_end=at + timedelta(hours=2),
        created_at=at,
        priority=NORMAL,
        alarm_id=row["id"],
        device_serial=row["device_serial"],
        notes=MAINTENANCE_NOTES.format(type=row["type"]),
    )


def _cover(desk: AlarmDesk, row: Row, home: Resident) -> Row:
    """The substitute-cover job's flag and task, two hours after the device went silent."""
    at = row["opened_at"] - SILENT_AFTER + COVER_AFTER + seconds(desk.rng.uniform(5, 60))
    row["substitute_cover_required"] = True
    desk.line(
        row,
        at,
        "substitute_cover",
        row["state"],
        row["state"],
        reason="device_silent_substitute_cover",
        detail={"reason_code": "device_silent_substitute_cover", "silent_for_s": 7200},
    )
    return new_task(
        desk.book,
        kind=TaskKind.SUBSTITUTE_COVER.value,
        source=TaskSource.DEVICE.value,
        home=home,
        window_start=at,
        window_end=at + timedelta(hours=1),
        created_at=at,
        priority=NORMAL,
        alarm_id=row["id"],
        device_serial=row["device_serial"],
        notes=COVER_NOTES,
    )


def resolved_faults(desk: AlarmDesk) -> None:
    """Faults over the history, each handled and resolved before now (a device silent while its resident is away
    is no fault: the system closes it at once)."""
    book, world, rng = desk.book, desk.world, desk.rng
    days = max(0.0, (book.now - book.start).total_seconds() / 86_400)
    events: list[tuple[datetime, int, str, Device]] = []
    for device in world.devices:
        for fault, rate in FAULT_RATES.get(device.kind, ()) if device.household_id is not None else ():
            events.extend((at, device.id, fault, device) for at in _times(rng, book, fault, poisson(rng, rate * days)))
    events.sort(key=lambda e: (e[0], e[1]))
    for at, _, fault, device in events:
        home = _home_of(desk, device)
        if home is None or at <= device.installed_at:
            continue
        low, high = RESOLVED_WITHIN_HOURS[fault]
        resolved = at + timedelta(hours=rng.uniform(low, high))
        if resolved >= book.now - minutes(10):
            continue  # still open: only the faults below are open now
        stay = book.away_at(home.id, at)
        row = desk.open(fault, at, home=home, resident_id=home.id, area_path=home.area_path, device=device)
        if stay is not None and fault == "device_silent":
            desk.resolve_as_away(row, stay.kind)
            continue
        maintenance = _maintenance(desk, row, home)
        operator = rng.choice(world.operators)
        acked = desk.acknowledge(row, rng.lognormvariate(5.5, 0.6), operator)
        desk.act(
            row,
            acked + minutes(rng.uniform(1, 5)),
            "call_back",
            operator,
            detail={"result": "reached", "contact_ids": []},
            reached=True,
        )
        if fault == "device_silent" and resolved - at > COVER_AFTER - SILENT_AFTER:
            cover = _cover(desk, row, home)
            do(
                rng,
                cover,
                desk.crew.pick(home, "visit"),
                home,
                check_in=cover["window_start"] + minutes(rng.uniform(15, 55)),
                minutes_on_site=rng.uniform(10, 25),
                published=cover["window_start"] + minutes(rng.uniform(2, 10)),
            )
        fixer = desk.crew.pick(home, "device_maintenance")
        visit = max(acked + minutes(20), resolved - minutes(rng.uniform(30, 90)))
        do(
            rng,
            maintenance,
            fixer,
            home,
            check_in=visit,
            minutes_on_site=rng.uniform(10, 25),
            published=acked + minutes(rng.uniform(5, 30)),
        )
        desk.resolve(
            row,
            max(resolved, maintenance["completed_at"] + minutes(2)),
            "device_fixed",
            ReachMethod.PHONE.value,
            operator,
        )


def _settle(desk: AlarmDesk, task: Row, home: Resident, *, skill: str, missed: bool = False) -> None:
    """An open fault's task as the task engine has it now: still in its window (planned), or — its window over
    for more than the missed grace — done (the device still waits for a part) or missed."""
    book, rng = desk.book, desk.rng
    if task["window_end"] + minutes(30) >= book.now:
        return
    staff = desk.crew.pick(home, skill)
    if missed:
        assign(task, staff, at=task["window_start"] + minutes(rng.uniform(5, 20)))
        end(task, TaskStatus.MISSED, at=task["window_end"] + minutes(30), reason="not_done_in_time")
        return
    do(
        rng,
        task,
        staff,
        home,
        check_in=task["window_start"] + minutes(rng.uniform(25, 80)),
        minutes_on_site=rng.uniform(10, 25),
        published=task["window_start"] + minutes(rng.uniform(3, 15)),
    )


def open_faults(desk: AlarmDesk) -> None:
    """The faults open now, on devices near the end of the registry (the demo's simulator plays the first ones)."""
    book, world, rng = desk.book, desk.world, desk.rng
    used: set[int] = set()
    tail = world.devices[int(len(world.devices) * 0.9) :]
    for kind, silent_hours, battery_hours, battery in OPEN_FAULTS:
        candidates = [d for d in tail if d.kind == kind and d.household_id is not None and d.household_id not in used]
        rng.shuffle(candidates)
        device = home = None
        for candidate in candidates:
            home = _home_of(desk, candidate)
            if home is not None and not book.away.get(home.id):
                device = candidate
                break
        if device is None or home is None:
            continue
        used.add(device.household_id or 0)
        operator = rng.choice(world.operators)
        if battery_hours is not None:
            row = desk.open(
                "low_battery",
                book.now - timedelta(hours=battery_hours),
                home=home,
                resident_id=home.id,
                area_path=home.area_path,
                device=device,
            )
            desk.acknowledge(row, rng.uniform(200, 600), operator)
            # The first one's maintenance visit was missed and nothing else covers it (a device_fault_uncovered).
            _settle(desk, _maintenance(desk, row, home), home, skill="device_maintenance", missed=battery_hours < 24)
        silent_at = book.now - timedelta(hours=silent_hours)
        row = desk.open(
            "device_silent", silent_at, home=home, resident_id=home.id, area_path=home.area_path, device=device
        )
        acked = desk.acknowledge(row, rng.uniform(180, 700), operator)
        desk.act(
            row,
            acked + minutes(rng.uniform(1, 4)),
            "call_back",
            operator,
            detail={"result": "no_answer", "contact_ids": []},
        )
        _settle(desk, _maintenance(desk, row, home), home, skill="device_maintenance")
        if silent_at - SILENT_AFTER + COVER_AFTER + minutes(1) < book.now:
            _settle(desk, _cover(desk, row, home), home, skill="visit")
        book.statuses.append(
            {
                "device_serial": device.serial,
                "online": False,
                "last_seen_at": silent_at - SILENT_AFTER,
                "last_heartbeat_at": silent_at - SILENT_AFTER,
                "battery_pct": battery if battery is not None else rng.randint(55, 95),
                "signal_dbm": rng.randint(-101, -82),
                "mains_power": None,
                "firmware": None,
                "changed_at": silent_at,
            }
        )
