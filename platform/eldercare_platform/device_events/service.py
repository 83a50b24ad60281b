"""Reading device events and sending feedback ("call received", "help on the way") to the device."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.contract.v1 import Downlink, FeedbackPayload, FeedbackState
from eldercare_platform.audit.service import record
from eldercare_platform.core.db import raw_connection
from eldercare_platform.core.downlink import enqueue_downlink
from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.core.scope import scope_of
from eldercare_platform.device_events.schemas import DeviceEventOut
from eldercare_platform.users.models import User


class DeviceEventNotFoundError(NotFoundError):
    """No such device event in the user's scope."""

    code = "device_event_not_found"


RECENT_EVENTS = """
SELECT e.id, e.device_serial, e.event_id, e.event_type, e.device_time, e.received_at,
       e.clock_suspect, e.device_time_raw, e.salvage_reason,
       d.kind AS device_kind, r.id AS resident_id, r.name AS resident_name, a.name AS community
FROM device_event e
LEFT JOIN device d ON d.serial = e.device_serial
LEFT JOIN household h ON h.id = d.household_id
LEFT JOIN area a ON a.id = h.area_id
LEFT JOIN LATERAL (
    SELECT id, name FROM resident
    WHERE id = d.resident_id OR (d.resident_id IS NULL AND household_id = d.household_id)
    ORDER BY id LIMIT 1
) r ON true
WHERE {scope}
  AND (CAST(:since AS timestamptz) IS NULL OR e.received_at >= CAST(:since AS timestamptz))
ORDER BY e.received_at DESC, e.id DESC
LIMIT :limit
"""


def recent_events(session: Session, *, user: User, limit: int, since: datetime | None = None) -> list[DeviceEventOut]:
    """Newest events first, by the gateway's receive time (device clocks may be wrong)."""
    scope = scope_of(session, user)
    rows = session.execute(
        text(RECENT_EVENTS.format(scope=scope.events_sql("e"))), {**scope.params, "since": since, "limit": limit}
    ).mappings()
    return [DeviceEventOut.model_validate(dict(row)) for row in rows]


def send_feedback(
    session: Session, *, user: User, device_event_id: int, state: FeedbackState, message: str | None, now: datetime
) -> int:
    """Queue feedback for the device that raised the event (audited); returns the outbox id.

    `DeviceEventNotFoundError` if the event does not exist in the user's scope.
    """
    scope = scope_of(session, user)
    row = session.execute(
        text(f"SELECT e.device_serial, e.event_id FROM device_event e WHERE e.id = :id AND {scope.events_sql('e')}"),
        {**scope.params, "id": device_event_id},
    ).first()
    if row is None:
        raise DeviceEventNotFoundError("device event not found")
    payload = FeedbackPayload(event_id=row.event_id, state=state, ts=now, message=message)
    outbox_id = enqueue_downlink(
        raw_connection(session), serial=row.device_serial, channel=Downlink.FEEDBACK, payload=payload
    )
    record(
        session,
        user_id=user.id,
        action="feedback",
        entity="device_event",
        entity_id=device_event_id,
        detail={"state": state},
    )
    return outbox_id
