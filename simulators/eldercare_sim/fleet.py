"""A fleet of simulated devices in one asyncio event loop (one MQTT connection per device, no threads).

Each device keeps an outbox of QoS 1 messages that the broker has not acknowledged yet and resends
them after a reconnect, like a real alarm unit must: an emergency call is never given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiomqtt

from eldercare_common.contract.v1 import (
    TOPIC_ROOT,
    EventPayload,
    EventType,
    FeedbackPayload,
    HeartbeatPayload,
    StatusPayload,
    TelemetryKind,
    TelemetryPayload,
    Uplink,
    encode,
    uplink_topic,
)
from eldercare_sim.scenario import Scenario

SHANGHAI = timezone(timedelta(hours=8))
TERMINAL_TELEMETRY = {
    "vitals_monitor": TelemetryKind.VITALS,
    "smart_mattress": TelemetryKind.MATTRESS,
    "room_sensor": TelemetryKind.ROOM,
    "checkin_terminal": TelemetryKind.CHECKIN,
    "canteen_checkin": TelemetryKind.MEAL_CHECKIN,
    "camera": TelemetryKind.CAMERA_LINK,
}
DEVICE_EVENTS: dict[str, list[tuple[EventType, str]]] = {
    "home_alarm_unit": [(EventType.SOS, "sos_per_device_per_day")],
    "fall_detector": [(EventType.FALL, "fall_per_device_per_day")],
    "smoke_sensor": [(EventType.SMOKE, "smoke_per_device_per_day")],
    "gas_sensor": [(EventType.GAS, "smoke_per_device_per_day")],
    "water_sensor": [(EventType.WATER, "smoke_per_device_per_day")],
    "smart_mattress": [(EventType.BED_EXIT, "fall_per_device_per_day")],
    "vitals_monitor": [(EventType.ABNORMAL_VITALS, "fall_per_device_per_day")],
}
OUTBOX_LIMIT = 1000
STOP_GRACE_S = 12.0
"""After the stop, how long a session may take to drain its outbox (5 s) and disconnect before it is cancelled."""


@dataclass(frozen=True, slots=True)
class SimDevice:
    """A device to play: its serial (also its MQTT username), kind and password."""

    serial: str
    kind: str
    password: str


@dataclass
class FleetStats:
    """What the fleet sent, what the broker acknowledged, and what came back."""

    sent: Counter[str] = field(default_factory=Counter)
    acked: Counter[str] = field(default_factory=Counter)
    feedback: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    connect_failures: int = 0
    drops: int = 0
    outbox_overflow: int = 0
    cut_at_stop: int = 0  # sessions still in a broker round trip STOP_GRACE_S after the stop: cancelled
    errors: Counter[str] = field(default_factory=Counter)
    connected: int = 0
    feedback_by_event: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary."""
        return {
            "sent": dict(self.sent),
            "acked": dict(self.acked),
            "feedback": dict(self.feedback),
            "connects": self.connects,
            "connect_failures": self.connect_failures,
            "drops": self.drops,
            "outbox_overflow": self.outbox_overflow,
            "cut_at_stop": self.cut_at_stop,
            "errors": dict(self.errors),
            "feedback_by_event": dict(self.feedback_by_event),
            "connected_now": self.connected,
        }


class ConnectGate:
    """Spaces out new connections so a fleet start is not a reconnect storm (unless asked to be)."""

    def __init__(self, rate_per_s: float) -> None:
        self._interval = 1.0 / rate_per_s
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Wait for this connection's slot."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            slot = max(now, self._next)
            self._next = slot + self._interval
        await asyncio.sleep(max(0.0, slot - now))


@dataclass
class Storm:
    """A fleet-wide reconnect storm: every device drops at once when `generation` moves on."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    generation: int = 0

    async def blow(self) -> None:
        """Start a storm: wake every device, which then drops its connection."""
        self.generation += 1
        self.event.set()
        await asyncio.sleep(1.0)
        self.event.clear()


class _StoppingError(Exception):
    """Raised inside a device's session when the fleet stops, to end its listener too."""


class _WentOfflineError(Exception):
    """Raised inside a device to simulate it dropping off the network for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"offline for {seconds:.0f}s")
        self.seconds = seconds


def telemetry_data(kind: TelemetryKind, rng: random.Random, now: datetime, *, residents: int = 1000) -> dict[str, Any]:
    """A plausible sample with a daily rhythm (local time in Asia/Shanghai). Check-ins name a resident by card
    number, `R` + the resident id in six digits, among the first `residents` ids (docs/device-protocol.md)."""
    hour = now.astimezone(SHANGHAI).hour + now.minute / 60
    night = hour >= 22 or hour < 6
    daily = math.sin((hour - 4) / 24 * 2 * math.pi)
    if kind == TelemetryKind.VITALS:
        return {
            "heart_rate": round(72 + 8 * daily + rng.gauss(0, 4)),
            "spo2": min(100, round(rng.gauss(97, 1))),
            "systolic": round(128 + 10 * daily + rng.gauss(0, 6)),
            "diastolic": round(80 + rng.gauss(0, 4)),
            "temperature": round(36.5 + 0.3 * daily + rng.gauss(0, 0.15), 1),
        }
    if kind == TelemetryKind.MATTRESS:
        in_bed = rng.random() < (0.95 if night else 0.2)
        return {
            "in_bed": in_bed,
            "heart_rate": round(62 + rng.gauss(0, 4)) if in_bed else None,
            "respiration_rate": round(15 + rng.gauss(0, 2)) if in_bed else None,
            "movement": round(rng.random() * (0.2 if night else 1.0), 2),
        }
    if kind == TelemetryKind.ROOM:
        return {
            "temperature": round(22 + 3 * daily + rng.gauss(0, 0.5), 1),
            "humidity": round(rng.gauss(55, 5)),
            "co2_ppm": round(600 + 300 * max(0.0, daily) + rng.gauss(0, 40)),
        }
    if kind in (TelemetryKind.CHECKIN, TelemetryKind.MEAL_CHECKIN):
        data: dict[str, Any] = {"resident_ref": f"R{rng.randint(1, residents):06d}", "method": "face"}
        if kind == TelemetryKind.MEAL_CHECKIN:
            data["meal"] = "lunch" if 10 <= hour < 15 else ("dinner" if hour >= 15 else "breakfast")
        return data
    return {"online": rng.random() > 0.01, "bitrate_kbps": round(rng.gauss(1800, 200))}


class SimulatedDevice:
    """One device's behaviour: connect, announce, heartbeat, telemetry, events, react to downlinks."""

    def __init__(
        self,
        device: SimDevice,
        *,
        scenario: Scenario,
        seed: int,
        host: str,
        port: int,
        stats: FleetStats,
        gate: ConnectGate,
        stop: asyncio.Event,
        storm: Storm | None = None,
        bind_address: str = "",
    ) -> None:
        self.device = device
        self.scenario = scenario
        self.rng = random.Random(f"{seed}:{device.serial}")
        self.host = host
        self.port = port
        self.stats = stats
        self.gate = gate
        self.stop = stop
        self.storm = storm or Storm()
        self.bind_address = bind_address
        self.outbox: dict[str, tuple[str, str, bytes]] = {}  # key -> (channel, topic, payload)
        self.seq = 0
        self.event_counter = 0
        self.boot = self.rng.getrandbits(32)
        self.battery = 100 - self.rng.randrange(0, 30)
        self.battery_runs_low = self.rng.random() < scenario.low_battery_share

    # --- message builders ---
    def queue_event(self, event_type: EventType, data: dict[str, Any] | None = None) -> str:
        """Put an event in the outbox; returns its event_id."""
        self.event_counter += 1
        event_id = f"{self.boot:08x}-{self.event_counter}"
        payload = EventPayload(event_id=event_id, type=event_type, ts=datetime.now(UTC), data=data or {})
        self._queue(f"event:{event_id}", Uplink.EVENT, encode(payload))
        return event_id

    def queue_telemetry(self, kind: TelemetryKind) -> None:
        """Put a telemetry sample in the outbox."""
        now = datetime.now(UTC)
        payload = TelemetryPayload(
            seq=self.seq,
            ts=now,
            kind=kind,
            data=telemetry_data(kind, self.rng, now, residents=self.scenario.resident_refs),
        )
        self._queue(f"telemetry:{self.seq}", Uplink.TELEMETRY, encode(payload))
        self.seq += 1

    def _queue(self, key: str, channel: Uplink, payload: bytes) -> None:
        if len(self.outbox) >= OUTBOX_LIMIT and channel == Uplink.TELEMETRY:
            self.stats.outbox_overflow += 1
            return
        self.outbox[key] = (channel, uplink_topic(self.device.serial, channel), payload)
        self.stats.sent[channel] += 1

    def heartbeat(self) -> bytes:
        """A heartbeat with battery, signal and mains power."""
        if self.battery_runs_low and self.battery > 5:
            self.battery -= 1
        return encode(
            HeartbeatPayload(
                ts=datetime.now(UTC),
                battery=self.battery,
                signal=-60 - self.rng.randrange(0, 40),
                mains=True,
                fw="1.4.2",
                # Protocol minimum is 10 s; faster test scenarios simply leave the field out.
                interval=round(self.scenario.heartbeat_interval_s)
                if self.scenario.heartbeat_interval_s >= 10
                else None,
            )
        )

    # --- the connection loop ---
    async def run(self) -> None:
        """Stay connected until stopped, reconnecting with backoff."""
        await asyncio.sleep(self.rng.random() * self.scenario.connect_spread_s)
        backoff = 1.0
        while not self.stop.is_set():
            await self.gate.wait()
            try:
                await self._bounded_session()
                backoff = 1.0
            except _WentOfflineError as dropped:
                self.stats.drops += 1
                await self._sleep(dropped.seconds)
            except aiomqtt.MqttError:
                self.stats.connect_failures += 1
                await self._sleep(backoff * (0.5 + self.rng.random()))
                backoff = min(backoff * 2, 60.0)
            except Exception as exc:  # a simulator bug must show, not silently retire the device
                self.stats.errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
                await self._sleep(5.0)

    async def _bounded_session(self) -> None:
        """One session; once the fleet stops it has `STOP_GRACE_S` to leave quietly (its outbox drains for 5 s),
        then it is cancelled. Each broker round trip has aiomqtt's 30 s timeout, and a session caught mid-way
        through connect, subscribe, publish and disconnect on a loaded broker could add them up past any limit:
        a simulator must stop in bounded time (tests/integration/test_simulators.py once overran 120 s so)."""
        session = asyncio.ensure_future(self._session())
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({session, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not session.done():
                await asyncio.wait({session}, timeout=STOP_GRACE_S)
            if not session.done():
                self.stats.cut_at_stop += 1
                # Python 3.11's asyncio.wait_for (aiomqtt's round trips) can lose a cancel that lands in the step
                # its operation completes (gh-86296): cancel again until the session has really ended.
                while not session.done():
                    session.cancel()
                    await asyncio.wait({session}, timeout=1.0)
                with contextlib.suppress(asyncio.CancelledError):
                    await session
                return
            await session
        finally:
            stopping.cancel()

    async def _sleep(self, seconds: float, *, wake_on: asyncio.Event | None = None) -> None:
        waiters = [asyncio.ensure_future(self.stop.wait())]
        if wake_on is not None:
            waiters.append(asyncio.ensure_future(wake_on.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()

    async def _session(self) -> None:
        status_topic = uplink_topic(self.device.serial, Uplink.STATUS)
        will = aiomqtt.Will(status_topic, encode(StatusPayload(state="offline")), qos=1, retain=True)
        async with aiomqtt.Client(
            self.host,
            self.port,
            username=self.device.serial,
            password=self.device.password,
            identifier=f"sim-{self.device.serial}",
            bind_address=self.bind_address,
            will=will,
            clean_session=True,
            keepalive=max(30, round(self.scenario.heartbeat_interval_s * 2)),
            max_queued_outgoing_messages=OUTBOX_LIMIT * 2,
            timeout=30,
        ) as client:
            self.stats.connects += 1
            self.stats.connected += 1
            try:
                await client.subscribe(f"{TOPIC_ROOT}/dev/{self.device.serial}/down/#", qos=1)
                await client.publish(
                    status_topic, encode(StatusPayload(state="online", ts=datetime.now(UTC))), qos=1, retain=True
                )
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._listen(client))
                    group.create_task(self._behave(client))
                    group.create_task(self._flush_outbox(client))
            except* _StoppingError:
                pass  # the fleet is stopping: leave the session quietly
            except* _WentOfflineError as group:
                raise group.exceptions[0] from None
            except* aiomqtt.MqttError as errors:
                raise errors.exceptions[0] from None
            finally:
                self.stats.connected -= 1

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = str(message.topic)
            if topic.endswith("/down/feedback") and isinstance(message.payload, bytes | bytearray):
                try:
                    feedback = FeedbackPayload.model_validate_json(message.payload)
                except ValueError:
                    self.stats.feedback["invalid"] += 1
                    continue
                self.stats.feedback[feedback.state] += 1
                self.stats.feedback_by_event.setdefault(f"{self.device.serial}/{feedback.event_id}", []).append(
                    feedback.state
                )
            elif topic.endswith("/down/config"):
                self.stats.feedback["config"] += 1
            elif topic.endswith("/down/command"):
                self.stats.feedback["command"] += 1

    async def _flush_outbox(self, client: aiomqtt.Client) -> None:
        """Publish the outbox (QoS 1) until the session ends. Once the fleet stops it also ends by itself, when the
        outbox is empty or `STOP_GRACE_S` later: a cancel can be lost on Python 3.11 (`asyncio.wait_for`, which
        aiomqtt's publish awaits, returns the PUBACK that arrived in the same step as the cancel, gh-86296), and a
        loop that relied on the cancel alone kept the session, and the whole simulator, from ever ending."""
        loop = asyncio.get_running_loop()
        give_up_at = math.inf
        while True:
            for key, (channel, topic, payload) in list(self.outbox.items()):
                await client.publish(topic, payload, qos=1)  # returns after the PUBACK
                self.outbox.pop(key, None)
                self.stats.acked[channel] += 1
            if self.stop.is_set():
                give_up_at = min(give_up_at, loop.time() + STOP_GRACE_S)
                if not self.outbox or loop.time() >= give_up_at:
                    return
            await asyncio.sleep(0.05)

    async def _behave(self, client: aiomqtt.Client) -> None:
        sc = self.scenario
        telemetry_kind = TERMINAL_TELEMETRY.get(self.device.kind)
        if telemetry_kind is None and sc.home_telemetry:
            telemetry_kind = TelemetryKind.ROOM
        loop = asyncio.get_running_loop()
        now = loop.time()
        next_heartbeat = now
        next_telemetry = now + self.rng.random() * sc.telemetry_interval_s
        day = 86_400.0
        events = [(etype, getattr(sc, rate)) for etype, rate in DEVICE_EVENTS.get(self.device.kind, [])]
        next_event = [now + self.rng.expovariate(rate / day) if rate > 0 else math.inf for _, rate in events]
        next_drop = (
            now + self.rng.expovariate(sc.offline_per_device_per_day / day)
            if sc.offline_per_device_per_day
            else math.inf
        )
        generation = self.storm.generation
        while not self.stop.is_set():
            now = loop.time()
            if now >= next_drop:
                raise _WentOfflineError(sc.offline_duration_s * (0.5 + self.rng.random()))
            if self.storm.generation != generation:
                raise _WentOfflineError(self.rng.random() * 2.0)  # everyone back within two seconds
            if now >= next_heartbeat:
                await client.publish(uplink_topic(self.device.serial, Uplink.HEARTBEAT), self.heartbeat(), qos=0)
                self.stats.sent[Uplink.HEARTBEAT] += 1
                jitter = 1 + self.rng.uniform(-sc.heartbeat_jitter, sc.heartbeat_jitter)
                next_heartbeat = now + sc.heartbeat_interval_s * jitter
            if telemetry_kind is not None and now >= next_telemetry:
                self.queue_telemetry(telemetry_kind)
                next_telemetry = now + sc.telemetry_interval_s * (1 + self.rng.uniform(-0.1, 0.1))
            for index, (etype, rate) in enumerate(events):
                if now >= next_event[index]:
                    self.queue_event(etype)
                    next_event[index] = now + self.rng.expovariate(rate / day)
            wake = min(next_heartbeat, next_telemetry if telemetry_kind else math.inf, next_drop, *next_event)
            storm_can_wake = None if self.storm.event.is_set() else self.storm.event
            await self._sleep(max(0.01, min(wake - loop.time(), 5.0)), wake_on=storm_can_wake)
        deadline = loop.time() + 5.0  # stopping: give what is still unacknowledged a moment to go out
        while self.outbox and loop.time() < deadline:  # noqa: ASYNC110 - the outbox is a dict, not an event
            await asyncio.sleep(0.05)
        raise _StoppingError()
