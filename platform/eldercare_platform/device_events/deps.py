"""Typed guards of the device events domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

EventReader = Annotated[User, Depends(require_permission(Permission.DEVICES_READ))]
FeedbackSender = Annotated[User, Depends(require_permission(Permission.DEVICES_COMMAND))]
