"""Alerts: raise one per exception and subject (idempotent), acknowledge, resolve; list them in scope.

A rule that finds an exception calls `raise_alert` every time it runs: while an alert of that kind and subject
is open (or acknowledged) nothing new is written. When the rule no longer holds, it calls `resolve_alerts` with
the subjects that still hold, and the others are resolved by the system with the rule's reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts.models import AlertKind, AlertState
from eldercare_platform.alerts.schemas import AlertPublic
from eldercare_platform.core.errors import ConflictError, NotFoundError
from eldercare_platform.core.scope import Scope

_RAISE = """
INSERT INTO alert (kind, subject_key, severity, message, task_id, staff_id, resident_id, area_id, area_path,
                   owner_user_id, owner_staff_id, detail, opened_at)
SELECT :kind, :subject, :severity, :message, :task, :staff, :resident, ar.id,
       coalesce(CAST(:area_path AS text), ar.path), :owner_user, :owner_staff, CAST(:detail AS jsonb), :now
FROM (SELECT 1) one
LEFT JOIN area ar ON ar.id = coalesce(
    CAST(:area AS integer),
    (SELECT h.area_id FROM resident r JOIN household h ON h.id = r.household_id WHERE r.id = :resident),
    (SELECT t.area_id FROM task t WHERE t.id = :task),
    (SELECT s.home_area_id FROM staff s WHERE s.id = :staff))
ON CONFLICT (kind, subject_key) WHERE state <> 'resolved' DO NOTHING
RETURNING id
"""


def raise_alert(
    session: Session,
    *,
    kind: AlertKind,
    subject_key: str,
    message: str,
    now: datetime,
    severity: int = 3,
    task_id: int | None = None,
    staff_id: int | None = None,
    resident_id: int | None = None,
    area_id: int | None = None,
    area_path: str | None = None,
    owner_user_id: int | None = None,
    owner_staff_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int | None:
    """Open an alert unless one of this kind and subject is already open; returns the new id (None if open).

    Its location (for the scope rule) is the given area, else the resident's home, the task's area or the staff
    member's home zone.
    """
    alert_id = session.execute(
        text(_RAISE),
        {
            "kind": str(kind),
            "subject": subject_key,
            "severity": severity,
            "message": message,
            "task": task_id,
            "staff": staff_id,
            "resident": resident_id,
            "area": area_id,
            "area_path": area_path,
            "owner_user": owner_user_id,
            "owner_staff": owner_staff_id,
            "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
            "now": now,
        },
    ).scalar()
    return None if alert_id is None else int(alert_id)


def resolve_alerts(
    session: Session,
    *,
    kind: AlertKind,
    now: datetime,
    resolution: str,
    keep: Iterable[str] | None = None,
    subject_keys: Iterable[str] | None = None,
) -> int:
    """Resolve open alerts of a kind whose rule no longer holds: those in `subject_keys`, or all but `keep`.

    Returns how many were resolved.
    """
    if subject_keys is not None:
        where, params = "subject_key = ANY(:subjects)", {"subjects": list(subject_keys)}
    else:
        where, params = "NOT (subject_key = ANY(:keep))", {"keep": list(keep or [])}
    result = session.execute(
        text(
            "UPDATE alert SET state = 'resolved', resolved_at = :now, resolution = :resolution,"
            " version = nextval('task_version_seq')"
            f" WHERE kind = :kind AND state <> 'resolved' AND {where}"
        ),
        {"kind": str(kind), "now": now, "resolution": resolution, **params},
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the alerts list and handling by hand (the coordinator's board, GET/POST /api/alerts) -------------------------
# Written by the pages helper (issue 11); the rules above raise and resolve, these list, acknowledge and resolve.

_ALERT_SELECT = """
SELECT al.id, al.kind, al.state, al.severity, al.message, al.subject_key, al.task_id, al.staff_id,
       s.name AS staff_name, al.resident_id, r.name AS resident_name, al.area_id, ar.name AS area_name,
       al.owner_user_id, al.owner_staff_id, al.detail, al.opened_at, al.acknowledged_at,
       ua.full_name AS acknowledged_by_name, al.resolved_at, ur.full_name AS resolved_by_name, al.resolution,
       al.version
FROM alert al
LEFT JOIN staff s ON s.id = al.staff_id
LEFT JOIN resident r ON r.id = al.resident_id
LEFT JOIN area ar ON ar.id = al.area_id
LEFT JOIN app_user ua ON ua.id = al.acknowledged_by
LEFT JOIN app_user ur ON ur.id = al.resolved_by
"""

ALERT_LIST_LIMIT = 500
"""At most this many alerts in one answer (most urgent first): a street's open alerts fit easily."""


def _public(row: Any) -> AlertPublic:
    return AlertPublic.model_validate(dict(row._mapping))


def list_alerts(
    session: Session,
    *,
    scope: Scope,
    area_path: str | None = None,
    states: Iterable[str] = (AlertState.OPEN, AlertState.ACKNOWLEDGED),
    kind: str | None = None,
    limit: int = ALERT_LIST_LIMIT,
) -> list[AlertPublic]:
    """Alerts in the scope (and under `area_path`, when given) in these states, most urgent and oldest first."""
    where = [scope.path_sql("al.area_path"), "al.state = ANY(:states)"]
    params: dict[str, Any] = {**scope.params, "states": [str(state) for state in states], "limit": limit}
    if area_path is not None:
        where.append("al.area_path LIKE :area_path || '%'")
        params["area_path"] = area_path
    if kind is not None:
        where.append("al.kind = :kind")
        params["kind"] = str(kind)
    rows = session.execute(
        text(f"{_ALERT_SELECT} WHERE {' AND '.join(where)} ORDER BY al.severity, al.opened_at, al.id LIMIT :limit"),
        params,
    )
    return [_public(row) for row in rows]


def get_alert(session: Session, *, scope: Scope, alert_id: int) -> AlertPublic:
    """One alert in the scope; 404 `alert_not_found` otherwise (outside the scope reads as absent)."""
    row = session.execute(
        text(f"{_ALERT_SELECT} WHERE al.id = :id AND {scope.path_sql('al.area_path')}"),
        {**scope.params, "id": alert_id},
    ).first()
    if row is None:
        raise NotFoundError("alert not found", code="alert_not_found", alert_id=alert_id)
    return _public(row)


def _handle(
    session: Session,
    *,
    scope: Scope,
    alert_id: int,
    allowed: tuple[AlertState, ...],
    set_sql: str,
    params: dict[str, Any],
) -> AlertPublic:
    current = get_alert(session, scope=scope, alert_id=alert_id)
    changed = session.execute(
        text(
            f"UPDATE alert SET {set_sql}, version = nextval('task_version_seq')"
            " WHERE id = :id AND state = ANY(:allowed) RETURNING id"
        ),
        {**params, "id": alert_id, "allowed": [str(state) for state in allowed]},
    ).scalar()
    if changed is None:
        fresh = get_alert(session, scope=scope, alert_id=alert_id)
        raise ConflictError(
            f"the alert is {fresh.state}; this action is not possible now",
            code="alert_state_conflict",
            state=str(fresh.state),
            was=str(current.state),
        )
    return get_alert(session, scope=scope, alert_id=alert_id)


def acknowledge_alert(session: Session, *, scope: Scope, alert_id: int, user_id: int, now: datetime) -> AlertPublic:
    """Take an open alert (409 `alert_state_conflict` when it is already acknowledged or resolved)."""
    return _handle(
        session,
        scope=scope,
        alert_id=alert_id,
        allowed=(AlertState.OPEN,),
        set_sql="state = 'acknowledged', acknowledged_at = :now, acknowledged_by = :user",
        params={"now": now, "user": user_id},
    )


def resolve_alert(
    session: Session, *, scope: Scope, alert_id: int, user_id: int, resolution: str, now: datetime
) -> AlertPublic:
    """Close an open or acknowledged alert with what was done (409 `alert_state_conflict` when resolved)."""
    return _handle(
        session,
        scope=scope,
        alert_id=alert_id,
        allowed=(AlertState.OPEN, AlertState.ACKNOWLEDGED),
        set_sql="state = 'resolved', resolved_at = :now, resolved_by = :user, resolution = :resolution,"
        " acknowledged_at = coalesce(acknowledged_at, :now), acknowledged_by = coalesce(acknowledged_by, :user)",
        params={"now": now, "user": user_id, "resolution": resolution.strip()},
    )


def area_in_scope(session: Session, *, scope: Scope, area_id: int) -> tuple[int, str, str, str]:
    """(id, name, path, level) of an area the user may look at: inside their scope, or containing nothing they may see
    is the same answer — 404 `area_not_found` (an area above a coordinator's community is not theirs either)."""
    row = session.execute(text("SELECT id, name, path, level FROM area WHERE id = :id"), {"id": area_id}).first()
    if row is None or not scope.sees(area_path=row.path, institution_id=None):
        raise NotFoundError("area not found", code="area_not_found", area_id=area_id)
    return int(row.id), str(row.name), str(row.path), str(row.level)
