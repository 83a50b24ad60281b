"""User accounts. A supervisor is scoped to an area subtree or to one institution."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import AutoString, Field, SQLModel

from eldercare_platform.core.params import INT4_MAX
from eldercare_platform.core.types import enum_check, timestamp_field


class Role(StrEnum):
    """What a user may do."""

    OPERATOR = "operator"  # 呼叫中心坐席
    CAREGIVER = "caregiver"  # 护理员 and other field staff
    COORDINATOR = "coordinator"  # 社区/站点负责人: plans, roster and the board of one area
    SUPERVISOR = "supervisor"  # 机构负责人 / 街道、区民政
    ADMIN = "admin"


class UserBase(SQLModel):
    """Fields of a user that clients see."""

    username: str = Field(max_length=64, unique=True, schema_extra={"pattern": r"^[a-z0-9_.-]+$"})
    full_name: str = Field(max_length=64)
    role: Role = Field(sa_type=AutoString)
    scope_area_id: int | None = Field(default=None, foreign_key="area.id", ge=1, le=INT4_MAX)
    scope_institution_id: int | None = Field(default=None, foreign_key="institution.id", ge=1, le=INT4_MAX)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", unique=True, ge=1, le=INT4_MAX)
    locale: str = Field(default="zh-CN", max_length=10)
    active: bool = True


class User(UserBase, table=True):
    """A user account; the password is stored only as an Argon2 hash."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('supervisor', 'coordinator') OR num_nonnulls(scope_area_id, scope_institution_id) = 1",
            name="supervisor_has_one_scope",
        ),
        enum_check("role", Role),
    )
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = timestamp_field(default_now=True)
    last_login_at: datetime | None = timestamp_field(nullable=True)
