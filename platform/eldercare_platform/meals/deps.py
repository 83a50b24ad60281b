"""Typed guards of the meals domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

MealReader = Annotated[User, Depends(require_permission(Permission.MEALS_READ))]
MealManager = Annotated[User, Depends(require_permission(Permission.MEALS_MANAGE))]
