"""Area lookups (the scope rule built on area paths lives in `core/scope.py`)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from eldercare_platform.areas.models import Area


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
