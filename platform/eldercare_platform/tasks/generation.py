"""The task generator: care plans → task rows for a rolling window of local days (docs/services/tasks-engine.md).

For every active resident and every local day of the window (Asia/Shanghai, today from the clock), the care-plan
version valid on that day says what is due: a visit when the day is the chosen day of the tier's period (weekly,
monthly, quarterly) and the sessions of each purchased service that fall on that day. Days covered by a hospital
stay or a stay with family, and days from a move or death on, produce nothing.

The wanted rows are computed in Python (cheap: a few dozen thousand for a 10,000-resident district), loaded
into a temporary table in one statement, and reconciled with `task` in three set-based statements:

* new keys (resident, service, slot) are inserted with their `created` trace lines;
* an untouched future task (`planned`, unassigned, from the plan, window not started) whose slot is still wanted
  at another time is moved in place (`rescheduled`, old and new window in the detail);
* an untouched future task inside the window whose slot is no longer wanted is cancelled (`plan_changed`).

Touched tasks (assigned or beyond, suspended, closed) are never changed. A rerun with nothing changed writes
nothing at all: no row, no trace line, no version.
"""

from __future__ import annotations

import json
import time as clock_time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.care_plans.models import PurchasedService
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.tasks.models import EngineReason, TaskAction
from eldercare_platform.tasks.slots import Plan, Wanted, local_instant, local_today, wanted_for

REASON_PLAN_CHANGED = EngineReason.PLAN_CHANGED.value
REASON_RESCHEDULED = EngineReason.PLAN_RESCHEDULED.value


@dataclass
class GenerationResult:
    """What a run did."""

    created: int = 0
    cancelled: int = 0
    rescheduled: int = 0
    unchanged: int = 0
    wanted: int = 0
    residents: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """The job run's detail line."""
        return (
            f"created={self.created} cancelled={self.cancelled} rescheduled={self.rescheduled}"
            f" unchanged={self.unchanged} wanted={self.wanted} residents={self.residents}"
        )


# --- reading the plans and states --------------------------------------------------------------------------------

_PLANS = """
SELECT p.resident_id, p.id, p.valid_from, p.valid_to, p.visit_tier, p.services
FROM care_plan p JOIN resident r ON r.id = p.resident_id
WHERE r.status = 'active' AND p.superseded_by IS NULL AND p.valid_from <= :last
  AND (p.valid_to IS NULL OR p.valid_to >= :first)
ORDER BY p.resident_id, p.valid_from DESC, p.version DESC
"""

_STATES = """
SELECT s.resident_id, s.kind, s.starts_at,
       CASE WHEN s.kind IN ('moved', 'deceased') THEN NULL
            ELSE nullif(least(coalesce(s.ends_at, 'infinity'), coalesce(s.ended_at, 'infinity')), 'infinity')
       END AS ends_at
FROM resident_state s
WHERE s.starts_at < :until
  AND (s.kind IN ('moved', 'deceased')
       OR least(coalesce(s.ends_at, 'infinity'), coalesce(s.ended_at, 'infinity')) > :since)
"""


def _parse_services(raw: Any) -> list[tuple[PurchasedService, float]]:
    entries = json.loads(raw) if isinstance(raw, str) else (raw or [])
    out: list[tuple[PurchasedService, float]] = []
    for entry in entries:
        try:
            service = PurchasedService(entry["service"])
            hours = float(entry["hours_per_month"])
        except (KeyError, TypeError, ValueError):
            continue  # not an entitlement the generator can read (the API validates them on the way in)
        if hours > 0:
            out.append((service, hours))
    return out


def _blocked_days(session: Session, days: list[date]) -> dict[int, set[date]]:
    """Per resident, the window's days a temporary (or final) state covers, even in part."""
    since = local_instant(days[0], time(0))
    until = local_instant(days[-1] + timedelta(days=1), time(0))
    blocked: dict[int, set[date]] = {}
    for row in session.execute(text(_STATES), {"since": since, "until": until}):
        starts, ends = row.starts_at, row.ends_at
        for day in days:
            day_start, day_end = local_instant(day, time(0)), local_instant(day + timedelta(days=1), time(0))
            if starts < day_end and (ends is None or ends > day_start):
                blocked.setdefault(int(row.resident_id), set()).add(day)
    return blocked


def wanted_tasks(session: Session, *, days: list[date]) -> tuple[list[Wanted], set[int], dict[int, set[date]]]:
    """The tasks the plans want on `days`, the active residents with a plan, and the blocked days."""
    plans: dict[int, list[Plan]] = {}
    for row in session.execute(text(_PLANS), {"first": days[0], "last": days[-1]}):
        plans.setdefault(int(row.resident_id), []).append(
            Plan(int(row.id), row.valid_from, row.valid_to, str(row.visit_tier), _parse_services(row.services))
        )
    blocked = _blocked_days(session, days)
    wanted: list[Wanted] = []
    for resident_id, versions in plans.items():
        wanted.extend(wanted_for(resident_id, versions, days, blocked.get(resident_id, set())))
    return wanted, set(plans), blocked


# --- writing -------------------------------------------------------------------------------------------------------

_LOAD = """
INSERT INTO gen_wanted (resident_id, service, slot, kind, care_plan_id, window_start, window_end, duration_minutes,
                        priority, required_skill)
SELECT * FROM unnest(CAST(:resident AS integer[]), CAST(:service AS text[]), CAST(:slot AS text[]),
                     CAST(:kind AS text[]), CAST(:plan AS bigint[]), CAST(:ws AS timestamptz[]),
                     CAST(:we AS timestamptz[]), CAST(:duration AS integer[]), CAST(:priority AS smallint[]),
                     CAST(:skill AS text[]))
"""

_INSERT_NEW = """
WITH ins AS (
    INSERT INTO task (kind, status, source, resident_id, household_id, service, slot, care_plan_id, area_id,
                      area_path, window_start, window_end, due_at, duration_minutes, priority, required_skill,
                      created_at, updated_at)
    SELECT w.kind, 'planned', 'plan', w.resident_id, r.household_id, w.service, w.slot, w.care_plan_id, h.area_id,
           a.path, w.window_start, w.window_end, w.window_end, w.duration_minutes, w.priority, w.required_skill,
           :now, :now
    FROM gen_wanted w
    JOIN resident r ON r.id = w.resident_id
    JOIN household h ON h.id = r.household_id
    JOIN area a ON a.id = h.area_id
    WHERE w.window_end > :now
      AND NOT EXISTS (SELECT 1 FROM task t WHERE t.resident_id = w.resident_id AND t.service = w.service
                      AND t.slot = w.slot)
    ORDER BY h.area_id, w.window_start, w.resident_id
    ON CONFLICT DO NOTHING
    RETURNING id, status, kind
)
INSERT INTO task_event (task_id, at, action, from_status, to_status, detail)
SELECT id, :now, :action, NULL, status, jsonb_build_object('source', 'plan', 'kind', kind) FROM ins
"""

_UNTOUCHED = """
t.source = 'plan' AND t.status = 'planned' AND t.assignee_staff_id IS NULL AND t.window_start > :now
"""

_RESCHEDULE = f"""
WITH old AS MATERIALIZED (
    -- computed once (a correlated lock-and-join per row was quadratic: 1,000 tasks took 3 s)
    SELECT t.id, t.window_start AS old_start, t.window_end AS old_end, w.window_start, w.window_end,
           w.duration_minutes, w.priority, w.required_skill
    FROM task t
    JOIN gen_wanted w ON t.resident_id = w.resident_id AND t.service = w.service AND t.slot = w.slot
    WHERE {_UNTOUCHED} AND t.slot IS NOT NULL AND w.window_start > :now
      AND (t.window_start, t.window_end, t.duration_minutes, t.priority)
          IS DISTINCT FROM (w.window_start, w.window_end, w.duration_minutes, w.priority)
    FOR UPDATE OF t
), moved AS (
    UPDATE task t SET window_start = old.window_start, window_end = old.window_end, due_at = old.window_end,
                      duration_minutes = old.duration_minutes, priority = old.priority,
                      required_skill = old.required_skill, planned_start = NULL, status_reason = :reason,
                      updated_at = :now,
                      updated_by = NULL, version = nextval('task_version_seq')
    FROM old
    WHERE t.id = old.id AND {_UNTOUCHED}
    RETURNING t.id, old.old_start, old.old_end, t.window_start, t.window_end
)
INSERT INTO task_event (task_id, at, action, from_status, to_status, reason, detail)
SELECT id, :now, :action, 'planned', 'planned', :reason,
       jsonb_build_object('reason_code', CAST(:reason AS text), 'old_window_start', old_start,
                          'old_window_end', old_end, 'window_start', window_start, 'window_end', window_end)
FROM moved
"""

_CANCEL = f"""
WITH old AS MATERIALIZED (
    SELECT id FROM task t WHERE {_UNTOUCHED}
      AND t.kind IN ('visit', 'service')
      AND NOT EXISTS (SELECT 1 FROM resident r WHERE r.id = t.resident_id AND r.status <> 'active')
      AND t.window_start >= :since AND t.window_start < :until
    FOR UPDATE
), gone AS (
    UPDATE task t SET status = 'cancelled', status_reason = :reason, updated_at = :now, updated_by = NULL,
                      version = nextval('task_version_seq')
    FROM old
    WHERE t.id = old.id
      AND NOT EXISTS (SELECT 1 FROM gen_wanted w WHERE w.resident_id = t.resident_id AND w.service = t.service
                      AND w.slot = t.slot)
      AND NOT EXISTS (SELECT 1 FROM gen_blocked b WHERE b.resident_id = t.resident_id
                      AND b.day = CAST(t.window_start AT TIME ZONE :zone AS date))
    RETURNING t.id
)
INSERT INTO task_event (task_id, at, action, from_status, to_status, reason, detail)
SELECT id, :now, :action, 'planned', 'cancelled', :reason, jsonb_build_object('reason_code', CAST(:reason AS text))
FROM gone
"""


def generate_tasks(session: Session, *, now: datetime, window_days: int = 14) -> GenerationResult:
    """Bring the task rows of the rolling window in line with the care plans (caller commits); idempotent."""
    today = local_today(now)
    days = [today + timedelta(days=n) for n in range(window_days)]
    mark = clock_time.perf_counter()
    wanted, residents, blocked = wanted_tasks(session, days=days)
    result = GenerationResult(wanted=len(wanted), residents=len(residents))
    mark = _lap(result, "plans_s", mark)
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS gen_wanted (resident_id integer, service text, slot text, kind text,"
            " care_plan_id bigint, window_start timestamptz, window_end timestamptz, duration_minutes integer,"
            " priority smallint, required_skill text, PRIMARY KEY (resident_id, service, slot)) ON COMMIT DROP"
        )
    )
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS gen_blocked (resident_id integer, day date) ON COMMIT DROP"))
    session.execute(text("TRUNCATE gen_wanted, gen_blocked"))
    for chunk in _chunks(wanted, 20_000):
        windows = [w.window() for w in chunk]
        session.execute(
            text(_LOAD),
            {
                "resident": [w.resident_id for w in chunk],
                "service": [w.service for w in chunk],
                "slot": [w.slot for w in chunk],
                "kind": [str(w.kind) for w in chunk],
                "plan": [w.care_plan_id for w in chunk],
                "ws": [start for start, _ in windows],
                "we": [end for _, end in windows],
                "duration": [w.duration_minutes for w in chunk],
                "priority": [w.priority for w in chunk],
                "skill": [w.required_skill for w in chunk],
            },
        )
    pairs = [(resident, day) for resident, blocked_days in blocked.items() for day in blocked_days]
    if pairs:
        session.execute(
            text("INSERT INTO gen_blocked SELECT * FROM unnest(CAST(:r AS integer[]), CAST(:d AS date[]))"),
            {"r": [r for r, _ in pairs], "d": [d for _, d in pairs]},
        )
    session.execute(text("ANALYZE gen_wanted"))
    mark = _lap(result, "load_s", mark)
    result.created = _rowcount(session.execute(text(_INSERT_NEW), {"now": now, "action": str(TaskAction.CREATED)}))
    mark = _lap(result, "insert_s", mark)
    result.rescheduled = _rowcount(
        session.execute(
            text(_RESCHEDULE), {"now": now, "action": str(TaskAction.RESCHEDULED), "reason": REASON_RESCHEDULED}
        )
    )
    mark = _lap(result, "reschedule_s", mark)
    result.cancelled = _rowcount(
        session.execute(
            text(_CANCEL),
            {
                "now": now,
                "action": str(TaskAction.CANCELLED),
                "reason": REASON_PLAN_CHANGED,
                "since": max(now, local_instant(days[0], time(0))),
                "until": local_instant(days[-1] + timedelta(days=1), time(0)),
                "zone": str(LOCAL_TIMEZONE),
            },
        )
    )
    _lap(result, "cancel_s", mark)
    result.unchanged = result.wanted - result.created - result.rescheduled
    session.execute(text("DROP TABLE IF EXISTS gen_wanted, gen_blocked"))
    session.flush()
    return result


def _lap(result: GenerationResult, name: str, since: float) -> float:
    """Record a phase's seconds in the result (the benchmark reports them); returns the new mark."""
    mark = clock_time.perf_counter()
    result.extra[name] = round(mark - since, 3)
    return mark


def _chunks(rows: list[Wanted], size: int) -> Iterable[list[Wanted]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
