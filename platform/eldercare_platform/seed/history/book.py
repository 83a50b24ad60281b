"""The history being written: rows per table with the ids they will have, and the random helpers every part uses."""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from eldercare_platform.seed.history.world import Resident

Row = dict[str, Any]

ID_TABLES = ("alarm", "task", "meal_order", "resident_state", "device_event")
"""Tables whose ids the history allocates itself (so rows can name each other before they are written)."""


@dataclass
class Away:
    """A hospital stay or a stay with family: when it covers a moment, and when the platform learned of it."""

    id: int
    resident_id: int
    kind: str
    starts_at: datetime
    ends_at: datetime | None
    recorded_at: datetime

    def covers(self, moment: datetime) -> bool:
        """Whether the resident was away at `moment`."""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the stay overlaps [start, end)."""
        return self.starts_at < end and (self.ends_at is None or self.ends_at > start)

    @property
    def reason(self) -> str:
        """The reason code the platform writes on what the state suspends or cancels (`resident_hospital`, …)."""
        return f"resident_{self.kind}"


@dataclass
class Book:
    """Rows of every table the history writes, with their final ids, and the period they cover."""

    now: datetime
    first_day: date
    today: date
    start: datetime
    """local midnight of `first_day`: nothing the history writes happened before it (tasks created earlier aside)"""
    next_id: dict[str, int]
    alarms: list[Row] = field(default_factory=list)
    transitions: list[tuple[Any, ...]] = field(default_factory=list)
    device_events: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    states: list[Row] = field(default_factory=list)
    telemetry: list[tuple[Any, ...]] = field(default_factory=list)
    statuses: list[Row] = field(default_factory=list)
    welfare: list[tuple[str, int, datetime, dict[str, int]]] = field(default_factory=list)
    """welfare calls to open: (alarm type, resident id, when, the task or meal order behind it)"""
    away: dict[int, list[Away]] = field(default_factory=dict)
    """resident id → their stays away, in start order"""
    terminal_residents: dict[str, int] = field(default_factory=dict)
    """terminal serial → the resident it is assigned to (vitals monitors, mattresses)"""
    discharged: dict[int, date] = field(default_factory=dict)
    """resident id → the day of their latest discharge (a reassessment is due then)"""

    @property
    def days(self) -> list[date]:
        """The local days of the history before today."""
        return [self.first_day + timedelta(days=n) for n in range((self.today - self.first_day).days)]

    def new_id(self, table: str) -> int:
        """The next id of `table`."""
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def away_at(self, resident_id: int, moment: datetime) -> Away | None:
        """The resident's stay away covering `moment`, if any."""
        for stay in self.away.get(resident_id, ()):
            if stay.covers(moment):
                return stay
        return None

    def away_during(self, resident_id: int, start: datetime, end: datetime) -> Away | None:
        """The resident's stay away overlapping [start, end), if any."""
        for stay in self.away.get(resident_id, ()):
            if stay.overlaps(start, end):
                return stay
        return None


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method: the rates here are small)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass(frozen=True)
class Weighted:
    """A weighted choice table, drawn with one random number."""

    values: tuple[Any, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[Any, float]]) -> Weighted:
        """From (value, weight) pairs."""
        return cls(tuple(v for v, _ in pairs), tuple(accumulate(w for _, w in pairs)))

    def draw(self, rng: random.Random) -> Any:
        """One value."""
        return self.values[min(len(self.values) - 1, bisect(self.cumulative, rng.random() * self.cumulative[-1]))]


def near(rng: random.Random, home: Resident, *, far: bool = False) -> tuple[float | None, float | None]:
    """A phone's position at the door (within ~40 m of the home), or `far` (250–600 m away: not verified)."""
    if home.latitude is None or home.longitude is None:
        return None, None
    metres = rng.uniform(250, 600) if far else abs(rng.gauss(0, 18))
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(bearing) / 111_320
    dlon = metres * math.sin(bearing) / (111_320 * math.cos(math.radians(home.latitude)))
    return round(home.latitude + dlat, 6), round(home.longitude + dlon, 6)


def seconds(value: float) -> timedelta:
    """A duration of `value` seconds."""
    return timedelta(seconds=value)


def minutes(value: float) -> timedelta:
    """A duration of `value` minutes."""
    return timedelta(minutes=value)
