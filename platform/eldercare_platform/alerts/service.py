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

from eldercare_platform.alerts.models import AlertKind

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
