"""Who owns a roster alert: the coordinator whose area most closely contains the location."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

_COORDINATOR = """
SELECT u.id FROM app_user u JOIN area a ON a.id = u.scope_area_id
WHERE u.role = 'coordinator' AND u.active AND :path LIKE a.path || '%'
ORDER BY length(a.path) DESC, u.id LIMIT 1
"""


def coordinator_for(session: Session, *, area_path: str | None) -> int | None:
    """The active coordinator with the narrowest area containing `area_path` (None if nobody covers it)."""
    if not area_path:
        return None
    user_id = session.execute(text(_COORDINATOR), {"path": area_path}).scalar()
    return None if user_id is None else int(user_id)


def staff_area_path(session: Session, *, staff_id: int) -> str | None:
    """The path of the staff member's home zone."""
    path = session.execute(
        text("SELECT a.path FROM staff s JOIN area a ON a.id = s.home_area_id WHERE s.id = :id"), {"id": staff_id}
    ).scalar()
    return None if path is None else str(path)
