"""The roster's service functions (keyword-only arguments; `now` from the injected clock).

`available_staff` is what the task engine, the alarm console's dispatch and the planner ask: who can take work
in this window, here, with this skill (docs/services.md, "Who is available").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

AVAILABLE_STAFF = """
SELECT s.id, s.name, s.phone, s.role, s.skills, s.home_area_id, s.home_latitude, s.home_longitude, s.travel_mode,
       s.max_tasks_per_shift, sh.id AS shift_id, sh.starts_at, sh.ends_at, sh.on_call,
       (SELECT count(*) FROM task t WHERE t.assignee_staff_id = s.id
          AND t.status IN ('assigned', 'published', 'en_route', 'checked_in')
          AND t.window_start >= sh.starts_at AND t.window_start < sh.ends_at) AS load
FROM staff s
JOIN shift sh ON sh.staff_id = s.id AND sh.starts_at <= :start AND sh.ends_at >= :end
WHERE s.active
  AND (CAST(:skill AS text) IS NULL OR :skill = ANY(s.skills))
  AND (CAST(:area_path AS text) IS NULL
       OR EXISTS (SELECT 1 FROM area a WHERE a.id = s.home_area_id AND a.path LIKE :area_path || '%'))
  AND NOT EXISTS (SELECT 1 FROM staff_leave l WHERE l.staff_id = s.id AND l.cancelled_at IS NULL
                  AND l.starts_at < :end AND l.ends_at > :start)
  AND (CAST(:resident AS integer) IS NULL OR NOT EXISTS (
       SELECT 1 FROM staff_preference p WHERE p.staff_id = s.id AND p.resident_id = :resident AND p.kind = 'declined'))
ORDER BY s.id
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
) -> list[AvailableStaff]:
    """Active staff with a shift covering [start, end], not on leave then, with the skill, based in the area,
    who have not declined the resident. `load` is their tasks already in that shift."""
    rows = session.execute(
        text(AVAILABLE_STAFF),
        {"start": start, "end": end, "skill": skill, "area_path": area_path, "resident": resident_id},
    ).mappings()
    return [AvailableStaff(**dict(row)) for row in rows]
