"""What each role may do, as named permissions: one table that guards the API and tells pages what to show.

`/api/auth/me` returns the signed-in user's permissions, so a page hides what the user may not use instead of
offering buttons that end in 403. The alarm center's guards are built from this same table, so the two can
never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
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
    CARE_PLANS_READ = "care_plans.read"  # assessments, care plans, temporary states
    CARE_PLANS_EDIT = "care_plans.edit"  # record assessments, new plan versions, temporary states
    ROSTER_READ = "roster.read"  # staff availability, shifts, certifications
    ROSTER_EDIT = "roster.edit"  # shift patterns, leave and sick days, certifications, preferences
    TASKS_READ = "tasks.read"  # the board: tasks, their traces
    TASKS_MANAGE = "tasks.manage"  # create, assign, reassign, publish, cancel, mark missed
    TASKS_WORK = "tasks.work"  # one's own tasks: accept, en route, check in, complete, report findings
    ALERTS_READ = "alerts.read"
    ALERTS_HANDLE = "alerts.handle"  # acknowledge and resolve alerts
    MEALS_READ = "meals.read"
    MEALS_MANAGE = "meals.manage"  # ad-hoc orders, cancellations, manual check-ins
    SUPERVISION_READ = "supervision.read"  # the supervision dashboards, statements, reports and exports of a tier


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(
        {
            Permission.ALARMS_READ,
            Permission.ALARMS_HANDLE,
            Permission.RESIDENTS_READ,
            Permission.DEVICES_READ,
            Permission.DEVICES_COMMAND,
            Permission.SYSTEM_STATUS,
            Permission.ROSTER_READ,  # who is on shift, to dispatch
            Permission.TASKS_READ,  # a dispatched visit's progress
            Permission.MEALS_READ,  # a welfare call's meal order
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            Permission.RESIDENTS_READ,
            Permission.DEVICES_READ,
            Permission.SYSTEM_STATUS,
            Permission.CARE_PLANS_READ,
            Permission.CARE_PLANS_EDIT,
            Permission.ROSTER_READ,
            Permission.ROSTER_EDIT,
            Permission.TASKS_READ,
            Permission.TASKS_MANAGE,
            Permission.ALERTS_READ,
            Permission.ALERTS_HANDLE,
            Permission.MEALS_READ,
            Permission.MEALS_MANAGE,
            Permission.SUPERVISION_READ,  # their community's figures
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.ALARMS_READ,
            Permission.RESIDENTS_READ,
            Permission.DEVICES_READ,
            Permission.SYSTEM_STATUS,
            Permission.CARE_PLANS_READ,
            Permission.ROSTER_READ,
            Permission.TASKS_READ,
            Permission.ALERTS_READ,
            Permission.MEALS_READ,
            Permission.SUPERVISION_READ,
        }
    ),
    Role.CAREGIVER: frozenset({Permission.SYSTEM_STATUS, Permission.TASKS_WORK}),
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


def require_permission(permission: Permission) -> Callable[[User], Coroutine[None, None, User]]:
    """A dependency that lets only the roles holding `permission` through (403 for the others)."""
    return require_roles(*roles_with(permission))
