"""Writing audit rows from routes, jobs and sockets."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from eldercare_platform.audit.models import AuditLog


def record(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditLog:
    """Add an audit row to the session's transaction (committed with the caller's work)."""
    row = AuditLog(
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=detail or {},
        client_ip=client_ip,
    )
    session.add(row)
    return row
