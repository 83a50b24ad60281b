"""The care_plans domain's scheduled jobs (see scheduler/registry.py).

`reassessments` (interval `daily_alerts_seconds`, switch `daily_alerts_enabled`): active residents whose
reassessment is due within 14 days get a reassessment task (one per due date: slot `reassessment:<due>`);
once the due date has passed with no newer assessment, a `reassessment_overdue` alert is raised; alerts of
residents no longer overdue (assessed, moved, deceased) are resolved by the rule.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.alerts.service import raise_alert, resolve_alerts
from eldercare_platform.core.clock import LOCAL_TIMEZONE, Clock, local_date
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn
from eldercare_platform.tasks.models import NORMAL, TaskKind, TaskSource
from eldercare_platform.tasks.service import create_task

LEAD_DAYS = 14  # a reassessment task exists from this many days before the due date
REASSESSMENT_SERVICE = "reassessment"
REASON_NOT_OVERDUE = "reassessment_not_overdue"


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TIMEZONE)


def reassessments(session: Session, *, now: datetime) -> dict[str, int]:
    """Create due reassessment tasks, raise overdue alerts, resolve the others (caller commits); idempotent."""
    today = local_date(now)
    due = session.execute(
        text(
            "SELECT id, reassessment_due_on FROM resident WHERE status = 'active'"
            " AND reassessment_due_on IS NOT NULL AND reassessment_due_on <= :horizon ORDER BY id"
        ),
        {"horizon": today + timedelta(days=LEAD_DAYS)},
    ).all()
    created = 0
    overdue: list[str] = []
    raised = 0
    for resident_id, due_on in due:
        task_id = create_task(
            session,
            kind=TaskKind.REASSESSMENT,
            source=TaskSource.ASSESSMENT,
            now=now,
            window_start=_local_midnight(due_on - timedelta(days=LEAD_DAYS)),
            window_end=_local_midnight(due_on + timedelta(days=1)),
            resident_id=int(resident_id),
            service=REASSESSMENT_SERVICE,
            slot=f"reassessment:{due_on.isoformat()}",
            duration_minutes=60,
            priority=NORMAL,
            notes="能力评估到期 capability reassessment due (GB/T 42195-2022)",
            reason="reassessment_due",
        )
        created += task_id is not None
        if due_on < today:
            subject = f"resident:{resident_id}"
            overdue.append(subject)
            raised += (
                raise_alert(
                    session,
                    kind=AlertKind.REASSESSMENT_OVERDUE,
                    subject_key=subject,
                    message=f"能力评估逾期 reassessment overdue since {due_on.isoformat()}",
                    now=now,
                    resident_id=int(resident_id),
                    detail={"due_on": due_on.isoformat(), "days_overdue": (today - due_on).days},
                )
                is not None
            )
    resolved = resolve_alerts(
        session, kind=AlertKind.REASSESSMENT_OVERDUE, now=now, resolution=REASON_NOT_OVERDUE, keep=overdue
    )
    return {"tasks_created": created, "alerts_raised": raised, "alerts_resolved": resolved}


def _reassessments(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def job(session: Session, fire_time: datetime) -> str:
        return str(reassessments(session, now=clock.now()))

    return job


JOBS: list[JobSpec] = [
    JobSpec(
        name="reassessments",
        interval_setting="daily_alerts_seconds",
        enabled_setting="daily_alerts_enabled",
        build=_reassessments,
    )
]
