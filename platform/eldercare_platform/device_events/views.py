"""Device events for operators, and feedback to the device."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from eldercare_common.contract.v1 import FeedbackState
from eldercare_platform.audit.service import record
from eldercare_platform.core.deps import NowDep, SessionDep, require_roles
from eldercare_platform.core.errors import NotFoundError, errors
from eldercare_platform.core.params import BigDbId, Instant
from eldercare_platform.device_events.service import recent_events, send_feedback
from eldercare_platform.devices.views import Queued
from eldercare_platform.users.models import Role, User

router = APIRouter(prefix="/device-events", tags=["device events"])


class DeviceEventOut(BaseModel):
    """A stored device event with who and where it concerns."""

    id: int
    device_serial: str
    event_id: str
    event_type: str
    device_time: datetime | None = Field(description="The device's clock; null when implausible (clock_suspect)")
    received_at: datetime = Field(description="When the gateway received it: events are ordered by this")
    clock_suspect: bool = False
    device_time_raw: str | None = Field(default=None, description="What the device sent as ts, when clock_suspect")
    salvage_reason: str | None = Field(
        default=None, description="Set when the message broke the protocol and the event was kept anyway"
    )
    device_kind: str | None
    resident_id: int | None
    resident_name: str | None
    community: str | None


class FeedbackRequest(BaseModel):
    """What to tell the device."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"state": "help_on_the_way", "message": "护理员10分钟到"}]}
    )

    state: FeedbackState
    message: str | None = Field(default=None, max_length=200)


@router.get("", response_model=list[DeviceEventOut])
def list_device_events(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    since: Instant | None = None,
) -> list[dict[str, object]]:
    """Recent device events in the user's scope, newest first."""
    return recent_events(session, user=user, limit=limit, since=since)


@router.post(
    "/{device_event_id}/feedback", response_model=Queued, status_code=status.HTTP_202_ACCEPTED, responses=errors(404)
)
def feedback(
    device_event_id: BigDbId,
    body: FeedbackRequest,
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(Role.OPERATOR, Role.ADMIN))],
    now: NowDep,
) -> Queued:
    """Tell the device its call was received / help is on the way / it was cancelled."""
    outbox_id = send_feedback(
        session, user=user, device_event_id=device_event_id, state=body.state, message=body.message, now=now
    )
    if outbox_id is None:
        raise NotFoundError("device event not found", code="device_event_not_found")
    record(
        session,
        user_id=user.id,
        action="feedback",
        entity="device_event",
        entity_id=device_event_id,
        detail={"state": body.state},
    )
    session.commit()
    return Queued(outbox_id=outbox_id)
