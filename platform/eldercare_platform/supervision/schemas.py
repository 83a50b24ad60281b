"""The supervision domain's response shapes: one common shape for every figure section.

Every section (`alarms`, `visits`, `meals`, `devices`, `monitor`, ...) answers with `SectionFigures`: the area and
period asked for, the figures of the area itself (`totals`), one row per child area with the same figure keys
(`children`, the drill-down), chart series and the exceptions to look at first (worst first).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Figure = int | float | None
"""A figure: a count, a share (0..1), seconds, ...; None when it cannot be computed (a rate over zero)."""


class AreaRef(BaseModel):
    """An area as the figures name it."""

    id: int
    name: str
    level: str = Field(description="city, district, street or community")
    path: str = Field(description="`/`-joined ids from the root, e.g. /1/2/5/")


class ChildFigures(BaseModel):
    """One child area's figures (the same keys as `totals`)."""

    area: AreaRef
    figures: dict[str, Figure]


class Series(BaseModel):
    """A chart series: `points` are [local day or hour ISO text, value]."""

    key: str
    points: list[tuple[str, Figure]]


class Exception_(BaseModel):  # noqa: N801 - `Exception` is Python's; the brief's name with a trailing underscore
    """Something a supervisor should look at first (severity 1 = worst)."""

    kind: str = Field(description="a stable code, e.g. alarm_ack_slow, visit_missed, device_fault_uncovered")
    severity: Annotated[int, Field(ge=1, le=3)]
    area_id: int | None = None
    subject: str = Field(description="who or what: a resident, a device serial, a meal point, an area")
    message: str
    since: datetime | None = None
    link: str | None = Field(default=None, description="a page or API path that shows the details")


class SectionFigures(BaseModel):
    """The common answer of every figure endpoint (`GET /api/supervision/<section>`)."""

    model_config = ConfigDict(populate_by_name=True)

    section: str
    area: AreaRef
    from_: date = Field(alias="from", description="first local day (Asia/Shanghai), inclusive")
    to: date = Field(description="last local day, inclusive")
    generated_at: datetime
    totals: dict[str, Figure]
    children: list[ChildFigures]
    series: list[Series] = Field(default_factory=list)
    exceptions: list[Exception_] = Field(default_factory=list)


class TableRows(BaseModel):
    """A table of the area that is not per child area (per caregiver, per meal point): the same head, `rows`."""

    model_config = ConfigDict(populate_by_name=True)

    section: str
    area: AreaRef
    from_: date = Field(alias="from")
    to: date
    generated_at: datetime
    rows: list[dict[str, int | float | str | None]]


def worst_first(exceptions: list[Exception_]) -> list[Exception_]:
    """Exceptions sorted by severity, then the oldest first."""
    return sorted(exceptions, key=lambda e: (e.severity, e.since.timestamp() if e.since else float("inf"), e.subject))
