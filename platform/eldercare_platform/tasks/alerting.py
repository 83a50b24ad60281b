"""The task engine's alerts: late, missed and unassigned tasks, and a community's visit coverage.

Each rule runs on the scheduler's clock, raises one alert per subject (`alerts.service.raise_alert` is idempotent
while the alert is open) and resolves the alerts whose condition no longer holds. Thresholds are the
`ServiceRulesMixin` settings (docs/services/tasks-engine.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.alerts.service import raise_alert, resolve_alerts
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.tasks.models import EngineReason, TaskAction, TaskStatus
from eldercare_platform.tasks.service import late_deadline, move

UNASSIGNED_WARN_MINUTES = 120
"""A task starting within this long and still unassigned raises TASK_UNASSIGNED."""

REASON_NOT_DONE = EngineReason.NOT_DONE_IN_TIME.value
RESOLVED_CHECKED_IN = EngineReason.CHECKED_IN_OR_ENDED.value
RESOLVED_ASSIGNED = EngineReason.ASSIGNED_OR_ENDED.value
RESOLVED_HANDLED = EngineReason.REASSIGNED_OR_ESCALATED.value
RESOLVED_COVERAGE = EngineReason.COVERAGE_RECOVERED.value
RESOLVED_ACKNOWLEDGED = EngineReason.ACKNOWLEDGED_OR_MOVED_ON.value

LATE_STATUSES = (TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED, TaskStatus.EN_ROUTE)
"""Not yet at the door: late after the threshold, missed after the window (a checked-in task is under way)."""


@dataclass(frozen=True)
class AlertRules:
    """The thresholds, from the settings."""

    late_after: timedelta = timedelta(minutes=15)
    missed_after: timedelta = timedelta(minutes=30)
    unassigned_within: timedelta = timedelta(minutes=UNASSIGNED_WARN_MINUTES)
    coverage_behind_ratio: float = 0.9
    urgent_ack: timedelta = timedelta(minutes=3)


def _subject(task_id: int) -> str:
    return f"task:{task_id}"


def _open_subjects(session: Session, kind: AlertKind) -> set[str]:
    """Subjects with an open (or acknowledged) alert of this kind: raising them again would write nothing."""
    rows = session.execute(
        text("SELECT subject_key FROM alert WHERE kind = :kind AND state <> 'resolved'"), {"kind": str(kind)}
    ).scalars()
    return {str(row) for row in rows}


def _raise_for_task(
    session: Session, row: Any, *, kind: AlertKind, message: str, now: datetime, detail: dict[str, Any], **owner: Any
) -> int | None:
    """The alert of `kind` about one task row (its id, resident, area and priority as subject, location and
    severity); `owner` adds `staff_id` / `owner_staff_id`. Returns the new alert's id, None if already open."""
    return raise_alert(
        session,
        kind=kind,
        subject_key=_subject(int(row.id)),
        message=message,
        now=now,
        severity=int(row.priority),
        task_id=int(row.id),
        resident_id=row.resident_id,
        area_path=row.area_path,
        detail=detail,
        **owner,
    )


def mark_missed(session: Session, *, now: datetime, rules: AlertRules) -> list[int]:
    """Tasks not done by window end + the grace move to `missed`, each with a TASK_MISSED alert."""
    rows = session.execute(
        text(
            "SELECT id, resident_id, assignee_staff_id, area_path, priority, kind, window_start, window_end"
            " FROM task WHERE status = ANY(:statuses) AND window_end IS NOT NULL AND window_end <= :cutoff"
            " ORDER BY window_end, id"
        ),
        {"statuses": [str(s) for s in LATE_STATUSES], "cutoff": now - rules.missed_after},
    ).all()
    missed: list[int] = []
    minutes = int(rules.missed_after.total_seconds() // 60)
    for row in rows:
        detail = {"reason_code": REASON_NOT_DONE, "window_end": row.window_end, "after_minutes": minutes}
        if not move(
            session,
            task_id=int(row.id),
            action=TaskAction.MISSED,
            to_status=TaskStatus.MISSED,
            allowed_from=set(LATE_STATUSES),
            now=now,
            reason=REASON_NOT_DONE,
            detail=detail,
        ):
            continue
        missed.append(int(row.id))
        _raise_for_task(
            session,
            row,
            kind=AlertKind.TASK_MISSED,
            message=f"任务未按时完成，请改派或上报 / Task {row.id} not done in time: reassign or escalate",
            now=now,
            detail={**detail, "kind": row.kind, "window_start": row.window_start},
            staff_id=row.assignee_staff_id,
        )
    return missed


def raise_late(session: Session, *, now: datetime, rules: AlertRules) -> tuple[int, int]:
    """Not checked in by the late deadline (tasks/lateness.py: `late_after` after the planned start, else after
    the window start; at the latest the window end): TASK_LATE to the assignee (and the area's coordinators);
    resolved once the task is checked in or ended. Returns (raised, resolved)."""
    # The deadline is never before window start + late_after: that bound keeps the window-start index in use.
    rows = session.execute(
        text(
            "SELECT id, resident_id, assignee_staff_id, area_path, priority, kind, window_start, planned_start,"
            f" {late_deadline('task')} AS late_at FROM task"
            " WHERE status = ANY(:statuses) AND window_start IS NOT NULL AND window_start <= :cutoff"
            f" AND {late_deadline('task')} <= :now"
            " ORDER BY window_start, id"
        ),
        {
            "statuses": [str(s) for s in LATE_STATUSES],
            "cutoff": now - rules.late_after,
            "now": now,
            "late_after": rules.late_after,
        },
    ).all()
    raised = 0
    already = _open_subjects(session, AlertKind.TASK_LATE)
    for row in rows:
        if _subject(int(row.id)) in already:
            continue
        expected = row.late_at - rules.late_after  # the planned start (capped by the window), else the window start
        late_minutes = int((now - expected).total_seconds() // 60)
        since = "its planned start" if expected != row.window_start else "its window opened"
        if _raise_for_task(
            session,
            row,
            kind=AlertKind.TASK_LATE,
            message=f"任务未按时签到 / Task {row.id} not checked in {late_minutes} min after {since}",
            now=now,
            detail={
                "kind": row.kind,
                "window_start": row.window_start,
                "planned_start": row.planned_start,
                "late_at": row.late_at,
                "late_minutes": late_minutes,
            },
            staff_id=row.assignee_staff_id,
            owner_staff_id=row.assignee_staff_id,
        ):
            raised += 1
    resolved = resolve_alerts(
        session,
        kind=AlertKind.TASK_LATE,
        now=now,
        resolution=RESOLVED_CHECKED_IN,
        keep=[_subject(int(row.id)) for row in rows],
    )
    return raised, resolved


def raise_unassigned(session: Session, *, now: datetime, rules: AlertRules) -> tuple[int, int]:
    """A task due to start within `unassigned_within` and still nobody's: TASK_UNASSIGNED for the coordinators;
    resolved once someone is assigned or the task ends. Returns (raised, resolved)."""
    rows = session.execute(
        text(
            "SELECT id, resident_id, area_path, priority, kind, window_start FROM task"
            " WHERE status = 'planned' AND assignee_staff_id IS NULL AND window_start IS NOT NULL"
            " AND window_start <= :horizon AND (window_end IS NULL OR window_end > :now)"
            " ORDER BY window_start, id"
        ),
        {"horizon": now + rules.unassigned_within, "now": now},
    ).all()
    raised = 0
    already = _open_subjects(session, AlertKind.TASK_UNASSIGNED)
    for row in rows:
        if _subject(int(row.id)) in already:
            continue
        if _raise_for_task(
            session,
            row,
            kind=AlertKind.TASK_UNASSIGNED,
            message=f"任务即将开始但无人接单 / Task {row.id} starts soon and nobody is assigned",
            now=now,
            detail={"kind": row.kind, "window_start": row.window_start},
        ):
            raised += 1
    # Resolved when the condition ended (assigned, or the task ended), not merely because the task is more than
    # `unassigned_within` away: a leave or a plan raises this alert for a task of a later hour or of tomorrow.
    handled = session.execute(
        text(
            "SELECT a.subject_key FROM alert a LEFT JOIN task t ON t.id = a.task_id"
            " WHERE a.kind = :kind AND a.state <> 'resolved' AND (t.id IS NULL OR t.status <> 'planned'"
            " OR t.assignee_staff_id IS NOT NULL OR (t.window_end IS NOT NULL AND t.window_end <= :now))"
        ),
        {"kind": str(AlertKind.TASK_UNASSIGNED), "now": now},
    ).scalars()
    resolved = resolve_alerts(
        session,
        kind=AlertKind.TASK_UNASSIGNED,
        now=now,
        resolution=RESOLVED_ASSIGNED,
        subject_keys=[str(key) for key in handled],
    )
    return raised, resolved


UNACKNOWLEDGED = """
SELECT t.id, t.resident_id, t.assignee_staff_id, t.area_path, t.priority, t.kind, t.published_at, t.version
FROM task t
WHERE t.status = 'published' AND t.accepted_at IS NULL AND t.assignee_staff_id IS NOT NULL
  AND (t.kind = 'urgent_visit' OR t.priority = 1)
  AND greatest(t.published_at, t.assigned_at) <= :cutoff
  AND (t.acknowledged_at IS NULL OR t.acknowledged_at < greatest(t.published_at, t.assigned_at))
ORDER BY t.published_at, t.id
"""
"""Urgent tasks sent to a caregiver (published to them, or given to them since) who has neither acknowledged nor
accepted them (nor gone en route or checked in: those leave `published`) within the threshold."""


def raise_unacknowledged(session: Session, *, now: datetime, rules: AlertRules) -> tuple[int, int]:
    """An urgent task (urgent visit or priority 1) sent to a caregiver and not acknowledged (nor accepted, en route
    or checked in) within `urgent_ack` (`urgent_ack_minutes`): TASK_NOT_ACKNOWLEDGED for the coordinators and the
    operators (severity 1); resolved once the caregiver acknowledges or moves on, or the task leaves them.
    Returns (raised, resolved)."""
    rows = session.execute(text(UNACKNOWLEDGED), {"cutoff": now - rules.urgent_ack}).all()
    raised = 0
    already = _open_subjects(session, AlertKind.TASK_NOT_ACKNOWLEDGED)
    for row in rows:
        if _subject(int(row.id)) in already:
            continue
        minutes = int((now - row.published_at).total_seconds() // 60) if row.published_at else None
        if _raise_for_task(
            session,
            row,
            kind=AlertKind.TASK_NOT_ACKNOWLEDGED,
            message=f"紧急任务护理员未确认 / Urgent task {row.id} not acknowledged by its caregiver"
            f" ({minutes} min after it was sent)",
            now=now,
            detail={"kind": row.kind, "published_at": row.published_at, "version": int(row.version)},
            staff_id=row.assignee_staff_id,
        ):
            raised += 1
    resolved = resolve_alerts(
        session,
        kind=AlertKind.TASK_NOT_ACKNOWLEDGED,
        now=now,
        resolution=RESOLVED_ACKNOWLEDGED,
        keep=[_subject(int(row.id)) for row in rows],
    )
    return raised, resolved


def resolve_handled_missed(session: Session, *, now: datetime) -> int:
    """A TASK_MISSED alert whose task was taken up again (a new task follows it up, or it left `missed`) is
    resolved. (The coordinator may also resolve it by hand with the escalation's reason.)"""
    subjects = session.execute(
        text(
            "SELECT a.subject_key FROM alert a JOIN task t ON t.id = a.task_id"
            " WHERE a.kind = :kind AND a.state <> 'resolved'"
            " AND (t.status <> 'missed' OR EXISTS (SELECT 1 FROM task f WHERE f.follow_up_of = t.id))"
        ),
        {"kind": str(AlertKind.TASK_MISSED)},
    ).scalars()
    keys = [str(s) for s in subjects]
    if not keys:
        return 0
    return resolve_alerts(session, kind=AlertKind.TASK_MISSED, now=now, resolution=RESOLVED_HANDLED, subject_keys=keys)


def task_alerts(session: Session, *, now: datetime, rules: AlertRules) -> dict[str, int]:
    """One pass of the task rules (caller commits): missed first, then late and unassigned."""
    missed = mark_missed(session, now=now, rules=rules)
    late_raised, late_resolved = raise_late(session, now=now, rules=rules)
    unassigned_raised, unassigned_resolved = raise_unassigned(session, now=now, rules=rules)
    handled = resolve_handled_missed(session, now=now)
    unacknowledged_raised, unacknowledged_resolved = raise_unacknowledged(session, now=now, rules=rules)
    return {
        "unacknowledged_raised": unacknowledged_raised,
        "unacknowledged_resolved": unacknowledged_resolved,
        "missed": len(missed),
        "late_raised": late_raised,
        "late_resolved": late_resolved,
        "unassigned_raised": unassigned_raised,
        "unassigned_resolved": unassigned_resolved,
        "missed_resolved": handled,
    }


# --- coverage -------------------------------------------------------------------------------------------------------


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        datetime.combine(first, time(0), tzinfo=LOCAL_TIMEZONE).astimezone(UTC),
        datetime.combine(following, time(0), tzinfo=LOCAL_TIMEZONE).astimezone(UTC),
    )


def coverage(session: Session, *, area_path: str, month: date, now: datetime) -> list[dict[str, Any]]:
    """Per community under `area_path`: this month's visits due so far (window ended, not cancelled or suspended)
    and done (completed), and their ratio (1.0 when none is due yet). The month is the local month of `month`."""
    start, end = _month_bounds(month)
    rows = session.execute(
        text(
            "SELECT a.id AS area_id, a.path, a.name,"
            " count(t.id) FILTER (WHERE t.status NOT IN ('cancelled', 'suspended')) AS due,"
            " count(t.id) FILTER (WHERE t.status = 'completed') AS done"
            " FROM area a LEFT JOIN task t ON t.area_id = a.id AND t.kind = 'visit'"
            "  AND t.window_start >= :start AND t.window_start < :end AND t.window_end <= :now"
            " WHERE a.level = 'community' AND a.path LIKE :path || '%'"
            " GROUP BY a.id, a.path, a.name ORDER BY a.path"
        ),
        {"start": start, "end": end, "now": now, "path": area_path},
    ).all()
    return [
        {
            "area_id": int(row.area_id),
            "area_path": row.path,
            "name": row.name,
            "month": f"{month:%Y-%m}",
            "due": int(row.due),
            "done": int(row.done),
            "ratio": round(int(row.done) / int(row.due), 4) if row.due else 1.0,
        }
        for row in rows
    ]


def coverage_alerts(session: Session, *, now: datetime, rules: AlertRules) -> dict[str, int]:
    """COVERAGE_BEHIND per community whose done/due visits this month fall below the ratio; resolved on recovery."""
    month = now.astimezone(LOCAL_TIMEZONE).date().replace(day=1)
    behind: list[str] = []
    raised = 0
    for row in coverage(session, area_path="/", month=month, now=now):
        if row["due"] == 0 or row["ratio"] >= rules.coverage_behind_ratio:
            continue
        subject = f"coverage:{row['area_id']}:{row['month']}"
        behind.append(subject)
        if raise_alert(
            session,
            kind=AlertKind.COVERAGE_BEHIND,
            subject_key=subject,
            message=(
                f"{row['name']} 本月探访完成率 {row['ratio']:.0%} / Visit coverage this month"
                f" {row['done']}/{row['due']}"
            ),
            now=now,
            area_id=row["area_id"],
            detail={
                "due": row["due"],
                "done": row["done"],
                "ratio": row["ratio"],
                "month": row["month"],
                "threshold": rules.coverage_behind_ratio,
            },
        ):
            raised += 1
    resolved = resolve_alerts(
        session, kind=AlertKind.COVERAGE_BEHIND, now=now, resolution=RESOLVED_COVERAGE, keep=behind
    )
    return {"behind": len(behind), "raised": raised, "resolved": resolved}
