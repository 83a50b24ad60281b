"""Temporary (hospital, away with family) and final (moved, deceased) states of a resident, and their effects,
all in the caller's transaction (keyword-only; flush, never commit). docs/services/care-plans.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms.service import note_open_alarms_of_resident
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.alerts.service import resolve_alerts
from eldercare_platform.audit.service import record
from eldercare_platform.care_plans.models import StateKind
from eldercare_platform.care_plans.plans import close_open_plan
from eldercare_platform.care_plans.schemas import StateCreate, StateEnd, StateOut
from eldercare_platform.care_plans.service import AWAY_KINDS, CarePlanRuleError, resident_row
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.errors import ConflictError, NotFoundError
from eldercare_platform.devices.service import retire_devices_of_household
from eldercare_platform.meals.service import cancel_orders_for_resident
from eldercare_platform.residents.models import ResidentStatus
from eldercare_platform.tasks.models import HIGH, TaskKind, TaskSource
from eldercare_platform.tasks.service import cancel_for_resident, create_task, resume_for_resident, suspend_for_resident
from eldercare_platform.users.models import User

FINAL_KINDS = frozenset({StateKind.MOVED, StateKind.DECEASED})
FINAL_STATUS = {StateKind.MOVED: ResidentStatus.MOVED_OUT, StateKind.DECEASED: ResidentStatus.DECEASED}
DISCHARGE_SERVICE = "visit"  # the (resident, service, slot) key of the post-discharge visit: slot discharge:<id>
_COLUMNS = "id, resident_id, kind, starts_at, ends_at, reason, recorded_at, recorded_by, ended_at, ended_by"


def reason_code(kind: StateKind) -> str:
    """The reason written on tasks and orders the state ends or suspends (`resident_hospital`, …)."""
    return f"resident_{kind}"


class StateConflictError(ConflictError):
    """The state clashes with another one or with the resident's status (409; `code` says which)."""

    code = "state_conflict"


class StateNotFoundError(NotFoundError):
    """No such state of this resident (404 `state_not_found`)."""

    code = "state_not_found"


def list_states(session: Session, *, user: User, resident_id: int) -> list[StateOut]:
    """The resident's states, the latest start first."""
    resident_row(session, user=user, resident_id=resident_id)
    rows = session.execute(
        text(f"SELECT {_COLUMNS} FROM resident_state WHERE resident_id = :r ORDER BY starts_at DESC, id DESC"),
        {"r": resident_id},
    )
    return [StateOut.model_validate(dict(row._mapping)) for row in rows]


def start_state(
    session: Session, *, user: User, resident_id: int, data: StateCreate, now: datetime, client_ip: str | None = None
) -> StateOut:
    """Record a state and apply its effects (see the module docstring of the docs)."""
    resident = resident_row(session, user=user, resident_id=resident_id, lock=True)
    kind = StateKind(data.kind)
    if resident.status in (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED):
        raise StateConflictError(f"resident {resident_id} is {resident.status}", code="resident_not_active")
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        raise CarePlanRuleError("a state ends after it starts", code="ends_before_start")
    if kind in FINAL_KINDS and data.ends_at is not None:
        raise CarePlanRuleError(f"a {kind} state has no end", code="final_state_has_no_end")
    overlapping = session.execute(
        text(
            "SELECT id FROM resident_state WHERE resident_id = :r AND kind = :kind"
            " AND tstzrange(starts_at, ends_at) && tstzrange(:start, :end) LIMIT 1"
        ),
        {"r": resident_id, "kind": str(kind), "start": data.starts_at, "end": data.ends_at},
    ).scalar()
    if overlapping is not None:
        raise StateConflictError(
            f"resident {resident_id} already has a {kind} state in that period",
            code="state_overlaps",
            state_id=int(overlapping),
        )
    row = session.execute(
        text(
            "INSERT INTO resident_state (resident_id, kind, starts_at, ends_at, reason, recorded_at, recorded_by)"
            f" VALUES (:r, :kind, :start, :end, :reason, :now, :user) RETURNING {_COLUMNS}"
        ),
        {
            "r": resident_id,
            "kind": str(kind),
            "start": data.starts_at,
            "end": data.ends_at,
            "reason": data.reason,
            "now": now,
            "user": user.id,
        },
    ).one()
    effects = _start_effects(session, resident=resident, kind=kind, state=row, now=now, user=user)
    record(
        session,
        user_id=user.id,
        action="create",
        entity="resident_state",
        entity_id=int(row.id),
        detail={"resident_id": resident_id, "kind": str(kind), **effects},
        client_ip=client_ip,
    )
    return StateOut.model_validate(dict(row._mapping))


def _start_effects(
    session: Session, *, resident: Any, kind: StateKind, state: Any, now: datetime, user: User
) -> dict[str, Any]:
    reason = reason_code(kind)
    resident_id = int(resident.id)
    if kind in AWAY_KINDS:
        suspended = suspend_for_resident(
            session,
            resident_id=resident_id,
            starts_at=state.starts_at,
            ends_at=state.ends_at,
            reason=reason,
            now=now,
            user_id=user.id,
        )
        orders = cancel_orders_for_resident(
            session,
            resident_id=resident_id,
            from_date=local_date(state.starts_at),
            until_date=None if state.ends_at is None else local_date(state.ends_at - timedelta(microseconds=1)),
            reason=reason,
            now=now,
        )
        return {"tasks_suspended": len(suspended), "orders_cancelled": orders}
    # Moved away or deceased: the platform stops serving the resident.
    session.execute(
        text("UPDATE resident SET status = :status, updated_at = :now WHERE id = :r"),
        {"status": str(FINAL_STATUS[kind]), "now": now, "r": resident_id},
    )
    cancelled = cancel_for_resident(session, resident_id=resident_id, reason=reason, now=now, user_id=user.id)
    orders = cancel_orders_for_resident(
        session, resident_id=resident_id, from_date=local_date(state.starts_at), until_date=None, reason=reason, now=now
    )
    plan_id = close_open_plan(
        session, resident_id=resident_id, last_day=local_date(state.starts_at) - timedelta(days=1)
    )
    resolve_alerts(
        session,
        kind=AlertKind.REASSESSMENT_OVERDUE,
        now=now,
        resolution=reason,
        subject_keys=[f"resident:{resident_id}"],
    )
    effects: dict[str, Any] = {
        "tasks_cancelled": len(cancelled),
        "orders_cancelled": orders,
        "care_plan_closed": plan_id,
    }
    if kind == StateKind.DECEASED:
        effects["devices_retired"] = retire_devices_of_household(
            session, household_id=int(resident.household_id), resident_id=resident_id, now=now
        )
        effects["alarms_noted"] = note_open_alarms_of_resident(
            session,
            resident_id=resident_id,
            reason=reason,
            detail={"reason_code": reason, "state_id": int(state.id), "since": state.starts_at.isoformat()},
            now=now,
        )
    return effects


def end_state(
    session: Session,
    *,
    user: User,
    resident_id: int,
    state_id: int,
    data: StateEnd,
    now: datetime,
    major_event_visit_hours: int,
    client_ip: str | None = None,
) -> StateOut:
    """End a hospital stay (discharge) or a stay away: suspended tasks resume; a discharge is a major event
    (reassessment due on the discharge date, a high-priority visit within `major_event_visit_hours`)."""
    resident_row(session, user=user, resident_id=resident_id, lock=True)
    current = session.execute(
        text(f"SELECT {_COLUMNS} FROM resident_state WHERE id = :id AND resident_id = :r FOR UPDATE"),
        {"id": state_id, "r": resident_id},
    ).first()
    if current is None:
        raise StateNotFoundError(f"state {state_id} of resident {resident_id} not found")
    kind = StateKind(current.kind)
    if kind in FINAL_KINDS:
        raise StateConflictError(f"a {kind} state does not end", code="state_final")
    if current.ended_at is not None:
        raise StateConflictError(f"state {state_id} has already ended", code="state_ended")
    if data.ends_at <= current.starts_at:
        raise CarePlanRuleError("a state ends after it starts", code="ends_before_start")
    if data.ends_at > now:
        raise CarePlanRuleError("a state is ended when it has ended: ends_at is in the future", code="ends_in_future")
    row = session.execute(
        text(
            "UPDATE resident_state SET ends_at = :end, ended_at = :now, ended_by = :user WHERE id = :id"
            f" RETURNING {_COLUMNS}"
        ),
        {"end": data.ends_at, "now": now, "user": user.id, "id": state_id},
    ).one()
    reason = f"{reason_code(kind)}_ended"
    resumed = resume_for_resident(session, resident_id=resident_id, reason=reason, now=now, user_id=user.id)
    detail: dict[str, Any] = {"resident_id": resident_id, "kind": str(kind), "tasks_resumed": len(resumed)}
    if kind == StateKind.HOSPITAL:
        session.execute(
            text("UPDATE resident SET reassessment_due_on = :due, updated_at = :now WHERE id = :r"),
            {"due": local_date(data.ends_at), "now": now, "r": resident_id},
        )
        detail["discharge_visit_task_id"] = create_task(
            session,
            kind=TaskKind.VISIT,
            source=TaskSource.ASSESSMENT,
            now=now,
            window_start=data.ends_at,
            # Within the hours after discharge; a discharge recorded late still leaves an hour to go.
            window_end=max(data.ends_at + timedelta(hours=major_event_visit_hours), now + timedelta(hours=1)),
            resident_id=resident_id,
            service=DISCHARGE_SERVICE,
            slot=f"discharge:{state_id}",
            priority=HIGH,
            notes="出院后探访 visit after hospital discharge",
            user_id=user.id,
            reason="hospital_discharge",
        )
    record(
        session,
        user_id=user.id,
        action="end",
        entity="resident_state",
        entity_id=state_id,
        detail=detail,
        client_ip=client_ip,
    )
    return StateOut.model_validate(dict(row._mapping))
