"""Writing `device_event` rows: one statement inserts new events, their outbox rows and one NOTIFY.

Used by the alarm lane, by any lane holding a salvaged emergency, and by the status lane's faults.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg.types.json import Jsonb

from eldercare_common.contract.outbox import NotifyChannel, OutboxTopic
from eldercare_gateway.events import EventRow
from eldercare_gateway.writer import Connection

# One statement, so that a batch costs two round trips (this and COMMIT) whatever its size: under
# load every round trip waits for a core twice (measured: five round trips made the alarm commit's
# p99 several hundred ms). `CASE` keeps pg_notify from running when nothing was new.
INSERT_EVENTS = f"""
WITH incoming AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::jsonb[],
                         %s::boolean[], %s::text[], %s::bytea[], %s::text[])
        WITH ORDINALITY AS i(device_serial, event_id, event_type, device_time, received_at, payload,
                             clock_suspect, device_time_raw, payload_raw, salvage_reason, n)
), stored AS (
    INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at, payload,
                              clock_suspect, device_time_raw, payload_raw, salvage_reason)
    SELECT device_serial, event_id, event_type, device_time, received_at, payload,
           clock_suspect, device_time_raw, payload_raw, salvage_reason FROM incoming ORDER BY n
    ON CONFLICT ON CONSTRAINT device_event_once DO NOTHING
    RETURNING id, device_serial, event_type
), announced AS (
    INSERT INTO outbox (topic, payload)
    SELECT '{OutboxTopic.DEVICE_EVENT.value}',
           jsonb_build_object('device_event_id', id, 'device_serial', device_serial, 'event_type', event_type)
    FROM stored ORDER BY id
)
SELECT coalesce(array_agg(id ORDER BY id), '{{}}'),
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
            [e.clock_suspect for e in events],
            [e.device_time_raw for e in events],
            [e.payload_raw for e in events],
            [e.salvage_reason for e in events],
            NotifyChannel.DEVICE_EVENT.value,
        ),
    ).fetchone()
    return [int(i) for i in row[0]] if row else []  # type: ignore[attr-defined]
