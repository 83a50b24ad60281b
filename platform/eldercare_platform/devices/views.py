"""The device registry as operators, supervisors and admins see it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from eldercare_platform.audit.service import record
from eldercare_platform.core.deps import NowDep, SessionDep, require_roles
from eldercare_platform.core.errors import NotFoundError, constraint_refusal, errors
from eldercare_platform.core.params import DbId, DbIdQuery, Offset
from eldercare_platform.devices.models import Device, DeviceBase, DeviceCreate, DeviceKind, DevicePublic, DeviceState
from eldercare_platform.devices.service import (
    DeviceFilters,
    IssuedCredential,
    get_device,
    list_devices,
    register_device,
    rotate_credential,
    send_command,
    set_heartbeat_interval,
    status_of,
)
from eldercare_platform.users.models import Role, User

AdminDep = Annotated[User, Depends(require_roles(Role.ADMIN))]
OperatorDep = Annotated[User, Depends(require_roles(Role.OPERATOR, Role.ADMIN))]

router = APIRouter(prefix="/devices", tags=["devices"])


class DeviceWithStatus(DeviceBase):
    """A device and what the gateway last heard from it."""

    id: int
    online: bool | None = None
    last_seen_at: datetime | None = None
    battery_pct: int | None = None
    signal_dbm: int | None = None
    mains_power: bool | None = None


DEVICE_LIST_PARAMS = frozenset(
    {"serial", "kind", "state", "household_id", "care_center_id", "institution_id", "resident_id", "limit", "offset"}
)


def only_known_params(request: Request) -> None:
    """A misspelt or unsupported filter is a 422, not silently ignored (which would list every device)."""
    unknown = sorted(set(request.query_params) - DEVICE_LIST_PARAMS)
    if unknown:
        known = ", ".join(sorted(DEVICE_LIST_PARAMS))
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"Unknown query parameter; the filters are {known}",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


@router.get("", response_model=list[DeviceWithStatus])
def get_devices(
    request: Request,
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))],
    serial: Annotated[
        str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Exactly this serial")
    ] = None,
    kind: DeviceKind | None = None,
    state: DeviceState | None = None,
    household_id: DbIdQuery = None,
    care_center_id: DbIdQuery = None,
    institution_id: DbIdQuery = None,
    resident_id: DbIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[DeviceWithStatus]:
    """Devices in the user's scope with their live status, filtered by every parameter given (AND)."""
    only_known_params(request)  # after authentication: a stranger learns nothing from a 422
    devices = list_devices(
        session,
        user=user,
        filters=DeviceFilters(
            serial=serial,
            kind=kind,
            state=state,
            household_id=household_id,
            care_center_id=care_center_id,
            institution_id=institution_id,
            resident_id=resident_id,
        ),
        limit=limit,
        offset=offset,
    )
    status = status_of(session, serials=[d.serial for d in devices])
    return [DeviceWithStatus.model_validate({**d.model_dump(), **status.get(d.serial, {})}) for d in devices]


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


def _credential(issued: IssuedCredential) -> MqttCredential:
    return MqttCredential(
        username=issued.username,
        password=issued.password,
        uplink_prefix=issued.uplink_prefix,
        downlink_subscription=issued.downlink_subscription,
    )


def _device_or_404(session: SessionDep, device_id: int, user: User) -> Device:
    device = get_device(session, user=user, device_id=device_id)
    if device is None:
        raise NotFoundError("device not found", code="device_not_found")
    return device


_DEVICE_REFUSALS = {
    "device_serial_key": (409, "serial_taken", "serial already registered"),
    "uq_device_credential_active_username": (409, "serial_taken", "serial already registered"),
    "device_one_owner": (
        409,
        "device_owner_required",
        "device needs exactly one owner: household, care center or institution",
    ),
}


@router.post("", response_model=ProvisionedDevice, status_code=status.HTTP_201_CREATED, responses=errors(409, 422))
def provision_device(data: DeviceCreate, session: SessionDep, admin: AdminDep) -> ProvisionedDevice:
    """Register a device; the response carries its MQTT password, the only time it is shown."""
    try:
        device, issued = register_device(session, data=data)
        record(
            session,
            user_id=admin.id,
            action="create",
            entity="device",
            entity_id=device.id,
            detail={"serial": device.serial, "kind": device.kind},
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise constraint_refusal(exc, _DEVICE_REFUSALS) from exc
    return ProvisionedDevice(device=DevicePublic.model_validate(device.model_dump()), mqtt=_credential(issued))


@router.post("/{device_id}/credentials", response_model=MqttCredential, responses=errors(404))
def rotate_device_credential(device_id: DbId, session: SessionDep, admin: AdminDep, now: NowDep) -> MqttCredential:
    """Revoke the device's password and issue a new one (shown once)."""
    device = _device_or_404(session, device_id, admin)
    issued = rotate_credential(session, device=device, now=now)
    record(session, user_id=admin.id, action="update", entity="device_credential", entity_id=device.id)
    session.commit()
    return _credential(issued)


@router.post(
    "/{device_id}/commands", response_model=Queued, status_code=status.HTTP_202_ACCEPTED, responses=errors(404)
)
def command_device(
    device_id: DbId, body: CommandRequest, session: SessionDep, user: OperatorDep, now: NowDep
) -> Queued:
    """Ask a device to self-test or to beep so it can be found."""
    device = _device_or_404(session, device_id, user)
    outbox_id = send_command(session, device=device, command=body.command, command_id=body.command_id, now=now)
    record(
        session,
        user_id=user.id,
        action="command",
        entity="device",
        entity_id=device.id,
        detail={"command": body.command, "command_id": body.command_id},
    )
    session.commit()
    return Queued(outbox_id=outbox_id)


@router.put("/{device_id}/config", response_model=Queued, status_code=status.HTTP_202_ACCEPTED, responses=errors(404))
def configure_device(device_id: DbId, body: ConfigRequest, session: SessionDep, admin: AdminDep) -> Queued:
    """Change the heartbeat interval; the device gets it as a retained config message."""
    device = _device_or_404(session, device_id, admin)
    outbox_id = set_heartbeat_interval(session, device=device, seconds=body.heartbeat_interval_s)
    record(
        session,
        user_id=admin.id,
        action="update",
        entity="device",
        entity_id=device.id,
        detail={"heartbeat_interval_s": body.heartbeat_interval_s},
    )
    session.commit()
    return Queued(outbox_id=outbox_id)
