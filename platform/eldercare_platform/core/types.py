"""Column types and helpers shared by the SQLModel tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field

from eldercare_platform.core.clock import SYSTEM_CLOCK


def utcnow() -> datetime:
    """Timezone-aware now in UTC, for record-keeping column defaults (`created_at`) only.

    Anything that decides with the time takes `now` from the injected clock (`core.clock`) instead.
    """
    return SYSTEM_CLOCK.now()


def timestamp_field(*, nullable: bool = False, default_now: bool = False, index: bool = False) -> Any:
    """A `timestamptz` column; nullable ones default to None, `default_now` ones to the current time."""
    if default_now:
        return Field(
            default_factory=utcnow,
            sa_type=DateTime(timezone=True),
            nullable=nullable,
            index=index,
            sa_column_kwargs={"server_default": text("now()")},
        )
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, index=index)
    return Field(sa_type=DateTime(timezone=True), nullable=False, index=index)


def text_array_field(*, index: bool = False) -> Any:
    """A `text[]` column holding a list of codes (categories, skills, conditions)."""
    return Field(
        default_factory=list,
        sa_type=ARRAY(Text),
        nullable=False,
        index=index,
        sa_column_kwargs={"server_default": text("'{}'::text[]")},
    )


def jsonb_field(*, as_list: bool = False) -> Any:
    """A `jsonb` column holding an object (or, with `as_list`, an array)."""
    return Field(
        default_factory=list if as_list else dict,
        sa_type=JSONB,
        nullable=False,
        sa_column_kwargs={"server_default": text("'[]'::jsonb" if as_list else "'{}'::jsonb")},
    )


def enum_check(column: str, enum: type[StrEnum]) -> CheckConstraint:
    """A CHECK constraint limiting a text column to an enum's values (the database refuses typos too)."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_valid")
