"""Alarm lane: emergency events, committed before the PUBACK, idempotent by (device, event_id).

Each new event gets an `outbox` row and a `NOTIFY device_event, '<ids>'` in the same transaction:
the platform wakes only for committed rows and then reads the outbox, which stays the source of
truth (a listener that was down catches up from the pending rows, nothing is lost with a NOTIFY).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from eldercare_gateway.decode import Accepted
from eldercare_gateway.lanes.base import Lane
from eldercare_gateway.protocol import EventPayload, Uplink
from eldercare_gateway.writer import Connection

NOTIFY_CHANNEL = "device_event"


@dataclass(frozen=True, slots=True)
class EventRow:
    """A row of `device_event`: from a device's uplink, or a fault the gateway detected."""

    serial: str
    event_id: str
    event_type: str
    device_time: datetime
    received_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_uplink(cls, serial: str, event: EventPayload, received_at: datetime) -> EventRow:
        """The row for a device's `up/event` message."""
        return cls(serial, event.event_id, event.type, event.ts, received_at, {"seq": event.seq, "data": event.data})


# One statement, so that a batch costs two round trips (this and COMMIT) whatever its size: under
# load every round trip waits for a core twice (measured: five round trips made the alarm commit's
# p99 several hundred ms). `CASE` keeps pg_notify from running when nothing was new.
INSERT_EVENTS = """
WITH incoming AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::jsonb[])
        WITH ORDINALITY AS i(device_serial, event_id, event_type, device_time, received_at, payload, n)
), stored AS (
    INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at, payload)
    SELECT device_serial, event_id, event_type, device_time, received_at, payload FROM incoming ORDER BY n
    ON CONFLICT ON CONSTRAINT device_event_once DO NOTHING
    RETURNING id, device_serial, event_type
), announced AS (
    INSERT INTO outbox (topic, payload)
    SELECT 'device_event', jsonb_build_object('device_event_id', id, 'device_serial', device_serial,
                                              'event_type', event_type)
    FROM stored ORDER BY id
)
SELECT coalesce(array_agg(id ORDER BY id), '{}'),
       CASE WHEN count(*) > 0 THEN pg_notify(%s, string_agg(id::text, ',' ORDER BY id)) END
FROM stored
"""


def insert_events(conn: Connection, events: Sequence[EventRow]) -> list[int]:
    """Insert events, skipping ones already stored (same device and event_id); returns the new ids.

    Each new event gets its outbox row, and the new ids are announced with one NOTIFY, all in the
    caller's transaction.
    """
    if not events:
        return []
    row = conn.execute(
        INSERT_EVENTS,
        (
            [e.serial for e in events],
            [e.event_id for e in events],
            [e.event_type for e in events],
            [e.device_time for e in events],
            [e.received_at for e in events],
            [Jsonb(e.payload) for e in events],
            NOTIFY_CHANNEL,
        ),
    ).fetchone()
    return [int(i) for i in row[0]] if row else []  # type: ignore[attr-defined]


class AlarmLane(Lane):
    """`up/event`: flushed as soon as something is queued (no batching delay).

    Not shared: every gateway receives every event on its own persistent session and the unique key
    keeps one row. A gateway that dies therefore delays no alarm (its peers already have them all),
    and one restarting catches up on what it missed; the cost, N inserts per alarm, is negligible.
    """

    name = "alarm"
    channels = (Uplink.EVENT,)
    max_wait_s = 0.0
    shared = False
    persistent = True

    def max_rows(self) -> int:
        """Under a storm, take what is queued in batches of up to 200."""
        return 200

    def write(self, conn: Connection, accepted: Sequence[Accepted]) -> None:
        """Insert the events (duplicates are ignored) and notify the platform."""
        insert_events(conn, [EventRow.from_uplink(a.device.serial, a.payload, a.received_at) for a in accepted])
