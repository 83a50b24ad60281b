"""Staff records with skills, home zone and base, and shifts (patterns, leave, certifications and preferences are
tables written in SQL by migration 0007; see `schemas.py`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index
from sqlmodel import AutoString, Field, SQLModel

from eldercare_platform.core.types import enum_check, text_array_field, timestamp_field


class StaffRole(StrEnum):
    """What a staff member does in the field or at the call center."""

    CAREGIVER = "caregiver"  # 护理员
    NURSE = "nurse"  # 护士
    SOCIAL_WORKER = "social_worker"  # 社工
    COORDINATOR = "coordinator"  # 民政协管员 / 村级协理员
    VOLUNTEER = "volunteer"  # 志愿者
    OPERATOR = "operator"  # 呼叫中心坐席


class Skill(StrEnum):
    """Services a staff member is qualified to deliver."""

    BATHING = "bathing"
    CLEANING = "cleaning"
    MEAL_DELIVERY = "meal_delivery"
    MEDICAL_ESCORT = "medical_escort"
    SHOPPING = "shopping"
    NURSING = "nursing"
    REHABILITATION = "rehabilitation"
    PSYCHOLOGICAL_COMFORT = "psychological_comfort"
    VISIT = "visit"
    ERRANDS = "errands"  # 全程办事代理
    DEVICE_MAINTENANCE = "device_maintenance"


class TravelMode(StrEnum):
    """How a staff member gets to homes (sets their speed in planning)."""

    FOOT = "foot"
    EBIKE = "ebike"
    CAR = "car"


class StaffBase(SQLModel):
    """Fields of a staff member that the API accepts."""

    name: str = Field(max_length=64)
    phone: str = Field(max_length=32)
    role: StaffRole = Field(sa_type=AutoString, index=True)
    skills: list[str] = text_array_field()
    home_area_id: int = Field(foreign_key="area.id", index=True, description="Zone they usually cover")
    care_center_id: int | None = Field(default=None, foreign_key="care_center.id", index=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    active: bool = True
    max_tasks_per_shift: int = Field(default=8, ge=1, le=50)
    home_latitude: float | None = Field(default=None, ge=-90, le=90, description="Home base (or care center)")
    home_longitude: float | None = Field(default=None, ge=-180, le=180)
    travel_mode: TravelMode = Field(default=TravelMode.EBIKE, sa_type=AutoString)


class Staff(StaffBase, table=True):
    """A person who serves residents."""

    __table_args__ = (
        enum_check("role", StaffRole),
        enum_check("travel_mode", TravelMode),
        CheckConstraint("max_tasks_per_shift BETWEEN 1 AND 50", name="max_tasks_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)


class Shift(SQLModel, table=True):
    """A concrete working period; rows are generated for a rolling window, not one job per shift."""

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="shift_positive_length"),
        Index("uq_shift_staff_start", "staff_id", "starts_at", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    pattern_id: int | None = Field(
        default=None, sa_type=BigInteger, description="The shift_pattern it came from (foreign key in migration 0007)"
    )
    starts_at: datetime = timestamp_field(index=True)
    ends_at: datetime = timestamp_field()
    on_call: bool = Field(default=False, description="Can be sent out to alarms during this shift")


class LeaveKind(StrEnum):
    """Why a staff member is away (`staff_leave.kind`)."""

    ANNUAL = "annual"  # 年假
    SICK = "sick"  # 病假
    TRAINING = "training"  # 培训
    OTHER = "other"


class PreferenceKind(StrEnum):
    """A staff member's standing with a resident (`staff_preference.kind`)."""

    PREFERRED = "preferred"
    DECLINED = "declined"  # never assigned to this resident


class CertificateStatus(StrEnum):
    """A certificate on a given day (`certification_warn_days` decides `expiring`)."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"


class Unassignable(StrEnum):
    """Why a staff member cannot take a task (`roster.service.why_not_assignable`)."""

    UNKNOWN_STAFF = "unknown_staff"
    INACTIVE = "inactive"
    NOT_ON_SHIFT = "not_on_shift"
    ON_LEAVE = "on_leave"
    MISSING_SKILL = "missing_skill"
    CERTIFICATE_MISSING = "certificate_missing"
    CERTIFICATE_EXPIRED = "certificate_expired"
    DECLINED_RESIDENT = "declined_resident"
    MAX_TASKS_REACHED = "max_tasks_reached"
