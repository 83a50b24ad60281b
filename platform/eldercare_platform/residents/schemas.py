"""Residents' API shapes: the list row (no personal data) and the resident card."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field

from eldercare_platform.areas.schemas import AreaPublic
from eldercare_platform.core.types import utcnow
from eldercare_platform.devices.models import DeviceBase
from eldercare_platform.residents.models import EmergencyContactBase, HouseholdBase, ResidentBase


class ResidentPublic(ResidentBase):
    """A resident as returned to roles allowed to see personal data."""

    id: int
    created_at: datetime = Field(default_factory=utcnow)


class ResidentSummary(BaseModel):
    """A resident row in a list: no ID number, conditions or address."""

    id: int
    name: str
    gender: str
    age: int
    community: str
    categories: list[str]
    capability_level: str
    care_tier: str
    status: str


class ResidentPage(BaseModel):
    """One page of residents."""

    total: int
    items: list[ResidentSummary]


class HouseholdOut(HouseholdBase):
    """The resident's home."""

    id: int


class ContactOut(EmergencyContactBase):
    """An emergency contact."""

    id: int


class DeviceOut(DeviceBase):
    """A device in the home."""

    id: int


class ResidentCard(BaseModel):
    """The resident card: who, where, conditions, contacts and devices."""

    resident: ResidentPublic
    age: int
    household: HouseholdOut
    community: AreaPublic
    members: list[ResidentPublic]
    contacts: list[ContactOut]
    devices: list[DeviceOut]
