"""Rows of `device_event`, and keeping an emergency whatever else is wrong with its message.

The rule (docs/device-protocol.md, "What the platform does with bad input"): an emergency-class
event whose device (the topic) and `type` can be read always becomes a `device_event` row, hence an
alarm. Whatever else cannot be read or stored is kept raw beside it:

* `payload_raw` holds the bytes as received and `salvage_reason` says what was wrong, whenever the
  message broke the contract or had to be changed to be stored (NUL characters, NaN, lone
  surrogates, nesting deeper than `MAX_DEPTH`);
* `device_time` is the device's clock only when it is plausible (see `ClockBounds`); otherwise it
  is NULL, `clock_suspect` is true and `device_time_raw` keeps what the device said. Everything is
  ordered and timed by `received_at` anyway.

Pure functions, no I/O: they run on paho's network thread (decode) and the writer thread.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eldercare_common.contract.v1 import EMERGENCY_TYPES, EVENT_ID_PATTERN

MAX_DEPTH = 64  # deeper `data` is replaced by a marker (the bytes stay in payload_raw)
MAX_RAW_TEXT = 200  # longest `device_time_raw` / reason fragment kept
# Instants every reader can turn into a Python datetime in any session time zone (offsets ≤ 16 h).
READABLE_FROM = datetime(1, 1, 3, tzinfo=UTC)
READABLE_UNTIL = datetime(9999, 12, 29, tzinfo=UTC)
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL stores neither NUL nor lone surrogates
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_DECODER = json.JSONDecoder(strict=False)


def valid_event_id(value: object) -> bool:
    """Whether a device-made event id follows the protocol (and can be echoed in feedback downlinks)."""
    return isinstance(value, str) and 1 <= len(value) <= 64 and _EVENT_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class ClockBounds:
    """How far a device's clock may be from the gateway's receive time and still be stored as the event time."""

    max_behind: timedelta = timedelta(days=7)  # a unit may flush a week of buffered events after an outage
    max_ahead: timedelta = timedelta(minutes=5)  # an unsynchronised clock running a little fast


DEFAULT_BOUNDS = ClockBounds()


def readable_time(ts: datetime | None) -> datetime | None:
    """`ts` in UTC if PostgreSQL and every reader can round-trip it, else None (year 1 at +14:00 cannot)."""
    if ts is None or ts.tzinfo is None:
        return None
    try:
        utc = ts.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return utc if READABLE_FROM <= utc <= READABLE_UNTIL else None


def bound_device_time(
    ts: datetime | None, received_at: datetime, bounds: ClockBounds | None = DEFAULT_BOUNDS
) -> tuple[datetime | None, bool]:
    """The device time to store and whether the clock is suspect (then the time is None).

    `bounds=None` checks only that the time can be read back (for times the gateway itself observed).
    """
    utc = readable_time(ts)
    if utc is None:
        return None, True
    if bounds is None or received_at - bounds.max_behind <= utc <= received_at + bounds.max_ahead:
        return utc, False
    return None, True


def _clean_text(text: str) -> str:
    return _UNSTORABLE_TEXT.sub("\ufffd", text)


def storable_json(value: Any, problems: set[str] | None = None, depth: int = 0) -> Any:
    """A copy of a parsed JSON value that PostgreSQL's jsonb accepts; what had to change goes into `problems`.

    NUL and lone surrogates become U+FFFD, NaN and ±Infinity their names as strings, and nesting
    deeper than MAX_DEPTH a marker string.
    """
    problems = set() if problems is None else problems
    if isinstance(value, str):
        if _UNSTORABLE_TEXT.search(value):
            problems.add("NUL or lone surrogate replaced by U+FFFD")
            return _clean_text(value)
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (int, datetime)):
        return value  # (datetimes: validated payload fields, which psycopg adapts itself)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.add("NaN/Infinity kept as a string")
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if depth >= MAX_DEPTH:
        problems.add(f"nesting deeper than {MAX_DEPTH} levels cut")
        return "<nested too deeply: see payload_raw>"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            clean_key = str(key)
            if _UNSTORABLE_TEXT.search(clean_key):
                problems.add("NUL or lone surrogate replaced by U+FFFD")
                clean_key = _clean_text(clean_key)
            out[clean_key] = storable_json(item, problems, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [storable_json(item, problems, depth + 1) for item in value]
    problems.add(f"{type(value).__name__} kept as text")
    return _clean_text(str(value))


def unstorable(value: Any) -> str | None:
    """Why `value` cannot be stored as it is (as jsonb or text), or None."""
    problems: set[str] = set()
    storable_json(value, problems)
    return "; ".join(sorted(problems)) or None


def clean_text(text: str, limit: int = MAX_RAW_TEXT) -> str:
    """Text safe for a PostgreSQL text column, cut to `limit` characters."""
    return _clean_text(text[:limit])


@dataclass(frozen=True, slots=True)
class EventRow:
    """A row of `device_event`: from a device's uplink, a salvaged message, or a fault the gateway detected."""

    serial: str
    event_id: str
    event_type: str
    device_time: datetime | None
    received_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    clock_suspect: bool = False
    device_time_raw: str | None = None
    payload_raw: bytes | None = None
    salvage_reason: str | None = None

    @classmethod
    def build(
        cls,
        serial: str,
        event_id: str,
        event_type: str,
        ts: datetime | None,
        received_at: datetime,
        payload: dict[str, Any],
        *,
        bounds: ClockBounds | None = DEFAULT_BOUNDS,
        ts_raw: str | None = None,
        raw: bytes | None = None,
        reason: str | None = None,
    ) -> EventRow:
        """A row whose device time is bounded and whose payload is storable (what changed is recorded)."""
        device_time, suspect = bound_device_time(ts, received_at, bounds)
        problems: set[str] = set()
        clean = storable_json(payload, problems)
        if problems:
            reason = "; ".join(filter(None, [reason, "content: " + "; ".join(sorted(problems))]))
        if suspect and ts_raw is None and ts is not None:
            ts_raw = ts.isoformat()
        return cls(
            serial=clean_text(serial, 64),
            event_id=event_id,
            event_type=event_type,
            device_time=device_time,
            received_at=received_at,
            payload=clean,
            clock_suspect=suspect,
            device_time_raw=clean_text(ts_raw) if suspect and ts_raw is not None else None,
            payload_raw=raw if reason is not None else None,
            salvage_reason=clean_text(reason, 500) if reason is not None else None,
        )


def derived_event_id(seed: bytes) -> str:
    """A deterministic event id (redelivery of the same bytes is the same event), valid for feedback downlinks."""
    return "salvaged:" + hashlib.sha256(seed).hexdigest()[:40]


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    """Index after the value starting at `i`: the next `,` or `}` outside strings and brackets (or the end)."""
    depth = 0
    in_string = False
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                return i
            depth -= 1
        elif char == "," and depth == 0:
            return i
        i += 1
    return i


def top_level_members(text: str) -> dict[str, str] | None:
    """The members of a JSON object as raw value texts, read without recursion and tolerating broken values.

    None when the text does not start as an object. A member whose key cannot be read ends the scan.
    Later duplicates win, as with `json.loads`.
    """
    i = _skip_ws(text, 1 if text.startswith("\ufeff") else 0)  # a byte order mark is no reason to drop a call
    if i >= len(text) or text[i] != "{":
        return None
    members: dict[str, str] = {}
    i += 1
    while True:
        i = _skip_ws(text, i)
        if i >= len(text) or text[i] == "}":
            return members
        if text[i] == ",":
            i += 1
            continue
        if text[i] != '"':
            i = _value_end(text, i)  # garbage where a key should be: skip the member
            if i < len(text) and text[i] == "}":
                return members
            i += 1
            continue
        try:
            key, i = _DECODER.raw_decode(text, i)
        except ValueError:
            return members
        i = _skip_ws(text, i)
        if i < len(text) and text[i] == ":":
            i += 1
        start = i
        i = _value_end(text, i)
        members[key] = text[start:i].strip()


def _member(members: dict[str, str], name: str) -> tuple[bool, Any]:
    """(readable, value) of a raw member."""
    raw = members.get(name)
    if raw is None:
        return False, None
    try:
        return True, json.loads(raw, strict=False)
    except (ValueError, RecursionError):
        return False, None


def emergency_type(members: dict[str, str]) -> str | None:
    """The emergency class named by `type`, if it can be read (case and surrounding blanks forgiven)."""
    readable, value = _member(members, "type")
    if not readable or not isinstance(value, str):
        return None
    candidate = value.strip().lower()
    return candidate if candidate in EMERGENCY_TYPES else None


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def salvage_event(
    serial: str, raw: bytes, reason: str, received_at: datetime, bounds: ClockBounds = DEFAULT_BOUNDS
) -> EventRow | None:
    """The event row for an emergency in a message that would otherwise be dead-lettered for `reason`.

    None when the payload does not name an emergency class in a readable `type`.
    """
    members = top_level_members(raw.decode("utf-8", errors="replace"))
    if members is None:
        return None
    event_type = emergency_type(members)
    if event_type is None:
        return None
    readable, event_id = _member(members, "event_id")
    if not (readable and valid_event_id(event_id)):
        # A redelivery (the same bytes) is the same event. Not the broken id alone: firmware sending
        # the same bad id for every call would then have every later call taken for a duplicate.
        event_id = derived_event_id(serial.encode() + b"\x00" + raw)
    readable, ts_value = _member(members, "ts")
    ts = _parse_ts(ts_value) if readable else None
    ts_raw = (ts_value if isinstance(ts_value, str) else members.get("ts")) if "ts" in members else None
    readable, seq = _member(members, "seq")
    if not (readable and isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**63):
        seq = None
    readable, data = _member(members, "data")
    if not (readable and isinstance(data, dict)):
        data = {}
    return EventRow.build(
        serial,
        event_id,
        event_type,
        ts,
        received_at,
        {"seq": seq, "data": data},
        bounds=bounds,
        ts_raw=ts_raw,
        raw=raw,
        reason=reason,
    )


def minimal_event(
    serial: str, event_id: str | None, event_type: str, received_at: datetime, raw: bytes, reason: str
) -> EventRow:
    """The least an alarm needs: device, type, an id, the receive time. Used when the database refused more."""
    if event_id is None or not valid_event_id(event_id):
        event_id = derived_event_id(serial.encode() + b"\x00" + raw)
    return EventRow(
        serial=clean_text(serial, 64),
        event_id=event_id,
        event_type=event_type,
        device_time=None,
        received_at=received_at,
        payload={},
        clock_suspect=True,
        device_time_raw=None,
        payload_raw=raw,
        salvage_reason=clean_text(reason, 500),
    )
