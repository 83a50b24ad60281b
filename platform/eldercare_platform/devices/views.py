"""The device registry as operators, supervisors and admins see it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from eldercare_platform.core.deps import SessionDep, require_roles
from eldercare_platform.devices.models import DeviceBase
from eldercare_platform.devices.service import list_devices, status_of
from eldercare_platform.users.models import Role, User

router = APIRouter(prefix="/devices", tags=["devices"])


class DeviceWithStatus(DeviceBase):
    """A device and what the gateway last heard from it."""

    id: int
    online: bool | None = None
    last_seen_at: datetime | None = None
    battery_pct: int | None = None
    signal_dbm: int | None = None
    mains_power: bool | None = None


@router.get("", response_model=list[DeviceWithStatus])
def get_devices(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))],
    kind: str | None = None,
    household_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DeviceWithStatus]:
    """Devices in the user's scope with their live status."""
    devices = list_devices(session, user=user, kind=kind, household_id=household_id, limit=limit, offset=offset)
    status = status_of(session, serials=[d.serial for d in devices])
    return [DeviceWithStatus.model_validate({**d.model_dump(), **status.get(d.serial, {})}) for d in devices]
