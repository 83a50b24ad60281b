"""Alarms as the alarm center leaves them: opened by a device event (or a welfare call), acknowledged by an operator
(most within a minute, escalated when not within 30 and 90 seconds), handled (call back, dispatch, 120), resolved
with an outcome — and the tasks and stays that follow (a dispatch's response task, a follow-up visit, a hospital
stay). Device faults open maintenance tasks and, silent for two hours, a substitute cover (JGJ/T 484); a few are
still open now on devices that are offline.

Rates: the demo fleet's (simulators/scenarios/demo.yaml: 0.0147 presses a home unit a day, Lanzhou's 472,100
calls a year from 88,000 members), a few frequent callers (常打电话的独居老人), falls, smoke, gas, water, doors
left open and inactivity at their own rates; every alarm of a resident away from home is left out.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

from eldercare_platform.alarms.models import Outcome, ReachMethod
from eldercare_platform.care_plans.models import StateKind
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.seed.history.book import Book, Row, Weighted, minutes, poisson, seconds
from eldercare_platform.seed.history.care import add_stay
from eldercare_platform.seed.history.work import Crew, do, end, new_task
from eldercare_platform.seed.history.world import Device, Resident, World
from eldercare_platform.tasks.models import HIGH, URGENT, TaskKind, TaskSource, TaskStatus

SOS_PER_DAY = 0.0147
"""Presses of a home alarm unit a day (the demo scenario's real-world rate)."""
FREQUENT_CALLER_SHARE = 0.004
FREQUENT_CALLER_SOS_PER_DAY = 0.25
RATES: dict[str, tuple[tuple[str, float], ...]] = {
    # device kind → (alarm type, events a device a day)
    "home_alarm_unit": (("sos", SOS_PER_DAY), ("inactivity", 0.0008)),
    "fall_detector": (("fall", 0.004),),
    "smoke_sensor": (("smoke", 0.0006),),
    "gas_sensor": (("gas", 0.0003),),
    "water_sensor": (("water", 0.0008),),
    "door_contact": (("door_open", 0.008),),
}
FAULT_RATES: dict[str, tuple[tuple[str, float], ...]] = {
    "home_alarm_unit": (("mains_lost", 0.0004), ("device_silent", 0.0006)),
    "fall_detector": (("low_battery", 0.0015), ("device_silent", 0.001)),
    "smoke_sensor": (("low_battery", 0.0012), ("device_silent", 0.0006)),
    "gas_sensor": (("low_battery", 0.0012), ("device_silent", 0.0006)),
    "water_sensor": (("low_battery", 0.0012), ("device_silent", 0.0006)),
    "door_contact": (("low_battery", 0.0012), ("device_silent", 0.0006)),
}
HOURS: dict[str, Weighted] = {
    # when in the day (local hour) each type happens
    "sos": Weighted.of([(h, 0.4 if h < 6 else 1.6 if 7 <= h <= 11 else 1.2 if h <= 21 else 0.7) for h in range(24)]),
    "fall": Weighted.of([(h, 1.5 if h < 7 else 1.0) for h in range(24)]),
    "smoke": Weighted.of([(h, 3.0 if h in (6, 7, 11, 12, 17, 18) else 0.5) for h in range(24)]),
    "door_open": Weighted.of([(h, 0.3 if h < 6 else 1.5 if h >= 18 else 1.0) for h in range(24)]),
    "inactivity": Weighted.of([(h, 0.2 if h < 8 else 1.0) for h in range(24)]),
}
FLAT_HOURS = Weighted.of([(h, 1.0) for h in range(24)])
OUTCOMES: dict[str, Weighted] = {
    "sos": Weighted.of(
        [
            ("assisted_by_phone", 0.45),
            ("false_alarm", 0.24),
            ("resident_cancelled", 0.05),
            ("device_test", 0.03),
            ("assisted_at_home", 0.15),
            ("taken_to_hospital", 0.05),
            ("referred", 0.03),
        ]
    ),
    "fall": Weighted.of(
        [("assisted_at_home", 0.4), ("taken_to_hospital", 0.2), ("false_alarm", 0.3), ("assisted_by_phone", 0.1)]
    ),
    "smoke": Weighted.of([("false_alarm", 0.7), ("assisted_at_home", 0.25), ("referred", 0.05)]),
    "gas": Weighted.of([("assisted_at_home", 0.6), ("false_alarm", 0.4)]),
    "water": Weighted.of([("assisted_at_home", 0.7), ("referred", 0.3)]),
    "door_open": Weighted.of([("assisted_by_phone", 0.8), ("false_alarm", 0.2)]),
    "inactivity": Weighted.of([("assisted_by_phone", 0.7), ("assisted_at_home", 0.25), ("taken_to_hospital", 0.05)]),
    "abnormal_vitals": Weighted.of([("assisted_at_home", 0.7), ("false_alarm", 0.2), ("taken_to_hospital", 0.1)]),
    "bed_exit": Weighted.of([("assisted_at_home", 0.85), ("false_alarm", 0.15)]),
    "meal_not_collected": Weighted.of(
        [("assisted_by_phone", 0.62), ("assisted_at_home", 0.25), ("resident_away", 0.13)]
    ),
    "visit_no_answer": Weighted.of([("assisted_by_phone", 0.6), ("assisted_at_home", 0.3), ("resident_away", 0.1)]),
}
NOTES: dict[str, str] = {
    "assisted_by_phone": "电话联系,老人无碍",
    "false_alarm": "老人误按/误报,已确认安全",
    "resident_cancelled": "老人自行取消,回拨确认无事",
    "device_test": "设备测试",
    "assisted_at_home": "已派人上门协助处理",
    "taken_to_hospital": "已呼叫120送医",
    "referred": "已转介社区医生跟进",
    "resident_away": "老人外出(家属告知),无需上门",
    "device_fixed": "设备已恢复/更换",
}
FOLLOW_UP_OUTCOMES = {"taken_to_hospital", "referred"}
PHONE_NOT_VOICE = 0.6


def ack_seconds(rng: random.Random, priority: int) -> float:
    """How long until an operator takes it: most within a minute (TSA/TEC 97.5 %), a few slower."""
    u = rng.random()
    if priority <= 2:
        if u < 0.02:
            return rng.uniform(61, 175)
        if u < 0.025:
            return rng.uniform(181, 420)
        return min(60.0, max(3.0, rng.lognormvariate(math.log(16), 0.5)))
    if priority == 3:
        if u < 0.12:
            return rng.uniform(61, 280)
        return min(60.0, max(5.0, rng.lognormvariate(math.log(28), 0.5)))
    return max(30.0, rng.lognormvariate(math.log(240), 0.6))


class AlarmDesk:
    """Opens and handles alarms, keeping the rules of the alarm center (`alarms/intake.py`, `alarms/service.py`)."""

    def __init__(self, book: Book, world: World, crew: Crew, rng: random.Random) -> None:
        self.book, self.world, self.crew, self.rng = book, world, crew, rng

    # --- opening ---------------------------------------------------------------------------------------------

    def open(
        self,
        alarm_type: str,
        at: datetime,
        *,
        home: Resident | None,
        resident_id: int | None,
        area_path: str,
        device: Device | None = None,
        source: str = "device",
        links: dict[str, int] | None = None,
    ) -> Row:
        """The alarm row and its first trace line (and, from a device, the stored event it came from)."""
        t = self.world.alarm_types[alarm_type]
        alarm_id = self.book.new_id("alarm")
        row: Row = {
            "id": alarm_id,
            "source_key": f"resident:{resident_id}" if resident_id else f"device:{device.serial if device else ''}",
            "type": alarm_type,
            "priority": t.priority,
            "state": "new",
            "incident_id": alarm_id if source == "device" else None,
            "resident_id": resident_id,
            "household_id": home.household_id if home else None,
            "care_center_id": device.care_center_id if device else None,
            "area_path": area_path,
            "device_serial": device.serial if device else None,
            "opened_at": at,
            "last_event_at": at,
            "ack_due_at": at + seconds(t.ack_within_s),
            "reach_due_at": at + seconds(t.reach_within_s),
            "resolve_due_at": at + seconds(t.resolve_within_s),
            "acknowledged_at": None,
            "acknowledged_by": None,
            "reached_at": None,
            "reach_method": None,
            "dispatched": False,
            "resolved_at": None,
            "resolved_by": None,
            "outcome": None,
            "resolution_notes": None,
            "escalation_level": 0,
            "escalated_at": None,
            "substitute_cover_required": False,
            "source": source,
            "task_id": (links or {}).get("task_id"),
            "meal_order_id": (links or {}).get("meal_order_id"),
        }
        self.book.alarms.append(row)
        if device is not None:
            event_id = self.book.new_id("device_event")
            self.book.device_events.append(
                {
                    "id": event_id,
                    "device_serial": device.serial,
                    "event_id": f"h{alarm_id}",
                    "event_type": alarm_type,
                    "device_time": at - seconds(self.rng.uniform(0.3, 2.5)),
                    "received_at": at,
                    "payload": {"data": {}},
                    "alarm_id": alarm_id,
                }
            )
            self.line(
                row, at, "opened", None, "new", detail={"device_event_id": event_id, "device_serial": device.serial}
            )
        else:
            self.line(
                row,
                at,
                "opened",
                None,
                "new",
                reason=alarm_type,
                detail={
                    "source": "welfare",
                    "task_id": row["task_id"],
                    "meal_order_id": row["meal_order_id"],
                    "reason_code": alarm_type,
                },
            )
        return row

    def line(
        self,
        row: Row,
        at: datetime,
        action: str,
        from_state: str | None,
        to_state: str,
        *,
        user: int | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A line of the alarm's trace (`alarm_transition`)."""
        self.book.transitions.append((row["id"], at, user, action, from_state, to_state, reason, detail or {}))

    # --- handling --------------------------------------------------------------------------------------------

    def acknowledge(self, row: Row, after_s: float, operator: int) -> datetime:
        """Taken by an operator `after_s` seconds after opening; escalated first when that is past 30 / 90 s."""
        opened: datetime = row["opened_at"]
        for level, threshold, code in ((1, 30, "escalation_realert"), (2, 90, "escalation_supervisor")):
            if after_s > threshold:
                at = opened + seconds(threshold + self.rng.uniform(0.2, 4))
                row["escalation_level"], row["escalated_at"] = level, at
                detail: dict[str, Any] = {"level": level, "reason_code": code, "after_s": threshold}
                if level == 2:
                    detail["notified_users"] = []
                self.line(row, at, "escalate", "new", "new", reason=code, detail=detail)
        at = opened + seconds(after_s)
        row["state"], row["acknowledged_at"], row["acknowledged_by"] = "acknowledged", at, operator
        self.line(row, at, "acknowledge", "new", "acknowledged", user=operator)
        return at

    def act(
        self,
        row: Row,
        at: datetime,
        action: str,
        operator: int,
        *,
        detail: dict[str, Any] | None = None,
        reached: bool = False,
        note: str | None = None,
    ) -> None:
        """An operator's action (→ in_progress)."""
        previous = row["state"]
        row["state"] = "in_progress"
        if reached and row["reached_at"] is None:
            row["reached_at"], row["reach_method"] = at, ReachMethod.PHONE.value
        if action in ("dispatch", "call_emergency"):
            row["dispatched"] = True
        self.line(row, at, action, previous, "in_progress", user=operator, reason=note, detail=detail)

    def resolve(self, row: Row, at: datetime, outcome: str, method: str, operator: int | None) -> None:
        """Closed with an outcome and how the resident was reached."""
        previous = row["state"]
        notes = NOTES.get(outcome)
        row.update(
            state="resolved",
            resolved_at=at,
            resolved_by=operator,
            outcome=outcome,
            reach_method=method,
            resolution_notes=notes,
        )
        if method != ReachMethod.NOT_REACHED and row["reached_at"] is None:
            row["reached_at"] = at
        self.line(
            row,
            at,
            "resolve",
            previous,
            "resolved",
            user=operator,
            reason=notes,
            detail={"outcome": outcome, "reach_method": method},
        )

    def resolve_as_away(self, row: Row, reason: str) -> None:
        """The system closes an inactivity or silent-device alarm of a resident away (alarms/intake.py)."""
        at = row["opened_at"]
        row.update(
            state="resolved",
            acknowledged_at=at,
            resolved_at=at,
            outcome=Outcome.RESIDENT_AWAY.value,
            resolution_notes=f"resident {reason}",
        )
        self.line(
            row,
            at,
            "resolve",
            "new",
            "resolved",
            reason="resident_away",
            detail={"reason_code": "resident_away", "state_kind": reason},
        )

    def handle(self, row: Row, home: Resident | None, outcome: str) -> None:
        """Acknowledge, act and resolve as the outcome needs (all before now)."""
        rng = self.rng
        operator = rng.choice(self.world.operators) if self.world.operators else None
        assert operator is not None, "the district has no operator account"
        if outcome == "resident_cancelled":
            self.line(
                row,
                row["opened_at"] + seconds(rng.uniform(4, 25)),
                "resident_cancelled",
                "new",
                "new",
                reason="resident_pressed_cancel",
                detail={"reason_code": "resident_pressed_cancel"},
            )
        at = self.acknowledge(row, ack_seconds(rng, row["priority"]), operator)
        on_site = row["care_center_id"] is not None
        call = at + seconds(rng.uniform(15, 70))
        if outcome in ("assisted_at_home", "taken_to_hospital") and not on_site:
            reached = rng.random() < 0.6
            self.act(
                row,
                call,
                "call_back",
                operator,
                detail={"result": "reached" if reached else "no_answer", "contact_ids": []},
                reached=reached,
            )
            step = call + seconds(rng.uniform(40, 150))
            if outcome == "taken_to_hospital":
                self.act(row, step, "call_emergency", operator, detail={"service": "120", "contact_ids": []})
                step += seconds(rng.uniform(30, 90))
            task = self.dispatch(row, home, step, operator) if home is not None else None
            done = task["completed_at"] if task is not None and task["completed_at"] else step + minutes(40)
            if outcome == "taken_to_hospital":
                done = max(done, step + minutes(rng.uniform(45, 120)))
            method = ReachMethod.EMERGENCY_SERVICES if outcome == "taken_to_hospital" else ReachMethod.STAFF_AT_HOME
            if task is not None and task["checked_in_at"] is not None:
                row["reached_at"] = row["reached_at"] or task["checked_in_at"]
            self.resolve(row, done + minutes(rng.uniform(2, 8)), outcome, method.value, operator)
        else:
            voice = outcome in ("false_alarm", "device_test") and rng.random() > PHONE_NOT_VOICE and not on_site
            self.act(row, call, "call_back", operator, detail={"result": "reached", "contact_ids": []}, reached=True)
            if voice:
                row["reach_method"] = ReachMethod.DEVICE_VOICE.value
            length = {
                "false_alarm": (1, 4),
                "device_test": (1, 3),
                "resident_cancelled": (1, 3),
                "assisted_at_home": (8, 25),
                "taken_to_hospital": (30, 90),
            }.get(outcome, (3, 12))
            method = ReachMethod.DEVICE_VOICE if voice else ReachMethod.STAFF_AT_HOME if on_site else ReachMethod.PHONE
            self.resolve(row, call + minutes(rng.uniform(*length)), outcome, method.value, operator)
        if outcome in FOLLOW_UP_OUTCOMES and home is not None:
            self.follow_up(row, home)
        if outcome == "taken_to_hospital" and row["resident_id"] is not None:
            add_stay(
                self.book,
                rng,
                resident_id=row["resident_id"],
                kind=StateKind.HOSPITAL,
                starts_at=row["resolved_at"] - minutes(rng.uniform(5, 30)),
                days=rng.uniform(3, 12),
            )

    def dispatch(self, row: Row, home: Resident, at: datetime, operator: int) -> Row:
        """Someone sent (an urgent alarm-response task, published at once) who comes, checks in and reports."""
        rng = self.rng
        task = new_task(
            self.book,
            kind=TaskKind.ALARM_RESPONSE.value,
            source=TaskSource.ALARM.value,
            home=home,
            window_start=at,
            window_end=at + minutes(30),
            created_at=at,
            priority=URGENT,
            alarm_id=row["id"],
            device_serial=row["device_serial"],
            created_by=operator,
        )
        staff = self.crew.pick(home, "visit")
        self.act(row, at, "dispatch", operator, detail={"task_id": task["id"], "contact_ids": []})
        do(
            rng,
            task,
            staff,
            home,
            check_in=at + minutes(rng.uniform(8, 25)),
            minutes_on_site=rng.uniform(10, 35),
            published=at,
        )
        return task

    def follow_up(self, row: Row, home: Resident) -> None:
        """A follow-up visit within a day of the alarm (`alarm:<id>:follow_up`), done — or suspended while the
        resident is in hospital."""
        rng = self.rng
        start = row["resolved_at"]
        task = new_task(
            self.book,
            kind=TaskKind.FOLLOW_UP.value,
            source=TaskSource.ALARM.value,
            home=home,
            window_start=start,
            window_end=start + timedelta(hours=24),
            created_at=start,
            priority=HIGH,
            service=TaskKind.FOLLOW_UP.value,
            slot=f"alarm:{row['id']}:follow_up",
            alarm_id=row["id"],
            notes=row["resolution_notes"],
            created_by=row["resolved_by"],
        )
        if row["outcome"] == "taken_to_hospital":
            end(task, TaskStatus.SUSPENDED, at=start + minutes(rng.uniform(60, 480)), reason="resident_hospital")
            if task["updated_at"] >= self.book.now:
                task.update(status=TaskStatus.PLANNED.value, status_reason=None, updated_at=start)
            return
        check_in = start + timedelta(hours=rng.uniform(2, 20))
        if check_in + minutes(40) < self.book.now - minutes(30):
            do(
                rng,
                task,
                self.crew.pick(home, "visit"),
                home,
                check_in=check_in,
                minutes_on_site=rng.uniform(20, 40),
                published=start + minutes(rng.uniform(10, 120)),
            )


def _times(rng: random.Random, book: Book, alarm_type: str, count: int) -> list[datetime]:
    """`count` moments in the history (to three hours before now: every one is handled by now), at the type's hours
    of the day."""
    hours = HOURS.get(alarm_type, FLAT_HOURS)
    last = book.now - timedelta(hours=3)
    span_days = (last - book.start).total_seconds() / 86_400
    out = []
    for _ in range(count):
        day = book.start + timedelta(days=math.floor(rng.uniform(0, span_days)))
        at = day.astimezone(LOCAL_TIMEZONE).replace(hour=hours.draw(rng), minute=0, second=0) + seconds(
            rng.uniform(0, 3600)
        )
        if book.start <= at < last:
            out.append(at)
    return out


def device_alarms(desk: AlarmDesk) -> None:
    """The home devices' alarms over the history, in time order (a resident away raises none)."""
    book, world, rng = desk.book, desk.world, desk.rng
    units = [d for d in world.devices if d.kind == "home_alarm_unit" and d.household_id is not None]
    frequent = {d.id for d in rng.sample(units, round(FREQUENT_CALLER_SHARE * len(units)))}
    days = max(0.0, (book.now - book.start).total_seconds() / 86_400)
    events: list[tuple[datetime, int, str, Device, Resident]] = []
    for device in world.devices:
        if device.household_id is None or device.kind not in RATES:
            continue
        members = world.by_household.get(device.household_id)
        if not members:
            continue
        home = world.residents[device.resident_id if device.resident_id in world.residents else members[0]]
        for alarm_type, rate in RATES[device.kind]:
            if alarm_type == "sos" and device.id in frequent:
                rate = FREQUENT_CALLER_SOS_PER_DAY
            for at in _times(rng, book, alarm_type, poisson(rng, rate * days)):
                if at > device.installed_at and at > home.enrolled_at:
                    events.append((at, device.id, alarm_type, device, home))
    events.sort(key=lambda e: (e[0], e[1]))
    for at, _, alarm_type, device, home in events:
        stay = book.away_at(home.id, at)
        if stay is not None:
            if alarm_type == "inactivity":
                row = desk.open(alarm_type, at, home=home, resident_id=home.id, area_path=home.area_path, device=device)
                desk.resolve_as_away(row, stay.kind)
            continue
        row = desk.open(alarm_type, at, home=home, resident_id=home.id, area_path=home.area_path, device=device)
        desk.handle(row, home, OUTCOMES[alarm_type].draw(rng))


def welfare_calls(desk: AlarmDesk) -> None:
    """The welfare calls (关怀呼叫) the visits and meals asked for, one open per resident and type: a second while
    one is open is noted on it. An unanswered call-back of a visit nobody answered sends an urgent visit."""
    book, world, rng = desk.book, desk.world, desk.rng
    orders = {row["id"]: row for row in book.orders}
    open_calls: dict[tuple[str, int], Row] = {}
    for alarm_type, resident_id, at, links in sorted(book.welfare, key=lambda w: (w[2], w[1], w[0])):
        home = world.residents[resident_id]
        current = open_calls.get((alarm_type, resident_id))
        if current is not None and current["resolved_at"] <= at:
            current = None
        if current is not None:
            state = "new" if at < current["acknowledged_at"] else "in_progress"
            desk.line(
                current,
                at,
                "note",
                state,
                state,
                reason="meal_not_collected_again",
                detail={"reason_code": "meal_not_collected_again", **links},
            )
            if "meal_order_id" in links:
                orders[links["meal_order_id"]]["welfare_alarm_id"] = current["id"]
            continue
        row = desk.open(
            alarm_type, at, home=home, resident_id=resident_id, area_path=home.area_path, source="welfare", links=links
        )
        open_calls[(alarm_type, resident_id)] = row
        if "meal_order_id" in links:
            orders[links["meal_order_id"]]["welfare_alarm_id"] = row["id"]
        stay = book.away_at(resident_id, at)
        outcome = "resident_away" if stay is not None else OUTCOMES[alarm_type].draw(rng)
        if outcome == "assisted_at_home":
            _unanswered_welfare(desk, row, home)
        else:
            desk.handle(row, home, outcome)


def _unanswered_welfare(desk: AlarmDesk, row: Row, home: Resident) -> None:
    """Nobody answered the call back: an urgent visit within the hour (`welfare:<alarm>`), then resolved."""
    rng = desk.rng
    operator = rng.choice(desk.world.operators)
    at = desk.acknowledge(row, ack_seconds(rng, row["priority"]), operator)
    call = at + seconds(rng.uniform(20, 90))
    desk.act(row, call, "call_back", operator, detail={"result": "no_answer", "contact_ids": []})
    visit = new_task(
        desk.book,
        kind=TaskKind.URGENT_VISIT.value,
        source=TaskSource.WELFARE.value,
        home=home,
        window_start=call,
        window_end=call + minutes(60),
        created_at=call,
        priority=URGENT,
        service=TaskKind.URGENT_VISIT.value,
        slot=f"welfare:{row['id']}",
        alarm_id=row["id"],
        created_by=operator,
    )
    row["dispatched"] = True
    do(
        rng,
        visit,
        desk.crew.pick(home, "visit"),
        home,
        check_in=call + minutes(rng.uniform(12, 45)),
        minutes_on_site=rng.uniform(10, 30),
        published=call,
    )
    row["reached_at"] = visit["checked_in_at"]
    desk.resolve(
        row,
        visit["completed_at"] + minutes(rng.uniform(2, 10)),
        "assisted_at_home",
        ReachMethod.STAFF_AT_HOME.value,
        operator,
    )
