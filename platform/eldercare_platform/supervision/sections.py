"""Helpers every section shares: run a grouped query (children and the area's total in one pass), turn counts
into rates, and assemble the common `SectionFigures`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.supervision.schemas import ChildFigures, Exception_, Figure, SectionFigures, Series, worst_first
from eldercare_platform.supervision.tier import Period, Tier

Row = dict[str, Any]

GROUPED = "GROUP BY GROUPING SETS ((child_id), ())"
"""Append to a query over a CTE with a `child_id` column, selecting `child_id, GROUPING(child_id) = 1 AS is_total`."""

MAX_EXCEPTIONS = 50


def plain_plans(session: Session) -> None:
    """Settings for this transaction's figure queries: no JIT compilation (their cost estimates — correlated
    sub-plans over a district's rows — pass `jit_above_cost`, and compiling took longer, ~1 s, than running them),
    room to sort a district's quarter of visits in memory rather than on disk, and a plan for each request's own
    values: psycopg prepares a statement run 5 times on a connection, and after 5 more PostgreSQL may switch to one
    generic plan for every value: for the statement of a district month that plan took 55 s instead of 0.35 s."""
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def ratio(part: Any, whole: Any) -> float | None:
    """part / whole, None over zero (a rate of nothing is unknown, not 0 %), rounded to 4 places."""
    if part is None or not whole:
        return None
    return round(float(part) / float(whole), 4)


def number(value: Any) -> Figure:
    """A database number as a figure (Decimal → float, seconds rounded to 0.1)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return round(float(value), 1)


def grouped(session: Session, sql: str, params: Mapping[str, Any]) -> tuple[Row, dict[int, Row]]:
    """Run a `GROUPING SETS ((child_id), ())` query: (the total row, rows by child id). Rows of records at the
    area itself (child NULL) count in the total only."""
    total: Row = {}
    children: dict[int, Row] = {}
    for row in session.execute(text(sql), dict(params)).mappings():
        values = {key: value for key, value in row.items() if key not in ("child_id", "is_total")}
        if row["is_total"]:
            total = values
        elif row["child_id"] is not None:
            children[int(row["child_id"])] = values
    return total, children


def keyed(session: Session, sql: str, params: Mapping[str, Any], prefix: str) -> tuple[Row, dict[int, Row]]:
    """A grouped query that also groups by a `value` column: counts as `<prefix>.<value>` keys."""
    total: Row = {}
    children: dict[int, Row] = {}
    for row in session.execute(text(sql), dict(params)).mappings():
        key = f"{prefix}.{row['value'] if row['value'] is not None else 'none'}"
        if row["is_total"]:
            total[key] = int(row["n"])
        elif row["child_id"] is not None:
            children.setdefault(int(row["child_id"]), {})[key] = int(row["n"])
    return total, children


def merge(*parts: tuple[Row, dict[int, Row]]) -> tuple[Row, dict[int, Row]]:
    """Several grouped results as one (the same child ids side by side)."""
    total: Row = {}
    children: dict[int, Row] = {}
    for part_total, part_children in parts:
        total.update(part_total)
        for child_id, values in part_children.items():
            children.setdefault(child_id, {}).update(values)
    return total, children


def assemble(
    section: str,
    *,
    tier: Tier,
    period: Period,
    now: datetime,
    total: Row,
    children: dict[int, Row],
    figures: Callable[[Row], dict[str, Figure]],
    extra_keys: Iterable[str] = (),
    series: list[Series] | None = None,
    exceptions: list[Exception_] | None = None,
) -> SectionFigures:
    """The common answer: `figures(row)` turns a raw row (counts; missing keys are zero) into the section's figures;
    every child area gets a row, and keys found anywhere (`type.sos`, …) are in every row (0 when absent)."""
    keys = sorted(set(extra_keys) | set(total) | {key for row in children.values() for key in row if "." in key})
    dotted = [key for key in keys if "." in key]

    def full(row: Row) -> dict[str, Figure]:
        values = figures(row)
        for key in dotted:
            values[key] = int(row.get(key) or 0)
        return values

    return SectionFigures(
        section=section,
        area=tier.area,
        from_=period.first,
        to=period.last,
        generated_at=now,
        totals=full(total),
        children=[ChildFigures(area=child, figures=full(children.get(child.id, {}))) for child in tier.children],
        series=series or [],
        exceptions=worst_first(exceptions or [])[:MAX_EXCEPTIONS],
    )


def count(row: Row, key: str) -> int:
    """A count from a raw row (absent = 0)."""
    return int(row.get(key) or 0)
