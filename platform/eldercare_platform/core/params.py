"""Request parameter types shared by the views: ids and counters within the database's integer ranges.

An id outside its column's range cannot name a row, and PostgreSQL refuses to compare or store it (a
500 before these types); a page offset past `bigint` likewise. Each type says its bounds in the OpenAPI
document, so clients (and the fuzzer) know them, and a value outside them is a 422 `validation_error`.

Path and query values are text: `IntText` accepts only an optional minus sign and ASCII digits, where
plain `int` would also take "1.0", " 1 " and "1_000". Body ids are JSON numbers and strict: 1.0 or "1"
is refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field

INT4_MAX = 2**31 - 1
"""PostgreSQL `integer` (serial ids: areas, residents, devices, staff, users, ...)."""
INT8_MAX = 2**63 - 1
"""PostgreSQL `bigint` (identity ids: alarms, device events; the alarm version counter)."""
MAX_OFFSET = INT4_MAX
"""The furthest a page may start; far past any table here, within what `OFFSET` takes."""

_INTEGER_TEXT = re.compile(r"-?[0-9]+")


def _integer_text(value: Any) -> Any:
    """Only `-?[0-9]+` for text input; anything else (numbers from JSON) goes on to int validation."""
    if isinstance(value, str) and not _INTEGER_TEXT.fullmatch(value):
        raise ValueError("must be an integer written with digits only")
    return value


IntText = BeforeValidator(_integer_text)
# The FastAPI marker comes first in each `Annotated`: after a validator, FastAPI writes `ge`/`le` into the
# OpenAPI document verbatim instead of `minimum`/`maximum`.

DbId = Annotated[int, Path(ge=1, le=INT4_MAX, description="Id (1 … 2³¹−1)"), IntText]
"""A path id of an `integer` column."""
BigDbId = Annotated[int, Path(ge=1, le=INT8_MAX, description="Id (1 … 2⁶³−1)"), IntText]
"""A path id of a `bigint` column."""
DbIdQuery = Annotated[int | None, Query(ge=1, le=INT4_MAX, description="Id (1 … 2³¹−1)"), IntText]
"""An optional query filter by the id of an `integer` column."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip"), IntText]
"""A page offset."""
Version = Annotated[int, Query(ge=0, le=INT8_MAX, description="A version (`bigint`), 0 for all"), IntText]
"""A version counter to catch up from."""


BodyId = Annotated[int, Field(strict=True, ge=1, le=INT4_MAX)]
"""An id of an `integer` column in a JSON body."""


def _timezone_required(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a time zone offset, e.g. 2026-11-22T06:00:00Z")
    return value


def _iso_text(value: Any) -> Any:
    """Refuse numbers (a Unix time like "0.5" or 0 is not what the field means); ISO 8601 text only."""
    if (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and re.fullmatch(r"[+-]?[0-9.eE+-]+", value.strip())
    ):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-22T06:00:00Z")
    return value


Instant = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_timezone_required)]
"""An ISO 8601 date-time with a time zone (query or body)."""


def _iso_day(value: Any) -> Any:
    """Only `YYYY-MM-DD` text (or a date): no numbers (pydantic would read 0 as 1970-01-01), no date-times."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day written `YYYY-MM-DD` (query or body); local days are Asia/Shanghai's."""
