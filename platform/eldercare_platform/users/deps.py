"""Typed guards of user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

UsersAdmin = Annotated[User, Depends(require_permission(Permission.USERS_ADMIN))]
