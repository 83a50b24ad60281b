"""What an operator needs beside an alarm: the resident card, nearest caregivers on shift, the last 24 h.

A welfare call (no device) has no device data: instead the card shows what raised it, the meal order not
collected or the task (visit) nobody answered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms.queries import CARD_TASK
from eldercare_platform.alarms.schemas import AlarmCard, AlarmOut, Caregiver, LastDay, RecentEvent, RecentVitals
from eldercare_platform.care_plans.service import state_at
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.scope import Scope, scope_of
from eldercare_platform.devices.service import status_of
from eldercare_platform.meals.service import order_for_card
from eldercare_platform.residents.schemas import ResidentCard
from eldercare_platform.residents.service import ResidentNotFoundError, read_card
from eldercare_platform.tasks.schemas import TaskPublic
from eldercare_platform.users.models import User

NEAREST_CAREGIVERS = """
WITH home AS (SELECT latitude AS lat, longitude AS lon FROM household WHERE id = :household),
centroid AS (SELECT area_id, avg(latitude) AS lat, avg(longitude) AS lon FROM household
             WHERE latitude IS NOT NULL GROUP BY area_id)
SELECT s.id, s.name, s.phone, s.role, s.skills, a.name AS zone,
       EXISTS (SELECT 1 FROM shift sh WHERE sh.staff_id = s.id AND sh.starts_at <= :now AND sh.ends_at > :now)
         AS on_shift,
       round((111.32 * sqrt(power(c.lat - home.lat, 2)
             + power((c.lon - home.lon) * cos(radians(home.lat)), 2)))::numeric, 1)::float AS distance_km
FROM staff s
JOIN area a ON a.id = s.home_area_id
LEFT JOIN centroid c ON c.area_id = s.home_area_id
CROSS JOIN home
WHERE s.active AND s.role IN ('caregiver', 'nurse', 'social_worker', 'coordinator', 'volunteer') AND {in_scope}
ORDER BY on_shift DESC, distance_km NULLS LAST, s.id
LIMIT :limit
"""


def nearest_caregivers(
    session: Session, *, scope: Scope, household_id: int, now: datetime, limit: int = 5
) -> list[Caregiver]:
    """Field staff in the user's scope: on shift now first, then by distance from their zone to the home."""
    sql = NEAREST_CAREGIVERS.format(in_scope=scope.staff_sql("s"))
    rows = session.execute(text(sql), {**scope.params, "household": household_id, "now": now, "limit": limit})
    return [Caregiver.model_validate(dict(row._mapping)) for row in rows]


def last_day(session: Session, *, household_id: int | None, device_serial: str | None, now: datetime) -> LastDay:
    """Device events and vitals of the home's devices (or the alarm's device) in the last 24 hours; nothing for
    an alarm without a device (a welfare call)."""
    if device_serial is None:
        return LastDay(events=[], vitals=[], device_status=[])
    since = now - timedelta(hours=24)
    serials = [] if device_serial is None else [device_serial]
    if household_id is not None:
        serials += [
            r[0]
            for r in session.execute(text("SELECT serial FROM device WHERE household_id = :h"), {"h": household_id})
        ]
    events = (
        session.execute(
            text(
                "SELECT device_serial, event_type, received_at, device_time, clock_suspect FROM device_event"
                " WHERE device_serial = ANY(:s) AND received_at >= :since ORDER BY received_at DESC LIMIT 100"
            ),
            {"s": serials, "since": since},
        )
        .mappings()
        .all()
    )
    vitals = (
        session.execute(
            text(
                "SELECT device_serial, kind, time, data FROM telemetry WHERE device_serial = ANY(:s) AND time >= :since"
                " AND kind IN ('vitals', 'mattress') ORDER BY time DESC LIMIT 200"
            ),
            {"s": serials, "since": since},
        )
        .mappings()
        .all()
    )
    return LastDay(
        events=[RecentEvent.model_validate(dict(e)) for e in events],
        vitals=[RecentVitals.model_validate(dict(v)) for v in vitals],
        device_status=list(status_of(session, serials=serials).values()),
    )


def alarm_card(session: Session, *, user: User, alarm: AlarmOut, now: datetime, client_ip: str | None) -> AlarmCard:
    """The resident card at a glance (its read audited), nearest caregivers, and the device's last 24 h."""
    resident: ResidentCard | None = None
    if alarm.resident_id is not None:
        try:
            resident = read_card(
                session,
                user=user,
                resident_id=alarm.resident_id,
                today=local_date(now),
                client_ip=client_ip,
                detail={"via": "alarm", "alarm_id": alarm.id},
            )
        except ResidentNotFoundError:
            resident = None  # the read was attempted: the audit row stays
    caregivers = (
        nearest_caregivers(session, scope=scope_of(session, user), household_id=alarm.household_id, now=now)
        if alarm.household_id
        else []
    )
    task_row = (
        None if alarm.task_id is None else session.execute(text(CARD_TASK), {"id": alarm.task_id}).mappings().first()
    )
    return AlarmCard(
        alarm=alarm,
        resident=resident,
        resident_state=None if resident is None else state_at(session, resident_id=resident.resident.id, at=now),
        caregivers=caregivers,
        last_24h=last_day(session, household_id=alarm.household_id, device_serial=alarm.device_serial, now=now),
        meal_order=None if alarm.meal_order_id is None else order_for_card(session, order_id=alarm.meal_order_id),
        task=None if task_row is None else TaskPublic.model_validate(dict(task_row)),
    )
