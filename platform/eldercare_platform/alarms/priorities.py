"""The priority table (alarm types): how urgent each type is and its service levels; admins change it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import queries
from eldercare_platform.alarms.schemas import AlarmType, PriorityUpdate
from eldercare_platform.audit.service import record
from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.users.models import User


class AlarmTypeNotFoundError(NotFoundError):
    """No such alarm type in the priority table."""

    code = "alarm_type_not_found"


def alarm_types(session: Session) -> list[AlarmType]:
    """The priority table, most urgent first."""
    return [AlarmType.model_validate(dict(row)) for row in session.execute(text(queries.ALARM_TYPES)).mappings()]


def update_alarm_type(
    session: Session, *, admin: User, alarm_type: str, update: PriorityUpdate, now: datetime
) -> AlarmType:
    """Change a type's priority and SLA (audited); applies to alarms opened from now on."""
    row = (
        session.execute(
            text(queries.UPDATE_ALARM_TYPE),
            {
                "priority": update.priority,
                "ack": update.ack_within_s,
                "reach": update.reach_within_s,
                "resolve": update.resolve_within_s,
                "user": admin.id,
                "now": now,
                "type": alarm_type,
            },
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AlarmTypeNotFoundError(f"unknown alarm type {alarm_type}")
    record(
        session,
        user_id=admin.id,
        action="update",
        entity="alarm_type",
        entity_id=alarm_type,
        detail=update.model_dump(exclude_none=True),
    )
    return AlarmType.model_validate(dict(row))
