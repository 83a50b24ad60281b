"""Status lane: heartbeats and online/offline, and the device faults they reveal.

Heartbeats are coalesced per device within a batch (the latest wins) and upserted into
`device_status`. A battery crossing below the threshold or mains power lost becomes a device-fault
event in the alarm table's feed; so does a device silent for N heartbeat intervals (swept here).
Fault event ids derive from the triggering timestamp, so a redelivered heartbeat is harmless.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eldercare_common.contract.v1 import FaultType, HeartbeatPayload, StatusPayload, Uplink
from eldercare_common.logging import get_logger
from eldercare_gateway.decode import Accepted
from eldercare_gateway.event_store import insert_events
from eldercare_gateway.events import DEFAULT_BOUNDS, ClockBounds, EventRow
from eldercare_gateway.lanes.base import Lane
from eldercare_gateway.store import Store
from eldercare_gateway.writer import Connection

log = get_logger(__name__)

UPSERT_HEARTBEAT = """
INSERT INTO device_status (device_serial, online, last_seen_at, last_heartbeat_at, battery_pct, signal_dbm,
                           mains_power, firmware, changed_at)
VALUES (%(serial)s, true, %(at)s, %(at)s, %(battery)s, %(signal)s, %(mains)s, %(fw)s, %(at)s)
ON CONFLICT (device_serial) DO UPDATE SET
    online = true,
    last_seen_at = GREATEST(device_status.last_seen_at, EXCLUDED.last_seen_at),
    last_heartbeat_at = GREATEST(device_status.last_heartbeat_at, EXCLUDED.last_heartbeat_at),
    battery_pct = COALESCE(EXCLUDED.battery_pct, device_status.battery_pct),
    signal_dbm = COALESCE(EXCLUDED.signal_dbm, device_status.signal_dbm),
    mains_power = COALESCE(EXCLUDED.mains_power, device_status.mains_power),
    firmware = COALESCE(EXCLUDED.firmware, device_status.firmware),
    changed_at = CASE WHEN device_status.online THEN device_status.changed_at ELSE EXCLUDED.changed_at END
"""

UPSERT_PRESENCE = """
INSERT INTO device_status (device_serial, online, last_seen_at, changed_at)
VALUES (%(serial)s, %(online)s, %(at)s, %(at)s)
ON CONFLICT (device_serial) DO UPDATE SET
    online = EXCLUDED.online,
    last_seen_at = CASE WHEN EXCLUDED.online
                        THEN GREATEST(device_status.last_seen_at, EXCLUDED.last_seen_at)
                        ELSE device_status.last_seen_at END,
    changed_at = EXCLUDED.changed_at
WHERE device_status.online IS DISTINCT FROM EXCLUDED.online
"""

SWEEP_SILENT = """
WITH silent AS (
    SELECT s.device_serial FROM device_status s JOIN device d ON d.serial = s.device_serial
    WHERE d.state = 'active' AND s.online
      AND s.last_seen_at < now() - make_interval(secs => d.heartbeat_interval_s * %(missed)s)
    ORDER BY s.device_serial
    FOR UPDATE OF s SKIP LOCKED
)
UPDATE device_status s SET online = false, changed_at = now()
FROM silent WHERE s.device_serial = silent.device_serial
RETURNING s.device_serial, s.last_seen_at
"""
"""Rows locked in serial order like the lane's writes; a row a heartbeat is writing right now is skipped (it is
not silent: the next sweep judges it again)."""


def _trigger_key(trigger: datetime) -> str:
    try:
        return str(int(trigger.timestamp()))
    except (OverflowError, ValueError):  # a device clock at year 1 or 9999: still one id per trigger time
        return "t" + hashlib.sha256(trigger.isoformat().encode()).hexdigest()[:16]


def fault_event(
    serial: str,
    fault: FaultType,
    trigger: datetime,
    received_at: datetime,
    data: dict[str, Any],
    bounds: ClockBounds | None = DEFAULT_BOUNDS,
) -> EventRow:
    """A device-fault event. Its id derives from the triggering message's own time (the device's
    heartbeat time, or the last-seen time for silence), so a replay of it is a duplicate; its device
    time is bounded like any event's."""
    return EventRow.build(
        serial, f"gw-{fault}-{_trigger_key(trigger)}", fault, trigger, received_at, {"data": data}, bounds=bounds
    )


class StatusLane(Lane):
    """`up/heartbeat` and `up/status`, plus the silent-device sweep.

    Shared with a clean session: when a gateway goes away the broker forgets its membership at once
    and the survivors get every heartbeat (a persistent member would hold, or for QoS 0 drop, its
    share and the sweep would report half the fleet silent). At most the heartbeats in flight to a
    crashing gateway are lost, and the next ones follow within an interval.
    """

    name = "status"
    shared = True
    persistent = False
    channels = (Uplink.HEARTBEAT, Uplink.STATUS)
    max_wait_s = 0.5

    def max_rows(self) -> int:
        """Heartbeats come in steadily from the whole fleet."""
        return 2000

    def write(self, conn: Connection, accepted: Sequence[Accepted]) -> None:
        """Upsert the latest heartbeat per device, presence changes, and fault events."""
        heartbeats: dict[str, Accepted] = {}
        presence: dict[str, Accepted] = {}
        for item in accepted:
            if isinstance(item.payload, HeartbeatPayload):
                heartbeats[item.device.serial] = item
            elif isinstance(item.payload, StatusPayload):
                presence[item.device.serial] = item
        faults: list[EventRow] = []
        # Lock every row the batch touches in one order (serial) before writing: gateways share the lane message
        # by message, so two batches often hold the same devices, and rows locked in arrival order deadlocked
        # (PostgreSQL aborts one; the retry then wrote it, but a lane must not lean on that).
        heartbeats = dict(sorted(heartbeats.items()))
        presence = dict(sorted(presence.items()))
        with conn.cursor() as cur:
            cur.execute(
                "SELECT device_serial, battery_pct, mains_power FROM device_status WHERE device_serial = ANY(%s)"
                " ORDER BY device_serial FOR UPDATE",
                (sorted(heartbeats.keys() | presence.keys()),),
            )
            previous = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
            if heartbeats:
                for serial, item in heartbeats.items():
                    hb: HeartbeatPayload = item.payload
                    old_battery, old_mains = previous.get(serial, (None, None))
                    threshold = self.settings.low_battery_pct
                    if (
                        hb.battery is not None
                        and hb.battery < threshold
                        and (old_battery is None or int(str(old_battery)) >= threshold)
                    ):
                        faults.append(
                            fault_event(
                                serial,
                                FaultType.LOW_BATTERY,
                                hb.ts,
                                item.received_at,
                                {"battery": hb.battery, "threshold": threshold},
                                self.bounds,
                            )
                        )
                    if hb.mains is False and old_mains is not False:
                        faults.append(
                            fault_event(serial, FaultType.MAINS_LOST, hb.ts, item.received_at, {}, self.bounds)
                        )
                cur.executemany(
                    UPSERT_HEARTBEAT,
                    [
                        {
                            "serial": s,
                            "at": i.received_at,
                            "battery": i.payload.battery,
                            "signal": i.payload.signal,
                            "mains": i.payload.mains,
                            "fw": i.payload.fw,
                        }
                        for s, i in heartbeats.items()
                    ],
                )
            if presence:
                cur.executemany(
                    UPSERT_PRESENCE,
                    [
                        {"serial": s, "online": i.payload.state == "online", "at": i.received_at}
                        for s, i in presence.items()
                    ],
                )
        if faults:
            insert_events(conn, faults)

    def sweep_silent(self) -> int:
        """Mark devices silent for N heartbeat intervals offline and raise a fault for each."""

        def work(conn: Connection) -> int:
            with conn.cursor() as cur:
                cur.execute(SWEEP_SILENT, {"missed": self.settings.silent_after_heartbeats})
                rows = cur.fetchall()
            faults = [
                fault_event(
                    str(serial),
                    FaultType.DEVICE_SILENT,
                    last_seen,
                    self.clock(),
                    {"last_seen_at": last_seen.isoformat()},
                    None,  # the gateway's own last-seen time, not a device clock
                )
                for serial, last_seen in rows
                if isinstance(last_seen, datetime)
            ]
            if faults:
                insert_events(conn, faults)
            return len(faults)

        return self._sweep_store.transaction(work)

    def start(self) -> None:
        """Start the lane and its sweeper thread (with its own connection)."""
        self._sweep_store = Store(self.settings.libpq_url, name="status-sweep", stop=self.stop_event)
        super().start()
        threading.Thread(target=self._sweep_loop, name="silent-sweep", daemon=True).start()

    def _sweep_loop(self) -> None:
        while not self.stop_event.wait(self.settings.silent_check_s):
            try:
                found = self.sweep_silent()
                if found:
                    log.info("devices went silent", count=found)
            except Exception:
                log.exception("silent-device sweep failed")
