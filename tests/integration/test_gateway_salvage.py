"""Emergencies are never lost to what is wrong around them, and a wrong device clock breaks nothing (issue 9).

The rule (docs/device-protocol.md): an emergency-class event whose device and type can be read always
becomes an alarm; its unreadable parts are kept raw beside it. It is never rate limited, never
refused for its extras, and every dead-letter reason is tried against it here. Device times far from
the receive time are flagged, not stored, so the API never fails reading them back.

Real Mosquitto, real PostgreSQL, the gateway in this process with an injected receive clock, and the
platform's own alarm intake.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from eldercare_common.contract.v1 import MAX_PAYLOAD_BYTES, Uplink, uplink_topic
from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_gateway.decode import DeadLetterReason
from eldercare_gateway.service import Gateway
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.core.clock import FixedClock as AppClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from eldercare_platform.migrate import upgrade
from eldercare_sim.hostile import HostileCase, generated_case, named_cases
from tests.conftest import migrated_database, private_broker, psql, unpooled_engine
from tests.integration.fault_support import FleetPublisher
from tests.integration.gateway_support import (
    committed_user,
    gateway_settings,
    register_devices,
    sync_broker,
    wait_for,
)

pytestmark = pytest.mark.slow
PASSWORD = "salvage-device-pw"
T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # the gateway's receive clock: 14:00 in Shanghai
_nonces = itertools.count(1)


class FixedClock:
    """The gateway's receive time, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


CLOCK = FixedClock(T0)


def nonce() -> str:
    return f"nc{os.getpid() % 10000:04d}x{next(_nonces):06d}q"


@pytest.fixture(scope="module")
def url(postgres: PostgresInstance) -> str:
    """A database of its own: one test adds a constraint to device_event for a while."""
    return migrated_database(postgres, "eldercare_salvage")


@pytest.fixture(scope="module")
def engine(url: str) -> Iterator[Engine]:
    eng = unpooled_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def broker() -> Iterator[MosquittoInstance]:
    with private_broker("mosquitto-salvage") as instance:
        yield instance


@pytest.fixture(scope="module")
def gateway(url: str, broker: MosquittoInstance) -> Iterator[Gateway]:
    """One gateway for the module. Rate: bursts of 60, then one a minute (so tests can count what is limited)."""
    settings = gateway_settings(
        url, broker, instance=f"salv{os.getpid()}", device_rate_per_minute=1, device_rate_burst=60
    )
    running = Gateway(settings, clock=CLOCK)
    running.start()
    wait_for(lambda: all(lane.connected for lane in running.lanes), timeout=10, what="gateway lanes connected")
    yield running
    running.stop_event.set()
    running.stop()


def devices(url: str, broker: MosquittoInstance, count: int) -> list[str]:
    serials = register_devices(url, count, prefix="SV", password=PASSWORD)
    sync_broker(broker, url)
    return serials


def sos(event_id: str, **fields: Any) -> bytes:
    return json.dumps({"event_id": event_id, "type": "sos", "ts": T0.isoformat(), **fields}).encode()


def telemetry(seq: int) -> bytes:
    at = (T0 + timedelta(seconds=seq)).isoformat()
    return json.dumps({"seq": seq, "ts": at, "kind": "room", "data": {"temperature": 21.5}}).encode()


def heartbeat() -> bytes:
    return json.dumps({"ts": T0.isoformat(), "battery": 90, "mains": True}).encode()


def open_alarms(engine: Engine, url: str) -> None:
    """Run the platform's intake until no device event is pending."""
    with Session(engine) as session:
        for _ in range(100):
            pending = psql(url, "SELECT count(*) FROM outbox WHERE topic = 'device_event' AND processed_at IS NULL")
            if pending[0][0] == 0:
                return
            intake_pending(session, now=T0 + timedelta(minutes=1))
    raise AssertionError("the intake did not catch up")


def events_of(url: str, serial: str) -> list[dict[str, Any]]:
    """The device's events with how many alarms each is linked to."""
    rows = psql(
        url,
        "SELECT e.event_id, e.event_type, e.device_time, e.clock_suspect, e.device_time_raw, e.payload,"
        " e.payload_raw, e.salvage_reason, (SELECT count(*) FROM alarm_event ae WHERE ae.device_event_id = e.id)"
        " FROM device_event e WHERE e.device_serial = %s ORDER BY e.id",
        (serial,),
    )
    keys = ("event_id", "type", "device_time", "clock_suspect", "time_raw", "payload", "raw", "salvage", "alarms")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def dead_letters(url: str, serial: str | None, topic: str | None = None) -> list[tuple[str, bytes]]:
    if topic is not None:
        rows = psql(url, "SELECT reason, payload FROM dead_letter WHERE topic = %s", (topic,))
    else:
        rows = psql(url, "SELECT reason, payload FROM dead_letter WHERE device_serial = %s ORDER BY id", (serial,))
    return [(str(reason), bytes(payload)) for reason, payload in rows]


def publish_all(broker: MosquittoInstance, messages: list[tuple[str, Uplink, bytes]]) -> None:
    """Publish (serial, channel, payload) in this order, QoS 1, and wait until the broker has every one."""
    publisher = FleetPublisher(broker, sorted({serial for serial, _, _ in messages}), PASSWORD)
    try:
        for serial, channel, payload in messages:
            publisher.publish(serial, uplink_topic(serial, channel), payload)
        publisher.wait_all_acknowledged(timeout=30)
    finally:
        publisher.close()


def one_alarm_event(url: str, engine: Engine, serial: str, *, timeout: float = 10) -> dict[str, Any]:
    """Wait for the device's single event, open alarms, and return it (asserting it is linked to one alarm)."""
    wait_for(lambda: events_of(url, serial), timeout=timeout, what=f"an event from {serial}")
    open_alarms(engine, url)
    [event] = events_of(url, serial)
    assert event["alarms"] == 1, event
    return event


# --- the issue's two cases ---


def test_the_issues_sos_with_a_nul_in_data_opens_an_alarm(
    url: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway
) -> None:
    [serial] = devices(url, broker, 1)
    raw = b'{"event_id":"n1","type":"sos","ts":"2026-11-22T14:00:00+08:00","data":{"note":"a\\u0000b"}}'
    publish_all(broker, [(serial, Uplink.EVENT, raw)])
    event = one_alarm_event(url, engine, serial)
    assert (event["event_id"], event["type"]) == ("n1", "sos")
    assert event["payload"] == {"seq": None, "data": {"note": "a\ufffdb"}}, "NUL replaced, never sent to PostgreSQL"
    assert bytes(event["raw"]) == raw, "the bytes as received are kept beside it"
    assert event["salvage"] == "content: NUL or lone surrogate replaced by U+FFFD"
    assert event["device_time"] == T0 and not event["clock_suspect"]
    assert dead_letters(url, serial) == []


def test_a_unit_flushing_80_buffered_messages_then_its_sos_is_heard(
    url: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway
) -> None:
    """After an outage: 20 heartbeats and 60 readings use up the burst of 60; the SOS after them is an alarm."""
    [serial] = devices(url, broker, 1)
    backlog = [(serial, Uplink.HEARTBEAT, heartbeat()) for _ in range(20)]
    backlog += [(serial, Uplink.TELEMETRY, telemetry(seq)) for seq in range(60)]
    publish_all(broker, backlog)

    def limited() -> list[tuple[str, bytes]]:
        return [d for d in dead_letters(url, serial) if d[0].startswith("rate limited")]

    wait_for(lambda: len(limited()) == 20, timeout=15, what="the 20 messages beyond the burst dead-lettered")
    stored = psql(url, "SELECT count(*) FROM telemetry WHERE device_serial = %s", (serial,))[0][0]
    limited_readings = sum(1 for _, raw in limited() if b'"kind"' in raw)
    assert stored + limited_readings == 60, "every reading stored or dead-lettered as rate limited"

    publish_all(broker, [(serial, Uplink.EVENT, sos("after-outage-1"))])
    event = one_alarm_event(url, engine, serial)
    assert event["event_id"] == "after-outage-1" and event["salvage"] is None
    assert len(limited()) == 20, "the SOS is not among the limited"


# --- every dead-letter reason, with an emergency type ---


def _inject(gateway: Gateway, topic: str, payload: bytes) -> None:
    """Hand a message to the alarm lane as paho would (QoS 0, so nothing is acknowledged to the broker).

    Used for topics no subscription delivers (the broker's ACL refuses them before the gateway)."""
    lane = next(lane for lane in gateway.lanes if lane.name == "alarm")
    message = mqtt.MQTTMessage(mid=0, topic=topic.encode())
    message.payload = payload
    message.qos = 0
    lane._on_message(lane.client, None, message)


Case = Callable[[str, str, Engine, MosquittoInstance, Gateway], None]


def _topic(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    # The device part cannot be read (an unsupported protocol version): a dead letter, no event.
    topic = f"eldercare/v9/dev/{serial}/up/event"
    _inject(gateway, topic, sos("t-1"))
    [(reason, raw)] = wait_for(lambda: dead_letters(url, None, topic), timeout=10, what="the dead letter")
    assert reason.startswith("topic: unsupported protocol version") and raw == sos("t-1")
    assert events_of(url, serial) == []


def _size(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    big = sos("s-1", data={"pad": "x" * (MAX_PAYLOAD_BYTES + 2000)})
    publish_all(broker, [(serial, Uplink.EVENT, big)])
    event = one_alarm_event(url, engine, serial)
    assert event["event_id"] == "s-1" and event["salvage"].startswith("size:") and bytes(event["raw"]) == big
    assert event["payload"]["data"]["pad"] == "x" * (MAX_PAYLOAD_BYTES + 2000), "what could be read is kept"


def _unknown_device(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    # Retired in the registry, yet the broker still lets it in (its credentials were not revoked yet).
    psql(url, "UPDATE device SET state = 'retired' WHERE serial = %s", (serial,))
    publish_all(broker, [(serial, Uplink.EVENT, sos("u-1"))])
    event = one_alarm_event(url, engine, serial)
    assert event["event_id"] == "u-1" and event["salvage"] == "unknown device"


def _json(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    garbled = b'{"event_id": "j-1", "type": "fall", "ts": \xff\xfe 2026-11-22 garbage'
    no_type = b'{"event_id": "j-2", "ts": \xff\xfe garbage'
    publish_all(broker, [(serial, Uplink.EVENT, garbled), (serial, Uplink.EVENT, no_type)])
    event = one_alarm_event(url, engine, serial)
    assert (event["event_id"], event["type"]) == ("j-1", "fall") and event["salvage"].startswith("json:")
    assert event["clock_suspect"] and event["device_time"] is None and bytes(event["raw"]) == garbled
    [(reason, raw)] = wait_for(lambda: dead_letters(url, serial), timeout=10, what="the typeless dead letter")
    assert reason.startswith("json:") and raw == no_type, "no readable type: a dead letter"


def _schema(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    broken = json.dumps({"event_id": "bad id!", "type": "SOS", "ts": "yesterday", "seq": -1, "debug": [1]}).encode()
    publish_all(broker, [(serial, Uplink.EVENT, broken)])
    event = one_alarm_event(url, engine, serial)
    assert event["type"] == "sos" and event["event_id"].startswith("salvaged:")
    assert event["salvage"].startswith("schema:") and event["time_raw"] == "yesterday" and event["clock_suspect"]
    publish_all(broker, [(serial, Uplink.EVENT, broken)])  # a resend is the same event
    time.sleep(0.5)
    assert len(events_of(url, serial)) == 1


def _content(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    raw = b'{"event_id":"c-1","type":"smoke","ts":"2026-11-22T06:00:00Z","data":{"ppm":NaN,"k\\u0000":"v"}}'
    nul_heartbeat = b'{"ts":"2026-11-22T06:00:00Z","fw":"1.0\\u0000"}'
    publish_all(broker, [(serial, Uplink.EVENT, raw), (serial, Uplink.HEARTBEAT, nul_heartbeat)])
    event = one_alarm_event(url, engine, serial)
    assert event["payload"]["data"] == {"ppm": "NaN", "k\ufffd": "v"} and event["salvage"].startswith("content:")
    [(reason, _)] = wait_for(lambda: dead_letters(url, serial), timeout=10, what="the heartbeat's dead letter")
    assert reason.startswith("content:"), "a heartbeat is not an emergency: dead-lettered with why"


def _rate_limited(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    publish_all(broker, [(serial, Uplink.TELEMETRY, telemetry(seq)) for seq in range(61)])
    wait_for(
        lambda: [d for d in dead_letters(url, serial) if d[0].startswith("rate limited")],
        timeout=10,
        what="the reading beyond the burst",
    )
    publish_all(broker, [(serial, Uplink.EVENT, sos("r-1")), (serial, Uplink.EVENT, sos("r-2"))])
    wait_for(lambda: len(events_of(url, serial)) == 2, timeout=10, what="both calls")
    open_alarms(engine, url)
    assert [(e["event_id"], e["alarms"], e["salvage"]) for e in events_of(url, serial)] == [
        ("r-1", 1, None),
        ("r-2", 1, None),
    ]


def _database_refused(url: str, serial: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway) -> None:
    # Something about this event makes the database refuse the row (here: a constraint added for the test).
    psql(url, "ALTER TABLE device_event ADD CONSTRAINT test_refuse CHECK (NOT (payload->'data' ? 'refuse_me'))")
    try:
        publish_all(broker, [(serial, Uplink.EVENT, sos("d-1", data={"refuse_me": True}))])
        event = one_alarm_event(url, engine, serial)
    finally:
        psql(url, "ALTER TABLE device_event DROP CONSTRAINT test_refuse")
    assert event["event_id"] == "d-1" and event["payload"] == {}, "the essentials were kept"
    assert event["salvage"].startswith("database refused: CheckViolation") and b"refuse_me" in bytes(event["raw"])


CASES: dict[DeadLetterReason, Case] = {
    DeadLetterReason.TOPIC: _topic,
    DeadLetterReason.SIZE: _size,
    DeadLetterReason.UNKNOWN_DEVICE: _unknown_device,
    DeadLetterReason.JSON: _json,
    DeadLetterReason.SCHEMA: _schema,
    DeadLetterReason.CONTENT: _content,
    DeadLetterReason.RATE_LIMITED: _rate_limited,
    DeadLetterReason.DATABASE_REFUSED: _database_refused,
}


@pytest.mark.parametrize("reason", list(DeadLetterReason), ids=lambda r: str(r).replace(" ", "_"))
def test_every_dead_letter_reason_spares_an_emergency_whose_device_and_type_can_be_read(
    reason: DeadLetterReason, url: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway
) -> None:
    assert set(CASES) == set(DeadLetterReason), "a new dead-letter reason needs its case here"
    [serial] = devices(url, broker, 1)
    CASES[reason](url, serial, engine, broker, gateway)


# --- device clocks ---


def test_impossible_device_clocks_are_flagged_and_the_api_still_answers(
    url: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway
) -> None:
    [serial] = devices(url, broker, 1)
    stamps = {
        "year-1": "0001-01-01T00:00:00+14:00",
        "year-9999": "9999-12-31T23:59:59-14:00",
        "epoch": "1970-01-01T00:00:00Z",
        "ahead": (T0 + timedelta(hours=1)).isoformat(),
        "fine": (T0 - timedelta(days=2)).isoformat(),
    }
    messages = [
        (serial, Uplink.EVENT, json.dumps({"event_id": key, "type": "sos", "ts": ts}).encode())
        for key, ts in stamps.items()
    ]
    reading = {"seq": 1, "ts": stamps["year-1"], "kind": "room", "data": {"t": 1}}
    messages += [
        (serial, Uplink.TELEMETRY, json.dumps(reading).encode()),
        (serial, Uplink.HEARTBEAT, json.dumps({"ts": stamps["year-9999"], "battery": 5}).encode()),
    ]
    publish_all(broker, messages)
    wait_for(lambda: len(events_of(url, serial)) == 6, timeout=15, what="five calls and a low-battery fault")
    wait_for(
        lambda: psql(url, "SELECT 1 FROM telemetry WHERE device_serial = %s", (serial,)), timeout=10, what="reading"
    )
    open_alarms(engine, url)
    events = {e["event_id"]: e for e in events_of(url, serial)}
    for key in ("year-1", "year-9999", "epoch", "ahead"):
        event = events[key]
        assert event["device_time"] is None and event["clock_suspect"], key
        assert event["time_raw"] == datetime.fromisoformat(stamps[key]).isoformat(), key
    assert events["fine"]["device_time"] == T0 - timedelta(days=2) and not events["fine"]["clock_suspect"]
    [fault] = [e for e in events.values() if e["type"] == "low_battery"]
    assert fault["clock_suspect"] and fault["device_time"] is None
    assert psql(url, "SELECT device_time FROM telemetry WHERE device_serial = %s", (serial,)) == [(None,)]
    assert dead_letters(url, serial) == []

    settings = ApiSettings(environment="test", database_url=url, mqtt_url="mqtt://127.0.0.1:1")
    committed_user(url, username="salvage-operator", role="operator")
    clock = AppClock(T0 + timedelta(minutes=1))
    with TestClient(create_app(settings, connect_broker=False, clock=clock)) as client:
        token = client.post("/api/auth/token", data={"username": "salvage-operator", "password": "test-password-123"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = client.get("/api/device-events", params={"limit": 500}, headers=headers)
        assert response.status_code == 200, response.text
        listed = {e["event_id"]: e for e in response.json() if e["device_serial"] == serial}
        assert listed["year-1"]["device_time"] is None and listed["year-1"]["clock_suspect"] is True
        assert listed["year-1"]["device_time_raw"] == "0001-01-01T00:00:00+14:00"
        alarm_id = psql(url, "SELECT id FROM alarm WHERE device_serial = %s AND type = 'sos'", (serial,))[0][0]
        card = client.get(f"/api/alarms/{alarm_id}/card", headers=headers)
        assert card.status_code == 200, card.text
        assert {e["clock_suspect"] for e in card.json()["last_24h"]["events"]} == {True, False}


def test_rows_stored_before_the_bounds_are_converted_by_the_migration(postgres: PostgresInstance) -> None:
    """A database that already holds year-0 and year-10000 device times (stored by the old gateway)."""
    legacy = "eldercare_salvage_legacy"
    postgres.drop_database(legacy)
    postgres.create_database(legacy)
    legacy_url = postgres.url_for(legacy)
    try:
        upgrade(legacy_url, "0005")
        for event_id, ts in [
            ("year-1", "0001-01-01T00:00:00+14:00"),
            ("year-9999", "9999-12-31T23:59:59-14:00"),
            ("epoch", "1970-01-01T00:00:00Z"),
            ("fine", "2026-11-22T05:59:00Z"),
        ]:
            psql(
                legacy_url,
                "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)"
                " VALUES ('LG0000001', %s, 'sos', %s::timestamptz, '2026-11-22T06:00:00Z')",
                (event_id, ts),
            )
        upgrade(legacy_url)
        rows = psql(
            legacy_url,
            "SELECT event_id, device_time, clock_suspect, device_time_raw FROM device_event ORDER BY event_id",
        )
        assert rows == [
            ("epoch", None, True, "1970-01-01T00:00:00.000000Z"),
            ("fine", datetime(2026, 11, 22, 5, 59, tzinfo=UTC), False, None),
            ("year-1", None, True, "0001-12-31T10:00:00.000000Z BC"),
            ("year-9999", None, True, "10000-01-01T13:59:59.000000Z"),
        ]
        settings = ApiSettings(environment="test", database_url=legacy_url, mqtt_url="mqtt://127.0.0.1:1")
        committed_user(legacy_url, username="legacy-admin", role="admin")
        with TestClient(create_app(settings, connect_broker=False)) as client:
            token = client.post("/api/auth/token", data={"username": "legacy-admin", "password": "test-password-123"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            response = client.get("/api/device-events", headers=headers)
            assert response.status_code == 200, response.text
            assert len(response.json()) == 4
    finally:
        postgres.drop_database(legacy)


# --- the hostile-payload test ---


def test_hostile_payloads_interleaved_with_valid_calls_lose_no_call_and_stall_nothing(
    url: str, engine: Engine, broker: MosquittoInstance, gateway: Gateway
) -> None:
    """Named and generated hostile payloads (seeded), interleaved with valid SOS from several devices.

    Every valid SOS becomes exactly one event linked to exactly one alarm; every hostile message ends
    exactly once as an event (when its device and emergency type can be read) or a dead letter; and
    the lanes keep going: a last call after the storm is an alarm within seconds.
    """
    rng = random.Random(20261122)
    fleet = devices(url, broker, 5)
    hostile: list[tuple[str, HostileCase]] = []
    for case in named_cases(nonce, T0):
        hostile.append((rng.choice(fleet), case))
    for _ in range(240):
        hostile.append((rng.choice(fleet), generated_case(rng, nonce(), T0)))
    valid = [(serial, f"valid-{serial}-{n}") for serial in fleet for n in range(8)]
    stream: list[tuple[str, Uplink, bytes]] = [(s, c.channel, c.payload) for s, c in hostile]
    for serial, event_id in valid:  # valid calls at random places in the hostile stream, in order per device
        stream.insert(rng.randrange(len(stream) + 1), (serial, Uplink.EVENT, sos(event_id)))
    started = time.monotonic()
    publish_all(broker, stream)

    def where(case: HostileCase) -> tuple[int, int]:
        """(events, dead letters) holding this case's nonce."""
        marker = case.nonce.encode()
        found = psql(
            url,
            "SELECT (SELECT count(*) FROM device_event WHERE event_id LIKE %s OR position(%s IN payload_raw) > 0),"
            " (SELECT count(*) FROM dead_letter WHERE position(%s IN payload) > 0)",
            (f"%{case.nonce}%", marker, marker),
        )[0]
        return int(found[0]), int(found[1])

    expected_events = sum(1 for _, case in hostile if case.emergency) + len(valid)
    serials = list(fleet)
    wait_for(
        lambda: (
            psql(url, "SELECT count(*) FROM device_event WHERE device_serial = ANY(%s)", (serials,))[0][0]
            >= expected_events
            and psql(url, "SELECT count(*) FROM dead_letter WHERE device_serial = ANY(%s)", (serials,))[0][0]
            >= len(hostile) - sum(1 for _, case in hostile if case.emergency)
        ),
        timeout=40,
        what="every message written",
    )
    open_alarms(engine, url)
    wrong = []
    for serial, case in hostile:
        events, letters = where(case)
        if (events, letters) != ((1, 0) if case.emergency else (0, 1)):
            wrong.append((case.name, serial, case.emergency, events, letters, case.payload[:160]))
    assert wrong == [], f"{len(wrong)} hostile messages not where they belong: {wrong[:5]}"

    linked = psql(
        url,
        "SELECT e.device_serial, e.event_id, count(ae.alarm_id) FROM device_event e"
        " LEFT JOIN alarm_event ae ON ae.device_event_id = e.id"
        " WHERE e.device_serial = ANY(%s) AND e.event_id LIKE 'valid-%%' GROUP BY 1, 2",
        (serials,),
    )
    assert sorted((s, e) for s, e, _ in linked) == sorted(valid), "every valid SOS stored once"
    assert {count for _, _, count in linked} == {1}, "each valid SOS linked to exactly one alarm"
    unlinked = psql(
        url,
        "SELECT count(*) FROM device_event e WHERE e.device_serial = ANY(%s)"
        " AND e.event_type NOT IN ('cancel', 'bed_exit')"  # (a bed exit is an alarm only at night)
        " AND NOT EXISTS (SELECT 1 FROM alarm_event ae WHERE ae.device_event_id = e.id)",
        (serials,),
    )[0][0]
    assert unlinked == 0, "every stored emergency is an alarm"

    # Nothing stalled: a call after the storm is an alarm at once, and the lanes are up with empty queues.
    last = fleet[0]
    publish_all(broker, [(last, Uplink.EVENT, sos("after-the-storm"))])
    wait_for(
        lambda: psql(
            url, "SELECT 1 FROM device_event WHERE device_serial = %s AND event_id = 'after-the-storm'", (last,)
        ),
        timeout=5,
        what="the call after the storm",
    )
    assert all(lane.connected for lane in gateway.lanes)
    assert all(lane.writer.depth() == 0 for lane in gateway.lanes)
    assert time.monotonic() - started < 60, "bounded in time"
