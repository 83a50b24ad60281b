"""Typed guards of the roster domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

RosterReader = Annotated[User, Depends(require_permission(Permission.ROSTER_READ))]
RosterEditor = Annotated[User, Depends(require_permission(Permission.ROSTER_EDIT))]
