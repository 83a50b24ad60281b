"""Typed guards and query parameters of the supervision domain (the common shape of every figure endpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Query

from eldercare_platform.core.deps import NowDep, SessionDep
from eldercare_platform.core.exports import ExportFormat, Lang
from eldercare_platform.core.params import INT4_MAX, IntText, IsoDate
from eldercare_platform.supervision.tier import Period, Tier, resolve_period, resolve_tier
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


@dataclass(frozen=True)
class SectionRequest:
    """What every figure endpoint is asked: the tier (area, scope, children), the period, the export format (None:
    JSON) and its column language, at `now`."""

    tier: Tier
    period: Period
    fmt: ExportFormat | None
    lang: Lang
    now: datetime


def section_request(
    session: SessionDep,
    user: SupervisionReader,
    now: NowDep,
    area_id: AreaIdQuery = None,
    first: FromQuery = None,
    to: ToQuery = None,
    fmt: FormatQuery = None,
    lang: LangQuery = "zh",
) -> SectionRequest:
    """The common parameters, resolved: 404 `area_not_found` outside the user's scope, 422 `period_invalid`."""
    return SectionRequest(
        tier=resolve_tier(session, user=user, area_id=area_id),
        period=resolve_period(first, to, now=now),
        fmt=fmt,
        lang="en" if lang == "en" else "zh",
        now=now,
    )


SectionQuery = Annotated[SectionRequest, Depends(section_request)]
