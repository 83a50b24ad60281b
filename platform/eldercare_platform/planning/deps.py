"""Typed guards of the planning domain: reading plans is reading tasks, running the planner is managing them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

PlanReader = Annotated[User, Depends(require_permission(Permission.TASKS_READ))]
PlanManager = Annotated[User, Depends(require_permission(Permission.TASKS_MANAGE))]
