"""Hostile clients: real device credentials sending what a broken or malicious device would.

Each hostile client cycles through malformed JSON, oversized payloads, schema violations, unknown
channels, another device's topic (the broker's ACL must drop it), and replays of its own last event.
The platform must dead-letter or ignore each one and stay healthy for everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from datetime import UTC, datetime

import aiomqtt

from eldercare_gateway.protocol import MAX_PAYLOAD_BYTES, TOPIC_ROOT, Uplink, uplink_topic
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
        return own, b'{"event_id": "x", "type": "sos", "ts": ' + bytes(rng.randrange(256) for _ in range(8))
    if kind == "oversized":
        return own, json.dumps(
            {"event_id": "big", "type": "sos", "ts": now, "data": {"pad": "x" * (MAX_PAYLOAD_BYTES + 100)}}
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
