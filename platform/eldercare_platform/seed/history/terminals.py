"""The care centers' terminals (养老服务监测预警): what they sent over the history, and the alarms it raised.

Every care center's vitals monitors and smart mattresses are assigned to two of its residents (people of its
community: `device.resident_id`, so the monitor can drill down to them). Samples (`telemetry`, the gateway's
receive time; shapes as docs/device-protocol.md and the simulator's): vitals every 15 minutes and mattresses every
10 (around the clock at the township center, which has beds; in opening hours and at the midday nap elsewhere),
room sensors every 15 minutes, the camera link every 30, check-ins in the morning. A few vitals out of range and,
at the township center, a few bed exits at night — each raises its alarm (abnormal vitals; bed exit, at night
only), handled by the staff on site; a few room readings too warm or too humid; and one camera offline since
yesterday (视频监控应接尽接).
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.facilities.models import CareCenterKind
from eldercare_platform.seed.history.alarms import OUTCOMES, AlarmDesk
from eldercare_platform.seed.history.book import Book, minutes, seconds
from eldercare_platform.seed.history.world import CareCenter, Device, World

EVERY_MINUTES = {"vitals_monitor": 15, "smart_mattress": 10, "room_sensor": 15, "camera": 30}
KIND = {"vitals_monitor": "vitals", "smart_mattress": "mattress", "room_sensor": "room", "camera": "camera_link"}
VITALS_EPISODES_PER_WEEK = 1.5
BED_EXIT_NIGHT_SHARE = 0.3
OFFLINE_CAMERA_HOURS = 20


def _hour(moment: datetime) -> float:
    local = moment.astimezone(LOCAL_TIMEZONE)
    return local.hour + local.minute / 60


def _open(center: CareCenter, kind: str, moment: datetime) -> bool:
    """Whether a resident is at the terminal: around the clock at the township center; elsewhere vitals in opening
    hours (08:00–17:00) and mattresses at the midday nap (11:30–14:30)."""
    if center.kind == CareCenterKind.TOWNSHIP_CENTER or kind not in ("vitals_monitor", "smart_mattress"):
        return True
    hour = _hour(moment)
    return 8 <= hour < 17 if kind == "vitals_monitor" else 11.5 <= hour < 14.5


def _vitals(rng: random.Random, moment: datetime, odd: str | None) -> dict[str, Any]:
    daily = math.sin((_hour(moment) - 4) / 24 * 2 * math.pi)
    data: dict[str, Any] = {
        "heart_rate": round(72 + 8 * daily + rng.gauss(0, 4)),
        "spo2": min(100, round(rng.gauss(97, 1))),
        "systolic": round(128 + 10 * daily + rng.gauss(0, 6)),
        "diastolic": round(80 + rng.gauss(0, 4)),
        "temperature": round(36.5 + 0.3 * daily + rng.gauss(0, 0.15), 1),
    }
    if odd == "heart_rate":
        data["heart_rate"] = rng.randint(124, 138)
    elif odd == "systolic":
        data["systolic"] = rng.randint(163, 182)
    elif odd == "spo2":
        data["spo2"] = rng.randint(85, 89)
    return data


def _room(rng: random.Random, moment: datetime, odd: str | None) -> dict[str, Any]:
    daily = math.sin((_hour(moment) - 9) / 24 * 2 * math.pi)
    data: dict[str, Any] = {
        "temperature": round(22 + 2.5 * daily + rng.gauss(0, 0.4), 1),
        "humidity": round(rng.gauss(55, 4)),
        "co2_ppm": round(600 + 250 * max(0.0, daily) + rng.gauss(0, 40)),
        "smoke": False,
    }
    if odd == "humid":
        data["humidity"] = rng.randint(71, 76)
    elif odd == "warm":
        data["temperature"] = round(rng.uniform(28.3, 29.5), 1)
    return data


class Feed:
    """The samples of one terminal, numbered as the device numbers them."""

    def __init__(self, book: Book, device: Device) -> None:
        self.book, self.device, self.seq = book, device, 0

    def add(self, rng: random.Random, moment: datetime, data: dict[str, Any], kind: str | None = None) -> None:
        self.book.telemetry.append(
            (
                moment,
                self.device.serial,
                self.seq,
                moment - seconds(rng.uniform(0.3, 2.0)),
                kind or KIND[self.device.kind],
                json.dumps(data, ensure_ascii=False),
            )
        )
        self.seq += 1


def _ticks(book: Book, every: int) -> list[datetime]:
    first = book.start
    count = int((book.now - first).total_seconds() // (every * 60))
    return [first + minutes(every * n) for n in range(count + 1) if first + minutes(every * n) <= book.now]


def terminals(desk: AlarmDesk) -> None:
    """Every care center's samples and the alarms they raised; assigns the monitors and mattresses to residents."""
    book, world, rng = desk.book, desk.world, desk.rng
    by_center: dict[int, list[Device]] = defaultdict(list)
    for device in world.devices:
        if device.care_center_id is not None and device.household_id is None:
            by_center[device.care_center_id].append(device)
    cameras = [d for c in sorted(by_center) for d in by_center[c] if d.kind == "camera"]
    offline = cameras[-1].serial if cameras else None
    for center_id, devices in sorted(by_center.items()):
        center = world.care_centers[center_id]
        people = _residents_of(world, center, rng)
        pairs: dict[str, int] = {}
        for kind in ("vitals_monitor", "smart_mattress"):
            for index, device in enumerate(d for d in devices if d.kind == kind):
                if index < len(people):
                    pairs[device.serial] = people[index]
        book.terminal_residents.update(pairs)
        for device in devices:
            feed = Feed(book, device)
            if device.kind == "vitals_monitor":
                _vitals_feed(desk, feed, center, pairs.get(device.serial))
            elif device.kind == "smart_mattress":
                _mattress_feed(desk, feed, center, pairs.get(device.serial))
            elif device.kind == "room_sensor":
                odd_day = book.start + timedelta(days=rng.randrange(max(1, len(book.days))))
                odd = rng.choice(("humid", "warm"))
                for moment in _ticks(book, EVERY_MINUTES["room_sensor"]):
                    strange = odd if odd_day <= moment < odd_day + timedelta(hours=3) and rng.random() < 0.7 else None
                    feed.add(rng, moment, _room(rng, moment, strange))
            elif device.kind == "camera":
                gone = book.now - timedelta(hours=OFFLINE_CAMERA_HOURS) if device.serial == offline else None
                for moment in _ticks(book, EVERY_MINUTES["camera"]):
                    online = gone is None or moment < gone
                    feed.add(
                        rng, moment, {"online": online, "bitrate_kbps": round(rng.gauss(1800, 150)) if online else 0}
                    )
            elif device.kind == "checkin_terminal":
                _checkins(book, feed, center, world, rng)


def _residents_of(world: World, center: CareCenter, rng: random.Random) -> list[int]:
    """Two residents of the center's community (else of its street) who use it."""
    local = [r.id for r in world.residents.values() if r.area_id == center.area_id]
    if len(local) < 2:
        street = world.street_of.get(center.area_id)
        local = [r.id for r in world.residents.values() if r.street_id == street]
    return sorted(rng.sample(local, min(2, len(local))))


def _vitals_feed(desk: AlarmDesk, feed: Feed, center: CareCenter, resident_id: int | None) -> None:
    book, rng = desk.book, desk.rng
    ticks = [t for t in _ticks(book, EVERY_MINUTES["vitals_monitor"]) if _open(center, "vitals_monitor", t)]
    episodes = round(VITALS_EPISODES_PER_WEEK * len(book.days) / 7)
    starts = set(rng.sample(range(len(ticks)), min(len(ticks), episodes))) if ticks else set()
    odd: str | None = None
    left = 0
    for index, moment in enumerate(ticks):
        if index in starts and moment < book.now - timedelta(hours=3):
            odd, left = rng.choice(("heart_rate", "systolic", "spo2")), rng.randint(1, 3)
            _terminal_alarm(
                desk, "abnormal_vitals", moment + seconds(rng.uniform(1, 5)), feed.device, center, resident_id
            )
        feed.add(rng, moment, _vitals(rng, moment, odd if left > 0 else None))
        left -= 1


def _mattress_feed(desk: AlarmDesk, feed: Feed, center: CareCenter, resident_id: int | None) -> None:
    """In bed at night (21:30 → 06:30) at the township center, now and then up at night for a short while (a bed
    exit); elsewhere in bed for the midday nap."""
    book, rng = desk.book, desk.rng
    overnight = center.kind == CareCenterKind.TOWNSHIP_CENTER
    exits: dict[Any, tuple[float, float]] = {}
    for day in [*book.days, book.today]:
        if overnight and rng.random() < BED_EXIT_NIGHT_SHARE:
            up = rng.uniform(0.5, 4.8)
            exits[day] = (up, up + rng.uniform(0.2, 0.5))
    for moment in _ticks(book, EVERY_MINUTES["smart_mattress"]):
        if not _open(center, "smart_mattress", moment):
            continue
        hour = _hour(moment)
        if overnight:
            in_bed = hour >= 21.5 or hour < 6.5 or 13 <= hour < 14
            night = moment.astimezone(LOCAL_TIMEZONE).date()
            window = exits.get(night) if hour < 6 else None
            if window and window[0] <= hour < window[1]:
                if in_bed and not (window[0] <= hour - 1 / 6 < window[1]) and moment < book.now - timedelta(hours=3):
                    _terminal_alarm(
                        desk, "bed_exit", moment + seconds(rng.uniform(1, 5)), feed.device, center, resident_id
                    )
                in_bed = False
        else:
            in_bed = 12 <= hour < 14
        data = {
            "in_bed": in_bed,
            "heart_rate": round(62 + rng.gauss(0, 4)) if in_bed else None,
            "respiration_rate": round(15 + rng.gauss(0, 2)) if in_bed else None,
            "movement": round(rng.random() * (0.2 if in_bed else 1.0), 2),
        }
        feed.add(rng, moment, data)


def _checkins(book: Book, feed: Feed, center: CareCenter, world: World, rng: random.Random) -> None:
    """Residents of the community checking in in the morning (weekdays; every day at the township center)."""
    people = [r.id for r in world.residents.values() if r.area_id == center.area_id] or sorted(world.residents)[:50]
    for day in [*book.days, book.today]:
        if day.isoweekday() > 5 and center.kind != CareCenterKind.TOWNSHIP_CENTER:
            continue
        moments = sorted(
            datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TIMEZONE) + minutes(rng.uniform(8 * 60, 10 * 60))
            for _ in range(min(len(people), rng.randint(8, 20)))
        )
        for moment, resident_id in zip(moments, rng.sample(people, len(moments)), strict=True):
            if book.start <= moment <= book.now:
                feed.add(rng, moment, {"resident_ref": f"R{resident_id:06d}", "method": "face"}, kind="checkin")


def _terminal_alarm(
    desk: AlarmDesk, alarm_type: str, at: datetime, device: Device, center: CareCenter, resident_id: int | None
) -> None:
    """The terminal's event as an alarm at the center, handled by the staff on site."""
    row = desk.open(alarm_type, at, home=None, resident_id=resident_id, area_path=center.area_path, device=device)
    outcome = OUTCOMES[alarm_type].draw(desk.rng)
    if outcome == "taken_to_hospital":
        outcome = "assisted_at_home"  # the center's nurse takes over; a hospital stay is the visits' business
    desk.handle(row, None, outcome)
