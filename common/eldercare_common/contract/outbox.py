"""The database half of the device contract: `outbox` topics, their row shapes, and the NOTIFY channels.

The gateway stores device events and announces them; the platform turns them into alarms, and queues
downlinks that its publisher sends to the devices. Each hand-over is a row of the `outbox` table
(written in the same transaction as the change it announces) plus a NOTIFY that only wakes the
reader: a listener that was down catches up from the pending rows (`processed_at IS NULL`).

Renaming a channel or a topic is a change of contract (and of the `outbox.topic` CHECK constraint,
migration 0003): version 1 is what this module says.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict

CONTRACT_VERSION = "v1"
OUTBOX_TABLE = "outbox"


class OutboxTopic(StrEnum):
    """`outbox.topic`: what a row hands over, and to whom."""

    DEVICE_EVENT = "device_event"  # gateway -> platform intake: a new `device_event` row (DeviceEventRow)
    DOWNLINK = "downlink"  # platform -> its downlink publisher: a message for a device (DownlinkRow)


class NotifyChannel(StrEnum):
    """PostgreSQL NOTIFY channels. A notification only wakes its listeners; the tables are the truth."""

    DEVICE_EVENT = "device_event"
    """The gateway stored device events; payload: their ids, comma-separated, in order."""
    DOWNLINK = "downlink"
    """A downlink waits in the outbox; empty payload."""
    ALARM_CHANGED = "alarm_changed"
    """An alarm changed (platform-internal: API processes to every process's live hub); payload: the alarm id."""
    TASK_CHANGED = "task_changed"
    """A task of a staff member changed (platform-internal: a trigger on `task`, migration 0012, to every API
    process's caregiver hub); payload: the staff member's id. The `task_staff_feed` table is the truth."""


class DeviceEventRow(TypedDict):
    """`outbox.payload` of a DEVICE_EVENT row."""

    device_event_id: int
    device_serial: str
    event_type: str


class DownlinkRow(TypedDict):
    """`outbox.payload` of a DOWNLINK row: the device, the channel (`v1.Downlink`) and the JSON body."""

    serial: str
    channel: str
    body: dict[str, Any]
