"""Typed guards of the residents domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

ResidentReader = Annotated[User, Depends(require_permission(Permission.RESIDENTS_READ))]
