"""The demo district's past (`python -m eldercare_platform.seed history --weeks 4`): what the platform would have
recorded in the weeks before "now" had it been running — alarms, visits and purchased services, meal orders,
stays in hospital or away, device faults and the care centers' terminal telemetry — written after the seed and
before the services start, so the supervisors' dashboards, the monitor and the monthly statement open on figures.

Deterministic: the same seeded database, `seed` and `now` give the same rows (one `random.Random` per part, rows
read in id order). "Now" is the clock's instant passed in; nothing is dated after it (a task may be due later: a
follow-up still to do). The records keep the platform's own rules — the tables, columns, statuses, reason codes
and trace lines the services write (world.py reads the district; care.py, meals.py, alarms.py, faults.py and
terminals.py make the rows; write.py writes them with COPY) — and the supervision rollups are refreshed in full at
the end. docs/services/demo-data.md, "The district's history", lists the rates and shares.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import as_utc, local_date
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.core.db import raw_connection
from eldercare_platform.seed.generator import DEFAULT_SEED
from eldercare_platform.seed.history.alarms import AlarmDesk, device_alarms, welfare_calls
from eldercare_platform.seed.history.book import ID_TABLES, Book
from eldercare_platform.seed.history.care import discharge_visits, plan_tasks, planned_stays
from eldercare_platform.seed.history.faults import open_faults, resolved_faults
from eldercare_platform.seed.history.meals import meal_orders
from eldercare_platform.seed.history.terminals import terminals
from eldercare_platform.seed.history.work import Crew
from eldercare_platform.seed.history.world import local, read_world
from eldercare_platform.seed.history.write import write_book
from eldercare_platform.supervision.rollups import refresh_rollups

MAX_WEEKS = 13


class HistoryPresentError(RuntimeError):
    """The database already has records from before today (a history, or a demo that ran on earlier days)."""


@dataclass
class HistoryResult:
    """What was written, and how long each step took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


PRESENT = """
SELECT EXISTS (SELECT 1 FROM alarm WHERE opened_at < :midnight)
    OR EXISTS (SELECT 1 FROM task WHERE window_start < :midnight)
    OR EXISTS (SELECT 1 FROM meal_order WHERE service_date < :today)
"""


def has_history(session: Session, *, now: datetime) -> bool:
    """Whether the database holds alarms, tasks or meal orders from before today (local)."""
    today = local_date(now)
    return bool(session.execute(text(PRESENT), {"midnight": local(today), "today": today}).scalar())


def generate_history(
    session: Session,
    *,
    now: datetime,
    weeks: int = 4,
    seed: int = DEFAULT_SEED,
    rules: ServiceRulesMixin | None = None,
    refresh: bool = True,
) -> HistoryResult:
    """Write `weeks` weeks of history up to `now` into a seeded database (in the session's transaction; the caller
    commits) and refresh the supervision rollups in full. Raises HistoryPresentError when there is one already."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}, got {weeks}")
    now = as_utc(now)
    rules = rules or ServiceRulesMixin()
    result = HistoryResult()
    mark = time.perf_counter()
    if has_history(session, now=now):
        raise HistoryPresentError("the database already has alarms, tasks or meal orders from before today")
    session.execute(text("LOCK TABLE alarm, task, meal_order, resident_state, device_event IN EXCLUSIVE MODE"))
    world = read_world(session)
    next_id = {
        table: int(session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": table}).scalar_one())
        for table in ID_TABLES
    }
    today = local_date(now)
    first_day = today - timedelta(days=7 * weeks)
    book = Book(now=now, first_day=first_day, today=today, start=local(first_day), next_id=dict(next_id))
    mark = _lap(result, "read", mark)

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:history:{part}")

    crew = Crew(world, rng("crew"))
    planned_stays(book, world, rng("stays"))
    device_alarms(AlarmDesk(book, world, crew, rng("alarms")))
    terminals(AlarmDesk(book, world, crew, rng("terminals")))
    plan_tasks(book, world, crew, rng("care"))
    meal_orders(book, world, crew, rng("meals"), rules)
    discharge_visits(book, world, crew, rng("discharge"))
    welfare_calls(AlarmDesk(book, world, crew, rng("welfare")))
    faults = AlarmDesk(book, world, crew, rng("faults"))
    resolved_faults(faults)
    open_faults(faults)
    mark = _lap(result, "generate", mark)
    with raw_connection(session).cursor() as cur:
        result.counts = write_book(
            cur, book, first_task_id=next_id["task"], verified_within_m=rules.checkin_verified_within_m
        )
    session.expire_all()
    mark = _lap(result, "write", mark)
    if refresh:
        refresh_rollups(session, now=now, full=True)
        _lap(result, "rollups", mark)
    return result


def _lap(result: HistoryResult, name: str, since: float) -> float:
    mark = time.perf_counter()
    result.seconds[name] = round(mark - since, 2)
    return mark


__all__ = ["MAX_WEEKS", "HistoryPresentError", "HistoryResult", "generate_history", "has_history"]
