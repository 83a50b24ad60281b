"""The visit rollup (migration 0016): each visit's classification kept per visit (`rollup_visit_task`) and summed per
local day and area (`rollup_visit_daily`, with the missed reason) and per day, area and assignee
(`rollup_visit_caregiver`). Refreshed by `refresh_rollups` (supervision/rollups.py); read by the visits section
(supervision/visits_figures.py). docs/supervision.md, "Speed: the rollups".

Only visits whose window starts before the local day of the refresh are rolled up, classified at the refresh's
instant by the section's own SQL (supervision/visit_facts.py). The incremental refresh reclassifies the visits
that changed (by `task.version`, a visit moved to another day included: its old day is the one its stored row
has), every visit above a changed task in a follow-up chain, the missed visits of residents whose hospital / away
states changed (by `resident_state.version`), the visits that were not final, the days newly before the refresh's
day and the last `lookback` days; then it sums the days those visits were and are on. A different
`task_late_after_minutes` rebuilds everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.supervision.tier import local_midnight
from eldercare_platform.supervision.visit_facts import (
    AGGREGATE_COLUMNS,
    CAREGIVER,
    DAILY,
    DIRTY,
    FACT_COLUMNS,
    FACTS,
    classified,
)


@dataclass(frozen=True)
class VisitRollupState:
    """What the last visit refresh saw: the task and resident-state versions, its instant and `late_after`."""

    seen: int
    state_seen: int
    refreshed_at: datetime
    late_after: timedelta

    @property
    def day(self) -> date:
        """The first local day not rolled up: the refresh's own."""
        return local_date(self.refreshed_at)


def visit_rollup_state(session: Session) -> VisitRollupState | None:
    """The state of the visit rollup, None before its first refresh."""
    row = session.execute(
        text(
            "SELECT v.seen_version, s.seen_version AS state_seen, v.refreshed_at, v.late_after"
            " FROM rollup_state v JOIN rollup_state s ON s.rollup = 'visit_state' WHERE v.rollup = 'visit'"
        )
    ).first()
    if row is None or row.refreshed_at is None or row.late_after is None:
        return None
    return VisitRollupState(
        seen=int(row.seen_version or 0),
        state_seen=int(row.state_seen or 0),
        refreshed_at=row.refreshed_at,
        late_after=row.late_after,
    )


def dirty_ids(session: Session, state: VisitRollupState, open_where: str, params: dict[str, Any]) -> list[int]:
    """The tasks whose stored row may be out of date (visit_facts.DIRTY); `open_where` narrows the not-final ones."""
    return list(
        session.execute(
            text(DIRTY.format(open_where=open_where)),
            {**params, "seen": state.seen, "state_seen": state.state_seen},
        ).scalars()
    )


def _sum_days(session: Session, days: list[date] | None) -> None:
    """Recompute the daily and caregiver sums of `days` (None: all) from the stored visits."""
    for table, sql in (("rollup_visit_daily", DAILY), ("rollup_visit_caregiver", CAREGIVER)):
        keys = "day, area_path, depth, reason" if table == "rollup_visit_daily" else "day, area_path, depth, staff_id"
        if days is None:
            session.execute(text(f"DELETE FROM {table}"))
            where = "true"
        else:
            session.execute(text(f"DELETE FROM {table} WHERE day = ANY(:days)"), {"days": days})
            where = "v.day = ANY(:days)"
        session.execute(
            text(f"INSERT INTO {table} ({keys}, {AGGREGATE_COLUMNS}) {sql.format(where=where)}"), {"days": days}
        )


def refresh_visits(session: Session, *, now: datetime, late_after: timedelta, lookback: timedelta, full: bool) -> int:
    """Bring the visit rollup up to `now` (the caller commits); returns the local days summed again."""
    state = visit_rollup_state(session)
    top = session.execute(text("SELECT max(version) FROM task")).scalar() or 0
    state_top = session.execute(text("SELECT max(version) FROM resident_state")).scalar() or 0
    horizon = local_midnight(local_date(now))
    params: dict[str, Any] = {"now": now, "late_after": late_after, "horizon": horizon}
    insert = f"INSERT INTO rollup_visit_task ({FACT_COLUMNS}) WITH RECURSIVE {{body}} {FACTS}"
    if full or state is None or state.late_after != late_after:
        session.execute(text("DELETE FROM rollup_visit_task"))
        where = "t.window_start < :horizon AND t.area_path IS NOT NULL"
        session.execute(text(insert.format(body=classified(where))), params)
        _sum_days(session, None)
        days = int(session.execute(text("SELECT count(DISTINCT day) FROM rollup_visit_task")).scalar() or 0)
    else:
        # The days newly before the refresh's day and the last `lookback` days, and whatever may be out of date.
        params["lo"] = min(local_midnight(state.day), horizon - lookback)
        params["ids"] = dirty_ids(session, state, "true", params)
        old = session.execute(
            text("DELETE FROM rollup_visit_task WHERE task_id = ANY(:ids) OR window_start >= :lo RETURNING day"),
            params,
        ).scalars()
        wanted = set(old)
        where = "(t.id = ANY(:ids) OR t.window_start >= :lo) AND t.window_start < :horizon AND t.area_path IS NOT NULL"
        new = session.execute(text(f"{insert.format(body=classified(where))} RETURNING day"), params).scalars()
        wanted.update(new)
        days = len(wanted)
        if wanted:
            _sum_days(session, sorted(wanted))
    for rollup, version in (("visit", top), ("visit_state", state_top)):
        session.execute(
            text(
                "INSERT INTO rollup_state (rollup, seen_version, refreshed_at, late_after)"
                " VALUES (:r, :v, :now, :late_after) ON CONFLICT (rollup) DO UPDATE"
                " SET seen_version = excluded.seen_version, refreshed_at = excluded.refreshed_at,"
                " late_after = excluded.late_after"
            ),
            {"r": rollup, "v": version, "now": now, "late_after": late_after},
        )
    return days
