"""The roster's service functions (keyword-only arguments; `now` from the injected clock).

`available_staff` is what the task engine, the alarm console's dispatch and the planner ask: who can take work
in this window, here, with this skill (docs/services/roster.md, "Who is available"); `why_not_assignable` says
why one person cannot. The roster's other functions live beside this module by concern (`shifts`, `leave`,
`staff`, `certifications`, `board`) and are re-exported here, the domain's front door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import local_date
from eldercare_platform.core.scope import Scope
from eldercare_platform.roster.certifications import certification_alerts
from eldercare_platform.roster.leave import cancel_leave, record_leave
from eldercare_platform.roster.models import Unassignable
from eldercare_platform.roster.rules import REQUIRED_CERTIFICATES, required_certificates
from eldercare_platform.roster.shifts import generate_shifts

__all__ = [
    "REQUIRED_CERTIFICATES",
    "AvailableStaff",
    "PlanningShift",
    "available_staff",
    "cancel_leave",
    "certification_alerts",
    "generate_shifts",
    "planning_shifts",
    "record_leave",
    "why_not_assignable",
]

_LOAD = """(SELECT count(*) FROM task t WHERE t.assignee_staff_id = s.id
          AND t.status IN ('assigned', 'published', 'en_route', 'checked_in')
          AND t.window_start >= sh.starts_at AND t.window_start < sh.ends_at)"""

_CERTIFIED = """(CAST(:certs AS text[]) IS NULL OR EXISTS (
       SELECT 1 FROM staff_certification c WHERE c.staff_id = s.id AND c.name = ANY(CAST(:certs AS text[]))
         AND (c.expires_on IS NULL OR c.expires_on >= :day)))"""

AVAILABLE_STAFF = f"""
SELECT * FROM (
SELECT DISTINCT ON (s.id)
       s.id, s.name, s.phone, s.role, s.skills, s.home_area_id, s.home_latitude, s.home_longitude, s.travel_mode,
       s.max_tasks_per_shift, sh.id AS shift_id, sh.starts_at, sh.ends_at, sh.on_call, {_LOAD} AS load
FROM staff s
JOIN shift sh ON sh.staff_id = s.id AND sh.starts_at <= :start AND sh.ends_at >= :end
WHERE s.active
  AND (CAST(:skill AS text) IS NULL OR :skill = ANY(s.skills))
  AND {_CERTIFIED}
  AND (CAST(:area_path AS text) IS NULL
       OR EXISTS (SELECT 1 FROM area a WHERE a.id = s.home_area_id AND a.path LIKE :area_path || '%'))
  AND NOT EXISTS (SELECT 1 FROM staff_leave l WHERE l.staff_id = s.id AND l.cancelled_at IS NULL
                  AND l.starts_at < :end AND l.ends_at > :start)
  AND (CAST(:resident AS integer) IS NULL OR NOT EXISTS (
       SELECT 1 FROM staff_preference p WHERE p.staff_id = s.id AND p.resident_id = :resident AND p.kind = 'declined'))
  AND {{scope}}
ORDER BY s.id, sh.starts_at
) available
WHERE NOT :exclude_full OR load < max_tasks_per_shift
ORDER BY id
"""


@dataclass(frozen=True)
class AvailableStaff:
    """A staff member on shift for a window, with what planning needs."""

    id: int
    name: str
    phone: str
    role: str
    skills: list[str]
    home_area_id: int
    home_latitude: float | None
    home_longitude: float | None
    travel_mode: str
    max_tasks_per_shift: int
    shift_id: int
    starts_at: datetime
    ends_at: datetime
    on_call: bool
    load: int


def available_staff(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    skill: str | None = None,
    area_path: str | None = None,
    resident_id: int | None = None,
    scope: Scope | None = None,
    exclude_full: bool = False,
) -> list[AvailableStaff]:
    """Active staff with a shift covering [start, end], not on leave then, with the skill (and, when the skill
    needs one, a certificate valid on `start`'s local day: `rules.REQUIRED_CERTIFICATES`), based in the area,
    who have not declined the resident, in the user's `scope` if given. `load` is their tasks already in that
    shift (the earliest covering one); `exclude_full` leaves out those at `max_tasks_per_shift`."""
    certs = required_certificates(skill)
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "skill": skill,
        "area_path": area_path,
        "resident": resident_id,
        "certs": sorted(certs) if certs else None,
        "day": local_date(start),
        "exclude_full": exclude_full,
    }
    scope_sql = "true"
    if scope is not None:
        scope_sql = scope.staff_sql("s")
        params.update(scope.params)
    rows = session.execute(text(AVAILABLE_STAFF.format(scope=scope_sql)), params).mappings()
    return [AvailableStaff(**dict(row)) for row in rows]


def why_not_assignable(
    session: Session,
    *,
    staff_id: int,
    start: datetime,
    end: datetime,
    skill: str | None = None,
    resident_id: int | None = None,
) -> list[str]:
    """Every reason (`models.Unassignable` codes, in a fixed order) the staff member cannot take a task in
    [start, end] needing `skill` at `resident_id`'s home; an empty list when they can."""
    staff = session.execute(
        text("SELECT active, skills, max_tasks_per_shift FROM staff WHERE id = :id"), {"id": staff_id}
    ).first()
    if staff is None:
        return [Unassignable.UNKNOWN_STAFF]
    reasons: list[str] = []
    if not staff.active:
        reasons.append(Unassignable.INACTIVE)
    shift = session.execute(
        text(
            f"SELECT {_LOAD} AS load FROM staff s JOIN shift sh ON sh.staff_id = s.id"
            " WHERE s.id = :id AND sh.starts_at <= :start AND sh.ends_at >= :end ORDER BY sh.starts_at LIMIT 1"
        ),
        {"id": staff_id, "start": start, "end": end},
    ).first()
    if shift is None:
        reasons.append(Unassignable.NOT_ON_SHIFT)
    if session.execute(
        text(
            "SELECT 1 FROM staff_leave WHERE staff_id = :id AND cancelled_at IS NULL"
            " AND starts_at < :end AND ends_at > :start LIMIT 1"
        ),
        {"id": staff_id, "start": start, "end": end},
    ).first():
        reasons.append(Unassignable.ON_LEAVE)
    if skill is not None and skill not in (staff.skills or []):
        reasons.append(Unassignable.MISSING_SKILL)
    certs = required_certificates(skill)
    if certs:
        held = session.execute(
            text("SELECT expires_on FROM staff_certification WHERE staff_id = :id AND name = ANY(:names)"),
            {"id": staff_id, "names": sorted(certs)},
        ).all()
        day = local_date(start)
        if not held:
            reasons.append(Unassignable.CERTIFICATE_MISSING)
        elif not any(row.expires_on is None or row.expires_on >= day for row in held):
            reasons.append(Unassignable.CERTIFICATE_EXPIRED)
    if (
        resident_id is not None
        and session.execute(
            text("SELECT 1 FROM staff_preference WHERE staff_id = :id AND resident_id = :r AND kind = 'declined'"),
            {"id": staff_id, "r": resident_id},
        ).first()
    ):
        reasons.append(Unassignable.DECLINED_RESIDENT)
    if shift is not None and int(shift.load) >= int(staff.max_tasks_per_shift):
        reasons.append(Unassignable.MAX_TASKS_REACHED)
    return [str(reason) for reason in reasons]


# --- planning: every shift of an area's day, with what the planner needs (issue 12) ------------------------------


@dataclass(frozen=True)
class PlanningShift:
    """One shift of a staff member based in the area, as the planner sees it: the staff member's facts, the skills
    they may use that day (a skill that needs a certificate counts only with one valid on `day`), the residents
    they declined, and their leave overlapping the shift (periods [start, end), cancelled leave left out)."""

    staff_id: int
    name: str
    role: str
    shift_id: int
    starts_at: datetime
    ends_at: datetime
    on_call: bool
    skills: frozenset[str]
    travel_mode: str
    home_latitude: float | None
    home_longitude: float | None
    max_tasks_per_shift: int
    declined_residents: frozenset[int]
    leave: tuple[tuple[datetime, datetime], ...]


PLANNING_SHIFTS = """
SELECT s.id AS staff_id, s.name, s.role, s.skills, s.travel_mode, s.home_latitude, s.home_longitude,
       s.max_tasks_per_shift, sh.id AS shift_id, sh.starts_at, sh.ends_at, sh.on_call,
       coalesce((SELECT array_agg(DISTINCT c.name) FROM staff_certification c WHERE c.staff_id = s.id
                 AND (c.expires_on IS NULL OR c.expires_on >= :day)), '{}') AS certificates,
       coalesce((SELECT array_agg(DISTINCT p.resident_id) FROM staff_preference p WHERE p.staff_id = s.id
                 AND p.kind = 'declined' AND p.resident_id IS NOT NULL), '{}') AS declined
FROM staff s
JOIN area a ON a.id = s.home_area_id
JOIN shift sh ON sh.staff_id = s.id
WHERE s.active AND s.role <> 'operator' AND a.path LIKE :area_path || '%'
  AND sh.starts_at < :end AND sh.ends_at > :start
ORDER BY s.id, sh.starts_at
"""

PLANNING_LEAVE = """
SELECT l.staff_id, l.starts_at, l.ends_at FROM staff_leave l
WHERE l.staff_id = ANY(:staff) AND l.cancelled_at IS NULL AND l.starts_at < :end AND l.ends_at > :start
ORDER BY l.staff_id, l.starts_at
"""


def _usable(skill: str, certificates: set[str]) -> bool:
    """A skill needing no certificate, or one the person holds a valid certificate for."""
    needed = required_certificates(skill)
    return not needed or bool(needed & certificates)


def planning_shifts(session: Session, *, area_path: str, start: datetime, end: datetime) -> list[PlanningShift]:
    """Every shift overlapping [start, end) of the active staff (operators excepted: they work the call center)
    whose home zone lies in the area, with their usable skills (`rules.REQUIRED_CERTIFICATES`, certificates
    valid on `start`'s local day), declined residents and leave. Leave is not subtracted here: the planner
    decides what is left of a shift (a sick day recorded mid-shift ends it at that moment)."""
    rows = session.execute(
        text(PLANNING_SHIFTS), {"area_path": area_path, "start": start, "end": end, "day": local_date(start)}
    ).all()
    leave: dict[int, list[tuple[datetime, datetime]]] = {}
    staff_ids = sorted({int(row.staff_id) for row in rows})
    if staff_ids:
        for item in session.execute(text(PLANNING_LEAVE), {"staff": staff_ids, "start": start, "end": end}):
            leave.setdefault(int(item.staff_id), []).append((item.starts_at, item.ends_at))
    shifts = []
    for row in rows:
        held = set(row.certificates or [])
        skills = frozenset(skill for skill in (row.skills or []) if _usable(skill, held))
        shifts.append(
            PlanningShift(
                staff_id=int(row.staff_id),
                name=str(row.name),
                role=str(row.role),
                shift_id=int(row.shift_id),
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                on_call=bool(row.on_call),
                skills=skills,
                travel_mode=str(row.travel_mode),
                home_latitude=row.home_latitude,
                home_longitude=row.home_longitude,
                max_tasks_per_shift=int(row.max_tasks_per_shift),
                declined_residents=frozenset(int(r) for r in (row.declined or [])),
                leave=tuple(
                    (a, b) for a, b in leave.get(int(row.staff_id), []) if a < row.ends_at and b > row.starts_at
                ),
            )
        )
    return shifts
