"""The roster domain's routes (thin: guards from deps.py, work in the roster's service modules).

Every route names staff in the user's scope (`Scope.staff_sql`: a coordinator sees the staff whose home zone is
in their area); anyone else is a 404 `staff_not_found`. Reads need `roster.read`, writes `roster.edit`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.core.deps import NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import UnprocessableError, errors
from eldercare_platform.core.params import BigDbId, DbId, DbIdQuery, Instant, IsoDate, Offset
from eldercare_platform.core.scope import Scope, scope_of
from eldercare_platform.roster import board, certifications, leave, staff
from eldercare_platform.roster.deps import RosterEditor, RosterReader
from eldercare_platform.roster.models import Skill, StaffRole
from eldercare_platform.roster.schemas import (
    Availability,
    CertificationIn,
    CertificationPublic,
    LeaveIn,
    LeavePublic,
    LeaveResult,
    OnShift,
    PatternIn,
    PatternPublic,
    PreferenceIn,
    PreferencePublic,
    StaffDetail,
    StaffPage,
    StaffSummary,
    StaffUpdate,
)
from eldercare_platform.users.models import User

router = APIRouter(prefix="/roster", tags=["roster"])
NO_CONTENT = {"status_code": 204, "response_class": Response}


def _scoped(session: Session, user: User, staff_id: int) -> Scope:
    """The user's scope, after checking the staff member is in it (404 otherwise)."""
    scope = scope_of(session, user)
    staff.get_staff(session, scope=scope, staff_id=staff_id)
    return scope


# --- staff -----------------------------------------------------------------------------------------------------


@router.get("/staff", response_model=StaffPage)
def get_staff_list(
    session: SessionDep,
    user: RosterReader,
    area_id: DbIdQuery = None,
    role: StaffRole | None = None,
    skill: Skill | None = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> StaffPage:
    """Staff in the user's scope, filtered by home area (subtree), role, skill and active."""
    return staff.list_staff(
        session,
        scope=scope_of(session, user),
        area_id=area_id,
        role=role,
        skill=skill,
        active=active,
        limit=limit,
        offset=offset,
    )


@router.get("/staff/{staff_id}", response_model=StaffDetail, responses=errors(404))
def get_staff_detail(
    staff_id: DbId, session: SessionDep, user: RosterReader, now: NowDep, settings: SettingsDep
) -> StaffDetail:
    """One staff member: patterns, upcoming shifts, leave, certificates (with their status), preferences."""
    return staff.staff_detail(
        session,
        scope=scope_of(session, user),
        staff_id=staff_id,
        now=now,
        today=local_date(now),
        warn_days=settings.certification_warn_days,
    )


@router.patch("/staff/{staff_id}", response_model=StaffSummary, responses=errors(404))
def patch_staff(staff_id: DbId, body: StaffUpdate, session: SessionDep, user: RosterEditor) -> StaffSummary:
    """Change skills, maximum tasks per shift, home base, travel mode or active."""
    updated = staff.update_staff(session, scope=scope_of(session, user), staff_id=staff_id, update=body)
    session.commit()
    return updated


# --- shift patterns --------------------------------------------------------------------------------------------


@router.get("/staff/{staff_id}/patterns", response_model=list[PatternPublic], responses=errors(404))
def get_patterns(staff_id: DbId, session: SessionDep, user: RosterReader) -> list[PatternPublic]:
    """The staff member's weekly shift patterns."""
    _scoped(session, user, staff_id)
    return staff.list_patterns(session, staff_id=staff_id)


@router.post("/staff/{staff_id}/patterns", response_model=PatternPublic, status_code=201, responses=errors(404))
def post_pattern(
    staff_id: DbId, body: PatternIn, session: SessionDep, user: RosterEditor, now: NowDep, settings: SettingsDep
) -> PatternPublic:
    """Add a pattern; its shifts for the rolling window are written at once."""
    _scoped(session, user, staff_id)
    pattern = staff.add_pattern(
        session, staff_id=staff_id, pattern=body, now=now, today=local_date(now), days=settings.roster_window_days
    )
    session.commit()
    return pattern


@router.put("/staff/{staff_id}/patterns/{pattern_id}", response_model=PatternPublic, responses=errors(404))
def put_pattern(
    staff_id: DbId,
    pattern_id: BigDbId,
    body: PatternIn,
    session: SessionDep,
    user: RosterEditor,
    now: NowDep,
    settings: SettingsDep,
) -> PatternPublic:
    """Replace a pattern; its future shifts without assigned tasks follow at once."""
    _scoped(session, user, staff_id)
    pattern = staff.update_pattern(
        session,
        staff_id=staff_id,
        pattern_id=pattern_id,
        pattern=body,
        now=now,
        today=local_date(now),
        days=settings.roster_window_days,
    )
    session.commit()
    return pattern


@router.delete("/staff/{staff_id}/patterns/{pattern_id}", responses=errors(404), **NO_CONTENT)  # type: ignore[arg-type]
def delete_pattern(staff_id: DbId, pattern_id: BigDbId, session: SessionDep, user: RosterEditor, now: NowDep) -> None:
    """Delete a pattern: its future shifts without assigned tasks go; past and busy ones stay, detached."""
    _scoped(session, user, staff_id)
    staff.delete_pattern(session, staff_id=staff_id, pattern_id=pattern_id, now=now)
    session.commit()


# --- leave -----------------------------------------------------------------------------------------------------


@router.get("/staff/{staff_id}/leave", response_model=list[LeavePublic], responses=errors(404))
def get_leave(staff_id: DbId, session: SessionDep, user: RosterReader) -> list[LeavePublic]:
    """Every leave of the staff member, cancelled ones included, latest first."""
    _scoped(session, user, staff_id)
    return leave.list_leave(session, staff_id=staff_id)


@router.post("/staff/{staff_id}/leave", response_model=LeaveResult, status_code=201, responses=errors(404))
def post_leave(staff_id: DbId, body: LeaveIn, session: SessionDep, user: RosterEditor, now: NowDep) -> LeaveResult:
    """Record leave or a sick day; tasks assigned to them in the period and not yet under way go back to
    planning, each with a `task_unassigned` alert for the coordinator."""
    _scoped(session, user, staff_id)
    recorded = leave.record_leave(
        session,
        staff_id=staff_id,
        kind=body.kind,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
        now=now,
        user_id=user.id,
    )
    result = LeaveResult(
        leave=leave.get_leave(session, staff_id=staff_id, leave_id=recorded.leave_id),
        unassigned_task_ids=recorded.unassigned_task_ids,
    )
    session.commit()
    return result


@router.delete("/staff/{staff_id}/leave/{leave_id}", response_model=LeavePublic, responses=errors(404, 409))
def cancel_leave(
    staff_id: DbId, leave_id: BigDbId, session: SessionDep, user: RosterEditor, now: NowDep
) -> LeavePublic:
    """Cancel a leave (kept, with `cancelled_at`); tasks it took back stay unassigned."""
    _scoped(session, user, staff_id)
    leave.cancel_leave(session, staff_id=staff_id, leave_id=leave_id, now=now)
    cancelled = leave.get_leave(session, staff_id=staff_id, leave_id=leave_id)
    session.commit()
    return cancelled


# --- certifications --------------------------------------------------------------------------------------------


@router.get("/staff/{staff_id}/certifications", response_model=list[CertificationPublic], responses=errors(404))
def get_certifications(
    staff_id: DbId, session: SessionDep, user: RosterReader, now: NowDep, settings: SettingsDep
) -> list[CertificationPublic]:
    """The staff member's certificates with their status today."""
    _scoped(session, user, staff_id)
    return certifications.list_certifications(
        session, staff_id=staff_id, today=local_date(now), warn_days=settings.certification_warn_days
    )


@router.post(
    "/staff/{staff_id}/certifications", response_model=CertificationPublic, status_code=201, responses=errors(404)
)
def post_certification(
    staff_id: DbId, body: CertificationIn, session: SessionDep, user: RosterEditor, now: NowDep, settings: SettingsDep
) -> CertificationPublic:
    """Record a certificate."""
    _scoped(session, user, staff_id)
    added = certifications.add_certification(
        session,
        staff_id=staff_id,
        certification=body,
        today=local_date(now),
        warn_days=settings.certification_warn_days,
    )
    session.commit()
    return added


@router.put(
    "/staff/{staff_id}/certifications/{certification_id}", response_model=CertificationPublic, responses=errors(404)
)
def put_certification(
    staff_id: DbId,
    certification_id: BigDbId,
    body: CertificationIn,
    session: SessionDep,
    user: RosterEditor,
    now: NowDep,
    settings: SettingsDep,
) -> CertificationPublic:
    """Replace a certificate (a renewal: a later `expires_on`)."""
    _scoped(session, user, staff_id)
    updated = certifications.update_certification(
        session,
        staff_id=staff_id,
        certification_id=certification_id,
        certification=body,
        today=local_date(now),
        warn_days=settings.certification_warn_days,
    )
    session.commit()
    return updated


@router.delete("/staff/{staff_id}/certifications/{certification_id}", responses=errors(404), **NO_CONTENT)  # type: ignore[arg-type]
def delete_certification(staff_id: DbId, certification_id: BigDbId, session: SessionDep, user: RosterEditor) -> None:
    """Remove a certificate."""
    _scoped(session, user, staff_id)
    certifications.remove_certification(session, staff_id=staff_id, certification_id=certification_id)
    session.commit()


# --- preferences -----------------------------------------------------------------------------------------------


@router.put("/staff/{staff_id}/preferences/{resident_id}", response_model=PreferencePublic, responses=errors(404))
def put_preference(
    staff_id: DbId, resident_id: DbId, body: PreferenceIn, session: SessionDep, user: RosterEditor, now: NowDep
) -> PreferencePublic:
    """The staff member prefers or declines a resident (a declined resident is never assigned to them)."""
    scope = _scoped(session, user, staff_id)
    saved = staff.set_preference(
        session, scope=scope, staff_id=staff_id, resident_id=resident_id, preference=body, now=now
    )
    session.commit()
    return saved


@router.delete("/staff/{staff_id}/preferences/{resident_id}", responses=errors(404), **NO_CONTENT)  # type: ignore[arg-type]
def delete_preference(staff_id: DbId, resident_id: DbId, session: SessionDep, user: RosterEditor) -> None:
    """Forget a preference."""
    _scoped(session, user, staff_id)
    staff.delete_preference(session, staff_id=staff_id, resident_id=resident_id)
    session.commit()


# --- the board and dispatch ------------------------------------------------------------------------------------


@router.get("/availability", response_model=Availability, responses=errors(422))
def get_availability(
    session: SessionDep,
    user: RosterReader,
    now: NowDep,
    settings: SettingsDep,
    area_id: DbIdQuery = None,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="Local day (Asia/Shanghai); today if left out")
    ] = None,
) -> Availability:
    """Per active staff member in scope: shifts that day, leave, tasks assigned that day against capacity,
    on call, certificates expiring or expired."""
    if day is not None and not date(1900, 1, 1) <= day <= date(2200, 12, 31):
        raise UnprocessableError("date must lie between 1900-01-01 and 2200-12-31", code="date_out_of_range")
    return board.availability(
        session,
        scope=scope_of(session, user),
        day=day or local_date(now),
        warn_days=settings.certification_warn_days,
        area_id=area_id,
    )


@router.get("/on-shift", response_model=list[OnShift], responses=errors(422))
def get_on_shift(
    session: SessionDep,
    user: RosterReader,
    now: NowDep,
    at: Annotated[Instant | None, Query(description="The moment (ISO 8601 with offset); now if left out")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    skill: Skill | None = None,
) -> list[OnShift]:
    """Staff in scope on shift at that moment (not on leave; with the skill and its certificate if given),
    nearest first by straight-line distance from (lat, lon)."""
    if at is not None and not 1900 <= at.year <= 2200:
        raise UnprocessableError("at must lie between 1900 and 2200", code="date_out_of_range")
    return board.on_shift(
        session, scope=scope_of(session, user), at=at or now, latitude=lat, longitude=lon, skill=skill
    )
