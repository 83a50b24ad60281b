"""Device protocol v1: topics and payload models, shared by the gateway, the platform and the simulators.

Part of the device contract (`eldercare_common.contract`): a change here is a change of protocol, seen
by every device; a new, incompatible protocol is a new module beside this one (`v2.py`), not an edit.

Topics carry the protocol version and the device serial, which is also the device's MQTT username,
so the broker's ACL pattern `eldercare/v1/dev/%u/...` confines each device to its own subtree.

Uplinks (device → platform) live under `.../up/`, downlinks (platform → device) under `.../down/`.
See docs/device-protocol.md for the human description and docs/asyncapi.yaml for the contract.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

PROTOCOL_VERSION = "v1"
TOPIC_ROOT = f"eldercare/{PROTOCOL_VERSION}"
MAX_PAYLOAD_BYTES = 16 * 1024
SERIAL_PATTERN = r"^[A-Za-z0-9_-]{3,64}$"

Serial = Annotated[str, StringConstraints(pattern=SERIAL_PATTERN)]
EVENT_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"  # and 1–64 characters
EventId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=EVENT_ID_PATTERN)]


class Uplink(StrEnum):
    """Uplink channels, the last topic level under `up/`."""

    EVENT = "event"
    HEARTBEAT = "heartbeat"
    TELEMETRY = "telemetry"
    STATUS = "status"


class Downlink(StrEnum):
    """Downlink channels, the last topic level under `down/`."""

    FEEDBACK = "feedback"
    CONFIG = "config"
    COMMAND = "command"


class EventType(StrEnum):
    """Emergency and safety events a device raises (alarm lane)."""

    SOS = "sos"
    FALL = "fall"
    SMOKE = "smoke"
    GAS = "gas"
    WATER = "water"
    DOOR_OPEN = "door_open"
    INACTIVITY = "inactivity"
    BED_EXIT = "bed_exit"
    ABNORMAL_VITALS = "abnormal_vitals"
    TAMPER = "tamper"
    CANCEL = "cancel"  # the resident pressed cancel on the unit


EMERGENCY_TYPES: frozenset[str] = frozenset(EventType) - {EventType.CANCEL}
"""Event types that open an alarm: kept whatever else is wrong with the message (docs/device-protocol.md)."""


class FaultType(StrEnum):
    """Device faults the gateway itself raises from the status lane."""

    DEVICE_SILENT = "device_silent"
    LOW_BATTERY = "low_battery"
    MAINS_LOST = "mains_lost"


class TelemetryKind(StrEnum):
    """Kinds of monitoring data (telemetry lane)."""

    VITALS = "vitals"
    MATTRESS = "mattress"
    ROOM = "room"
    CHECKIN = "checkin"
    MEAL_CHECKIN = "meal_checkin"
    CAMERA_LINK = "camera_link"


RETAINED_DOWNLINKS: frozenset[Downlink] = frozenset({Downlink.CONFIG})
"""Downlinks the broker keeps for a device that is offline (the last one counts)."""


class FeedbackState(StrEnum):
    """What the platform tells a device about its call."""

    CALL_RECEIVED = "call_received"
    HELP_ON_THE_WAY = "help_on_the_way"
    CANCELLED = "cancelled"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventPayload(_Payload):
    """`up/event`, QoS 1: an emergency or safety event. `event_id` is made by the device, unique per device."""

    event_id: EventId
    type: EventType
    ts: AwareDatetime = Field(description="Device clock, with offset; the gateway also records receipt time")
    seq: int | None = Field(default=None, ge=0)
    data: dict[str, Any] = Field(default_factory=dict)


class HeartbeatPayload(_Payload):
    """`up/heartbeat`, QoS 0 or 1: I am alive, with battery, signal and power."""

    ts: AwareDatetime
    battery: int | None = Field(default=None, ge=0, le=100, description="percent")
    signal: int | None = Field(default=None, ge=-150, le=0, description="dBm")
    mains: bool | None = Field(default=None, description="on mains power")
    fw: str | None = Field(default=None, max_length=32)
    interval: int | None = Field(default=None, ge=10, le=86_400, description="seconds until the next one")


class TelemetryPayload(_Payload):
    """`up/telemetry`, QoS 1: one monitoring sample; `seq` increases by one per device."""

    seq: int = Field(ge=0)
    ts: AwareDatetime
    kind: TelemetryKind
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("data must not be empty")
        return value


class StatusPayload(_Payload):
    """`up/status`, retained QoS 1: online on connect; the last will says offline."""

    state: Literal["online", "offline"]
    ts: AwareDatetime | None = None


class FeedbackPayload(_Payload):
    """`down/feedback`, QoS 1: the state of the device's call, to light a lamp or speak a phrase."""

    event_id: EventId
    state: FeedbackState
    ts: AwareDatetime
    message: str | None = Field(default=None, max_length=200)


class ConfigPayload(_Payload):
    """`down/config`, retained QoS 1: settings the device applies."""

    heartbeat_interval_s: int = Field(ge=10, le=86_400)


class CommandPayload(_Payload):
    """`down/command`, QoS 1: ask the device to run a self-test or to beep so it can be found."""

    command_id: EventId
    command: Literal["test", "locate"]
    ts: AwareDatetime


UPLINK_MODELS: dict[Uplink, type[_Payload]] = {
    Uplink.EVENT: EventPayload,
    Uplink.HEARTBEAT: HeartbeatPayload,
    Uplink.TELEMETRY: TelemetryPayload,
    Uplink.STATUS: StatusPayload,
}


def device_topic_prefix(serial: str) -> str:
    """The subtree a device owns: `eldercare/v1/dev/<serial>`."""
    return f"{TOPIC_ROOT}/dev/{serial}"


def uplink_topic(serial: str, channel: Uplink | str) -> str:
    """Topic a device publishes a channel on."""
    return f"{device_topic_prefix(serial)}/up/{Uplink(channel)}"


def downlink_topic(serial: str, channel: Downlink | str) -> str:
    """Topic a device subscribes to for a channel."""
    return f"{device_topic_prefix(serial)}/down/{Downlink(channel)}"


def subscription(channel: Uplink, *, share_group: str | None = None) -> str:
    """Wildcard subscription for one uplink channel of every device, optionally shared."""
    topic = f"{TOPIC_ROOT}/dev/+/up/{channel}"
    return f"$share/{share_group}/{topic}" if share_group else topic


class TopicError(ValueError):
    """A topic that is not a v1 device uplink."""


def parse_uplink_topic(topic: str) -> tuple[str, Uplink]:
    """Serial and channel from an uplink topic; raises TopicError otherwise."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "eldercare" or parts[2] != "dev" or parts[4] != "up":
        raise TopicError(f"not a device uplink topic: {topic[:120]!r}")
    if parts[1] != PROTOCOL_VERSION:
        raise TopicError(f"unsupported protocol version {parts[1][:16]!r}")
    try:
        channel = Uplink(parts[5])
    except ValueError:
        raise TopicError(f"unknown uplink channel {parts[5][:32]!r}") from None
    return parts[3], channel


def encode(payload: BaseModel) -> bytes:
    """Compact JSON bytes of a payload model."""
    return payload.model_dump_json(exclude_none=True).encode()
