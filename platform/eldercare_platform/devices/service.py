"""Device queries with their live status from the gateway's status lane."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from eldercare_common.contract.v1 import (
    CommandPayload,
    ConfigPayload,
    Downlink,
    device_topic_prefix,
)
from eldercare_common.mqtt_auth import hash_password, new_device_password
from eldercare_platform.core.db import raw_connection
from eldercare_platform.core.downlink import enqueue_downlink
from eldercare_platform.core.scope import scope_of
from eldercare_platform.devices.models import Device, DeviceCreate, DeviceCredential, DeviceKind, DeviceState
from eldercare_platform.users.models import User


@dataclass(frozen=True)
class DeviceFilters:
    """What GET /api/devices can filter by; None means "any"."""

    serial: str | None = None
    kind: DeviceKind | None = None
    state: DeviceState | None = None
    household_id: int | None = None
    care_center_id: int | None = None
    institution_id: int | None = None
    resident_id: int | None = None


def list_devices(
    session: Session,
    *,
    user: User,
    filters: DeviceFilters = DeviceFilters(),
    limit: int = 100,
    offset: int = 0,
) -> list[Device]:
    """Devices in the user's scope (`core/scope.py`), matching every filter given."""
    query = select(Device)
    scope = scope_of(session, user)
    if not scope.unrestricted:
        query = query.where(scope.clause(scope.devices_sql("device")))
    for name, value in asdict(filters).items():
        if value is not None:
            query = query.where(col(getattr(Device, name)) == value)
    return list(session.exec(query.order_by(col(Device.id)).limit(limit).offset(offset)).all())


def get_device(session: Session, *, user: User, device_id: int) -> Device | None:
    """One device, or None when it does not exist or is outside the user's scope."""
    scope = scope_of(session, user)
    query = select(Device).where(Device.id == device_id)
    if not scope.unrestricted:
        query = query.where(scope.clause(scope.devices_sql("device")))
    return session.exec(query).first()


def status_of(session: Session, *, serials: list[str]) -> dict[str, dict[str, Any]]:
    """Latest status rows (online, last seen, battery…) keyed by device serial."""
    if not serials:
        return {}
    rows = session.execute(
        text(
            "SELECT device_serial, online, last_seen_at, battery_pct, signal_dbm, mains_power "
            "FROM device_status WHERE device_serial = ANY(:serials)"
        ),
        {"serials": serials},
    ).mappings()
    return {row["device_serial"]: dict(row) for row in rows}


@dataclass(frozen=True)
class IssuedCredential:
    """A device's MQTT credential as shown once, at provisioning or rotation."""

    username: str
    password: str
    uplink_prefix: str
    downlink_subscription: str


def _issue(session: Session, device: Device) -> IssuedCredential:
    assert device.id is not None
    password = new_device_password()
    session.add(DeviceCredential(device_id=device.id, username=device.serial, password_hash=hash_password(password)))
    device.credential_ref = f"mqtt:{device.serial}"
    session.add(device)
    return IssuedCredential(
        username=device.serial,
        password=password,
        uplink_prefix=f"{device_topic_prefix(device.serial)}/up/",
        downlink_subscription=f"{device_topic_prefix(device.serial)}/down/#",
    )


def register_device(session: Session, *, data: DeviceCreate) -> tuple[Device, IssuedCredential]:
    """Create a device and its broker credential; the password exists only in the return value."""
    device = Device.model_validate(data)
    session.add(device)
    session.flush()
    return device, _issue(session, device)


def rotate_credential(session: Session, *, device: Device, now: datetime) -> IssuedCredential:
    """Revoke the device's active credentials and issue a new one."""
    session.execute(
        text("UPDATE device_credential SET revoked_at = :now WHERE device_id = :id AND revoked_at IS NULL"),
        {"now": now, "id": device.id},
    )
    session.flush()
    return _issue(session, device)


def send_command(session: Session, *, device: Device, command: str, command_id: str, now: datetime) -> int:
    """Queue a test/locate command to the device; returns the outbox id."""
    payload = CommandPayload.model_validate({"command_id": command_id, "command": command, "ts": now})
    return enqueue_downlink(raw_connection(session), serial=device.serial, channel=Downlink.COMMAND, payload=payload)


def set_heartbeat_interval(session: Session, *, device: Device, seconds: int) -> int:
    """Change the heartbeat interval and push it to the device (retained config); returns the outbox id."""
    device.heartbeat_interval_s = seconds
    session.add(device)
    session.flush()
    return enqueue_downlink(
        raw_connection(session),
        serial=device.serial,
        channel=Downlink.CONFIG,
        payload=ConfigPayload(heartbeat_interval_s=seconds),
    )
