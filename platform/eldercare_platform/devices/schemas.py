"""The device registry's API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.devices.models import DeviceBase


class DeviceCreate(DeviceBase):
    """What an admin sends to register a device."""


class DevicePublic(DeviceBase):
    """A device as the API returns it."""

    id: int
    credential_ref: str | None = None


class DeviceStatusOut(BaseModel):
    """What the gateway's status lane last heard from a device."""

    device_serial: str
    online: bool
    last_seen_at: datetime | None
    battery_pct: int | None
    signal_dbm: int | None
    mains_power: bool | None


class DeviceWithStatus(DeviceBase):
    """A device and what the gateway last heard from it."""

    id: int
    online: bool | None = None
    last_seen_at: datetime | None = None
    battery_pct: int | None = None
    signal_dbm: int | None = None
    mains_power: bool | None = None


class MqttCredential(BaseModel):
    """Broker credentials, shown once: only a hash is kept."""

    username: str
    password: str
    uplink_prefix: str
    downlink_subscription: str
    note: str = "Store the password in the device now: it cannot be shown again. Valid within about 15 s."


class ProvisionedDevice(BaseModel):
    """A registered device and its credentials."""

    device: DevicePublic
    mqtt: MqttCredential


class CommandRequest(BaseModel):
    """A command for a device."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"command": "locate", "command_id": "cmd-20261122-1"}]})

    command: Literal["test", "locate"]
    command_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


class ConfigRequest(BaseModel):
    """Settings pushed to a device (retained)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"heartbeat_interval_s": 300}]})

    heartbeat_interval_s: int = Field(ge=10, le=86_400)


class Queued(BaseModel):
    """A downlink waiting in the outbox; the publisher sends it once the broker is reachable."""

    outbox_id: int
