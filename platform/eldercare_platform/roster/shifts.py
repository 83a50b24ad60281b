"""Shift patterns → shift rows for the rolling window (docs/services/roster.md, "Shifts").

`generate_shifts` is idempotent: a shift is keyed by (staff member, start), so a rerun writes nothing. When a
pattern changes or ends (or its staff member is made inactive), the future shifts it no longer calls for are
removed, unless a task is assigned in them: such a shift is kept (and counted as `kept_busy`) so that nobody's
accepted work silently loses its shift; the coordinator reassigns the tasks and the next run removes it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.roster.rules import PatternTimes, PlannedShift, planned_shifts

_PATTERNS = """
SELECT p.id, p.staff_id, p.weekdays, p.start_time, p.end_time, p.on_call, p.valid_from, p.valid_to
FROM shift_pattern p JOIN staff s ON s.id = p.staff_id
WHERE s.active AND p.valid_from <= :last AND (p.valid_to IS NULL OR p.valid_to >= :first)
  AND (CAST(:staff AS integer) IS NULL OR p.staff_id = :staff)
"""

# Shifts not yet over in the window; `removable` for one not started that no task is assigned in.
_EXISTING = """
SELECT sh.id, sh.staff_id, sh.pattern_id, sh.starts_at, sh.ends_at, sh.on_call,
       sh.starts_at > :now AND NOT EXISTS (
           SELECT 1 FROM task t WHERE t.assignee_staff_id = sh.staff_id
             AND t.status IN ('assigned', 'published', 'en_route', 'checked_in')
             AND t.window_start >= sh.starts_at AND t.window_start < sh.ends_at) AS removable
FROM shift sh
WHERE sh.ends_at > :now AND sh.starts_at < :window_end
  AND (CAST(:staff AS integer) IS NULL OR sh.staff_id = :staff)
"""

_INSERT = """
INSERT INTO shift (staff_id, pattern_id, starts_at, ends_at, on_call)
SELECT * FROM unnest(CAST(:staff AS integer[]), CAST(:pattern AS bigint[]), CAST(:starts AS timestamptz[]),
                     CAST(:ends AS timestamptz[]), CAST(:on_call AS boolean[]))
ON CONFLICT (staff_id, starts_at) DO NOTHING
RETURNING id
"""


def generate_shifts(
    session: Session, *, today: date, days: int, now: datetime, staff_id: int | None = None
) -> dict[str, int]:
    """Write the shifts the patterns call for from `today` (local) for `days` days; remove the future, untouched
    shifts of patterns that no longer call for them. Only one staff member's when `staff_id` is given.

    A shift already under way (a night that started yesterday evening, today's day shift on a first run at noon)
    is written too; no shift is written where the person already has one overlapping it. Returns counts:
    patterns, planned, created, removed, kept_busy. Flushes; the caller commits.
    """
    first, last = today - timedelta(days=1), today + timedelta(days=days - 1)
    window_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL_TIMEZONE)
    patterns = [
        PatternTimes(
            id=int(row.id),
            staff_id=int(row.staff_id),
            weekdays=tuple(int(day) for day in row.weekdays),
            start_time=row.start_time,
            end_time=row.end_time,
            on_call=bool(row.on_call),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )
        for row in session.execute(text(_PATTERNS), {"first": first, "last": last, "staff": staff_id})
    ]
    planned = [shift for shift in planned_shifts(patterns, first, last) if shift.ends_at > now]
    wanted = {(s.pattern_id, s.starts_at, s.ends_at, s.on_call) for s in planned}
    existing = session.execute(text(_EXISTING), {"now": now, "window_end": window_end, "staff": staff_id}).all()
    stale = [
        row
        for row in existing
        if row.pattern_id is not None and (int(row.pattern_id), row.starts_at, row.ends_at, row.on_call) not in wanted
    ]
    removable = [int(row.id) for row in stale if row.removable]
    kept_busy = sum(1 for row in stale if not row.removable and row.starts_at > now)
    if removable:
        session.execute(text("DELETE FROM shift WHERE id = ANY(:ids)"), {"ids": removable})
    # A shift is not written where the person already has a shift overlapping it (a changed pattern does not
    # double a shift kept for its tasks or one under way; a hand-made shift wins).
    gone = set(removable)
    kept: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for row in existing:
        if int(row.id) not in gone:
            kept[int(row.staff_id)].append((row.starts_at, row.ends_at))
    new = [s for s in planned if not any(start < s.ends_at and end > s.starts_at for start, end in kept[s.staff_id])]
    created = _insert(session, new)
    return {
        "patterns": len(patterns),
        "planned": len(planned),
        "created": created,
        "removed": len(removable),
        "kept_busy": kept_busy,
    }


def _insert(session: Session, shifts: list[PlannedShift]) -> int:
    if not shifts:
        return 0
    rows = session.execute(
        text(_INSERT),
        {
            "staff": [s.staff_id for s in shifts],
            "pattern": [s.pattern_id for s in shifts],
            "starts": [s.starts_at for s in shifts],
            "ends": [s.ends_at for s in shifts],
            "on_call": [s.on_call for s in shifts],
        },
    ).all()
    return len(rows)


def end_pattern(session: Session, *, pattern_id: int, now: datetime) -> int:
    """Delete a pattern: its future shifts nobody has a task in are removed, the others (and past ones) stay as
    shifts of their own (`pattern_id` cleared). Returns how many shifts were removed."""
    removed = session.execute(
        text(
            "DELETE FROM shift sh WHERE sh.pattern_id = :p AND sh.starts_at > :now AND NOT EXISTS ("
            " SELECT 1 FROM task t WHERE t.assignee_staff_id = sh.staff_id"
            " AND t.status IN ('assigned', 'published', 'en_route', 'checked_in')"
            " AND t.window_start >= sh.starts_at AND t.window_start < sh.ends_at) RETURNING sh.id"
        ),
        {"p": pattern_id, "now": now},
    ).all()
    session.execute(text("UPDATE shift SET pattern_id = NULL WHERE pattern_id = :p"), {"p": pattern_id})
    session.execute(text("DELETE FROM shift_pattern WHERE id = :p"), {"p": pattern_id})
    return len(removed)
