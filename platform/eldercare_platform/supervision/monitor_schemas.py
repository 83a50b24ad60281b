"""Shapes of the purchased-services statement and of the care-center monitor (the common `SectionFigures`
plus what these two sections add: the statement's lines with their EVV evidence, the monitor's facilities,
and a resident's vitals trends)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from eldercare_platform.supervision.schemas import AreaRef, Figure, SectionFigures


class StatementExceptionKind(StrEnum):
    """Exceptions of the settlement statement."""

    EVV_UNVERIFIED = "evv_unverified"  # a delivered session without a complete, location-verified EVV record
    OVER_ENTITLEMENT = "over_entitlement"  # more hours delivered than the care plan entitles
    NOT_DELIVERED = "not_delivered"  # an entitlement with no session in the month


class MonitorExceptionKind(StrEnum):
    """Exceptions of the care-center monitor."""

    SMOKE = "smoke"
    VITALS_OUT_OF_RANGE = "vitals_out_of_range"
    NIGHT_BED_EXIT = "night_bed_exit"
    CAMERA_OFFLINE = "camera_offline"
    ROOM_OUT_OF_RANGE = "room_out_of_range"


class FacilityKind(StrEnum):
    """What a monitored facility is."""

    CARE_CENTER = "care_center"  # 照料中心 (居家养老服务中心 / 日间照料中心)
    INSTITUTION = "institution"  # 养老机构


class Provider(BaseModel):
    """Who delivered: an institution, or the platform's own caregivers (`institution_id` null, "平台自有")."""

    institution_id: int | None
    name: str


class EvidenceOut(BaseModel):
    """One completed service task behind a line (its EVV record)."""

    task_id: int
    date: dt.date | None = Field(description="Local date of the check-in")
    staff_id: int | None
    staff_name: str | None
    start: datetime | None = Field(description="Checked in (EVV start)")
    end: datetime | None = Field(description="Completed (EVV end)")
    hours: float | None = Field(description="end − start in hours; null without a check-in")
    check_in_distance_m: float | None
    check_out_distance_m: float | None
    verified: bool = Field(description="Complete EVV, check-in and check-out within checkin_verified_within_m")


class StatementLine(BaseModel):
    """Resident × service × provider for the month."""

    resident_id: int
    resident_name: str
    area_id: int = Field(description="The resident's home community")
    area_name: str
    service: str = Field(description="PurchasedService code")
    funder: str | None = Field(description="government / self_paid, from the care plan; null if not entitled")
    provider: Provider | None = Field(description="null: entitled but not delivered this month")
    hours_entitled: float = Field(description="The resident's entitlement for the service (same on every provider)")
    hours_delivered: float
    sessions: int
    evv_verified_sessions: int
    evv_verified_share: float | None
    evidence: list[EvidenceOut]


class ServicesStatement(SectionFigures):
    """The monthly settlement statement of a tier: the common shape plus the month and its lines."""

    month: str = Field(description="YYYY-MM")
    lines_total: int = Field(description="How many lines the statement has (the figures count them all)")
    lines: list[StatementLine] = Field(description="The lines `offset` … `offset + limit` (all in an export)")


class FacilityRow(BaseModel):
    """A care center or an institution with its terminals' figures."""

    kind: FacilityKind
    id: int
    name: str
    area: AreaRef
    figures: dict[str, Figure]


class MonitorResident(BaseModel):
    """A resident a facility's terminal is assigned to (`device.resident_id`): the drill-down's entry."""

    id: int
    name: str
    facility_kind: FacilityKind
    facility_id: int
    facility: str
    vitals_samples: int
    vitals_out_of_range: int
    night_bed_exits: int
    link: str = Field(description="The resident's drill-down")


class MonitorFigures(SectionFigures):
    """The monitor of a tier: the common shape plus one row per care center and institution and the residents
    their terminals are assigned to."""

    facilities: list[FacilityRow]
    residents: list[MonitorResident]


class ResidentBrief(BaseModel):
    """The resident a drill-down is about."""

    id: int
    name: str
    area: AreaRef


class MetricTrend(BaseModel):
    """One metric: hourly means (local hour ISO) and every sample outside [low, high]."""

    key: str
    source: str = Field(description="vitals or mattress")
    unit: str
    low: float
    high: float
    points: list[tuple[str, float]]
    out_of_range: list[tuple[datetime, float]]


class CheckinOut(BaseModel):
    """A check-in at a care center's (or institution's) terminal."""

    at: datetime
    device_serial: str
    facility: str | None


class ResidentVitals(BaseModel):
    """A resident's terminals' feeds in a period (the read is audited)."""

    model_config = {"populate_by_name": True}

    resident: ResidentBrief
    from_: dt.date = Field(alias="from")
    to: dt.date
    generated_at: datetime
    metrics: list[MetricTrend]
    night_bed_exits: list[datetime]
    checkins: list[CheckinOut]
