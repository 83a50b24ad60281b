"""Scheduler jobs of the alarm center: escalation of unanswered alarms, substitute cover for silent devices.

Both take `now` from the caller, so tests drive them with a controllable clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from eldercare_platform.alarms.service import create_task, record_transition
from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.core.scope import scope_of
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn
from eldercare_platform.users.models import Role, User


@dataclass(frozen=True)
class EscalationPolicy:
    """When an unacknowledged alarm re-alerts every operator, and when the supervisor on duty is told."""

    realert_after: timedelta = timedelta(seconds=30)
    supervisor_after: timedelta = timedelta(seconds=90)


# Trace reasons the system writes are codes (pages translate them, with the parameters in `detail`); the same
# code is repeated as `detail.reason_code` so a page never mistakes an operator's free-text note for a code.
REASON_REALERT = "escalation_realert"  # nobody acknowledged: every operator is alerted again
REASON_SUPERVISOR = "escalation_supervisor"  # still unanswered: the supervisors in scope are notified
REASON_SUBSTITUTE_COVER = "device_silent_substitute_cover"  # JGJ/T 484: silent > 2 h, substitute or manual cover


def escalate(session: Session, *, now: datetime, policy: EscalationPolicy) -> dict[str, int]:
    """Raise the escalation level of alarms still `new` past each threshold (caller commits); idempotent."""
    realerted = (
        session.execute(
            text(
                "UPDATE alarm SET escalation_level = 1, escalated_at = :now, version = nextval('alarm_version_seq')"
                " WHERE state = 'new' AND escalation_level = 0 AND opened_at <= :cutoff RETURNING id"
            ),
            {"now": now, "cutoff": now - policy.realert_after},
        )
        .scalars()
        .all()
    )
    for alarm_id in realerted:
        record_transition(
            session,
            alarm_id=alarm_id,
            action="escalate",
            from_state="new",
            to_state="new",
            user_id=None,
            now=now,
            reason=REASON_REALERT,
            detail={"level": 1, "reason_code": REASON_REALERT, "after_s": int(policy.realert_after.total_seconds())},
        )
    supervised = session.execute(
        text(
            "UPDATE alarm SET escalation_level = 2, escalated_at = :now, version = nextval('alarm_version_seq')"
            " WHERE state = 'new' AND escalation_level < 2 AND opened_at <= :cutoff"
            " RETURNING id, area_path, type, (SELECT institution_id FROM device WHERE serial = device_serial)"
        ),
        {"now": now, "cutoff": now - policy.supervisor_after},
    ).all()
    # Admins and every supervisor whose scope covers the alarm (the one scope rule, core/scope.py).
    watchers = (
        [
            (user.id, scope_of(session, user))
            for user in session.exec(
                select(User)
                .where(col(User.active), col(User.role).in_([Role.ADMIN, Role.SUPERVISOR]))
                .order_by(col(User.id))
            )
        ]
        if supervised
        else []
    )
    for alarm_id, area_path, alarm_type, institution_id in supervised:
        told = (
            session.execute(
                text(
                    "INSERT INTO notification (user_id, alarm_id, kind, message, created_at)"
                    " SELECT u, :alarm, 'escalation', :message, :now FROM unnest(CAST(:users AS integer[])) AS u"
                    " ON CONFLICT DO NOTHING RETURNING user_id"
                ),
                {
                    "alarm": alarm_id,
                    "now": now,
                    "users": [
                        user_id
                        for user_id, scope in watchers
                        if scope.sees(area_path=area_path, institution_id=institution_id)
                    ],
                    "message": f"告警 #{alarm_id} ({alarm_type}) 超时未接 unanswered for {policy.supervisor_after}",
                },
            )
            .scalars()
            .all()
        )
        record_transition(
            session,
            alarm_id=alarm_id,
            action="escalate",
            from_state="new",
            to_state="new",
            user_id=None,
            now=now,
            reason=REASON_SUPERVISOR,
            detail={
                "level": 2,
                "notified_users": list(told),
                "reason_code": REASON_SUPERVISOR,
                "after_s": int(policy.supervisor_after.total_seconds()),
            },
        )
    return {"realerted": len(realerted), "supervisor": len(supervised)}


def flag_substitute_cover(session: Session, *, now: datetime, silent_for: timedelta = timedelta(hours=2)) -> int:
    """JGJ/T 484: a device silent beyond 2 h needs a substitute or manual cover (caller commits); idempotent."""
    flagged = session.execute(
        text(
            "UPDATE alarm a SET substitute_cover_required = true, version = nextval('alarm_version_seq')"
            " FROM device_status s WHERE a.type = 'device_silent' AND a.state <> 'resolved'"
            " AND NOT a.substitute_cover_required AND s.device_serial = a.device_serial"
            " AND NOT s.online AND s.last_seen_at <= :cutoff RETURNING a.id, a.state"
        ),
        {"cutoff": now - silent_for},
    ).all()
    for alarm_id, state in flagged:
        create_task(
            session,
            alarm_id=alarm_id,
            kind="substitute_cover",
            due=now + timedelta(hours=1),
            now=now,
            notes="设备失联超过2小时: 安排替代设备或人工照看 substitute device or manual cover",
        )
        record_transition(
            session,
            alarm_id=alarm_id,
            action="substitute_cover",
            from_state=state,
            to_state=state,
            user_id=None,
            now=now,
            reason=REASON_SUBSTITUTE_COVER,
            detail={"reason_code": REASON_SUBSTITUTE_COVER, "silent_for_s": int(silent_for.total_seconds())},
        )
    return len(flagged)


def _escalation(settings: SchedulerSettings, clock: Clock) -> JobFn:
    policy = EscalationPolicy(
        realert_after=timedelta(seconds=settings.realert_after_seconds),
        supervisor_after=timedelta(seconds=settings.supervisor_after_seconds),
    )

    def escalation(session: Session, fire_time: datetime) -> str:
        return str(escalate(session, now=clock.now(), policy=policy))

    return escalation


def _substitute_cover(settings: SchedulerSettings, clock: Clock) -> JobFn:
    def substitute_cover(session: Session, fire_time: datetime) -> str:
        return f"flagged {flag_substitute_cover(session, now=clock.now())}"

    return substitute_cover


JOBS = [
    JobSpec(
        name="alarm_escalation",
        interval_setting="escalation_check_seconds",
        enabled_setting="alarm_escalation_enabled",
        build=_escalation,
    ),
    JobSpec(
        name="substitute_cover",
        interval_setting="substitute_cover_seconds",
        enabled_setting="substitute_cover_enabled",
        build=_substitute_cover,
    ),
]
