"""Turning raw MQTT messages into validated uplinks, or into a dead-letter reason.

Pure functions: no I/O, so they are cheap enough for paho's network thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from eldercare_gateway.protocol import (
    MAX_PAYLOAD_BYTES,
    UPLINK_MODELS,
    TopicError,
    Uplink,
    parse_uplink_topic,
)
from eldercare_gateway.registry import DeviceRegistry, KnownDevice


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid uplink from a known device."""

    device: KnownDevice
    channel: Uplink
    payload: Any
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that goes to dead letters, with why."""

    reason: str
    serial: str | None


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


def decode(
    topic: str, raw: bytes, *, registry: DeviceRegistry, received_at: datetime, expected: Uplink | None = None
) -> Accepted | Rejected:
    """Validate topic, device, size, JSON and schema, in that order."""
    try:
        serial, channel = parse_uplink_topic(topic)
    except TopicError as exc:
        return Rejected(f"topic: {exc}", None)
    if expected is not None and channel != expected:
        return Rejected(f"topic: channel {channel} on the {expected} lane", serial)
    if len(raw) > MAX_PAYLOAD_BYTES:
        return Rejected(f"size: {len(raw)} bytes > {MAX_PAYLOAD_BYTES}", serial)
    device = registry.get(serial)
    if device is None:
        return Rejected("unknown device", serial)
    try:
        # pydantic-core parses and validates in one pass (no json.loads, no intermediate dict).
        payload = UPLINK_MODELS[channel].model_validate_json(raw)
    except ValidationError as exc:
        return Rejected(_reason(exc), serial)
    return Accepted(device, channel, payload, received_at)
