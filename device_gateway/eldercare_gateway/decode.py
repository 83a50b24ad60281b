"""Turning raw MQTT messages into validated uplinks, salvaged emergencies, or a dead-letter reason.

Pure functions (the registry answers from its cache), cheap enough for paho's network thread.

An emergency-class event is never refused for what is wrong around it: whenever a message would be
dead-lettered but its topic names the device and its payload a readable emergency `type`, it becomes
`Salvaged`, an event row with the raw bytes and the would-be reason beside it (events.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from eldercare_common.contract.v1 import (
    MAX_PAYLOAD_BYTES,
    UPLINK_MODELS,
    TopicError,
    Uplink,
    parse_uplink_topic,
)
from eldercare_gateway.events import DEFAULT_BOUNDS, ClockBounds, EventRow, salvage_event, unstorable
from eldercare_gateway.registry import DeviceRegistry, KnownDevice

# A message is salvaged only if it is at most this big (the broker's max_packet_size, 64 KiB, is lower).
SALVAGE_MAX_BYTES = 1024 * 1024


class DeadLetterReason(StrEnum):
    """Every kind of dead letter: a `dead_letter.reason` starts with one of these."""

    TOPIC = "topic"  # not a v1 device uplink topic (the broker's ACL normally refuses these)
    SIZE = "size"  # over MAX_PAYLOAD_BYTES
    UNKNOWN_DEVICE = "unknown device"  # the serial is not an active device in the registry
    JSON = "json"  # not JSON, or not a JSON object
    SCHEMA = "schema"  # a JSON object that breaks the contract
    CONTENT = "content"  # valid, but holds what PostgreSQL cannot store (NUL, NaN, ...)
    RATE_LIMITED = "rate limited"  # telemetry and status beyond the per-device rate
    DATABASE_REFUSED = "database refused"  # the database refused the row itself


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid uplink from a known device."""

    device: KnownDevice
    channel: Uplink
    payload: Any
    received_at: datetime
    raw: bytes = b""


@dataclass(frozen=True, slots=True)
class Salvaged:
    """An emergency event kept from a message that would otherwise be a dead letter (`row.salvage_reason`)."""

    row: EventRow
    channel: Uplink


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that goes to dead letters, with why."""

    reason: str
    serial: str | None

    @property
    def kind(self) -> DeadLetterReason:
        """Which kind of dead letter this is."""
        return next(kind for kind in DeadLetterReason if self.reason.startswith(kind.value))


def _reason(exc: ValidationError) -> str:
    """`json: …` when the bytes are not a JSON object, `schema: …` when the object breaks the contract."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return f"json: {first['msg']}"[:300]
    if first["type"] == "model_type" and not first["loc"]:
        return "json: payload is not an object"
    return _first_error(exc)


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"schema: {where}: {first['msg']}{more}"[:300]


def _salvage_or(
    rejected: Rejected, channel: Uplink, raw: bytes, received_at: datetime, bounds: ClockBounds
) -> Salvaged | Rejected:
    """The emergency in the message if there is a readable one, else the dead letter."""
    if rejected.serial is None or len(raw) > SALVAGE_MAX_BYTES:
        return rejected
    if channel is not Uplink.EVENT and b"type" not in raw:
        return rejected  # cheap pre-check for the bulk channels (an event on them is a firmware bug)
    row = salvage_event(rejected.serial, raw, rejected.reason, received_at, bounds)
    return rejected if row is None else Salvaged(row, channel)


# Bytes that may hide a value PostgreSQL refuses: an escaped NUL or surrogate, NaN, Infinity.
_SUSPECT_BYTES = (b"\\u", b"NaN", b"Infinity")


def decode(
    topic: str,
    raw: bytes,
    *,
    registry: DeviceRegistry,
    received_at: datetime,
    expected: Uplink | None = None,
    bounds: ClockBounds = DEFAULT_BOUNDS,
) -> Accepted | Salvaged | Rejected:
    """Validate topic, size, device, JSON and schema, in that order; salvage emergencies that fail any of them."""
    try:
        serial, channel = parse_uplink_topic(topic)
    except TopicError as exc:
        return Rejected(f"topic: {exc}", None)
    if expected is not None and channel != expected:
        return Rejected(f"topic: channel {channel} on the {expected} lane", serial)
    if len(raw) > MAX_PAYLOAD_BYTES:
        return _salvage_or(
            Rejected(f"size: {len(raw)} bytes > {MAX_PAYLOAD_BYTES}", serial), channel, raw, received_at, bounds
        )
    device = registry.get(serial)
    if device is None:
        return _salvage_or(Rejected("unknown device", serial), channel, raw, received_at, bounds)
    try:
        # pydantic-core parses and validates in one pass (no json.loads, no intermediate dict).
        payload = UPLINK_MODELS[channel].model_validate_json(raw)
    except ValidationError as exc:
        return _salvage_or(Rejected(_reason(exc), serial), channel, raw, received_at, bounds)
    # Events are made storable when written (and keep their raw bytes); other channels are refused here,
    # with a clear reason, rather than by the database, which would fail the whole batch.
    if channel is not Uplink.EVENT and any(marker in raw for marker in _SUSPECT_BYTES):
        problem = unstorable(payload.model_dump())
        if problem is not None:
            return Rejected(f"content: {problem}"[:300], serial)
    return Accepted(device, channel, payload, received_at, raw)
