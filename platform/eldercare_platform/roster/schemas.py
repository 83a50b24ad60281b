"""The roster domain's request and response shapes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Self

from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator

from eldercare_platform.core.params import Instant, IsoDate
from eldercare_platform.roster.models import CertificateStatus, LeaveKind, PreferenceKind, Skill, StaffRole, TravelMode

MAX_LEAVE = timedelta(days=366)
Text500 = Annotated[str, Field(min_length=1, max_length=500)]


def _plausible_day(value: date | None) -> date | None:
    """Dates of the roster lie in 1900–2200 (anything else is a typing mistake, and keeps arithmetic in range)."""
    if value is not None and not date(1900, 1, 1) <= value <= date(2200, 12, 31):
        raise ValueError("must lie between 1900-01-01 and 2200-12-31")
    return value


class StaffSummary(BaseModel):
    """A staff member as lists show them."""

    id: int
    name: str
    phone: str
    role: StaffRole
    skills: list[str]
    home_area_id: int
    home_area_name: str
    care_center_id: int | None
    institution_id: int | None
    active: bool
    max_tasks_per_shift: int
    home_latitude: float | None
    home_longitude: float | None
    travel_mode: TravelMode


class StaffPage(BaseModel):
    """One page of staff in the user's scope."""

    total: int
    items: list[StaffSummary]


class StaffUpdate(BaseModel):
    """What a coordinator may change of a staff member (fields left out stay as they are)."""

    skills: list[Skill] | None = Field(default=None, max_length=len(Skill))
    max_tasks_per_shift: int | None = Field(default=None, ge=1, le=50)
    home_latitude: float | None = Field(default=None, ge=-90, le=90)
    home_longitude: float | None = Field(default=None, ge=-180, le=180)
    travel_mode: TravelMode | None = None
    active: bool | None = None


LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "description": "A local time of day (Asia/Shanghai), HH:MM or HH:MM:SS, without an offset",
            "examples": ["08:00"],
        }
    ),
]
"""A wall-clock time of day. Not JSON Schema's `format: time`, which requires an offset (RFC 3339)."""


class PatternIn(BaseModel):
    """A weekly shift pattern: ISO weekdays (1 Monday … 7 Sunday), local start and end times (Asia/Shanghai);
    an end not after the start crosses midnight (20:00–08:00 ends the next morning)."""

    label: str = Field(default="", max_length=64)
    weekdays: list[int] = Field(min_length=1, max_length=7)
    start_time: LocalTime
    end_time: LocalTime
    on_call: bool = False
    valid_from: IsoDate
    valid_to: IsoDate | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(not 1 <= day <= 7 for day in value) or len(set(value)) != len(value):
            raise ValueError("weekdays are distinct ISO days 1 (Monday) to 7 (Sunday)")
        return sorted(value)

    @field_validator("start_time", "end_time")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local time (Asia/Shanghai) without an offset, e.g. 08:00")
        return value.replace(microsecond=0)

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _days(cls, value: date | None) -> date | None:
        return _plausible_day(value)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.start_time == self.end_time:
            raise ValueError("start_time and end_time must differ")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class PatternPublic(PatternIn):
    """A shift pattern as stored."""

    id: int
    staff_id: int
    crosses_midnight: bool


class ShiftPublic(BaseModel):
    """A concrete shift."""

    id: int
    pattern_id: int | None
    starts_at: datetime
    ends_at: datetime
    on_call: bool


class LeaveIn(BaseModel):
    """A leave or sick day (at most 366 days)."""

    kind: LeaveKind
    starts_at: Instant
    ends_at: Instant
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        for moment in (self.starts_at, self.ends_at):
            _plausible_day(moment.date())
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > MAX_LEAVE:
            raise ValueError("a leave lasts at most 366 days")
        return self


class LeavePublic(BaseModel):
    """A leave as stored (`cancelled_at` set when cancelled)."""

    id: int
    staff_id: int
    kind: LeaveKind
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    recorded_at: datetime
    recorded_by: int | None
    cancelled_at: datetime | None


class LeaveResult(BaseModel):
    """A leave recorded and the tasks it sent back to planning."""

    leave: LeavePublic
    unassigned_task_ids: list[int]


class CertificationIn(BaseModel):
    """A certificate a staff member holds."""

    name: str = Field(min_length=1, max_length=120)
    number: str | None = Field(default=None, max_length=64)
    level: str | None = Field(default=None, max_length=64)
    issued_on: IsoDate | None = None
    expires_on: IsoDate | None = None

    @field_validator("issued_on", "expires_on")
    @classmethod
    def _days(cls, value: date | None) -> date | None:
        return _plausible_day(value)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.issued_on is not None and self.expires_on is not None and self.expires_on <= self.issued_on:
            raise ValueError("expires_on must be after issued_on")
        return self


class CertificationPublic(CertificationIn):
    """A certificate with its status today (valid / expiring within `certification_warn_days` / expired)."""

    id: int
    staff_id: int
    status: CertificateStatus


class PreferenceIn(BaseModel):
    """A staff member prefers or declines a resident."""

    kind: PreferenceKind
    reason: str | None = Field(default=None, max_length=500)


class PreferencePublic(BaseModel):
    """A preference as stored."""

    resident_id: int
    resident_name: str
    kind: PreferenceKind
    reason: str | None
    recorded_at: datetime


class StaffDetail(BaseModel):
    """Everything about one staff member the roster keeps."""

    staff: StaffSummary
    patterns: list[PatternPublic]
    upcoming_shifts: list[ShiftPublic]
    leave: list[LeavePublic]
    certifications: list[CertificationPublic]
    preferences: list[PreferencePublic]


class AvailabilityEntry(BaseModel):
    """One staff member on a day: shifts, leave, load against capacity, certificates needing attention."""

    staff: StaffSummary
    shifts: list[ShiftPublic]
    leave: list[LeavePublic]
    on_call: bool
    load: int = Field(description="Tasks assigned to them whose window starts that day (not cancelled/missed)")
    capacity: int = Field(description="max_tasks_per_shift × their shifts starting that day")
    certifications_due: list[CertificationPublic] = Field(description="Expiring or expired on that day")


class Availability(BaseModel):
    """The coordinator board's staff panel for a day."""

    date: date
    items: list[AvailabilityEntry]


class OnShift(BaseModel):
    """A staff member on shift at a moment, with their distance from a point (km, straight line)."""

    id: int
    name: str
    phone: str
    role: StaffRole
    skills: list[str]
    home_area_id: int
    home_latitude: float | None
    home_longitude: float | None
    travel_mode: TravelMode
    shift_id: int
    starts_at: datetime
    ends_at: datetime
    on_call: bool
    load: int
    max_tasks_per_shift: int
    distance_km: float | None
