"""Device events for operators, and feedback to the device."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from eldercare_platform.core.deps import NowDep, SessionDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.params import BigDbId, Instant
from eldercare_platform.device_events import service
from eldercare_platform.device_events.deps import EventReader, FeedbackSender
from eldercare_platform.device_events.schemas import DeviceEventOut, FeedbackRequest
from eldercare_platform.devices.schemas import Queued

router = APIRouter(prefix="/device-events", tags=["device events"])


@router.get("", response_model=list[DeviceEventOut])
def list_device_events(
    session: SessionDep,
    user: EventReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    since: Instant | None = None,
) -> list[DeviceEventOut]:
    """Recent device events in the user's scope, newest first."""
    return service.recent_events(session, user=user, limit=limit, since=since)


@router.post(
    "/{device_event_id}/feedback", response_model=Queued, status_code=status.HTTP_202_ACCEPTED, responses=errors(404)
)
def feedback(
    device_event_id: BigDbId, body: FeedbackRequest, session: SessionDep, user: FeedbackSender, now: NowDep
) -> Queued:
    """Tell the device its call was received / help is on the way / it was cancelled."""
    outbox_id = service.send_feedback(
        session, user=user, device_event_id=device_event_id, state=body.state, message=body.message, now=now
    )
    session.commit()
    return Queued(outbox_id=outbox_id)
