"""Typed guards of the task engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

TaskReader = Annotated[User, Depends(require_permission(Permission.TASKS_READ))]
TaskManager = Annotated[User, Depends(require_permission(Permission.TASKS_MANAGE))]
TaskWorker = Annotated[User, Depends(require_permission(Permission.TASKS_WORK))]
"""A field worker acting on their own tasks (the user's `staff_id` must be the task's assignee)."""
