"""Area lookups and the scope rule: a supervisor sees only their area's subtree."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false
from sqlmodel import Session, col, select

from eldercare_platform.areas.models import Area
from eldercare_platform.users.models import Role, User


def scope_path(session: Session, *, user: User) -> str | None:
    """The area path prefix the user is limited to, or None when the user sees the whole city."""
    if user.role != Role.SUPERVISOR or user.scope_area_id is None:
        return None
    area = session.get(Area, user.scope_area_id)
    if area is None:
        raise LookupError(f"scope area {user.scope_area_id} of user {user.id} does not exist")
    return area.path


def area_filter(session: Session, *, user: User) -> ColumnElement[bool] | None:
    """A WHERE clause on `Area` for the user's scope; None means no restriction.

    A supervisor scoped to an institution sees no home-care areas at all.
    """
    if user.role == Role.SUPERVISOR and user.scope_area_id is None:
        return false()
    path = scope_path(session, user=user)
    if path is None:
        return None
    return col(Area.path).startswith(path)


def list_areas(session: Session, *, parent_id: int | None = None) -> list[Area]:
    """Areas under a parent (the top tier when parent_id is None), ordered by code."""
    query = select(Area).order_by(Area.code)
    query = (
        query.where(Area.parent_id == parent_id)
        if parent_id is not None
        else query.where(col(Area.parent_id).is_(None))
    )
    return list(session.exec(query).all())


def child_path(parent: Area | None, area_id: int) -> str:
    """The materialized path of an area given its parent."""
    return f"{parent.path}{area_id}/" if parent else f"/{area_id}/"
