"""Typed guards of the alarm center (from the permission table that /api/auth/me reports, so pages show
exactly what works) and the alarm named in the path, loaded within the user's scope or 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.alarms import service
from eldercare_platform.alarms.schemas import AlarmOut
from eldercare_platform.core.deps import NowDep, SessionDep
from eldercare_platform.core.params import BigDbId
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

AlarmReader = Annotated[User, Depends(require_permission(Permission.ALARMS_READ))]
AlarmHandler = Annotated[User, Depends(require_permission(Permission.ALARMS_HANDLE))]
AlarmTypesAdmin = Annotated[User, Depends(require_permission(Permission.ALARM_TYPES_EDIT))]


def get_current_alarm(alarm_id: BigDbId, session: SessionDep, user: AlarmReader, now: NowDep) -> AlarmOut:
    """The alarm in the path if the user may see it; 404 `alarm_not_found` otherwise."""
    return service.get_alarm(session, user=user, alarm_id=alarm_id, now=now)


CurrentAlarm = Annotated[AlarmOut, Depends(get_current_alarm)]
