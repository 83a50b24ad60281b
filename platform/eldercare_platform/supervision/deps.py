"""Typed guards and query parameters of the supervision domain (the common shape of every figure endpoint)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from eldercare_platform.core.exports import ExportFormat
from eldercare_platform.core.params import INT4_MAX, IntText, IsoDate
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, require_permission

SupervisionReader = Annotated[User, Depends(require_permission(Permission.SUPERVISION_READ))]

AreaIdQuery = Annotated[
    int | None,
    Query(ge=1, le=INT4_MAX, description="The area (default: the root of the user's scope)"),
    IntText,
]
FromQuery = Annotated[
    IsoDate | None,
    Query(
        alias="from",
        ge=date(2000, 1, 1),
        le=date(2099, 12, 31),
        description="First local day, inclusive (default: the 1st of the current month)",
    ),
]
ToQuery = Annotated[
    IsoDate | None,
    Query(ge=date(2000, 1, 1), le=date(2099, 12, 31), description="Last local day, inclusive (default: today)"),
]
FormatQuery = Annotated[
    ExportFormat | None, Query(alias="format", description="csv or xlsx: the children table (and a totals row)")
]
LangQuery = Annotated[str, Query(pattern="^(zh|en)$", description="Column labels of an export: zh or en")]
MonthQuery = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (local)")]
