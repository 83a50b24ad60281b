"""Administrative areas, one table with a level and a materialized path for scoping."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import AutoString, Field, SQLModel

from eldercare_platform.core.types import enum_check


class AreaLevel(StrEnum):
    """Tiers a supervisor can be scoped to (区 / 街道 / 社区)."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


class AreaBase(SQLModel):
    """Fields of an area that clients see."""

    code: str = Field(max_length=32, unique=True, description="Statistical division code, e.g. 320402001001")
    name: str = Field(max_length=100)
    level: AreaLevel = Field(sa_type=AutoString)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)


class Area(AreaBase, table=True):
    """An administrative area. `path` is `/`-joined ids from the root, so a subtree is a prefix match."""

    __table_args__ = (enum_check("level", AreaLevel),)

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(max_length=255, index=True)
