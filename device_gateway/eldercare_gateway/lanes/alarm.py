"""Alarm lane: emergency events, committed before the PUBACK, idempotent by (device, event_id).

Each new event gets an `outbox` row and a `NOTIFY device_event, '<ids>'` in the same transaction:
the platform wakes only for committed rows and then reads the outbox, which stays the source of
truth (a listener that was down catches up from the pending rows, nothing is lost with a NOTIFY).
"""

from __future__ import annotations

from collections.abc import Sequence

from eldercare_common.contract.v1 import EventPayload, Uplink
from eldercare_gateway.decode import Accepted
from eldercare_gateway.event_store import insert_events
from eldercare_gateway.events import ClockBounds, EventRow
from eldercare_gateway.lanes.base import Lane
from eldercare_gateway.writer import Connection

__all__ = ["AlarmLane", "EventRow", "event_row", "insert_events"]


def event_row(accepted: Accepted, bounds: ClockBounds) -> EventRow:
    """The row for a device's valid `up/event` message (its device time bounded, its data made storable)."""
    event: EventPayload = accepted.payload
    return EventRow.build(
        accepted.device.serial,
        event.event_id,
        event.type,
        event.ts,
        accepted.received_at,
        {"seq": event.seq, "data": event.data},
        bounds=bounds,
        raw=accepted.raw,
    )


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
        insert_events(conn, [event_row(a, self.bounds) for a in accepted])
