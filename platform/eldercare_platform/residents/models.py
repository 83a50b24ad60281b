"""Households, residents and emergency contacts.

ID numbers, health conditions, addresses and phone numbers are personal data: the API returns them
only to roles that need them and writes an audit row for every read of a resident card.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import AutoString, Field, SQLModel

from eldercare_platform.core.types import enum_check, text_array_field, timestamp_field


class ResidentCategory(StrEnum):
    """Categories that set priority and entitlements."""

    EXTREME_POVERTY = "extreme_poverty"  # 特困
    MINIMUM_INCOME = "minimum_income"  # 低保
    MARGINAL_INCOME = "marginal_income"  # 低边
    ADVANCED_AGE = "advanced_age"  # 高龄 (80+)
    LIVING_ALONE = "living_alone"  # 独居
    EMPTY_NEST = "empty_nest"  # 空巢
    LEFT_BEHIND = "left_behind"  # 留守
    LOST_ONLY_CHILD = "lost_only_child"  # 失独 / 计划生育特殊家庭
    DISABLED = "disabled"  # 失能
    SEMI_DISABLED = "semi_disabled"  # 半失能
    DEMENTIA = "dementia"  # 认知障碍


class CapabilityLevel(StrEnum):
    """Capability levels of GB/T 42195-2022 (老年人能力评估规范)."""

    INTACT = "intact"  # 能力完好
    MILD = "mild"  # 能力轻度受损(轻度失能)
    MODERATE = "moderate"  # 能力中度受损(中度失能)
    SEVERE = "severe"  # 能力重度受损(重度失能)
    TOTAL = "total"  # 能力完全丧失(完全失能)


class CareTier(StrEnum):
    """Visit tier: high-risk weekly, key groups monthly, others quarterly."""

    HIGH_RISK = "high_risk"
    KEY = "key"
    REGULAR = "regular"


class ResidentStatus(StrEnum):
    """Whether the platform still serves the resident at home."""

    ACTIVE = "active"
    IN_INSTITUTION = "in_institution"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


class Gender(StrEnum):
    """Recorded gender."""

    FEMALE = "female"
    MALE = "male"


class HouseholdBase(SQLModel):
    """A home with (usually) one alarm unit."""

    area_id: int = Field(foreign_key="area.id", index=True, description="The community")
    address: str = Field(max_length=255)
    landline: str | None = Field(default=None, max_length=32)
    latitude: float | None = None
    longitude: float | None = None
    access_notes: str | None = Field(default=None, max_length=500, description="Gate code, dog, stairs…")


class Household(HouseholdBase, table=True):
    """A household enrolled in the virtual nursing home."""

    id: int | None = Field(default=None, primary_key=True)
    enrolled_at: datetime = timestamp_field(default_now=True)


class ResidentBase(SQLModel):
    """Fields of a resident that the API accepts."""

    household_id: int = Field(foreign_key="household.id", index=True)
    name: str = Field(max_length=64)
    gender: Gender = Field(sa_type=AutoString)
    birth_date: date
    id_number: str | None = Field(default=None, max_length=18, description="居民身份证号 (sensitive)")
    phone: str | None = Field(default=None, max_length=32)
    categories: list[str] = text_array_field()
    capability_level: CapabilityLevel = Field(default=CapabilityLevel.INTACT, sa_type=AutoString)
    capability_assessed_on: date | None = None
    care_tier: CareTier = Field(default=CareTier.REGULAR, sa_type=AutoString)
    reassessment_due_on: date | None = Field(default=None, description="Set by each assessment and major event")
    health_conditions: list[str] = text_array_field()
    dialect_notes: str | None = Field(default=None, max_length=200, description="Language/hearing notes")
    consent_data_processing: bool = False
    consent_share_with_family: bool = False
    consent_camera: bool = False
    consent_recorded_at: datetime | None = timestamp_field(nullable=True)
    status: ResidentStatus = Field(default=ResidentStatus.ACTIVE, sa_type=AutoString, index=True)


class Resident(ResidentBase, table=True):
    """An elderly person served at home."""

    __table_args__ = (
        enum_check("gender", Gender),
        enum_check("capability_level", CapabilityLevel),
        enum_check("care_tier", CareTier),
        enum_check("status", ResidentStatus),
        Index("ix_resident_categories", "categories", postgresql_using="gin"),
        Index("uq_resident_id_number", "id_number", unique=True, postgresql_where=text("id_number IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field(default_now=True)
    updated_at: datetime = timestamp_field(default_now=True)


class EmergencyContactBase(SQLModel):
    """Someone to call for a resident: family, neighbour, keyholder."""

    resident_id: int = Field(foreign_key="resident.id", index=True)
    name: str = Field(max_length=64)
    relation: str = Field(max_length=32, description="子女, 配偶, 邻居, 网格员…")
    phone: str = Field(max_length=32)
    priority: int = Field(default=1, ge=1, le=9, description="1 is called first")
    is_keyholder: bool = Field(default=False, description="Holds a key to the home (钥匙托管)")
    lives_nearby: bool = False


class EmergencyContact(EmergencyContactBase, table=True):
    """An emergency contact or keyholder."""

    __tablename__ = "emergency_contact"
    __table_args__ = (CheckConstraint("priority BETWEEN 1 AND 9", name="priority_valid"),)
    id: int | None = Field(default=None, primary_key=True)
