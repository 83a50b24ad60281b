"""The caregiver's side of a task's life (their own tasks only): accept, en route, check in, complete with
findings, nobody answers at the door. `at` is when it happened on the phone (the app syncs later when offline):
accepted within [now − 24 h, now + 2 min] and not before the previous step; the server's time goes in the trace
detail (`received_at`). A task raised by an alarm reports each step on the alarm's trace."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from eldercare_platform.alarms import service as alarm_service
from eldercare_platform.alerts import service as alert_service
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.tasks import photos
from eldercare_platform.tasks.checklists import MEAL_OUTCOMES, PROBLEM_CATEGORIES, checklist_for, unknown_items
from eldercare_platform.tasks.models import EngineReason, TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.tasks.moments import when
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M, distance_m
from eldercare_platform.tasks.schemas import CompleteRequest, NoAnswerRequest
from eldercare_platform.tasks.service import (
    TaskRuleError,
    TaskStateConflictError,
    create_follow_up,
    lock_task,
    record_event,
    refuse,
    transition,
)
from eldercare_platform.users.models import User

AT_THE_DOOR = frozenset({TaskStatus.PUBLISHED, TaskStatus.EN_ROUTE, TaskStatus.CHECKED_IN})
ACKNOWLEDGEABLE = frozenset(
    {TaskStatus.PUBLISHED, TaskStatus.EN_ROUTE, TaskStatus.CHECKED_IN, TaskStatus.COMPLETED, TaskStatus.MISSED}
)
"""A task on the caregiver's list (a change of a closed one, e.g. a note, may be acknowledged too)."""


def _progress(session: Session, *, task: Any, user: User, status: TaskStatus, now: datetime, **detail: Any) -> None:
    """A task about an alarm: the step on the alarm's trace too."""
    if task.alarm_id is not None:
        alarm_service.record_visit_progress(
            session,
            alarm_id=int(task.alarm_id),
            task_id=int(task.id),
            status=str(status),
            staff_id=user.staff_id,
            now=now,
            detail={key: value.isoformat() if isinstance(value, datetime) else value for key, value in detail.items()},
        )


def accept(session: Session, *, user: User, task_id: int, at: datetime | None, now: datetime) -> None:
    """The caregiver takes a published task (status stays published; `accepted_at` is set)."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    if task.status == TaskStatus.PUBLISHED and task.accepted_at is not None:
        raise TaskStateConflictError(f"task {task_id} is already accepted", task_status=task.status)
    moment = when(at, now=now)
    transition(
        session,
        task=task,
        action=TaskAction.ACCEPTED,
        to_status=TaskStatus.PUBLISHED,
        allowed_from={TaskStatus.PUBLISHED},
        now=now,
        at=moment,
        user_id=user.id,
        staff_id=user.staff_id,
        detail={"received_at": now.isoformat()},
        set_sql="accepted_at = :at",
        params={"at": moment},
    )
    _progress(session, task=task, user=user, status=TaskStatus.PUBLISHED, now=now, step="accepted", at=moment)


def en_route(session: Session, *, user: User, task_id: int, at: datetime | None, now: datetime) -> None:
    """published → en_route (accepting it too if it was not)."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    moment = when(at, now=now, after=task.accepted_at)
    transition(
        session,
        task=task,
        action=TaskAction.EN_ROUTE,
        to_status=TaskStatus.EN_ROUTE,
        allowed_from={TaskStatus.PUBLISHED},
        now=now,
        at=moment,
        user_id=user.id,
        staff_id=user.staff_id,
        detail={"received_at": now.isoformat()},
        set_sql="en_route_at = :at, accepted_at = coalesce(t.accepted_at, :at)",
        params={"at": moment},
    )
    _progress(session, task=task, user=user, status=TaskStatus.EN_ROUTE, now=now, step="en_route", at=moment)


def check_in(
    session: Session,
    *,
    user: User,
    task_id: int,
    latitude: float,
    longitude: float,
    at: datetime | None,
    now: datetime,
    verified_within_m: float = VERIFIED_WITHIN_M,
) -> bool | None:
    """published / en_route → checked_in at a place (EVV start). Farther than `verified_within_m` (the setting
    `checkin_verified_within_m`, 200 m) from the home is accepted but flagged (`location_verified` false, the
    distance on the record). Returns that flag (None: the home has no coordinates)."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    moment = when(at, now=now, after=task.en_route_at or task.accepted_at)
    metres = distance_m(task.home_latitude, task.home_longitude, latitude, longitude)
    verified = None if metres is None else metres <= verified_within_m
    transition(
        session,
        task=task,
        action=TaskAction.CHECKED_IN,
        to_status=TaskStatus.CHECKED_IN,
        allowed_from={TaskStatus.PUBLISHED, TaskStatus.EN_ROUTE},
        now=now,
        at=moment,
        user_id=user.id,
        staff_id=user.staff_id,
        detail={
            "received_at": now.isoformat(),
            "latitude": latitude,
            "longitude": longitude,
            "distance_m": metres,
            "location_verified": verified,
            "verified_within_m": verified_within_m,
        },
        set_sql="checked_in_at = :at, check_in_latitude = :lat, check_in_longitude = :lon,"
        " accepted_at = coalesce(t.accepted_at, :at)",
        params={"at": moment, "lat": latitude, "lon": longitude},
    )
    _progress(
        session, task=task, user=user, status=TaskStatus.CHECKED_IN, now=now, at=moment, location_verified=verified
    )
    return verified


def complete(
    session: Session, *, user: User, task_id: int, request: CompleteRequest, now: datetime, follow_up_within_hours: int
) -> int | None:
    """checked_in → completed (EVV end, check-out place, findings). A problem found makes a follow-up task
    (FOLLOW_UP, source FINDING, priority 2, within `follow_up_within_hours`) and an alert FOLLOW_UP_OPEN on it;
    a follow-up of a finding completed with no new problem resolves its alert. Returns the follow-up's id."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    check_findings(session, task=task, request=request)
    moment = when(request.at, now=now, after=task.checked_in_at)
    metres = distance_m(task.home_latitude, task.home_longitude, request.latitude, request.longitude)
    findings = request.findings.model_dump(mode="json") | {"problem": request.problem}
    transition(
        session,
        task=task,
        action=TaskAction.COMPLETED,
        to_status=TaskStatus.COMPLETED,
        allowed_from={TaskStatus.CHECKED_IN},
        now=now,
        at=moment,
        user_id=user.id,
        staff_id=user.staff_id,
        detail={
            "received_at": now.isoformat(),
            "latitude": request.latitude,
            "longitude": request.longitude,
            "distance_m": metres,
            "problem_found": request.problem_found,
        },
        set_sql="completed_at = :at, check_out_latitude = :lat, check_out_longitude = :lon,"
        " findings = CAST(:findings AS jsonb), problem_found = :problem",
        params={
            "at": moment,
            "lat": request.latitude,
            "lon": request.longitude,
            "findings": json.dumps(findings, ensure_ascii=False),
            "problem": request.problem_found,
        },
    )
    follow_up_id: int | None = None
    if request.problem_found and task.resident_id is not None:
        follow_up_id = create_follow_up(
            session,
            resident_id=int(task.resident_id),
            source=TaskSource.FINDING,
            now=now,
            within_hours=follow_up_within_hours,
            slot=f"finding:{task_id}",
            follow_up_of=task_id,
            notes=f"[{request.findings.problem_category}] {request.problem or request.findings.notes}",
            user_id=user.id,
            reason=f"problem found on task {task_id}",
        )
        if follow_up_id is not None:
            alert_service.raise_alert(
                session,
                kind=AlertKind.FOLLOW_UP_OPEN,
                subject_key=f"task:{follow_up_id}",
                message=f"problem found on task {task_id}: follow-up task {follow_up_id} open",
                now=now,
                severity=2,
                task_id=follow_up_id,
                resident_id=int(task.resident_id),
                detail={
                    "found_on_task_id": task_id,
                    "problem": request.problem,
                    "problem_category": request.findings.problem_category,
                },
            )
            transition_note(session, task=task, user=user, now=now, follow_up_id=follow_up_id)
    if task.kind == TaskKind.FOLLOW_UP and task.source == TaskSource.FINDING:
        alert_service.resolve_alerts(
            session,
            kind=AlertKind.FOLLOW_UP_OPEN,
            now=now,
            resolution=(
                f"follow-up done; the problem continues in task {follow_up_id}"
                if follow_up_id
                else "follow-up done, no new problem"
            ),
            subject_keys=[f"task:{task_id}"],
        )
    _progress(
        session,
        task=task,
        user=user,
        status=TaskStatus.COMPLETED,
        now=now,
        at=moment,
        findings=findings,
        problem_found=request.problem_found,
        follow_up_task_id=follow_up_id,
    )
    return follow_up_id


def check_findings(session: Session, *, task: Any, request: CompleteRequest) -> None:
    """The visit record's rules (422 with a code): a problem found needs a description (`problem_required`) and a
    category (`problem_category_required`); checklist keys must be on the task's checklist
    (`unknown_checklist_item`); a meal delivery needs its outcome (`meal_outcome_required`), other tasks have
    none (`meal_outcome_not_applicable`); photos must be this task's (`unknown_photo`)."""
    findings = request.findings
    if request.problem_found and not (request.problem or findings.notes):
        raise TaskRuleError("a problem found needs a description (problem or findings.notes)", code="problem_required")
    if request.problem_found and findings.problem_category is None:
        raise TaskRuleError(
            "a problem found needs findings.problem_category",
            code="problem_category_required",
            allowed=list(PROBLEM_CATEGORIES),
        )
    unknown = unknown_items(str(task.kind), task.service, dict(findings.checklist))
    if unknown:
        raise TaskRuleError(
            f"not on this task's checklist: {', '.join(unknown)}",
            code="unknown_checklist_item",
            items=unknown,
            allowed=[item.key for item in checklist_for(str(task.kind), task.service)],
        )
    if task.kind == TaskKind.MEAL_DELIVERY and findings.meal_outcome is None:
        raise TaskRuleError(
            "a meal delivery is completed with findings.meal_outcome (nobody home: no-answer)",
            code="meal_outcome_required",
            allowed=list(MEAL_OUTCOMES),
        )
    if task.kind != TaskKind.MEAL_DELIVERY and findings.meal_outcome is not None:
        raise TaskRuleError("only a meal delivery has a meal_outcome", code="meal_outcome_not_applicable")
    if findings.photo_ids:
        missing = photos.missing(session, task_id=int(task.id), photo_ids=findings.photo_ids)
        if missing:
            raise TaskRuleError(f"not photos of task {task.id}: {missing}", code="unknown_photo", photo_ids=missing)


def acknowledge(
    session: Session, *, user: User, task_id: int, version: int, at: datetime | None, now: datetime
) -> bool:
    """The caregiver saw the task's change of `version` (on their list or pushed live): the task records
    `acknowledged_at` / `acknowledged_version` and its trace a line `acknowledged`. A version no newer than the
    one acknowledged already changes nothing (False). 422 `version_unknown` for a version the task never had."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    if version > int(task.version):
        raise TaskRuleError(
            f"task {task_id} has no version {version} yet", code="version_unknown", current_version=int(task.version)
        )
    if task.acknowledged_version is not None and version <= int(task.acknowledged_version):
        return False
    moment = when(at, now=now)
    status = TaskStatus(task.status)
    transition(
        session,
        task=task,
        action=TaskAction.ACKNOWLEDGED,
        to_status=status,
        allowed_from=ACKNOWLEDGEABLE,
        now=now,
        at=moment,
        user_id=user.id,
        staff_id=user.staff_id,
        detail={"received_at": now.isoformat(), "version": version},
        set_sql="acknowledged_at = :at, acknowledged_version = :acked",
        params={"at": moment, "acked": version},
    )
    return True


def transition_note(session: Session, *, task: Any, user: User, now: datetime, follow_up_id: int) -> None:
    """The follow-up's id on the visit's trace."""
    record_event(
        session,
        task_id=int(task.id),
        action=TaskAction.FOLLOW_UP_CREATED,
        from_status=TaskStatus.COMPLETED,
        to_status=TaskStatus.COMPLETED,
        now=now,
        user_id=user.id,
        staff_id=user.staff_id,
        detail={"follow_up_task_id": follow_up_id},
    )


def no_answer(session: Session, *, user: User, task_id: int, request: NoAnswerRequest, now: datetime) -> int | None:
    """At the door nobody answers: the task → missed (reason `no_answer`) and a welfare call
    (`visit_no_answer`) in the operators' queue. Returns the welfare call's alarm id (None: one is open)."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    if TaskStatus(task.status) not in AT_THE_DOOR:
        raise refuse(task_id, task.status, "reported as not answered")
    moment = when(request.at, now=now, after=task.en_route_at or task.accepted_at)
    welfare_id = None
    if task.resident_id is not None:
        welfare_id = alarm_service.open_welfare_call(
            session,
            alarm_type="visit_no_answer",
            resident_id=int(task.resident_id),
            task_id=task_id,
            now=now,
            reason=request.note,
        )
    metres = distance_m(task.home_latitude, task.home_longitude, request.latitude, request.longitude)
    transition(
        session,
        task=task,
        action=TaskAction.NO_ANSWER,
        to_status=TaskStatus.MISSED,
        allowed_from=AT_THE_DOOR,
        now=now,
        at=moment,
        user_id=user.id,
        staff_id=user.staff_id,
        reason=EngineReason.NO_ANSWER,
        detail={
            "received_at": now.isoformat(),
            "note": request.note,
            "latitude": request.latitude,
            "longitude": request.longitude,
            "distance_m": metres,
            "welfare_alarm_id": welfare_id,
        },
    )
    _progress(
        session, task=task, user=user, status=TaskStatus.MISSED, now=now, step="no_answer", welfare_alarm_id=welfare_id
    )
    return welfare_id
