"""Device events' API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from eldercare_common.contract.v1 import FeedbackState


class DeviceEventOut(BaseModel):
    """A stored device event with who and where it concerns."""

    id: int
    device_serial: str
    event_id: str
    event_type: str
    device_time: datetime | None = Field(description="The device's clock; null when implausible (clock_suspect)")
    received_at: datetime = Field(description="When the gateway received it: events are ordered by this")
    clock_suspect: bool = False
    device_time_raw: str | None = Field(default=None, description="What the device sent as ts, when clock_suspect")
    salvage_reason: str | None = Field(
        default=None, description="Set when the message broke the protocol and the event was kept anyway"
    )
    device_kind: str | None
    resident_id: int | None
    resident_name: str | None
    community: str | None


class FeedbackRequest(BaseModel):
    """What to tell the device."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"state": "help_on_the_way", "message": "护理员10分钟到"}]}
    )

    state: FeedbackState
    message: str | None = Field(default=None, max_length=200)
