"""Care centers (居家养老服务中心 / 日间照料中心), meal points (助餐点) and institutions (养老机构)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import AutoString, Field, SQLModel

from eldercare_platform.core.types import enum_check


class CareCenterKind(StrEnum):
    """Kinds of community care center."""

    HOME_CARE_CENTER = "home_care_center"  # 居家养老服务中心
    DAY_CARE_CENTER = "day_care_center"  # 日间照料中心
    TOWNSHIP_CENTER = "township_center"  # 乡镇(街道)区域性养老服务中心


class MealPointKind(StrEnum):
    """How a meal point serves."""

    CANTEEN = "canteen"  # 老年食堂
    MEAL_POINT = "meal_point"  # 助餐点
    MEAL_TRUCK = "meal_truck"  # 流动餐车


class FacilityBase(SQLModel):
    """Fields every facility has."""

    name: str = Field(max_length=120)
    area_id: int = Field(foreign_key="area.id", index=True, description="The community it sits in")
    address: str = Field(max_length=255)
    phone: str | None = Field(default=None, max_length=32)
    latitude: float | None = None
    longitude: float | None = None


class CareCenter(FacilityBase, table=True):
    """A community care center with smart terminals."""

    __tablename__ = "care_center"
    __table_args__ = (enum_check("kind", CareCenterKind), CheckConstraint("capacity >= 0", name="capacity_valid"))
    id: int | None = Field(default=None, primary_key=True)
    kind: CareCenterKind = Field(sa_type=AutoString)
    capacity: int = Field(default=0, ge=0)


class MealPoint(FacilityBase, table=True):
    """A place where residents eat, pick up, or from which meals are delivered."""

    __tablename__ = "meal_point"
    __table_args__ = (
        enum_check("kind", MealPointKind),
        CheckConstraint("daily_capacity >= 0", name="daily_capacity_valid"),
        CheckConstraint("capacity_per_meal >= 0", name="capacity_per_meal_valid"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: MealPointKind = Field(sa_type=AutoString)
    daily_capacity: int = Field(default=0, ge=0)
    capacity_per_meal: int = Field(
        default=0, ge=0, description="Meals it can serve at one sitting (orders beyond wait)"
    )
    delivers: bool = False


class Institution(FacilityBase, table=True):
    """A nursing home (养老机构) with beds, nursing-type beds and a star rating."""

    __table_args__ = (
        CheckConstraint("beds >= 0 AND nursing_beds >= 0 AND nursing_beds <= beds", name="beds_valid"),
        CheckConstraint("star_rating BETWEEN 1 AND 5", name="star_rating_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    beds: int = Field(default=0, ge=0)
    nursing_beds: int = Field(default=0, ge=0, description="护理型床位")
    star_rating: int | None = Field(default=None, ge=1, le=5)
