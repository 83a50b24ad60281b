"""Care plan versions: the one in force, the history, a new version (keyword-only; flush, never commit)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.audit.service import record
from eldercare_platform.care_plans.rules import Subsidy, TierProposal, care_subsidy, propose_tier
from eldercare_platform.care_plans.schemas import CarePlanCreate, CarePlanOut, CurrentCarePlan, TierProposalOut
from eldercare_platform.care_plans.service import (
    MAJOR_EVENT_DAYS,
    PLAN_VALID_ON,
    CarePlanRuleError,
    resident_row,
)
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.errors import ConflictError
from eldercare_platform.residents.models import CapabilityLevel, ResidentCategory, ResidentStatus
from eldercare_platform.users.models import User

_PLAN_COLUMNS = (
    "cp.id, cp.resident_id, cp.version, cp.valid_from, cp.valid_to, cp.superseded_by, cp.visit_tier,"
    " cp.proposed_tier, cp.tier_reasons, cp.override_reason, cp.assessment_id, cp.meals, cp.services,"
    " cp.subsidy_monthly_fen, cp.subsidy_basis, cp.notes, cp.created_at, cp.created_by"
)

# Alarms that count towards the tier: a person pressed, fell, went quiet — not device faults, tests, false alarms.
_ALARMS_30D = """
SELECT count(*) FROM alarm a JOIN alarm_type t ON t.type = a.type
WHERE a.resident_id = :r AND a.opened_at > :since AND a.opened_at <= :now AND a.source = 'device'
  AND NOT t.is_device_fault AND coalesce(a.outcome, '') NOT IN ('false_alarm', 'device_test', 'resident_away')
"""
# A major event: a hospital stay ended (discharge) or a fall that took the resident to hospital, in 30 days.
_MAJOR_EVENT_30D = """
SELECT EXISTS (SELECT 1 FROM resident_state WHERE resident_id = :r AND kind = 'hospital'
               AND ends_at > :since AND ends_at <= :now)
    OR EXISTS (SELECT 1 FROM alarm WHERE resident_id = :r AND type = 'fall' AND outcome = 'taken_to_hospital'
               AND opened_at > :since AND opened_at <= :now)
"""


class CarePlanConflictError(ConflictError):
    """The resident cannot get a plan now (moved away, deceased): 409."""

    code = "resident_not_active"


def _out(row: Any) -> CarePlanOut:
    return CarePlanOut.model_validate(dict(row._mapping))


def proposal_for(session: Session, *, resident: Any, now: datetime) -> TierProposal:
    """The tier the rules propose for the resident (a `resident_row`) now."""
    since = now - timedelta(days=MAJOR_EVENT_DAYS)
    params = {"r": resident.id, "since": since, "now": now}
    alarms = int(session.execute(text(_ALARMS_30D), params).scalar_one())
    major = bool(session.execute(text(_MAJOR_EVENT_30D), params).scalar_one())
    categories = list(resident.categories or [])
    return propose_tier(
        categories=categories,
        level=CapabilityLevel(resident.capability_level),
        living_alone=ResidentCategory.LIVING_ALONE in categories,
        alarms_30d=alarms,
        major_event_30d=major,
    )


def subsidy_for(resident: Any) -> Subsidy:
    """The 特困 care subsidy the resident's level gives (dispersed support unless in an institution)."""
    return care_subsidy(
        categories=list(resident.categories or []),
        level=CapabilityLevel(resident.capability_level),
        at_home=resident.status != ResidentStatus.IN_INSTITUTION,
    )


def current_plan(session: Session, *, user: User, resident_id: int, now: datetime) -> CurrentCarePlan:
    """The version valid today (local date) and what the rules propose now."""
    resident = resident_row(session, user=user, resident_id=resident_id)
    row = session.execute(
        text(f"SELECT {_PLAN_COLUMNS} FROM care_plan cp WHERE cp.resident_id = :r AND {PLAN_VALID_ON}"),
        {"r": resident_id, "day": local_date(now)},
    ).first()
    proposal = proposal_for(session, resident=resident, now=now)
    subsidy = subsidy_for(resident)
    return CurrentCarePlan(
        current=None if row is None else _out(row),
        proposed=TierProposalOut(tier=proposal.tier, reasons=list(proposal.reasons)),
        subsidy_monthly_fen=subsidy.monthly_fen,
        subsidy_basis=subsidy.basis,
    )


def list_plans(session: Session, *, user: User, resident_id: int) -> list[CarePlanOut]:
    """Every version, newest first."""
    resident_row(session, user=user, resident_id=resident_id)
    rows = session.execute(
        text(f"SELECT {_PLAN_COLUMNS} FROM care_plan cp WHERE cp.resident_id = :r ORDER BY cp.version DESC"),
        {"r": resident_id},
    )
    return [_out(row) for row in rows]


def create_plan(session: Session, *, user: User, resident_id: int, data: CarePlanCreate, now: datetime) -> CarePlanOut:
    """A new version from `valid_from` (today or later). The open version ends the day before; one that would
    start on or after `valid_from` is superseded (valid on no day). The resident's care tier follows."""
    resident = resident_row(session, user=user, resident_id=resident_id, lock=True)
    if resident.status in (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED):
        raise CarePlanConflictError(f"resident {resident_id} is {resident.status}: no new care plan")
    today = local_date(now)
    if data.valid_from < today:
        raise CarePlanRuleError(
            f"a new version starts today ({today}) or later", code="valid_from_in_past", today=today.isoformat()
        )
    proposal = proposal_for(session, resident=resident, now=now)
    if data.visit_tier != proposal.tier and not data.override_reason:
        raise CarePlanRuleError(
            f"the rules propose {proposal.tier}; choosing {data.visit_tier} needs an override reason",
            code="override_reason_required",
            proposed_tier=str(proposal.tier),
            reasons=list(proposal.reasons),
        )
    _check_meal_points(session, ids={entry.meal_point_id for entry in data.meals})
    subsidy = subsidy_for(resident)
    assessment_id = session.execute(
        text("SELECT id FROM assessment WHERE resident_id = :r ORDER BY assessed_on DESC, id DESC LIMIT 1"),
        {"r": resident_id},
    ).scalar()
    previous = session.execute(
        text("SELECT id, valid_from FROM care_plan WHERE resident_id = :r AND valid_to IS NULL"), {"r": resident_id}
    ).first()
    if previous is not None:
        # Close it first: one open version per resident (uq_care_plan_open).
        ends = data.valid_from - timedelta(days=1)
        session.execute(
            text("UPDATE care_plan SET valid_to = :to WHERE id = :id"),
            {"id": previous.id, "to": ends if ends >= previous.valid_from else previous.valid_from},
        )
    row = session.execute(
        text(
            "INSERT INTO care_plan (resident_id, version, valid_from, visit_tier, proposed_tier, tier_reasons,"
            " override_reason, assessment_id, meals, services, subsidy_monthly_fen, subsidy_basis, notes,"
            " created_at, created_by)"
            " SELECT :r, coalesce(max(version), 0) + 1, :from, :tier, :proposed, :reasons, :override, :assessment,"
            " CAST(:meals AS jsonb), CAST(:services AS jsonb), :fen, :basis, :notes, :now, :user"
            " FROM care_plan WHERE resident_id = :r RETURNING id"
        ),
        {
            "r": resident_id,
            "from": data.valid_from,
            "tier": str(data.visit_tier),
            "proposed": str(proposal.tier),
            "reasons": list(proposal.reasons),
            "override": data.override_reason if data.visit_tier != proposal.tier else None,
            "assessment": assessment_id,
            "meals": json.dumps([entry.model_dump(mode="json") for entry in data.meals]),
            "services": json.dumps([entry.model_dump(mode="json") for entry in data.services]),
            "fen": subsidy.monthly_fen,
            "basis": subsidy.basis,
            "notes": data.notes,
            "now": now,
            "user": user.id,
        },
    ).one()
    plan_id = int(row.id)
    if previous is not None and previous.valid_from >= data.valid_from:
        session.execute(
            text("UPDATE care_plan SET superseded_by = :new WHERE id = :id"), {"new": plan_id, "id": previous.id}
        )
    session.execute(
        text("UPDATE resident SET care_tier = :tier, updated_at = :now WHERE id = :r"),
        {"tier": str(data.visit_tier), "now": now, "r": resident_id},
    )
    record(
        session,
        user_id=user.id,
        action="create",
        entity="care_plan",
        entity_id=plan_id,
        detail={
            "resident_id": resident_id,
            "valid_from": data.valid_from.isoformat(),
            "visit_tier": str(data.visit_tier),
            "proposed_tier": str(proposal.tier),
            "previous_id": None if previous is None else int(previous.id),
        },
    )
    out = session.execute(text(f"SELECT {_PLAN_COLUMNS} FROM care_plan cp WHERE cp.id = :id"), {"id": plan_id}).one()
    return _out(out)


def _check_meal_points(session: Session, *, ids: set[int]) -> None:
    if not ids:
        return
    found = set(session.execute(text("SELECT id FROM meal_point WHERE id = ANY(:ids)"), {"ids": sorted(ids)}).scalars())
    unknown = sorted(ids - found)
    if unknown:
        raise CarePlanRuleError(
            f"meal point(s) {', '.join(map(str, unknown))} do not exist",
            code="meal_point_not_found",
            meal_point_ids=unknown,
        )


def close_open_plan(session: Session, *, resident_id: int, last_day: datetime | Any) -> int | None:
    """End the open version (moved away, deceased) on `last_day` (not before the day it started); returns its id."""
    return session.execute(
        text(
            "UPDATE care_plan SET valid_to = greatest(valid_from, CAST(:day AS date))"
            " WHERE resident_id = :r AND valid_to IS NULL RETURNING id"
        ),
        {"r": resident_id, "day": last_day},
    ).scalar()
