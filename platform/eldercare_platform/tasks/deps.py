"""Typed guards of the task engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from eldercare_platform.core.deps import require_roles
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission, roles_with

TaskReader = Annotated[User, Depends(require_permission(Permission.TASKS_READ))]
TaskManager = Annotated[User, Depends(require_permission(Permission.TASKS_MANAGE))]
TaskWorker = Annotated[User, Depends(require_permission(Permission.TASKS_WORK))]
"""A field worker acting on their own tasks (the user's `staff_id` must be the task's assignee)."""
TaskViewer = Annotated[
    User, Depends(require_roles(*dict.fromkeys(roles_with(Permission.TASKS_READ) + roles_with(Permission.TASKS_WORK))))
]
"""Reads a task's attachments: the board's readers (their scope) or a field worker (their own tasks only)."""
