"""Typed guards of the care-plans domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

CarePlanReader = Annotated[User, Depends(require_permission(Permission.CARE_PLANS_READ))]
CarePlanEditor = Annotated[User, Depends(require_permission(Permission.CARE_PLANS_EDIT))]
