"""Staff records in the user's scope: list, detail, edit; shift patterns; preferences (docs/services/roster.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.core.scope import Scope
from eldercare_platform.roster.certifications import list_certifications
from eldercare_platform.roster.leave import LEAVE_COLUMNS
from eldercare_platform.roster.rules import crosses_midnight
from eldercare_platform.roster.schemas import (
    LeavePublic,
    PatternIn,
    PatternPublic,
    PreferenceIn,
    PreferencePublic,
    ShiftPublic,
    StaffDetail,
    StaffPage,
    StaffSummary,
    StaffUpdate,
)
from eldercare_platform.roster.shifts import end_pattern, generate_shifts

STAFF_COLUMNS = (
    "s.id, s.name, s.phone, s.role, s.skills, s.home_area_id, a.name AS home_area_name, s.care_center_id,"
    " s.institution_id, s.active, s.max_tasks_per_shift, s.home_latitude, s.home_longitude, s.travel_mode"
)
PATTERN_COLUMNS = "id, staff_id, label, weekdays, start_time, end_time, on_call, valid_from, valid_to"
LEAVE_HISTORY = timedelta(days=30)


class StaffNotFoundError(NotFoundError):
    """No such staff member in the user's scope."""

    code = "staff_not_found"


class PatternNotFoundError(NotFoundError):
    """No such shift pattern for this staff member."""

    code = "pattern_not_found"


class PreferenceResidentNotFoundError(NotFoundError):
    """The resident is not in the user's scope (or has no preference recorded)."""

    code = "resident_not_found"


def list_staff(
    session: Session,
    *,
    scope: Scope,
    area_id: int | None = None,
    role: str | None = None,
    skill: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> StaffPage:
    """Staff in scope, filtered by area subtree (home zone), role, skill, active; ordered by id."""
    where = [scope.staff_sql("s")]
    params: dict[str, Any] = dict(scope.params)
    if area_id is not None:
        where.append("a.path LIKE coalesce((SELECT path FROM area WHERE id = :area), '/none/') || '%'")
        params["area"] = area_id
    if role is not None:
        where.append("s.role = :role")
        params["role"] = role
    if skill is not None:
        where.append(":skill = ANY(s.skills)")
        params["skill"] = skill
    if active is not None:
        where.append("s.active = :active")
        params["active"] = active
    sql = f"FROM staff s JOIN area a ON a.id = s.home_area_id WHERE {' AND '.join(where)}"
    total = session.execute(text(f"SELECT count(*) {sql}"), params).scalar_one()
    rows = session.execute(
        text(f"SELECT {STAFF_COLUMNS} {sql} ORDER BY s.id LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).mappings()
    return StaffPage(total=int(total), items=[StaffSummary.model_validate(dict(row)) for row in rows])


def get_staff(session: Session, *, scope: Scope, staff_id: int, lock: bool = False) -> StaffSummary:
    """One staff member in scope; `StaffNotFoundError` otherwise."""
    row = (
        session.execute(
            text(
                f"SELECT {STAFF_COLUMNS} FROM staff s JOIN area a ON a.id = s.home_area_id"
                f" WHERE s.id = :id AND {scope.staff_sql('s')}" + (" FOR UPDATE OF s" if lock else "")
            ),
            {"id": staff_id, **scope.params},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise StaffNotFoundError(f"staff {staff_id} not found in your scope")
    return StaffSummary.model_validate(dict(row))


def staff_detail(
    session: Session, *, scope: Scope, staff_id: int, now: datetime, today: date, warn_days: int
) -> StaffDetail:
    """The staff member with patterns, upcoming shifts, leave (current, future, last 30 days), certificates with
    their status `today`, and preferences."""
    staff = get_staff(session, scope=scope, staff_id=staff_id)
    shifts = session.execute(
        text(
            "SELECT id, pattern_id, starts_at, ends_at, on_call FROM shift WHERE staff_id = :id AND ends_at > :now"
            " ORDER BY starts_at LIMIT 100"
        ),
        {"id": staff_id, "now": now},
    ).mappings()
    leave = session.execute(
        text(
            f"SELECT {LEAVE_COLUMNS} FROM staff_leave WHERE staff_id = :id AND ends_at > :since ORDER BY starts_at, id"
        ),
        {"id": staff_id, "since": now - LEAVE_HISTORY},
    ).mappings()
    return StaffDetail(
        staff=staff,
        patterns=list_patterns(session, staff_id=staff_id),
        upcoming_shifts=[ShiftPublic.model_validate(dict(row)) for row in shifts],
        leave=[LeavePublic.model_validate(dict(row)) for row in leave],
        certifications=list_certifications(session, staff_id=staff_id, today=today, warn_days=warn_days),
        preferences=list_preferences(session, staff_id=staff_id),
    )


def update_staff(session: Session, *, scope: Scope, staff_id: int, update: StaffUpdate) -> StaffSummary:
    """Apply the fields given (an explicit null clears a home coordinate); returns the staff member."""
    get_staff(session, scope=scope, staff_id=staff_id, lock=True)
    fields = update.model_dump(exclude_unset=True)
    for required in ("skills", "max_tasks_per_shift", "travel_mode", "active"):
        if required in fields and fields[required] is None:
            del fields[required]
    if fields:
        assignments = ", ".join(f"{name} = :{name}" for name in fields)
        if "skills" in fields:
            fields["skills"] = [str(skill) for skill in fields["skills"]]
        if "travel_mode" in fields:
            fields["travel_mode"] = str(fields["travel_mode"])
        session.execute(text(f"UPDATE staff SET {assignments} WHERE id = :id"), {**fields, "id": staff_id})
    return get_staff(session, scope=scope, staff_id=staff_id)


# --- shift patterns ------------------------------------------------------------------------------------------


def _pattern(row: Any) -> PatternPublic:
    data = dict(row)
    data["weekdays"] = [int(day) for day in data["weekdays"]]
    return PatternPublic(**data, crosses_midnight=crosses_midnight(data["start_time"], data["end_time"]))


def list_patterns(session: Session, *, staff_id: int) -> list[PatternPublic]:
    """The staff member's shift patterns."""
    rows = session.execute(
        text(f"SELECT {PATTERN_COLUMNS} FROM shift_pattern WHERE staff_id = :id ORDER BY valid_from, id"),
        {"id": staff_id},
    ).mappings()
    return [_pattern(row) for row in rows]


def _pattern_params(pattern: PatternIn) -> dict[str, Any]:
    return pattern.model_dump() | {"weekdays": list(pattern.weekdays)}


def add_pattern(
    session: Session, *, staff_id: int, pattern: PatternIn, now: datetime, today: date, days: int
) -> PatternPublic:
    """Add a pattern and write its shifts for the window at once."""
    row = (
        session.execute(
            text(
                "INSERT INTO shift_pattern (staff_id, label, weekdays, start_time, end_time, on_call, valid_from,"
                " valid_to) VALUES (:staff, :label, CAST(:weekdays AS smallint[]), :start_time, :end_time, :on_call,"
                f" :valid_from, :valid_to) RETURNING {PATTERN_COLUMNS}"
            ),
            {"staff": staff_id, **_pattern_params(pattern)},
        )
        .mappings()
        .one()
    )
    generate_shifts(session, today=today, days=days, now=now, staff_id=staff_id)
    return _pattern(row)


def update_pattern(
    session: Session, *, staff_id: int, pattern_id: int, pattern: PatternIn, now: datetime, today: date, days: int
) -> PatternPublic:
    """Replace a pattern; its future untouched shifts follow at once (see `shifts.generate_shifts`)."""
    row = (
        session.execute(
            text(
                "UPDATE shift_pattern SET label = :label, weekdays = CAST(:weekdays AS smallint[]),"
                " start_time = :start_time, end_time = :end_time, on_call = :on_call, valid_from = :valid_from,"
                f" valid_to = :valid_to WHERE id = :id AND staff_id = :staff RETURNING {PATTERN_COLUMNS}"
            ),
            {"staff": staff_id, "id": pattern_id, **_pattern_params(pattern)},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise PatternNotFoundError(f"pattern {pattern_id} not found for staff {staff_id}")
    generate_shifts(session, today=today, days=days, now=now, staff_id=staff_id)
    return _pattern(row)


def delete_pattern(session: Session, *, staff_id: int, pattern_id: int, now: datetime) -> int:
    """Delete a pattern (see `shifts.end_pattern`); returns the shifts removed."""
    found = session.execute(
        text("SELECT 1 FROM shift_pattern WHERE id = :id AND staff_id = :staff FOR UPDATE"),
        {"id": pattern_id, "staff": staff_id},
    ).first()
    if found is None:
        raise PatternNotFoundError(f"pattern {pattern_id} not found for staff {staff_id}")
    return end_pattern(session, pattern_id=pattern_id, now=now)


# --- preferences -----------------------------------------------------------------------------------------------


def list_preferences(session: Session, *, staff_id: int) -> list[PreferencePublic]:
    """The residents the staff member prefers or declines."""
    rows = session.execute(
        text(
            "SELECT p.resident_id, r.name AS resident_name, p.kind, p.reason, p.recorded_at"
            " FROM staff_preference p JOIN resident r ON r.id = p.resident_id WHERE p.staff_id = :id"
            " ORDER BY p.resident_id"
        ),
        {"id": staff_id},
    ).mappings()
    return [PreferencePublic.model_validate(dict(row)) for row in rows]


def set_preference(
    session: Session, *, scope: Scope, staff_id: int, resident_id: int, preference: PreferenceIn, now: datetime
) -> PreferencePublic:
    """Record (or replace) a preference; the resident must be in the user's scope too."""
    found = session.execute(
        text(f"SELECT 1 FROM resident r WHERE r.id = :r AND {scope.residents_sql('r')}"),
        {"r": resident_id, **scope.params},
    ).first()
    if found is None:
        raise PreferenceResidentNotFoundError(f"resident {resident_id} not found in your scope")
    session.execute(
        text(
            "INSERT INTO staff_preference (staff_id, resident_id, kind, reason, recorded_at)"
            " VALUES (:staff, :r, :kind, :reason, :now) ON CONFLICT (staff_id, resident_id)"
            " DO UPDATE SET kind = EXCLUDED.kind, reason = EXCLUDED.reason, recorded_at = EXCLUDED.recorded_at"
        ),
        {"staff": staff_id, "r": resident_id, "kind": str(preference.kind), "reason": preference.reason, "now": now},
    )
    return next(p for p in list_preferences(session, staff_id=staff_id) if p.resident_id == resident_id)


def delete_preference(session: Session, *, staff_id: int, resident_id: int) -> None:
    """Forget a preference; 404 when there is none."""
    deleted = session.execute(
        text("DELETE FROM staff_preference WHERE staff_id = :staff AND resident_id = :r RETURNING 1"),
        {"staff": staff_id, "r": resident_id},
    ).first()
    if deleted is None:
        raise PreferenceResidentNotFoundError(
            f"no preference of staff {staff_id} for resident {resident_id}", code="preference_not_found"
        )
