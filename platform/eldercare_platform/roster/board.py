"""The coordinator board's staff panel (a day's availability) and the console's "who is on shift near here"."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.geo import haversine_km
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.core.scope import Scope
from eldercare_platform.roster.certifications import certification_public
from eldercare_platform.roster.leave import LEAVE_COLUMNS
from eldercare_platform.roster.models import CertificateStatus
from eldercare_platform.roster.schemas import (
    Availability,
    AvailabilityEntry,
    CertificationPublic,
    LeavePublic,
    OnShift,
    ShiftPublic,
)
from eldercare_platform.roster.service import available_staff
from eldercare_platform.roster.staff import list_staff

MAX_BOARD_STAFF = 2000
LOADED_STATUSES = ["assigned", "published", "en_route", "checked_in", "completed"]


def availability(
    session: Session, *, scope: Scope, day: date, warn_days: int, area_id: int | None = None
) -> Availability:
    """Every active staff member in scope (and in the area's subtree): their shifts overlapping the local `day`,
    leave overlapping it, tasks assigned that day against their capacity, certificates expiring or expired."""
    staff = list_staff(session, scope=scope, area_id=area_id, active=True, limit=MAX_BOARD_STAFF).items
    ids = [member.id for member in staff]
    start = datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE)
    end = start + timedelta(days=1)
    window = {"ids": ids, "start": start, "end": end}
    shifts: dict[int, list[ShiftPublic]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT id, staff_id, pattern_id, starts_at, ends_at, on_call FROM shift WHERE staff_id = ANY(:ids)"
            " AND starts_at < :end AND ends_at > :start ORDER BY starts_at"
        ),
        window,
    ).mappings():
        shifts[int(row["staff_id"])].append(ShiftPublic.model_validate(dict(row)))
    leave: dict[int, list[LeavePublic]] = defaultdict(list)
    for row in session.execute(
        text(
            f"SELECT {LEAVE_COLUMNS} FROM staff_leave WHERE staff_id = ANY(:ids) AND cancelled_at IS NULL"
            " AND starts_at < :end AND ends_at > :start ORDER BY starts_at"
        ),
        window,
    ).mappings():
        leave[int(row["staff_id"])].append(LeavePublic.model_validate(dict(row)))
    load = {
        int(staff_id): int(count)
        for staff_id, count in session.execute(
            text(
                "SELECT assignee_staff_id, count(*) FROM task WHERE assignee_staff_id = ANY(:ids)"
                " AND status = ANY(:statuses) AND window_start >= :start AND window_start < :end"
                " GROUP BY assignee_staff_id"
            ),
            window | {"statuses": LOADED_STATUSES},
        )
    }
    certs: dict[int, list[CertificationPublic]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT id, staff_id, name, number, level, issued_on, expires_on FROM staff_certification"
            " WHERE staff_id = ANY(:ids) AND expires_on <= :horizon ORDER BY expires_on, id"
        ),
        {"ids": ids, "horizon": day + timedelta(days=warn_days)},
    ).mappings():
        cert = certification_public(dict(row), today=day, warn_days=warn_days)
        if cert.status is not CertificateStatus.VALID:
            certs[cert.staff_id].append(cert)
    items = []
    for member in staff:
        own = shifts[member.id]
        starting = [s for s in own if start <= s.starts_at < end]
        items.append(
            AvailabilityEntry(
                staff=member,
                shifts=own,
                leave=leave[member.id],
                on_call=any(s.on_call for s in own),
                load=load.get(member.id, 0),
                capacity=member.max_tasks_per_shift * len(starting),
                certifications_due=certs[member.id],
            )
        )
    return Availability(date=day, items=items)


def on_shift(
    session: Session,
    *,
    scope: Scope,
    at: datetime,
    latitude: float | None = None,
    longitude: float | None = None,
    skill: str | None = None,
) -> list[OnShift]:
    """Staff in scope on shift (and not on leave) at `at`, with the skill and its certificate if given, nearest
    first by straight-line distance from (latitude, longitude); those without a home base last."""
    found = []
    for member in available_staff(session, start=at, end=at, skill=skill, scope=scope):
        distance = None
        if latitude is not None and longitude is not None and member.home_latitude is not None:
            assert member.home_longitude is not None
            distance = round(haversine_km(latitude, longitude, member.home_latitude, member.home_longitude), 3)
        found.append(
            OnShift.model_validate(
                {name: getattr(member, name) for name in OnShift.model_fields if name != "distance_km"}
                | {"distance_km": distance}
            )
        )
    found.sort(key=lambda m: (m.distance_km is None, m.distance_km or 0.0, m.id))
    return found
