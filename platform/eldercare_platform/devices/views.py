"""The device registry as operators, supervisors and admins see it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.exceptions import RequestValidationError

from eldercare_platform.core.deps import NowDep, SessionDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import DbIdQuery, Offset
from eldercare_platform.devices import service
from eldercare_platform.devices.deps import (
    AdministeredDevice,
    CommandableDevice,
    DeviceAdmin,
    DeviceCommander,
    DeviceReader,
)
from eldercare_platform.devices.models import DeviceKind, DeviceState
from eldercare_platform.devices.schemas import (
    CommandRequest,
    ConfigRequest,
    DeviceCreate,
    DeviceWithStatus,
    MqttCredential,
    ProvisionedDevice,
    Queued,
)
from eldercare_platform.devices.service import DeviceFilters

router = APIRouter(prefix="/devices", tags=["devices"])


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
    user: DeviceReader,
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
    return service.list_with_status(
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


@router.post("", response_model=ProvisionedDevice, status_code=status.HTTP_201_CREATED, responses=errors(409, 422))
def provision_device(data: DeviceCreate, session: SessionDep, admin: DeviceAdmin) -> ProvisionedDevice:
    """Register a device; the response carries its MQTT password, the only time it is shown."""
    provisioned = service.provision(session, admin=admin, data=data)
    session.commit()
    return provisioned


@router.post("/{device_id}/credentials", response_model=MqttCredential, responses=errors(404))
def rotate_device_credential(
    device: AdministeredDevice, session: SessionDep, admin: DeviceAdmin, now: NowDep
) -> MqttCredential:
    """Revoke the device's password and issue a new one (shown once)."""
    credential = service.rotate(session, admin=admin, device=device, now=now)
    session.commit()
    return credential


@router.post(
    "/{device_id}/commands", response_model=Queued, status_code=status.HTTP_202_ACCEPTED, responses=errors(404)
)
def command_device(
    device: CommandableDevice, body: CommandRequest, session: SessionDep, user: DeviceCommander, now: NowDep
) -> Queued:
    """Ask a device to self-test or to beep so it can be found."""
    outbox_id = service.command(
        session, user=user, device=device, command=body.command, command_id=body.command_id, now=now
    )
    session.commit()
    return Queued(outbox_id=outbox_id)


@router.put("/{device_id}/config", response_model=Queued, status_code=status.HTTP_202_ACCEPTED, responses=errors(404))
def configure_device(
    device: AdministeredDevice, body: ConfigRequest, session: SessionDep, admin: DeviceAdmin
) -> Queued:
    """Change the heartbeat interval; the device gets it as a retained config message."""
    outbox_id = service.configure(session, admin=admin, device=device, heartbeat_interval_s=body.heartbeat_interval_s)
    session.commit()
    return Queued(outbox_id=outbox_id)
