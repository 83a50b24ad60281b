"""A resident's essentials for the caregiver at the door (least privilege, every read audited).

A caregiver reads a resident only while the resident is on one of their own tasks that was sent to them — published,
en route or checked in, or completed or missed within `essentials_after_hours` — and whose window overlaps
[now − 12 h, now + `essentials_ahead_hours`]. Anything else is 403 `resident_not_on_your_tasks`, the same answer
whether the resident exists or not. What is returned is what a visit needs: no ID number, no categories, no
consents, no care plan (`ResidentEssentials`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.audit.service import record
from eldercare_platform.core.clock import age_on
from eldercare_platform.core.errors import DomainError
from eldercare_platform.tasks import queries
from eldercare_platform.tasks.schemas import EmergencyContactBrief, Keyholder, ResidentEssentials
from eldercare_platform.users.models import User

BEHIND = timedelta(hours=12)
"""A task whose window ended longer ago than this no longer opens its resident (whatever its status)."""


class ResidentNotOnYourTasksError(DomainError):
    """403 `resident_not_on_your_tasks`: not on one of the caller's current tasks (or no such resident)."""

    status = 403
    code = "resident_not_on_your_tasks"


@dataclass(frozen=True)
class Window:
    """What opens a resident to a caregiver now (from the settings)."""

    now: datetime
    after_hours: int
    ahead_hours: int


_OWN_TASKS = f"""
SELECT t.id, t.resident_id FROM task t
WHERE t.assignee_staff_id = :me AND t.resident_id IS NOT NULL
  AND (t.status IN ('published', 'en_route', 'checked_in')
       OR (t.status = 'completed' AND t.completed_at >= :closed_since)
       OR (t.status = 'missed' AND t.updated_at >= :closed_since))
  AND t.window_start < :ahead AND t.window_end > :behind
  AND (CAST(:resident AS integer) IS NULL OR t.resident_id = :resident)
ORDER BY {queries.ROUTE_ORDER}
"""

_RESIDENTS = """
SELECT r.id, r.name, r.gender, r.birth_date, r.phone, h.address, h.landline, h.access_notes,
       h.latitude AS home_latitude, h.longitude AS home_longitude, r.health_conditions, r.dialect_notes,
       r.capability_level, r.care_tier
FROM resident r JOIN household h ON h.id = r.household_id
WHERE r.id = ANY(:ids)
"""

_CONTACTS = """
SELECT resident_id, name, relation, phone, priority, is_keyholder, lives_nearby
FROM emergency_contact WHERE resident_id = ANY(:ids) ORDER BY resident_id, priority, id
"""


def _own_tasks(session: Session, *, user: User, window: Window, resident_id: int | None) -> dict[int, list[int]]:
    """resident id → the caller's tasks that open it now (in route order; residents in the order first met)."""
    if user.staff_id is None:
        return {}
    rows = session.execute(
        text(_OWN_TASKS),
        {
            "me": user.staff_id,
            "closed_since": window.now - timedelta(hours=window.after_hours),
            "ahead": window.now + timedelta(hours=window.ahead_hours),
            "behind": window.now - BEHIND,
            "resident": resident_id,
        },
    ).all()
    tasks: dict[int, list[int]] = {}
    for row in rows:
        tasks.setdefault(int(row.resident_id), []).append(int(row.id))
    return tasks


def _essentials(session: Session, tasks: dict[int, list[int]], *, today: date) -> list[ResidentEssentials]:
    ids = list(tasks)
    if not ids:
        return []
    contacts: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(text(_CONTACTS), {"ids": ids}).all():
        contacts[int(row.resident_id)].append(row)
    residents = {int(row.id): row for row in session.execute(text(_RESIDENTS), {"ids": ids}).all()}
    result = []
    for resident_id in ids:
        if resident_id not in residents:
            continue
        row = residents[resident_id]
        known = contacts[resident_id]
        result.append(
            ResidentEssentials(
                id=resident_id,
                name=row.name,
                gender=row.gender,
                age=age_on(row.birth_date, today),
                phone=row.phone,
                address=row.address,
                landline=row.landline,
                access_notes=row.access_notes,
                home_latitude=row.home_latitude,
                home_longitude=row.home_longitude,
                health_conditions=list(row.health_conditions or []),
                dialect_notes=row.dialect_notes,
                capability_level=row.capability_level,
                care_tier=row.care_tier,
                emergency_contacts=[
                    EmergencyContactBrief(
                        name=c.name,
                        relation=c.relation,
                        phone=c.phone,
                        priority=c.priority,
                        is_keyholder=c.is_keyholder,
                        lives_nearby=c.lives_nearby,
                    )
                    for c in known
                ],
                keyholders=[Keyholder(name=c.name, phone=c.phone) for c in known if c.is_keyholder],
                task_ids=tasks[resident_id],
            )
        )
    return result


def _audit(session: Session, *, user: User, essentials: ResidentEssentials, client_ip: str | None, view: str) -> None:
    record(
        session,
        user_id=user.id,
        action="read",
        entity="resident",
        entity_id=essentials.id,
        detail={"view": view, "task_ids": essentials.task_ids},
        client_ip=client_ip,
    )


def read_one(
    session: Session, *, user: User, resident_id: int, window: Window, today: date, client_ip: str | None
) -> ResidentEssentials:
    """One resident's essentials, audited (`read`, view `essentials`); a refusal is audited too (`read_denied`) and
    answered 403 `resident_not_on_your_tasks`. The caller commits either way (the refusal after its audit row)."""
    found = _essentials(session, _own_tasks(session, user=user, window=window, resident_id=resident_id), today=today)
    if not found:
        record(
            session,
            user_id=user.id,
            action="read_denied",
            entity="resident",
            entity_id=resident_id,
            detail={"view": "essentials", "reason": ResidentNotOnYourTasksError.code},
            client_ip=client_ip,
        )
        raise ResidentNotOnYourTasksError(
            f"resident {resident_id} is not on one of your current tasks", resident_id=resident_id
        )
    _audit(session, user=user, essentials=found[0], client_ip=client_ip, view="essentials")
    return found[0]


def read_all(
    session: Session, *, user: User, window: Window, today: date, client_ip: str | None
) -> list[ResidentEssentials]:
    """The essentials of every resident the caller may read now (the app's offline cache), each read audited
    (view `essentials_list`); in the order of the caller's route."""
    found = _essentials(session, _own_tasks(session, user=user, window=window, resident_id=None), today=today)
    for essentials in found:
        _audit(session, user=user, essentials=essentials, client_ip=client_ip, view="essentials_list")
    return found
