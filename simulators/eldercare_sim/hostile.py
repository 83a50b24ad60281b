"""Hostile clients: real device credentials sending what a broken or malicious device would.

Each hostile client cycles through malformed JSON, oversized payloads, schema violations, unknown
channels, another device's topic (the broker's ACL must drop it), and replays of its own last event.
The platform must dead-letter or ignore each one and stay healthy for everyone else. (None of these
names an emergency type that can be read: one that does becomes an alarm, see `hostile_cases`.)

`named_cases` and `generated_case` are hostile payloads with their expected fate: every one whose
device and emergency `type` can be read must become an alarm, every other one a dead letter. Each
carries a unique nonce in its raw bytes, so a test can find exactly where each one went.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiomqtt

from eldercare_common.contract.v1 import EMERGENCY_TYPES, MAX_PAYLOAD_BYTES, TOPIC_ROOT, Uplink, uplink_topic
from eldercare_sim.fleet import FleetStats, SimDevice

ATTACKS = (
    "malformed_json",
    "oversized",
    "schema_violation",
    "unknown_channel",
    "foreign_topic",
    "replay",
    "not_an_object",
    "bad_version",
)


def hostile_message(kind: str, device: SimDevice, victim: str, rng: random.Random, replay: bytes) -> tuple[str, bytes]:
    """The topic and payload of one attack of `kind`."""
    own = uplink_topic(device.serial, Uplink.EVENT)
    now = datetime.now(UTC).isoformat()
    if kind == "malformed_json":
        return own, b'{"event_id": "x", "ts": ' + bytes(rng.randrange(256) for _ in range(8))
    if kind == "oversized":
        return own, json.dumps(
            {"event_id": "big", "type": "earthquake", "ts": now, "data": {"pad": "x" * (MAX_PAYLOAD_BYTES + 100)}}
        ).encode()
    if kind == "schema_violation":
        return own, json.dumps({"event_id": "bad type", "type": "earthquake", "ts": "yesterday"}).encode()
    if kind == "unknown_channel":
        return f"{TOPIC_ROOT}/dev/{device.serial}/up/firmware", b'{"v": 1}'
    if kind == "foreign_topic":
        return uplink_topic(victim, Uplink.EVENT), json.dumps(
            {"event_id": f"spoof-{rng.getrandbits(32):x}", "type": "sos", "ts": now}
        ).encode()
    if kind == "not_an_object":
        return own, b"[1, 2, 3]"
    if kind == "bad_version":
        return f"eldercare/v0/dev/{device.serial}/up/event", b"{}"
    return own, replay


async def run_hostile(
    device: SimDevice,
    *,
    victim: str,
    host: str,
    port: int,
    rate: float,
    seed: int,
    stats: FleetStats,
    stop: asyncio.Event,
) -> None:
    """Send attacks round-robin at `rate` per second until stopped."""
    rng = random.Random(f"hostile:{seed}:{device.serial}")
    replay = json.dumps(
        {"event_id": f"hostile-replay-{seed}", "type": "sos", "ts": datetime.now(UTC).isoformat()}
    ).encode()
    index = 0
    while not stop.is_set():
        try:
            async with aiomqtt.Client(
                host,
                port,
                username=device.serial,
                password=device.password,
                identifier=f"hostile-{device.serial}",
                clean_session=True,
            ) as client:
                while not stop.is_set():
                    kind = ATTACKS[index % len(ATTACKS)]
                    index += 1
                    topic, payload = hostile_message(kind, device, victim, rng, replay)
                    await client.publish(topic, payload, qos=1)
                    stats.sent[f"hostile:{kind}"] += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0 / rate)
        except aiomqtt.MqttError:
            stats.connect_failures += 1  # the broker may disconnect a client for what it sent
            await asyncio.sleep(1.0)


@dataclass(frozen=True, slots=True)
class HostileCase:
    """One hostile uplink and its expected fate."""

    name: str
    channel: Uplink
    payload: bytes
    nonce: str  # in the raw bytes (and in the event id when there is a valid one)
    emergency: bool  # device and emergency type readable: must become exactly one alarm event


def _obj(*members: tuple[str, object]) -> bytes:
    """A JSON object from (key, already-encoded value text) pairs, in order (duplicates allowed)."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in members) + "}").encode()


def _j(value: object) -> str:
    return json.dumps(value)


def named_cases(nonce: Callable[[], str], now: datetime) -> list[HostileCase]:
    """Hostile cases with names: the issue's, and what firmware bugs and attackers send."""
    ts = _j(now.isoformat())
    cases: list[HostileCase] = []

    def event(name: str, emergency: bool, build: Callable[[str], bytes], channel: Uplink = Uplink.EVENT) -> None:
        n = nonce()
        cases.append(HostileCase(name, channel, build(n), n, emergency))

    def sos(n: str, *extra: tuple[str, object], kind: str = '"sos"') -> bytes:
        return _obj(("event_id", _j(f"h-{n}")), ("type", kind), ("ts", ts), *extra)

    event("nul_in_data", True, lambda n: sos(n, ("data", '{"note": "a\\u0000b"}')))
    event("nul_in_key", True, lambda n: sos(n, ("data", '{"a\\u0000": 1}')))
    event("nan_in_data", True, lambda n: sos(n, ("data", '{"x": NaN, "y": -Infinity}')))
    event("infinite_seq", True, lambda n: sos(n, ("seq", "Infinity")))
    event(
        "year_1_at_plus_14",
        True,
        lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"sos"'), ("ts", _j("0001-01-01T00:00:00+14:00"))),
    )
    event(
        "year_9999_at_minus_14",
        True,
        lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"fall"'), ("ts", _j("9999-12-31T23:59:59-14:00"))),
    )
    event("ts_words", True, lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"sos"'), ("ts", _j("yesterday"))))
    event(
        "ts_without_offset",
        True,
        lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"sos"'), ("ts", _j("2026-11-22T08:00:00"))),
    )
    event("ts_number", True, lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"sos"'), ("ts", "1700000000")))
    event("no_ts", True, lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"gas"')))
    event("no_event_id", True, lambda n: _obj(("nonce", _j(n)), ("type", '"sos"'), ("ts", ts)))
    event(
        "event_id_too_long", True, lambda n: _obj(("event_id", _j(f"h-{n}-" + "x" * 80)), ("type", '"sos"'), ("ts", ts))
    )
    event("event_id_with_spaces", True, lambda n: _obj(("event_id", _j(f"h {n} !")), ("type", '"sos"'), ("ts", ts)))
    event(
        "event_id_number", True, lambda n: _obj(("nonce", _j(n)), ("event_id", "12345"), ("type", '"sos"'), ("ts", ts))
    )
    event("type_upper_case", True, lambda n: sos(n, kind='" SOS "'))
    event("unknown_fields", True, lambda n: sos(n, ("firmware_debug", '{"stack": [1, 2, 3]}'), ("rssi", "-70")))
    event("oversized", True, lambda n: sos(n, ("data", _j({"pad": "x" * (MAX_PAYLOAD_BYTES + 4000)}))))
    event("deep_nesting", True, lambda n: sos(n, ("data", '{"a": ' + "[" * 3000 + "]" * 3000 + "}")))
    event("invalid_utf8", True, lambda n: sos(n).replace(b'"sos"', b'"sos", "note": "\xff\xfe\x80"'))
    event("lone_surrogate", True, lambda n: sos(n, ("data", '{"note": "\\ud800"}')))
    event("truncated", True, lambda n: sos(n, ("data", '{"confidence": 0.9')))
    event("trailing_garbage", True, lambda n: sos(n) + b" }}}garbage")
    event(
        "duplicate_type",
        True,
        lambda n: _obj(("event_id", _j(f"h-{n}")), ("type", '"cancel"'), ("ts", ts), ("type", '"fall"')),
    )
    event("data_not_an_object", True, lambda n: sos(n, ("data", "[1, 2]")))
    event("byte_order_mark", True, lambda n: b"\xef\xbb\xbf" + sos(n))
    event("sos_on_the_heartbeat_topic", True, lambda n: sos(n), Uplink.HEARTBEAT)
    event("sos_on_the_telemetry_topic", True, lambda n: sos(n), Uplink.TELEMETRY)
    event("unknown_type", False, lambda n: sos(n, kind='"earthquake"'))
    event("cancel_with_extras", False, lambda n: sos(n, ("x", "1"), kind='"cancel"'))
    event("type_not_a_string", False, lambda n: sos(n, kind='["sos"]'))
    event("no_type", False, lambda n: _obj(("event_id", _j(f"h-{n}")), ("ts", ts)))
    event("not_an_object", False, lambda n: _j(["sos", n]).encode())
    event("plain_text", False, lambda n: f"SOS help {n}".encode())
    event("garbled_before_type", False, lambda n: b'{"event_id": "h-' + n.encode() + b'", \x00\x01 "ty')
    event(
        "heartbeat_nul_firmware",
        False,
        lambda n: _obj(("ts", ts), ("fw", _j(f"1.0-{n}")[:-1] + '\\u0000"')),
        Uplink.HEARTBEAT,
    )
    event(
        "telemetry_nan",
        False,
        lambda n: _obj(("seq", "1"), ("ts", ts), ("kind", '"room"'), ("data", '{"t": NaN, "n": ' + _j(n) + "}")),
        Uplink.TELEMETRY,
    )
    event(
        "telemetry_unknown_kind",
        False,
        lambda n: _obj(("seq", "1"), ("ts", ts), ("kind", _j(n)), ("data", '{"t": 1}')),
        Uplink.TELEMETRY,
    )
    event("status_garbage", False, lambda n: _obj(("state", _j(n))), Uplink.STATUS)
    return cases


_TYPE_VARIANTS: list[tuple[str, bool]] = [
    *((_j(t), True) for t in sorted(EMERGENCY_TYPES)),
    ('" Fall "', True),
    ('"SOS"', True),
    ('"cancel"', False),
    ('"earthquake"', False),
    ('""', False),
    ("null", False),
    ("42", False),
    ('{"sos": true}', False),
]


def generated_case(rng: random.Random, nonce: str, now: datetime) -> HostileCase:
    """A random `up/event` payload: each field valid, missing or broken, then maybe mangled after its type.

    The nonce member comes first and the type second, so mangling the rest (truncation, invalid
    bytes, flipped bytes) never hides the type: an emergency type must still open an alarm.
    """
    members: list[tuple[str, object]] = [("nonce", _j(nonce))]
    type_text, emergency = rng.choice([*_TYPE_VARIANTS, ("<missing>", False)])
    if type_text != "<missing>":
        members.append(("type", type_text))
    rest: list[tuple[str, object]] = []
    event_id = rng.choice(["valid", "missing", "spaces", "long", "number", "empty"])
    if event_id != "missing":
        rest.append(
            (
                "event_id",
                {
                    "valid": _j(f"g-{nonce}"),
                    "spaces": _j(f"g {nonce}"),
                    "long": _j(f"g-{nonce}" + "y" * 70),
                    "number": str(rng.randrange(10**9)),
                    "empty": '""',
                }[event_id],
            )
        )
    ts = rng.choice(
        [
            _j(now.isoformat()),
            _j("0001-01-01T00:00:00+14:00"),
            _j("9999-12-31T23:59:59-14:00"),
            _j("1970-01-01T00:00:00Z"),
            _j("not a time"),
            "null",
            "<missing>",
        ]
    )
    if ts != "<missing>":
        rest.append(("ts", ts))
    seq = rng.choice(["1", "-5", "1e400", '"seven"', "99999999999999999999999", "<missing>"])
    if seq != "<missing>":
        rest.append(("seq", seq))
    depth = rng.randrange(50, 2000)
    data = rng.choice(
        [
            "{}",
            '{"note": "a\\u0000b"}',
            '{"v": NaN}',
            '{"d": ' + "[" * depth + "]" * depth + "}",
            _j({"pad": "z" * rng.randrange(1000, 30000)}),
            '"text"',
            "[1, 2, 3]",
            '{"k\\u0000": "\\udfff"}',
        ]
    )
    rest.append(("data", data))
    if rng.random() < 0.3:
        rest.append(("extra_" + str(rng.randrange(100)), '{"x": 1}'))
    rng.shuffle(rest)
    payload = _obj(*members, *rest)
    intact = len(_obj(*members)) - 1  # nonce and type end here (a comma follows)
    after = intact + 2  # the first byte after ", ": mangling from here on leaves the type readable
    mangle = rng.choice(["none", "none", "truncate", "invalid_utf8", "flip_bytes", "trailing_garbage"])
    body = bytearray(payload)
    if mangle == "truncate":
        body = body[: rng.randrange(intact, len(body) + 1)]
    elif mangle == "invalid_utf8":
        at = rng.randrange(after, len(body))
        body[at:at] = b"\xff\xc3("
    elif mangle == "flip_bytes":
        for _ in range(rng.randrange(1, 6)):
            body[rng.randrange(after, len(body))] = rng.choice(b'{}[],:"\\\x00\xffa1 ')
    elif mangle == "trailing_garbage":
        body += b"\x00\x01garbage"
    return HostileCase(f"generated:{mangle}", Uplink.EVENT, bytes(body), nonce, emergency)
