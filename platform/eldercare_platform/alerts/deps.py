"""Typed guards of the alerts domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

AlertReader = Annotated[User, Depends(require_permission(Permission.ALERTS_READ))]
AlertHandler = Annotated[User, Depends(require_permission(Permission.ALERTS_HANDLE))]
