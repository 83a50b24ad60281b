"""The care_plans domain's service functions: assessments, care plan versions, the state a resident is in.

Keyword-only arguments; `now` from the injected clock; they flush, never commit (the caller's transaction
decides). Temporary states are in `states.py`, the reassessment job in `jobs.py`. Other domains call
`state_at` (alarms read it) and the SQL fragment `PLAN_VALID_ON` (the task generator and the meal job).
"""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.alerts.service import resolve_alerts
from eldercare_platform.audit.service import record
from eldercare_platform.care_plans import scale
from eldercare_platform.care_plans.models import StateKind
from eldercare_platform.care_plans.schemas import (
    AssessmentCreate,
    AssessmentOut,
    LevelBandOut,
    ScaleDomainOut,
    ScaleItemOut,
    ScaleOut,
    StateBrief,
)
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.errors import NotFoundError, UnprocessableError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.tasks.models import TaskAction, TaskKind, TaskStatus
from eldercare_platform.tasks.service import move_each
from eldercare_platform.users.models import User

PLAN_VALID_ON = "cp.valid_from <= :day AND (cp.valid_to IS NULL OR cp.valid_to >= :day) AND cp.superseded_by IS NULL"
"""A care plan (alias `cp`) valid on the date `:day`: at most one per resident."""

REASON_ASSESSED = "assessed"  # a reassessment task or overdue alert ended because an assessment was recorded
MAJOR_EVENT_DAYS = 30  # a discharge or fall with injury this recent makes a resident high-risk
AWAY_KINDS = frozenset({StateKind.HOSPITAL, StateKind.AWAY_WITH_FAMILY})


class ResidentNotFoundError(NotFoundError):
    """No such resident in the user's scope (404 `resident_not_found`)."""

    code = "resident_not_found"


class CarePlanRuleError(UnprocessableError):
    """The request breaks a care-plan rule (422; `code` names it, context fields say what)."""

    code = "care_plan_rule_broken"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def resident_row(session: Session, *, user: User | None, resident_id: int, lock: bool = False) -> Any:
    """The resident (id, household, categories, level, status, area) in the user's scope (`None` user: the system);
    `ResidentNotFoundError` otherwise. `lock` takes the row lock that serialises plan and state changes."""
    clause, params = "", {}
    if user is not None:
        scope = scope_of(session, user)
        if not scope.unrestricted:
            clause, params = f" AND {scope.residents_sql('r')}", scope.params
    row = session.execute(
        text(
            "SELECT r.id, r.household_id, r.categories, r.capability_level, r.status, r.reassessment_due_on,"
            " r.capability_assessed_on, h.area_id FROM resident r JOIN household h ON h.id = r.household_id"
            f" WHERE r.id = :id{clause}{' FOR UPDATE OF r' if lock else ''}"
        ),
        {**params, "id": resident_id},
    ).first()
    if row is None:
        raise ResidentNotFoundError(f"resident {resident_id} not found in your scope")
    return row


# --- the state a resident is in -------------------------------------------------------------------------------


def state_at(session: Session, *, resident_id: int, at: datetime) -> StateBrief | None:
    """The state in force for the resident at `at` (started, not ended), the latest started; None if none."""
    row = session.execute(
        text(
            "SELECT id, kind, starts_at, ends_at FROM resident_state WHERE resident_id = :r AND starts_at <= :at"
            " AND (ends_at IS NULL OR ends_at > :at) ORDER BY starts_at DESC, id DESC LIMIT 1"
        ),
        {"r": resident_id, "at": at},
    ).first()
    if row is None:
        return None
    return StateBrief(id=row.id, kind=StateKind(row.kind), since=row.starts_at, until=row.ends_at)


# --- assessments ----------------------------------------------------------------------------------------------


def scale_out() -> ScaleOut:
    """The scale for the assessment form."""
    bands = scale.LEVEL_BANDS
    return ScaleOut(
        standard=scale.STANDARD,
        total_max=scale.TOTAL_MAX,
        domains=[
            ScaleDomainOut(
                code=d.code,
                ref=d.ref,
                label_zh=d.zh,
                label_en=d.en,
                max_score=d.max_score,
                items=[
                    ScaleItemOut(
                        code=i.code,
                        ref=i.ref,
                        min_score=i.min_score,
                        max_score=i.max_score,
                        label_zh=i.zh,
                        label_en=i.en,
                    )
                    for i in d.items
                ],
            )
            for d in scale.DOMAINS
        ],
        levels=[
            LevelBandOut(
                level=level,
                min_total=lowest,
                max_total=scale.TOTAL_MAX if n == 0 else bands[n - 1][0] - 1,
                label_zh=scale.LEVEL_LABELS[level][0],
                label_en=scale.LEVEL_LABELS[level][1],
            )
            for n, (lowest, level) in enumerate(bands)
        ],
        adjustments=[str(a) for a in scale.LevelAdjustment],
    )


_ASSESSMENT_COLUMNS = (
    "id, resident_id, assessed_on, reason, standard, assessor_name, assessor_staff_id, items, domain_scores,"
    " total_score, preliminary_level, level_adjustments, level, notes, recorded_at, recorded_by"
)


def record_assessment(
    session: Session, *, user: User, resident_id: int, data: AssessmentCreate, now: datetime, reassessment_months: int
) -> AssessmentOut:
    """Score and store an assessment; the newest one sets the resident's level and next reassessment date,
    resolves the overdue alert and cancels reassessment tasks not yet under way (reason `assessed`)."""
    resident = resident_row(session, user=user, resident_id=resident_id, lock=True)
    problems = scale.validate_items(data.items)
    if problems:
        raise CarePlanRuleError(
            "the assessment items are incomplete or out of range: "
            + "; ".join(
                f"{what}: {', '.join(codes)}"
                for what, codes in (
                    ("missing", problems.missing),
                    ("unknown", problems.unknown),
                    ("out of range", problems.out_of_range),
                )
                if codes
            ),
            code="invalid_assessment_items",
            missing=list(problems.missing),
            unknown=list(problems.unknown),
            out_of_range=list(problems.out_of_range),
        )
    if data.assessed_on > local_date(now):
        raise CarePlanRuleError("an assessment cannot be dated in the future", code="assessed_on_in_future")
    result = scale.score(data.items, data.adjustments)
    row = session.execute(
        text(
            "INSERT INTO assessment (resident_id, assessed_on, reason, standard, assessor_name, assessor_staff_id,"
            " items, domain_scores, total_score, preliminary_level, level_adjustments, level, notes, recorded_at,"
            " recorded_by) VALUES (:r, :on, :reason, :standard, :assessor, :staff, CAST(:items AS jsonb),"
            " CAST(:domains AS jsonb), :total, :preliminary, :adjustments, :level, :notes, :now, :user)"
            f" RETURNING {_ASSESSMENT_COLUMNS}"
        ),
        {
            "r": resident_id,
            "on": data.assessed_on,
            "reason": str(data.reason),
            "standard": scale.STANDARD,
            "assessor": data.assessor_name,
            "staff": data.assessor_staff_id,
            "items": json.dumps({code: data.items[code] for code in scale.ITEMS}),
            "domains": json.dumps(result.domain_scores),
            "total": result.total,
            "preliminary": str(result.preliminary_level),
            "adjustments": [str(a) for a in result.adjustments],
            "level": str(result.level),
            "notes": data.notes,
            "now": now,
            "user": user.id,
        },
    ).one()
    newest = resident.capability_assessed_on is None or data.assessed_on >= resident.capability_assessed_on
    if newest:
        session.execute(
            text(
                "UPDATE resident SET capability_level = :level, capability_assessed_on = :on,"
                " reassessment_due_on = :due, updated_at = :now WHERE id = :r"
            ),
            {
                "level": str(result.level),
                "on": data.assessed_on,
                "due": add_months(data.assessed_on, reassessment_months),
                "now": now,
                "r": resident_id,
            },
        )
        resolve_alerts(
            session,
            kind=AlertKind.REASSESSMENT_OVERDUE,
            now=now,
            resolution=REASON_ASSESSED,
            subject_keys=[f"resident:{resident_id}"],
        )
        _cancel_reassessment_tasks(session, resident_id=resident_id, assessment_id=int(row.id), now=now, user=user)
    record(
        session,
        user_id=user.id,
        action="create",
        entity="assessment",
        entity_id=int(row.id),
        detail={"resident_id": resident_id, "total": result.total, "level": str(result.level), "newest": newest},
    )
    return AssessmentOut.model_validate(dict(row._mapping))


def _cancel_reassessment_tasks(
    session: Session, *, resident_id: int, assessment_id: int, now: datetime, user: User
) -> None:
    """Reassessment tasks nobody has started (planned, assigned, published, suspended) are cancelled: the
    assessment is done. One already en route or checked in is left to its worker to complete."""
    waiting = {TaskStatus.PLANNED, TaskStatus.ASSIGNED, TaskStatus.PUBLISHED, TaskStatus.SUSPENDED}
    ids = session.execute(
        text("SELECT id FROM task WHERE resident_id = :r AND kind = :kind AND status = ANY(:waiting) ORDER BY id"),
        {"r": resident_id, "kind": str(TaskKind.REASSESSMENT), "waiting": [str(s) for s in waiting]},
    ).scalars()
    move_each(
        session,
        task_ids=ids,
        action=TaskAction.CANCELLED,
        to_status=TaskStatus.CANCELLED,
        allowed_from=waiting,
        now=now,
        user_id=user.id,
        reason=REASON_ASSESSED,
        detail={"assessment_id": assessment_id},
    )


def list_assessments(session: Session, *, user: User, resident_id: int) -> list[AssessmentOut]:
    """The resident's assessments, newest first."""
    resident_row(session, user=user, resident_id=resident_id)
    rows = session.execute(
        text(f"SELECT {_ASSESSMENT_COLUMNS} FROM assessment WHERE resident_id = :r ORDER BY assessed_on DESC, id DESC"),
        {"r": resident_id},
    )
    return [AssessmentOut.model_validate(dict(row._mapping)) for row in rows]


def major_event(session: Session, *, resident_id: int, now: datetime) -> None:
    """A major event (a fall with injury; a hospital discharge records its own): the reassessment is due today
    (local date) unless it already was; the reassessment job makes the task and, once overdue, the alert."""
    session.execute(
        text(
            "UPDATE resident SET reassessment_due_on = least(coalesce(reassessment_due_on, :day), :day),"
            " updated_at = :now WHERE id = :r"
        ),
        {"r": resident_id, "day": local_date(now), "now": now},
    )
