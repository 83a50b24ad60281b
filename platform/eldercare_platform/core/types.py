"""Column types and helpers shared by the SQLModel tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field


def utcnow() -> datetime:
    """Timezone-aware now in UTC: every stored time is UTC (`timestamptz`)."""
    return datetime.now(UTC)


def timestamp_field(*, nullable: bool = False, default_now: bool = False, index: bool = False) -> Any:
    """A `timestamptz` column; nullable ones default to None, `default_now` ones to the current time."""
    if default_now:
        return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, index=index)
    return Field(sa_type=DateTime(timezone=True), nullable=False, index=index)


def text_array_field(*, index: bool = False) -> Any:
    """A `text[]` column holding a list of codes (categories, skills, conditions)."""
    return Field(default_factory=list, sa_type=ARRAY(String), nullable=False, index=index)


def jsonb_field() -> Any:
    """A `jsonb` column with a list/dict value."""
    return Field(default_factory=dict, sa_type=JSONB, nullable=False)
