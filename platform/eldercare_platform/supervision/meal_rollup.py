"""The meal rollup (migration 0018): each meal order's classification kept per order (`rollup_meal_order`) and
summed per local day, area on the home's path, status and what followed (`rollup_meal_daily`) and per day, meal
point and meal (`rollup_meal_point`). Refreshed by `refresh_rollups` (supervision/rollups.py); read by the meals
section (supervision/meals_figures.py). docs/supervision.md, "The meal rollup".

Only orders of local days before the refresh's day are rolled up, classified by the section's own SQL
(supervision/meal_facts.py). The incremental refresh reclassifies the orders that changed (by `meal_order.version`:
an order moved to another day keeps its old day in its stored row), those whose welfare call changed (by
`alarm.version`), those that were not final, the days newly before the refresh's day and the last `lookback` days;
then it sums the days those orders were and are on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.supervision.meal_facts import DAILY, DIRTY, FACT_COLUMNS, FACTS, POINT
from eldercare_platform.supervision.rollup_state import save_state


@dataclass(frozen=True)
class MealRollupState:
    """What the last meal refresh saw: the order and alarm versions and its instant."""

    seen: int
    alarm_seen: int
    refreshed_at: datetime

    @property
    def day(self) -> date:
        """The first local day not rolled up: the refresh's own."""
        return local_date(self.refreshed_at)


def meal_rollup_state(session: Session) -> MealRollupState | None:
    """The state of the meal rollup, None before its first refresh."""
    row = session.execute(
        text(
            "SELECT m.seen_version, a.seen_version AS alarm_seen, m.refreshed_at"
            " FROM rollup_state m JOIN rollup_state a ON a.rollup = 'meal_alarm' WHERE m.rollup = 'meal'"
        )
    ).first()
    if row is None or row.refreshed_at is None:
        return None
    return MealRollupState(
        seen=int(row.seen_version or 0), alarm_seen=int(row.alarm_seen or 0), refreshed_at=row.refreshed_at
    )


def dirty_ids(session: Session, state: MealRollupState, open_where: str, params: dict[str, Any]) -> list[int]:
    """The orders whose stored row may be out of date (meal_facts.DIRTY); `open_where` narrows the not-final ones."""
    return list(
        session.execute(
            text(DIRTY.format(open_where=open_where)),
            {**params, "seen": state.seen, "alarm_seen": state.alarm_seen},
        ).scalars()
    )


def _sum_days(session: Session, days: list[date] | None) -> None:
    """Recompute the daily and point sums of `days` (None: all) from the stored orders."""
    for table, sql, keys in (
        ("rollup_meal_daily", DAILY, "day, area_path, depth, status, followed, orders"),
        ("rollup_meal_point", POINT, "day, meal_point_id, meal, orders, seats"),
    ):
        if days is None:
            session.execute(text(f"DELETE FROM {table}"))
            where = "true"
        else:
            session.execute(text(f"DELETE FROM {table} WHERE day = ANY(:days)"), {"days": days})
            where = "f.day = ANY(:days)"
        session.execute(text(f"INSERT INTO {table} ({keys}) {sql.format(where=where)}"), {"days": days})


def refresh_meals(session: Session, *, now: datetime, lookback: timedelta, full: bool) -> int:
    """Bring the meal rollup up to `now` (the caller commits); returns the local days summed again."""
    state = meal_rollup_state(session)
    top = session.execute(text("SELECT max(version) FROM meal_order")).scalar() or 0
    alarm_top = session.execute(text("SELECT max(version) FROM alarm")).scalar() or 0
    horizon_day = local_date(now)
    params: dict[str, Any] = {"horizon_day": horizon_day}
    insert = f"INSERT INTO rollup_meal_order ({FACT_COLUMNS}) {{facts}}"
    if full or state is None:
        session.execute(text("DELETE FROM rollup_meal_order"))
        session.execute(text(insert.format(facts=FACTS.format(where="true"))), params)
        _sum_days(session, None)
        days = int(session.execute(text("SELECT count(DISTINCT day) FROM rollup_meal_order")).scalar() or 0)
    else:
        params["lo"] = min(state.day, horizon_day - timedelta(days=lookback.days))
        params["ids"] = dirty_ids(session, state, "true", params)
        old = session.execute(
            text("DELETE FROM rollup_meal_order WHERE order_id = ANY(:ids) OR day >= :lo RETURNING day"), params
        ).scalars()
        wanted = set(old)
        facts = FACTS.format(where="(o.id = ANY(:ids) OR o.service_date >= :lo)")
        wanted.update(session.execute(text(f"{insert.format(facts=facts)} RETURNING day"), params).scalars())
        days = len(wanted)
        if wanted:
            _sum_days(session, sorted(wanted))
    for rollup, version in (("meal", top), ("meal_alarm", alarm_top)):
        save_state(session, rollup, version, now)
    return days
