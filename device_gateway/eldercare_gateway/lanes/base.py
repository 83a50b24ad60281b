"""What every lane shares: a persistent MQTT session with manual acknowledgement and a batch writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg
from prometheus_client import Counter

from eldercare_common.contract.v1 import EMERGENCY_TYPES, EventPayload, Uplink, subscription, uplink_topic
from eldercare_common.logging import get_logger
from eldercare_common.mqtt import make_client
from eldercare_gateway.config import GatewaySettings
from eldercare_gateway.decode import Accepted, Rejected, Salvaged, decode
from eldercare_gateway.event_store import insert_events
from eldercare_gateway.events import ClockBounds, EventRow, clean_text, minimal_event
from eldercare_gateway.mqtt_client import GatewayClient
from eldercare_gateway.ratelimit import DeviceRateLimiter
from eldercare_gateway.registry import DeviceRegistry
from eldercare_gateway.store import Store
from eldercare_gateway.writer import BatchWriter, Connection, Item

log = get_logger(__name__)

RECEIVED = Counter("gateway_messages_received_total", "Messages received", ["lane"])
REJECTED = Counter("gateway_messages_rejected_total", "Messages sent to dead letters", ["lane", "reason"])
SALVAGED = Counter(
    "gateway_events_salvaged_total", "Emergency events kept from messages that broke the contract", ["lane"]
)


def write_dead_letters(conn: Connection, rejected: Sequence[tuple[str, bytes, Rejected, datetime]]) -> None:
    """Insert dead-letter rows: topic, raw bytes, reason (text columns cleaned of what PostgreSQL refuses)."""
    if not rejected:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO dead_letter (received_at, topic, payload, reason, device_serial) VALUES (%s, %s, %s, %s, %s)",
            [
                (at, clean_text(topic, 512), raw, clean_text(r.reason, 500), r.serial and clean_text(r.serial, 200))
                for topic, raw, r, at in rejected
            ],
        )


def utc_now() -> datetime:
    """The gateway's receive time (tests inject their own clock)."""
    return datetime.now(UTC)


class Lane:
    """A subscription to some uplink channels feeding one batch writer.

    Subclasses implement `write(conn, accepted)` for their channel; dead letters are handled here,
    in the same transaction, so a batch is committed whole and then acknowledged whole.
    """

    name = "lane"
    channels: tuple[Uplink, ...] = ()
    qos = 1
    max_wait_s = 0.2
    # Mosquitto hands a shared subscription's messages round-robin to *every* member, connected or
    # not: a persistent member that is down holds its share until it returns. So each lane picks:
    shared = True  # split messages between gateways (False: every gateway gets every message)
    persistent = True  # keep the session (and queued messages) while this gateway is away

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        registry: DeviceRegistry,
        limiter: DeviceRateLimiter,
        stop: threading.Event,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.limiter = limiter
        self.stop_event = stop
        self.clock = clock
        self.bounds = ClockBounds(
            max_behind=timedelta(seconds=settings.device_time_max_behind_s),
            max_ahead=timedelta(seconds=settings.device_time_max_ahead_s),
        )
        self._generation = 0
        self._connected = threading.Event()
        self.last_message_at = time.monotonic()
        self._received = RECEIVED.labels(self.name)  # resolved once: this runs for every message
        self.store = Store(settings.libpq_url, name=self.name, stop=stop)
        self.writer = BatchWriter(
            lane=self.name,
            store=self.store,
            flush=self._flush,
            poison=self._poison,
            acknowledge=self._acknowledge,
            max_rows=self.max_rows(),
            max_wait_s=self.max_wait_s,
            queue_max=settings.telemetry_queue_max,
            stop=stop,
        )
        self.client_id = f"eldercare-gw-{settings.instance}-{self.name}"
        self.client = make_client(
            settings,
            client_id=self.client_id,
            client_class=GatewayClient,
            clean_session=not self.persistent,
            manual_ack=True,
            max_inflight=1000,
            reconnect_delay_s=(1, 15),
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def max_rows(self) -> int:
        """Largest batch this lane writes."""
        return 500

    # --- MQTT side: paho's network thread. Decode, validate, enqueue; no I/O here. ---
    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the lane", lane=self.name, reason=str(reason))
            return
        self._generation += 1
        self._connected.set()
        for channel in self.channels:
            group = self.settings.share_group if self.shared else None
            client.subscribe(subscription(channel, share_group=group), qos=self.qos)
        log.info("lane connected", lane=self.name, generation=self._generation)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object
    ) -> None:
        self._connected.clear()
        # Messages of the old connection are redelivered by the broker; never ack them on the new one.
        self._generation += 1
        if not self.stop_event.is_set():
            log.warning("lane disconnected", lane=self.name, reason=str(reason))

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._received.inc()
        self.last_message_at = time.monotonic()
        received_at = self.clock()
        raw = bytes(message.payload)
        result = decode(message.topic, raw, registry=self.registry, received_at=received_at, bounds=self.bounds)
        if isinstance(result, Accepted) and result.channel not in self.channels:
            result = Rejected(f"topic: channel {result.channel} on the {self.name} lane", result.device.serial)
        # Rate limits protect the database from chatty telemetry and status; events are never limited.
        if (
            isinstance(result, Accepted)
            and result.channel is not Uplink.EVENT
            and not self.limiter.allow(result.device.serial)
        ):
            result = Rejected("rate limited: device sends too fast", result.device.serial)
        work = result if isinstance(result, (Accepted, Salvaged)) else (message.topic, raw, result, received_at)
        self.writer.put(Item(work=work, mid=message.mid, qos=message.qos, generation=self._generation))

    def _acknowledge(self, batch: Sequence[Item]) -> None:
        generation = self._generation
        current = [item for item in batch if item.qos > 0 and item.generation == generation]
        self.client.ack_many([item.mid for item in current if item.qos == 1])
        for item in current:
            if item.qos == 2:
                self.client.ack(item.mid, item.qos)

    # --- Database side: the writer thread. ---
    def _flush(self, conn: Connection, batch: Sequence[Item]) -> None:
        accepted = [item.work for item in batch if isinstance(item.work, Accepted)]
        salvaged = [item.work.row for item in batch if isinstance(item.work, Salvaged)]
        rejected = [item.work for item in batch if not isinstance(item.work, (Accepted, Salvaged))]
        for _, _, reason, _ in rejected:
            REJECTED.labels(self.name, reason.reason.split(":")[0][:24]).inc()
        write_dead_letters(conn, rejected)
        if salvaged:
            SALVAGED.labels(self.name).inc(len(salvaged))
            insert_events(conn, salvaged)
        if accepted:
            self.write(conn, accepted)

    def _poison(self, conn: Connection, item: Item, error: Exception) -> None:
        """The database refused this item even alone: keep an emergency as the least an alarm needs, else
        dead-letter it. Runs in the writer's transaction; the event attempt has a savepoint of its own."""
        work = item.work
        if not isinstance(work, (Accepted, Salvaged)):
            write_dead_letters(conn, [work])
            return
        why = f"database refused: {type(error).__name__}: {error}"[:300]
        serial, channel, received_at, raw = self._identity(work)
        rejected = Rejected(why, serial)
        event = self._emergency_fallback(work, why)
        if event is not None:
            try:
                with conn.transaction():
                    insert_events(conn, [event])
                SALVAGED.labels(self.name).inc()
                log.error("database refused an emergency event; kept its essentials", lane=self.name, error=why)
                return
            except (psycopg.OperationalError, psycopg.InterfaceError):
                raise
            except Exception as exc:  # even the essentials were refused: at least the dead letter
                rejected = Rejected(f"{why}; essentials refused too: {type(exc).__name__}"[:300], serial)
        write_dead_letters(conn, [(uplink_topic(serial, channel), raw, rejected, received_at)])

    @staticmethod
    def _identity(work: Accepted | Salvaged) -> tuple[str, Uplink, datetime, bytes]:
        if isinstance(work, Salvaged):
            return work.row.serial, work.channel, work.row.received_at, work.row.payload_raw or b""
        raw = work.raw or work.payload.model_dump_json().encode()
        return work.device.serial, work.channel, work.received_at, raw

    def _emergency_fallback(self, work: Accepted | Salvaged, why: str) -> EventRow | None:
        """The minimal event row for an emergency the database refused, or None for anything else."""
        if isinstance(work, Salvaged):
            row = work.row
            return minimal_event(row.serial, row.event_id, row.event_type, row.received_at, row.payload_raw or b"", why)
        if isinstance(work.payload, EventPayload) and work.payload.type in EMERGENCY_TYPES:
            event = work.payload
            return minimal_event(work.device.serial, event.event_id, event.type, work.received_at, work.raw, why)
        return None

    def write(self, conn: Connection, accepted: Sequence[Accepted]) -> None:
        """Write a batch of accepted uplinks of this lane's channels."""
        raise NotImplementedError

    # --- Lifecycle ---
    @property
    def connected(self) -> bool:
        """Whether the lane's MQTT session is up."""
        return self._connected.is_set()

    def start(self) -> None:
        """Start the writer, then connect (in the background, retrying)."""
        self.writer.start()
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def forget_session(self) -> None:
        """Delete this lane's persistent session on the broker (after draining it: see `--retire`)."""
        if not self.persistent:
            return
        # Connecting with a clean session under the same client id makes the broker discard the old one.
        client = make_client(self.settings, client_id=self.client_id, clean_session=True, reconnect_delay_s=None)
        client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=10)
        deadline = time.monotonic() + 10
        while not client.is_connected() and time.monotonic() < deadline:
            client.loop(timeout=0.1)
        client.disconnect()
        client.loop(timeout=0.1)

    def shutdown(self) -> None:
        """Disconnect, then let the writer drain what it holds (unacked items are redelivered)."""
        self.client.disconnect()
        self.client.loop_stop()
        self.writer.join(timeout=10)
        self.store.close()
