"""The device registry: scoped queries with the live status from the gateway's status lane, provisioning,
credential rotation and downlinks (commands, config)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from eldercare_common.contract.v1 import (
    CommandPayload,
    ConfigPayload,
    Downlink,
    device_topic_prefix,
)
from eldercare_common.mqtt_auth import hash_password, new_device_password
from eldercare_platform.audit.service import record
from eldercare_platform.core.db import raw_connection
from eldercare_platform.core.downlink import enqueue_downlink
from eldercare_platform.core.errors import ConflictError, NotFoundError, known_constraints
from eldercare_platform.core.scope import scope_of
from eldercare_platform.devices.models import Device, DeviceCredential, DeviceKind, DeviceState
from eldercare_platform.devices.schemas import (
    DeviceCreate,
    DevicePublic,
    DeviceStatusOut,
    DeviceWithStatus,
    MqttCredential,
    ProvisionedDevice,
)
from eldercare_platform.users.models import User


class DeviceNotFoundError(NotFoundError):
    """No such device in the user's scope."""

    code = "device_not_found"


class SerialTakenError(ConflictError):
    """Another device (or an active broker account) already has this serial."""

    code = "serial_taken"


class DeviceOwnerRequiredError(ConflictError):
    """A device belongs to exactly one household, care center or institution."""

    code = "device_owner_required"


# A race past the checks below (two admins registering one serial at once) is answered the same way.
known_constraints(
    device_serial_key=(409, SerialTakenError.code, "serial already registered"),
    uq_device_credential_active_username=(409, SerialTakenError.code, "serial already registered"),
    device_one_owner=(
        409,
        DeviceOwnerRequiredError.code,
        "device needs exactly one owner: household, care center or institution",
    ),
)


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


def get_device(session: Session, *, user: User, device_id: int) -> Device:
    """One device in the user's scope; `DeviceNotFoundError` when it does not exist or is outside it."""
    scope = scope_of(session, user)
    query = select(Device).where(Device.id == device_id)
    if not scope.unrestricted:
        query = query.where(scope.clause(scope.devices_sql("device")))
    device = session.exec(query).first()
    if device is None:
        raise DeviceNotFoundError("device not found")
    return device


def list_with_status(
    session: Session, *, user: User, filters: DeviceFilters, limit: int, offset: int
) -> list[DeviceWithStatus]:
    """Devices in the user's scope matching the filters, each with its live status."""
    devices = list_devices(session, user=user, filters=filters, limit=limit, offset=offset)
    status = status_of(session, serials=[d.serial for d in devices])
    return [
        DeviceWithStatus.model_validate(
            {**d.model_dump(), **(status[d.serial].model_dump(exclude={"device_serial"}) if d.serial in status else {})}
        )
        for d in devices
    ]


def status_of(session: Session, *, serials: list[str]) -> dict[str, DeviceStatusOut]:
    """Latest status rows (online, last seen, battery…) keyed by device serial (the one device_status read)."""
    if not serials:
        return {}
    rows = session.execute(
        text(
            "SELECT device_serial, online, last_seen_at, battery_pct, signal_dbm, mains_power "
            "FROM device_status WHERE device_serial = ANY(:serials)"
        ),
        {"serials": serials},
    ).mappings()
    return {row["device_serial"]: DeviceStatusOut.model_validate(dict(row)) for row in rows}


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


def _credential(issued: IssuedCredential) -> MqttCredential:
    return MqttCredential(
        username=issued.username,
        password=issued.password,
        uplink_prefix=issued.uplink_prefix,
        downlink_subscription=issued.downlink_subscription,
    )


def register_device(session: Session, *, data: DeviceCreate) -> tuple[Device, IssuedCredential]:
    """Create a device and its broker credential; the password exists only in the return value."""
    owners = [data.household_id, data.care_center_id, data.institution_id]
    if sum(owner is not None for owner in owners) != 1:
        raise DeviceOwnerRequiredError("device needs exactly one owner: household, care center or institution")
    taken = session.execute(
        text(
            "SELECT 1 FROM device WHERE serial = :serial UNION ALL"
            " SELECT 1 FROM device_credential WHERE username = :serial AND revoked_at IS NULL"
        ),
        {"serial": data.serial},
    ).first()
    if taken is not None:
        raise SerialTakenError("serial already registered")
    device = Device.model_validate(data)
    session.add(device)
    session.flush()
    return device, _issue(session, device)


def provision(session: Session, *, admin: User, data: DeviceCreate) -> ProvisionedDevice:
    """Register a device (audited); the result carries its MQTT password, the only time it is shown."""
    device, issued = register_device(session, data=data)
    record(
        session,
        user_id=admin.id,
        action="create",
        entity="device",
        entity_id=device.id,
        detail={"serial": device.serial, "kind": device.kind},
    )
    return ProvisionedDevice(device=DevicePublic.model_validate(device.model_dump()), mqtt=_credential(issued))


def rotate_credential(session: Session, *, device: Device, now: datetime) -> IssuedCredential:
    """Revoke the device's active credentials and issue a new one."""
    session.execute(
        text("UPDATE device_credential SET revoked_at = :now WHERE device_id = :id AND revoked_at IS NULL"),
        {"now": now, "id": device.id},
    )
    session.flush()
    return _issue(session, device)


def rotate(session: Session, *, admin: User, device: Device, now: datetime) -> MqttCredential:
    """Revoke the device's password and issue a new one (audited; shown once)."""
    issued = rotate_credential(session, device=device, now=now)
    record(session, user_id=admin.id, action="update", entity="device_credential", entity_id=device.id)
    return _credential(issued)


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


def command(session: Session, *, user: User, device: Device, command: str, command_id: str, now: datetime) -> int:
    """Queue a test/locate command (audited); returns the outbox id."""
    outbox_id = send_command(session, device=device, command=command, command_id=command_id, now=now)
    record(
        session,
        user_id=user.id,
        action="command",
        entity="device",
        entity_id=device.id,
        detail={"command": command, "command_id": command_id},
    )
    return outbox_id


def configure(session: Session, *, admin: User, device: Device, heartbeat_interval_s: int) -> int:
    """Change the heartbeat interval (audited); the device gets it as a retained config message."""
    outbox_id = set_heartbeat_interval(session, device=device, seconds=heartbeat_interval_s)
    record(
        session,
        user_id=admin.id,
        action="update",
        entity="device",
        entity_id=device.id,
        detail={"heartbeat_interval_s": heartbeat_interval_s},
    )
    return outbox_id


def retire_devices_of_household(session: Session, *, household_id: int, resident_id: int, now: datetime) -> list[str]:
    """A resident died: their personal devices (worn by them) are retired, and the household's devices too
    when nobody else active lives there. Returns the retired serials (audited by the caller)."""
    others = session.execute(
        text("SELECT 1 FROM resident WHERE household_id = :h AND id <> :r AND status = 'active' LIMIT 1"),
        {"h": household_id, "r": resident_id},
    ).first()
    serials = session.execute(
        text(
            "UPDATE device SET state = :retired WHERE state <> :retired"
            " AND (resident_id = :r OR (household_id = :h AND NOT :others)) RETURNING serial"
        ),
        {"retired": DeviceState.RETIRED.value, "r": resident_id, "h": household_id, "others": others is not None},
    ).scalars()
    return sorted(str(serial) for serial in serials)
