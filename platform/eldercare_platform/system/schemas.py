"""System status's API shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StatusUser(BaseModel):
    """Who is asking."""

    username: str
    full_name: str
    role: str


class SystemStatus(BaseModel):
    """Component health, the display time zone, and headline counts within the user's scope."""

    checks: dict[str, str] = Field(description="`ok`, `disabled` or `error: …` per component (database, broker)")
    counts: dict[str, int] = Field(
        description="Residents, households, devices, devices_online, staff, events_24h (and dead_letters_24h for"
        " users who see the whole city); empty when the database is down"
    )
    environment: str
    display_timezone: str
    user: StatusUser
