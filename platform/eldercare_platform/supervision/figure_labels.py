"""Words for the figure keys, for the pages: the zh/en labels of the sections' export columns (one source for the
file headers, the dashboard's tiles and table heads), and the group words of dotted keys (`type.sos`)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from eldercare_platform.core.exports import Column
from eldercare_platform.supervision.monitor import MONITOR_COLUMNS
from eldercare_platform.supervision.statement import STATEMENT_COLUMNS

EXTRA = (
    Column("residents", "老人数", "Residents"),
    Column("lines", "结算行数", "Statement lines"),
    Column("delivered_share", "服务完成率", "Hours delivered / entitled"),
)


class FigureLabels(BaseModel):
    """Words for every figure key (`figures`) and for the groups of dotted keys (`prefixes`)."""

    figures: dict[str, dict[str, str]]
    prefixes: dict[str, dict[str, str]]


def _sections() -> Iterable[Iterable[Column]]:
    return (MONITOR_COLUMNS, STATEMENT_COLUMNS, EXTRA)


def figure_labels() -> FigureLabels:
    """Every section's column labels by key (the first wins when two sections share a key)."""
    figures: dict[str, dict[str, str]] = {}
    for columns in _sections():
        for column in columns:
            figures.setdefault(column.key, {"zh-CN": column.zh, "en": column.en})
    return FigureLabels(figures=figures, prefixes={})
