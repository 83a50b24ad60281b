"""Keeping emergencies whatever is wrong around them, and bounding device clocks: the pure logic.

The same rules run end to end on Mosquitto and PostgreSQL in tests/integration/test_gateway_salvage.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from eldercare_common.contract.v1 import EMERGENCY_TYPES, MAX_PAYLOAD_BYTES, EventType, Uplink, uplink_topic
from eldercare_gateway.decode import Accepted, DeadLetterReason, Rejected, Salvaged, decode
from eldercare_gateway.events import (
    DEFAULT_BOUNDS,
    EventRow,
    bound_device_time,
    readable_time,
    salvage_event,
    storable_json,
    top_level_members,
)
from eldercare_gateway.lanes.alarm import event_row
from tests.unit.test_protocol import FakeRegistry

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
EVENT_TOPIC = uplink_topic("HA0000001", Uplink.EVENT)


def sos(**fields: object) -> dict[str, object]:
    return {"event_id": "e1", "type": "sos", "ts": "2026-11-22T14:00:00+08:00", **fields}


def run(payload: bytes, topic: str = EVENT_TOPIC) -> Accepted | Salvaged | Rejected:
    return decode(topic, payload, registry=FakeRegistry(), received_at=NOW)


def test_emergency_classes_are_every_event_type_but_cancel() -> None:
    assert set(EMERGENCY_TYPES) == {t.value for t in EventType} - {"cancel"}


def test_top_level_members_survive_broken_values_deep_nesting_and_truncation() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    text = '{"event_id": "x", "data": ' + deep + ', "ts": 2026-11-22, "type" : "sos", "bad": "unterminated'
    members = top_level_members(text)
    assert members is not None
    assert members["type"] == '"sos"' and members["event_id"] == '"x"' and members["ts"] == "2026-11-22"
    assert members["data"] == deep
    assert top_level_members("[1, 2]") is None and top_level_members("") is None
    assert top_level_members('{"a": "}, \\"type\\": \\"sos\\"", "b": {"type": "x"}}') == {
        "a": '"}, \\"type\\": \\"sos\\""',
        "b": '{"type": "x"}',
    }, "strings and nested objects are skipped, not read as members"


def test_storable_json_replaces_what_postgresql_refuses_and_says_so() -> None:
    problems: set[str] = set()
    clean = storable_json({"a\x00": ["b\x00c", float("nan"), float("-inf"), "\ud800"], "ok": 1.5}, problems)
    assert clean == {"a\ufffd": ["b\ufffdc", "NaN", "-Infinity", "\ufffd"], "ok": 1.5}
    assert problems == {"NUL or lone surrogate replaced by U+FFFD", "NaN/Infinity kept as a string"}
    nested: object = "leaf"
    for _ in range(200):
        nested = [nested]
    problems = set()
    storable_json(nested, problems)
    assert problems == {"nesting deeper than 64 levels cut"}


@pytest.mark.parametrize(
    ("ts", "kept"),
    [
        (NOW - timedelta(days=6), True),
        (NOW + timedelta(minutes=4), True),
        (NOW - timedelta(days=8), False),
        (NOW + timedelta(minutes=6), False),
        (datetime(1970, 1, 1, tzinfo=UTC), False),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), False),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))), False),
        (None, False),
    ],
)
def test_device_times_are_stored_only_when_plausible(ts: datetime | None, kept: bool) -> None:
    device_time, suspect = bound_device_time(ts, NOW, DEFAULT_BOUNDS)
    assert suspect is not kept
    assert (device_time == ts) if kept else device_time is None


def test_times_nobody_can_read_back_are_refused_even_without_bounds() -> None:
    assert readable_time(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))) is None
    assert readable_time(datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14)))) is None
    assert readable_time(datetime(1970, 1, 1, tzinfo=UTC)) == datetime(1970, 1, 1, tzinfo=UTC)
    assert bound_device_time(datetime(1970, 1, 1, tzinfo=UTC), NOW, None) == (datetime(1970, 1, 1, tzinfo=UTC), False)


def test_a_valid_event_with_a_nul_is_accepted_and_its_row_is_storable_and_flagged() -> None:
    raw = json.dumps(sos(data={"note": "a\x00b"})).encode()
    result = run(raw)
    assert isinstance(result, Accepted)
    row = event_row(result, DEFAULT_BOUNDS)
    assert row.payload == {"seq": None, "data": {"note": "a\ufffdb"}}
    assert row.payload_raw == raw and row.salvage_reason == "content: NUL or lone surrogate replaced by U+FFFD"
    clean = event_row(run(json.dumps(sos()).encode()), DEFAULT_BOUNDS)  # type: ignore[arg-type]
    assert clean.payload_raw is None and clean.salvage_reason is None and not clean.clock_suspect


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (json.dumps(sos(ts="yesterday")).encode(), "schema: ts"),
        (json.dumps(sos(event_id="has spaces")).encode(), "schema: event_id"),
        (json.dumps(sos(extra={"x": 1})).encode(), "schema: extra"),
        (json.dumps(sos(seq=-1)).encode(), "schema: seq"),
        (json.dumps(sos(data=[1, 2])).encode(), "schema: data"),
        (json.dumps(sos(type="SOS")).encode(), "schema: type"),
        (json.dumps({"type": "fall"}).encode(), "schema: event_id"),
        (b'{"event_id":"e1","type":"sos","ts":' + b"\xff\xfe garbage", "json:"),
        (b'{"event_id":"e1","type":"sos","data":' + b"[" * 5000 + b"]" * 5000 + b"}", "json:"),
        (json.dumps(sos(data={"pad": "x" * MAX_PAYLOAD_BYTES})).encode(), "size:"),
    ],
)
def test_an_emergency_is_salvaged_whatever_else_is_wrong(payload: bytes, reason: str) -> None:
    result = run(payload)
    assert isinstance(result, Salvaged), result
    row = result.row
    assert row.serial == "HA0000001" and row.event_type in EMERGENCY_TYPES
    assert row.payload_raw == payload and row.salvage_reason is not None
    assert row.salvage_reason.startswith(reason), row.salvage_reason
    again = run(payload)
    assert isinstance(again, Salvaged) and again.row.event_id == row.event_id, "redelivery is the same event"


def test_salvage_keeps_what_can_be_read_and_bounds_the_clock() -> None:
    result = run(json.dumps(sos(ts="0001-01-01T00:00:00+14:00", seq=7, data={"k": "v"}, junk=1)).encode())
    assert isinstance(result, Salvaged)
    row = result.row
    assert (row.event_id, row.event_type, row.payload) == ("e1", "sos", {"seq": 7, "data": {"k": "v"}})
    assert row.device_time is None and row.clock_suspect and row.device_time_raw == "0001-01-01T00:00:00+14:00"


def test_unknown_devices_and_misrouted_channels_are_salvaged_too() -> None:
    unknown = run(json.dumps(sos()).encode(), topic=uplink_topic("ZZ0000009", Uplink.EVENT))
    assert isinstance(unknown, Salvaged) and unknown.row.serial == "ZZ0000009"
    assert unknown.row.salvage_reason == "unknown device"
    misrouted = run(json.dumps(sos()).encode(), topic=uplink_topic("HA0000001", Uplink.HEARTBEAT))
    assert isinstance(misrouted, Salvaged) and misrouted.channel is Uplink.HEARTBEAT


@pytest.mark.parametrize(
    ("topic", "payload", "kind"),
    [
        ("eldercare/v9/dev/HA0000001/up/event", json.dumps(sos()).encode(), DeadLetterReason.TOPIC),
        (EVENT_TOPIC, b"not json, no type", DeadLetterReason.JSON),
        (EVENT_TOPIC, json.dumps(sos(type="earthquake")).encode(), DeadLetterReason.SCHEMA),
        (EVENT_TOPIC, json.dumps(sos(type="cancel", x=1)).encode(), DeadLetterReason.SCHEMA),
        (EVENT_TOPIC, json.dumps(sos(type=["sos"])).encode(), DeadLetterReason.SCHEMA),
        (uplink_topic("ZZ0000009", Uplink.EVENT), b'{"type": "cancel"}', DeadLetterReason.UNKNOWN_DEVICE),
        (EVENT_TOPIC, b'{"type": "quake", "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}', DeadLetterReason.SIZE),
        (
            uplink_topic("HA0000001", Uplink.HEARTBEAT),
            b'{"ts": "2026-11-22T06:00:00Z", "fw": "1.0\\u0000"}',
            DeadLetterReason.CONTENT,
        ),
        (
            uplink_topic("HA0000001", Uplink.TELEMETRY),
            b'{"seq": 1, "ts": "2026-11-22T06:00:00Z", "kind": "room", "data": {"t": NaN}}',
            DeadLetterReason.CONTENT,
        ),
    ],
)
def test_without_a_readable_device_and_emergency_type_it_is_a_dead_letter(
    topic: str, payload: bytes, kind: DeadLetterReason
) -> None:
    result = run(payload, topic)
    assert isinstance(result, Rejected), result
    assert result.kind is kind, result.reason


def test_salvage_returns_none_for_non_emergencies() -> None:
    assert salvage_event("HA0000001", b'{"type": "cancel"}', "schema: x", NOW) is None
    assert salvage_event("HA0000001", b'{"kind": "vitals"}', "schema: x", NOW) is None


def test_event_rows_built_from_nothing_but_a_clock_are_flagged() -> None:
    row = EventRow.build("HA0000001", "e1", "sos", None, NOW, {"seq": None, "data": {}})
    assert row.clock_suspect and row.device_time is None and row.device_time_raw is None
