"""Typed guards of the device registry: who may read, command or administer devices, and the device named
in the path (load-or-404 within the user's scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.core.deps import SessionDep
from eldercare_platform.core.params import DbId
from eldercare_platform.devices.models import Device
from eldercare_platform.devices.service import get_device
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

DeviceReader = Annotated[User, Depends(require_permission(Permission.DEVICES_READ))]
DeviceCommander = Annotated[User, Depends(require_permission(Permission.DEVICES_COMMAND))]
DeviceAdmin = Annotated[User, Depends(require_permission(Permission.DEVICES_ADMIN))]


def _device_for(device_id: DbId, session: SessionDep, user: User) -> Device:
    return get_device(session, user=user, device_id=device_id)  # DeviceNotFoundError: 404 `device_not_found`


def get_commandable_device(device_id: DbId, session: SessionDep, user: DeviceCommander) -> Device:
    """The device in the path, for a user allowed to command it; 404 outside the user's scope."""
    return _device_for(device_id, session, user)


def get_administered_device(device_id: DbId, session: SessionDep, admin: DeviceAdmin) -> Device:
    """The device in the path, for an admin; 404 when it does not exist."""
    return _device_for(device_id, session, admin)


CommandableDevice = Annotated[Device, Depends(get_commandable_device)]
AdministeredDevice = Annotated[Device, Depends(get_administered_device)]
