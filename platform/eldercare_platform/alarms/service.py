"""The alarm lifecycle: every change is one UPDATE guarded by the allowed source states, plus a
transition row, in the caller's transaction. Two operators racing on one alarm: exactly one UPDATE
matches; the other gets an AlarmConflictError naming who was first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_common.contract.v1 import Downlink, FeedbackPayload, FeedbackState
from eldercare_platform.alarms import queries
from eldercare_platform.alarms.models import (
    CANCELLING_OUTCOMES,
    Action,
    AlarmState,
    CallResult,
    Outcome,
    ReachMethod,
    TraceAction,
)
from eldercare_platform.alarms.schemas import (
    ActionRequest,
    AlarmOut,
    Changes,
    HandoverItem,
    ResolveRequest,
    TransitionOut,
)
from eldercare_platform.care_plans import service as care_plan_service
from eldercare_platform.core.clock import age_on, local_date
from eldercare_platform.core.db import raw_connection
from eldercare_platform.core.downlink import enqueue_downlink
from eldercare_platform.core.errors import ConflictError, NotFoundError, UnprocessableError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.tasks import service as task_service
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_platform.users.models import User

ACTIVE = (AlarmState.ACKNOWLEDGED, AlarmState.IN_PROGRESS)
FOLLOW_UP_OUTCOMES = {Outcome.TAKEN_TO_HOSPITAL, Outcome.REFERRED}
"""Outcomes after which the resident gets a follow-up visit (as does an alarm closed as not reached)."""


class AlarmNotFoundError(NotFoundError):
    """No such alarm in the user's scope (404 `alarm_not_found`)."""

    code = "alarm_not_found"


class AlarmConflictError(ConflictError):
    """The alarm is not in a state that allows this (someone else was first, or it is closed): 409.

    `code` says which (`alarm_resolved`, `alarm_already_acknowledged`, `alarm_state_conflict`); `context`
    holds the facts for the console's own message (`state`, and `by`, `at` for who took it when).
    """

    code = "alarm_state_conflict"


class AlarmRuleError(UnprocessableError):
    """The request breaks a handling rule (e.g. closing an unreached call without dispatching): 422.

    `code` names the rule; `context` the values concerned.
    """

    code = "alarm_rule_broken"


def _out(row: Any, today: date) -> AlarmOut:
    data = dict(row._mapping)
    birth = data.pop("birth_date")
    data["resident_age"] = None if birth is None else age_on(birth, today)
    return AlarmOut.model_validate(data)


def _scope_clause(session: Session, user: User) -> tuple[str, dict[str, Any]]:
    """SQL restricting alarms (alias `a`) to the user's scope (`core/scope.py`)."""
    scope = scope_of(session, user)
    if scope.unrestricted:
        return "", {}
    return f" AND {scope.alarms_sql('a')}", scope.params


def open_queue(session: Session, *, user: User, now: datetime) -> list[AlarmOut]:
    """Unresolved alarms, most urgent first: priority, then how long they have waited."""
    clause, params = _scope_clause(session, user)
    rows = session.execute(
        text(
            queries.ALARM_SELECT + " WHERE a.state <> 'resolved'" + clause + " ORDER BY a.priority, a.opened_at, a.id"
        ),
        params,
    )
    return [_out(row, local_date(now)) for row in rows]


def changes_since(session: Session, *, user: User, version: int, now: datetime, limit: int = 500) -> list[AlarmOut]:
    """Alarms changed after `version` (a console catching up after a reconnect), oldest change first."""
    clause, params = _scope_clause(session, user)
    rows = session.execute(
        text(queries.ALARM_SELECT + " WHERE a.version > :version" + clause + " ORDER BY a.version LIMIT :limit"),
        {**params, "version": version, "limit": limit},
    )
    return [_out(row, local_date(now)) for row in rows]


def get_alarm(session: Session, *, user: User, alarm_id: int, now: datetime) -> AlarmOut:
    """One alarm in the user's scope."""
    clause, params = _scope_clause(session, user)
    row = session.execute(text(queries.ALARM_SELECT + " WHERE a.id = :id" + clause), {**params, "id": alarm_id}).first()
    if row is None:
        raise AlarmNotFoundError(f"alarm {alarm_id} not found")
    return _out(row, local_date(now))


def alarms_by_ids(session: Session, *, ids: list[int], now: datetime) -> list[AlarmOut]:
    """Alarms by id, unscoped (the live hub filters per connection)."""
    rows = session.execute(text(queries.ALARM_SELECT + " WHERE a.id = ANY(:ids) ORDER BY a.version"), {"ids": ids})
    return [_out(row, local_date(now)) for row in rows]


def latest_version(session: Session) -> int:
    """The newest alarm version (0 before the first alarm)."""
    return int(session.execute(text(queries.LATEST_VERSION)).scalar_one())


def changed_ids(session: Session, *, after: int, limit: int = 5000) -> list[int]:
    """Ids of the alarms changed after version `after`, oldest change first (unscoped: the live hub's sweep)."""
    return [int(i) for i in session.execute(text(queries.CHANGED_IDS), {"v": after, "limit": limit}).scalars()]


def changes(session: Session, *, user: User, since: int, now: datetime, limit: int = 500) -> Changes:
    """Alarms in the user's scope changed after version `since`, and the newest version."""
    alarms = changes_since(session, user=user, version=since, now=now, limit=limit)
    return Changes(alarms=alarms, version=latest_version(session))


def handover(session: Session, *, user: User, now: datetime) -> list[HandoverItem]:
    """Shift hand-over (交接班): every open alarm in the user's scope with its latest notes and actions."""
    return [
        HandoverItem(alarm=alarm, recent=trace(session, alarm_id=alarm.id)[-5:])
        for alarm in open_queue(session, user=user, now=now)
    ]


def trace(session: Session, *, alarm_id: int) -> list[TransitionOut]:
    """The alarm's full history, oldest first."""
    rows = session.execute(text(queries.TRACE), {"id": alarm_id}).mappings()
    return [TransitionOut.model_validate(dict(row)) for row in rows]


def record_transition(
    session: Session,
    *,
    alarm_id: int,
    action: str,
    from_state: str | None,
    to_state: str,
    user_id: int | None,
    now: datetime,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a trace row and wake the consoles (NOTIFY is delivered only if the transaction commits)."""
    from psycopg.types.json import Jsonb

    session.execute(
        text(queries.RECORD_TRANSITION),
        {
            "channel": NotifyChannel.ALARM_CHANGED.value,
            "id": str(alarm_id),
            "alarm": alarm_id,
            "at": now,
            "user": user_id,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "reason": reason,
            "detail": Jsonb(detail or {}),
        },
    )


def _current(session: Session, alarm_id: int) -> Any:
    row = session.execute(text(queries.CURRENT_STATE), {"id": alarm_id}).first()
    if row is None:
        raise AlarmNotFoundError(f"alarm {alarm_id} not found")
    return row


def _refuse(session: Session, alarm_id: int, wanted: str) -> AlarmConflictError:
    state, acked_at, acked_by = _current(session, alarm_id)
    if state == AlarmState.RESOLVED:
        return AlarmConflictError(
            f"alarm {alarm_id} is already resolved; it cannot be {wanted}", code="alarm_resolved", state=state
        )
    if wanted == "acknowledged" and acked_by:
        return AlarmConflictError(
            f"alarm {alarm_id} was already acknowledged by {acked_by} at {acked_at:%H:%M:%S} UTC",
            code="alarm_already_acknowledged",
            state=state,
            by=acked_by,
            at=acked_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        )
    return AlarmConflictError(f"alarm {alarm_id} is {state}; it cannot be {wanted} now", state=state)


def _check_scope(session: Session, *, user: User, alarm_id: int) -> None:
    clause, params = _scope_clause(session, user)
    if (
        clause
        and session.execute(text("SELECT 1 FROM alarm a WHERE a.id = :id" + clause), {**params, "id": alarm_id}).first()
        is None
    ):
        raise AlarmNotFoundError(f"alarm {alarm_id} not found")


def _feedback(session: Session, *, alarm_id: int, state: FeedbackState, message: str | None, now: datetime) -> None:
    """Tell the device that raised the alarm (its latest event) how its call stands; a welfare call has no
    device and no event, so it sends nothing."""
    row = session.execute(text(queries.FEEDBACK_TARGET), {"id": alarm_id}).first()
    if row is None or row.device_serial is None:
        return
    payload = FeedbackPayload(event_id=row.event_id, state=state, ts=now, message=message)
    enqueue_downlink(raw_connection(session), serial=row.device_serial, channel=Downlink.FEEDBACK, payload=payload)


def _check_staff(session: Session, staff_id: int) -> None:
    """Only an existing, active staff member can be sent (else the task would name nobody: an FK error)."""
    row = session.execute(text("SELECT active FROM staff WHERE id = :id"), {"id": staff_id}).first()
    if row is None:
        raise AlarmRuleError(f"staff {staff_id} does not exist", code="staff_not_found", staff_id=staff_id)
    if not row.active:
        raise AlarmRuleError(f"staff {staff_id} is no longer active", code="staff_inactive", staff_id=staff_id)


def acknowledge(session: Session, *, user: User, alarm_id: int, now: datetime) -> None:
    """Take the alarm (new → acknowledged); the device hears "call received"."""
    _check_scope(session, user=user, alarm_id=alarm_id)
    updated = session.execute(text(queries.ACKNOWLEDGE), {"now": now, "user": user.id, "id": alarm_id}).first()
    if updated is None:
        raise _refuse(session, alarm_id, "acknowledged")
    record_transition(
        session,
        alarm_id=alarm_id,
        action="acknowledge",
        from_state="new",
        to_state="acknowledged",
        user_id=user.id,
        now=now,
    )
    _feedback(session, alarm_id=alarm_id, state=FeedbackState.CALL_RECEIVED, message="已接通 call received", now=now)


def act(
    session: Session,
    *,
    user: User,
    alarm_id: int,
    request: ActionRequest,
    now: datetime,
    urgent_visit_within_minutes: int = 60,
) -> int | None:
    """Record an action (→ in_progress). Dispatch creates a response task (the task engine's, priority 1,
    window now → now + 30 min) for the chosen staff member, else the nearest available one, and tells the device
    help is coming. A welfare call whose call-back nobody answers gets one urgent visit.

    Returns the task id for a dispatch (or the welfare call's urgent visit).
    """
    _check_scope(session, user=user, alarm_id=alarm_id)
    reached = request.action == Action.CALL_BACK and request.result == CallResult.REACHED
    dispatching = request.action in (Action.DISPATCH, Action.CALL_EMERGENCY)
    if request.action in (Action.CALL_BACK, Action.NOTIFY_CONTACTS) and request.result is None:
        raise AlarmRuleError(f"{request.action} needs a result: reached, no_answer or busy", code="result_required")
    if request.action == Action.CALL_EMERGENCY and request.service is None:
        raise AlarmRuleError("call_emergency needs the service called: 120, 119 or 110", code="service_required")
    if request.action == Action.DISPATCH and request.staff_id is not None:
        _check_staff(session, request.staff_id)
    previous = session.execute(
        text(queries.ACT),
        {"id": alarm_id, "now": now, "reached": reached, "dispatching": dispatching},
    ).first()
    if previous is None:
        raise _refuse(session, alarm_id, f"given the action {request.action}")
    task_id: int | None = None
    detail: dict[str, Any] = request.model_dump(mode="json", exclude_none=True, exclude={"action", "note"})
    facts = session.execute(text(queries.ALARM_FACTS), {"id": alarm_id}).one()
    if request.action == Action.DISPATCH:
        task_id = task_service.create_urgent_task(
            session,
            kind=TaskKind.ALARM_RESPONSE,
            source=TaskSource.ALARM,
            now=now,
            within=timedelta(minutes=30),
            resident_id=facts.resident_id,
            household_id=facts.household_id,
            device_serial=facts.device_serial,
            area_path=facts.area_path,
            alarm_id=alarm_id,
            staff_id=request.staff_id,
            notes=request.note,
            user_id=user.id,
            reason=f"dispatched from alarm {alarm_id}",
        )
        detail["task_id"] = task_id
    welfare_unanswered = (
        facts.source == "welfare"
        and request.action == Action.CALL_BACK
        and request.result == CallResult.NO_ANSWER
        and facts.resident_id is not None
    )
    if dispatching:
        _feedback(
            session,
            alarm_id=alarm_id,
            state=FeedbackState.HELP_ON_THE_WAY,
            message="救援人员正在赶来 help is on the way",
            now=now,
        )
    record_transition(
        session,
        alarm_id=alarm_id,
        action=request.action,
        from_state=previous[0],
        to_state="in_progress",
        user_id=user.id,
        now=now,
        reason=request.note,
        detail=detail,
    )
    if welfare_unanswered:
        visit_id = task_service.create_urgent_task(
            session,
            kind=TaskKind.URGENT_VISIT,
            source=TaskSource.WELFARE,
            now=now,
            within=timedelta(minutes=urgent_visit_within_minutes),
            resident_id=facts.resident_id,
            alarm_id=alarm_id,
            service=str(TaskKind.URGENT_VISIT),
            slot=f"welfare:{alarm_id}",
            notes=request.note,
            user_id=user.id,
            reason=f"welfare call {alarm_id}: nobody answered the call back",
        )
        if visit_id is not None:
            session.execute(text(queries.MARK_DISPATCHED), {"id": alarm_id})
            _visit_line(session, alarm_id=alarm_id, task_id=visit_id, user_id=user.id, now=now)
            task_id = visit_id
    return task_id


def _visit_line(session: Session, *, alarm_id: int, task_id: int, user_id: int | None, now: datetime) -> None:
    """A visit created for the alarm, on its trace (kind, status, who)."""
    task = session.execute(
        text("SELECT kind, status, assignee_staff_id FROM task WHERE id = :id"), {"id": task_id}
    ).one()
    record_visit_progress(
        session,
        alarm_id=alarm_id,
        task_id=task_id,
        status=task.status,
        staff_id=task.assignee_staff_id,
        now=now,
        user_id=user_id,
        detail={"step": "created", "kind": task.kind},
    )


def record_visit_progress(
    session: Session,
    *,
    alarm_id: int,
    task_id: int,
    status: str,
    staff_id: int | None,
    now: datetime,
    user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """A visit about this alarm moved (created, accepted, en route, checked in, completed with findings, nobody
    answered): a `visit_progress` line on the alarm's trace, in any alarm state (also after it is resolved)."""
    state = _current(session, alarm_id)[0]
    staff_name = None if staff_id is None else session.execute(text(queries.STAFF_NAME), {"id": staff_id}).scalar()
    session.execute(text(queries.BUMP_VERSION), {"id": alarm_id})
    record_transition(
        session,
        alarm_id=alarm_id,
        action=TraceAction.VISIT_PROGRESS,
        from_state=state,
        to_state=state,
        user_id=user_id,
        now=now,
        detail={"task_id": task_id, "status": status, "staff": {"id": staff_id, "name": staff_name}} | (detail or {}),
    )


def resolve(
    session: Session,
    *,
    user: User,
    alarm_id: int,
    request: ResolveRequest,
    now: datetime,
    follow_up_within_hours: int = 24,
) -> None:
    """Close the alarm with an outcome and how the resident was reached. Not reached, taken to hospital,
    referred, or `follow_up` asked: a follow-up visit within `follow_up_within_hours` (once per alarm)."""
    _check_scope(session, user=user, alarm_id=alarm_id)
    current = session.execute(text(queries.LOCK_FOR_RESOLVE), {"id": alarm_id}).first()
    if current is None:
        raise AlarmNotFoundError(f"alarm {alarm_id} not found")
    if current.state not in ACTIVE:
        raise _refuse(session, alarm_id, "resolved")
    if request.reach_method == ReachMethod.NOT_REACHED and not current.dispatched:
        raise AlarmRuleError(
            "the resident was not reached: dispatch someone (or call 120/119/110) before closing",
            code="dispatch_required",
        )
    session.execute(
        text(queries.RESOLVE),
        {
            "now": now,
            "user": user.id,
            "outcome": request.outcome,
            "method": request.reach_method,
            "notes": request.notes,
            "id": alarm_id,
        },
    )
    record_transition(
        session,
        alarm_id=alarm_id,
        action="resolve",
        from_state=current.state,
        to_state="resolved",
        user_id=user.id,
        now=now,
        reason=request.notes,
        detail={"outcome": request.outcome, "reach_method": request.reach_method},
    )
    if request.outcome in CANCELLING_OUTCOMES:
        _feedback(session, alarm_id=alarm_id, state=FeedbackState.CANCELLED, message="已取消 cancelled", now=now)
    if current.type == "fall" and request.outcome == Outcome.TAKEN_TO_HOSPITAL and current.resident_id is not None:
        # A fall with injury is a major event (MZ/T 039): the capability reassessment is due now.
        care_plan_service.major_event(session, resident_id=int(current.resident_id), now=now)
    needs_follow_up = (
        request.follow_up or request.reach_method == ReachMethod.NOT_REACHED or request.outcome in FOLLOW_UP_OUTCOMES
    )
    if needs_follow_up and current.resident_id is not None:
        follow_up_id = task_service.create_follow_up(
            session,
            resident_id=int(current.resident_id),
            source=TaskSource.ALARM,
            now=now,
            within_hours=follow_up_within_hours,
            slot=f"alarm:{alarm_id}:follow_up",
            alarm_id=alarm_id,
            notes=request.notes,
            user_id=user.id,
            reason=f"alarm {alarm_id} closed as {request.outcome} / {request.reach_method}",
        )
        if follow_up_id is not None:
            _visit_line(session, alarm_id=alarm_id, task_id=follow_up_id, user_id=user.id, now=now)


def add_note(session: Session, *, user: User, alarm_id: int, note: str, now: datetime) -> None:
    """A note on the alarm's trace (any state, also after it is resolved)."""
    _check_scope(session, user=user, alarm_id=alarm_id)
    state = _current(session, alarm_id)[0]
    session.execute(text(queries.BUMP_VERSION), {"id": alarm_id})
    record_transition(
        session,
        alarm_id=alarm_id,
        action="note",
        from_state=state,
        to_state=state,
        user_id=user.id,
        now=now,
        reason=note,
    )


def create_task(
    session: Session,
    *,
    alarm_id: int,
    kind: str,
    due: datetime,
    now: datetime,
    notes: str | None,
    staff_id: int | None = None,
    user_id: int | None = None,
) -> int | None:
    """A task about an alarm (who and where copied from it; `{type}` in `notes` becomes the alarm's type).

    `assigned` when a staff member is named, else `open`. Returns its id, or None when the alarm already has
    an open task of this kind that may exist only once (maintenance, substitute cover).
    """
    task_id = session.execute(
        text(queries.TASK_FOR_ALARM),
        {"kind": kind, "staff": staff_id, "due": due, "now": now, "user": user_id, "notes": notes, "id": alarm_id},
    ).scalar()
    return None if task_id is None else int(task_id)


OPEN_WELFARE_CALL = """
INSERT INTO alarm (source_key, source, type, priority, resident_id, household_id, area_path, device_serial,
                   task_id, meal_order_id, opened_at, last_event_at, ack_due_at, reach_due_at, resolve_due_at)
SELECT :source_key, 'welfare', t.type, t.priority, r.id, r.household_id, a.path, NULL, :task, :meal_order,
       :now, :now, :now + make_interval(secs => t.ack_within_s), :now + make_interval(secs => t.reach_within_s),
       :now + make_interval(secs => t.resolve_within_s)
FROM alarm_type t, resident r JOIN household h ON h.id = r.household_id JOIN area a ON a.id = h.area_id
WHERE t.type = :type AND r.id = :resident
ON CONFLICT (source_key, type) WHERE state <> 'resolved' DO NOTHING
RETURNING id
"""


def open_welfare_call(
    session: Session,
    *,
    alarm_type: str,
    resident_id: int,
    now: datetime,
    reason: str,
    task_id: int | None = None,
    meal_order_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int | None:
    """A welfare call (关怀呼叫) in the operators' queue: an alarm with no device, raised by a task or a meal.

    `alarm_type` is `meal_not_collected` or `visit_no_answer`. One open welfare call per resident and type
    (a second is not opened: find it with `open_welfare_call_of` and add a line with `note_welfare_call`);
    returns the new alarm's id, or None. The operator handles it like any alarm: the card shows the meal order
    or task instead of device data, and no feedback goes to any device. `reason` (a code, preferably) is the
    trace's first line, `detail` is added to that line's detail.
    """
    alarm_id = session.execute(
        text(OPEN_WELFARE_CALL),
        {
            "source_key": f"resident:{resident_id}",
            "type": alarm_type,
            "resident": resident_id,
            "task": task_id,
            "meal_order": meal_order_id,
            "now": now,
        },
    ).scalar()
    if alarm_id is None:
        return None
    record_transition(
        session,
        alarm_id=int(alarm_id),
        action="opened",
        from_state=None,
        to_state="new",
        user_id=None,
        now=now,
        reason=reason,
        detail={"source": "welfare", "task_id": task_id, "meal_order_id": meal_order_id, **(detail or {})},
    )
    return int(alarm_id)


def note_open_alarms_of_resident(
    session: Session, *, resident_id: int, reason: str, detail: dict[str, Any], now: datetime
) -> list[int]:
    """A system note (`reason` a code) on every open alarm of the resident (e.g. the resident died: an operator
    still closes them). Returns their ids."""
    rows = session.execute(
        text(
            "UPDATE alarm SET version = nextval('alarm_version_seq') WHERE resident_id = :r AND state <> 'resolved'"
            " RETURNING id, state"
        ),
        {"r": resident_id},
    ).all()
    for alarm_id, state in rows:
        record_transition(
            session,
            alarm_id=int(alarm_id),
            action="note",
            from_state=state,
            to_state=state,
            user_id=None,
            now=now,
            reason=reason,
            detail=detail,
        )
    return sorted(int(alarm_id) for alarm_id, _ in rows)


def open_welfare_call_of(session: Session, *, alarm_type: str, resident_id: int) -> int | None:
    """The resident's open welfare call of this type, if any."""
    alarm_id = session.execute(
        text(queries.OPEN_WELFARE_CALL_OF), {"source_key": f"resident:{resident_id}", "type": alarm_type}
    ).scalar()
    return None if alarm_id is None else int(alarm_id)


def note_welfare_call(
    session: Session, *, alarm_id: int, reason: str, now: datetime, detail: dict[str, Any] | None = None
) -> None:
    """A system line on a welfare call's trace (another meal missed, the meal collected late after all): `reason`
    is a code (pages translate it), repeated as `detail.reason_code`. The consoles are told (version bumped)."""
    state = _current(session, alarm_id)[0]
    session.execute(text(queries.BUMP_VERSION), {"id": alarm_id})
    record_transition(
        session,
        alarm_id=alarm_id,
        action="note",
        from_state=state,
        to_state=state,
        user_id=None,
        now=now,
        reason=reason,
        detail={"reason_code": reason, **(detail or {})},
    )
