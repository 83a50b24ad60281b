"""The platform's one source of "now": every decision that depends on the time asks a `Clock`.

The API holds its clock on `app.state.clock` (views get it through `NowDep` / `ClockDep` in
`core.deps`); the intake worker, the live hub and the scheduler are handed the same object. Production
uses `SystemClock`; tests inject a `FixedClock`, so no test depends on today's date.

Everything is timezone-aware UTC. Calendar questions (a resident's age, whether it is night) are
answered in the residents' civil time zone, Asia/Shanghai, from the clock's instant — never from the
host's local time zone (`date.today()`), which differs between a laptop, a container and CI.

PostgreSQL's `now()` is a second clock the platform cannot inject: it may serve as a record-keeping
default (`created_at`), but no query that decides something (a 24 h window, an escalation, a silence
cut-off) reads it; such queries take the clock's instant as a parameter.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
"""The residents' civil time zone: ages, night hours and shift days are counted in it."""


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The host's clock (production)."""

    def now(self) -> datetime:
        """`datetime.now(UTC)`."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused (it names no instant)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a clock needs a timezone-aware datetime, got the naive {moment.isoformat()}")
    return moment.astimezone(UTC)


class FixedClock:
    """A clock that stands still until told otherwise (tests, replays). Safe to share between threads."""

    def __init__(self, at: datetime) -> None:
        self._at = as_utc(at)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The instant it was set to."""
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Jump to `at`."""
        moment = as_utc(at)
        with self._lock:
            self._at = moment

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, with a negative delta) and return the new instant."""
        with self._lock:
            self._at = self._at + delta
            return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


SYSTEM_CLOCK = SystemClock()


def local_date(moment: datetime) -> date:
    """The calendar date in Asia/Shanghai at this instant (what "today" means for a resident)."""
    return as_utc(moment).astimezone(LOCAL_TIMEZONE).date()


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day` (the one age rule: resident lists, cards, alarms and the seed)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
