"""What each role may do, as named permissions: one table that guards the API and tells pages what to show.

`/api/auth/me` returns the signed-in user's permissions, so a page hides what the user may not use instead of
offering buttons that end in 403. The alarm center's guards are built from this same table, so the two can
never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from eldercare_platform.core.deps import require_roles
from eldercare_platform.users.models import Role, User


class Permission(StrEnum):
    """A thing a user may do (or see)."""

    ALARMS_READ = "alarms.read"  # the queue, cards, traces, hand-over, the live socket
    ALARMS_HANDLE = "alarms.handle"  # acknowledge, call back, dispatch, call 120/119/110, resolve, notes
    ALARM_TYPES_EDIT = "alarm_types.edit"  # the priority table
    RESIDENTS_READ = "residents.read"
    DEVICES_READ = "devices.read"
    DEVICES_COMMAND = "devices.command"
    DEVICES_ADMIN = "devices.admin"
    USERS_ADMIN = "users.admin"
    SYSTEM_STATUS = "system.status"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(
        {
            Permission.ALARMS_READ,
            Permission.ALARMS_HANDLE,
            Permission.RESIDENTS_READ,
            Permission.DEVICES_READ,
            Permission.DEVICES_COMMAND,
            Permission.SYSTEM_STATUS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {Permission.ALARMS_READ, Permission.RESIDENTS_READ, Permission.DEVICES_READ, Permission.SYSTEM_STATUS}
    ),
    Role.CAREGIVER: frozenset({Permission.SYSTEM_STATUS}),
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(role: Role | str) -> list[str]:
    """The role's permissions, sorted (an unknown role has none)."""
    try:
        return sorted(ROLE_PERMISSIONS.get(Role(role), frozenset()))
    except ValueError:
        return []


def roles_with(permission: Permission) -> tuple[Role, ...]:
    """The roles that hold a permission, in declaration order."""
    return tuple(role for role in Role if permission in ROLE_PERMISSIONS.get(role, frozenset()))


def require_permission(permission: Permission) -> Callable[[User], User]:
    """A dependency that lets only the roles holding `permission` through (403 for the others)."""
    return require_roles(*roles_with(permission))
