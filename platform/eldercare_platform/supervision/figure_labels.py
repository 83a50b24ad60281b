"""Words for the figure keys, for the pages: the zh/en labels of the sections' export columns (one source for the
file headers, the dashboard's tiles and table heads), and the group words of dotted keys (`type.sos`)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from eldercare_platform.core.exports import Column
from eldercare_platform.supervision import columns as section_columns
from eldercare_platform.supervision.monitor import MONITOR_COLUMNS
from eldercare_platform.supervision.statement import STATEMENT_COLUMNS

EXTRA = (
    Column("alarms_per_day", "每日告警数", "Alarms per day"),
    Column("alarms_by_hour", "各时段告警数", "Alarms by hour of day"),
    Column("visits_due_per_day", "每日应探访", "Visits due per day"),
    Column("visits_done_per_day", "每日已探访", "Visits done per day"),
    Column("meal_orders_per_day", "每日订餐", "Meal orders per day"),
    Column("meals_served_per_day", "每日送达/取餐", "Meals served per day"),
    Column("residents", "老人数", "Residents"),
    Column("lines", "结算行数", "Statement lines"),
    Column("delivered_share", "服务完成率", "Hours delivered / entitled"),
)


class FigureLabels(BaseModel):
    """Words for every figure key (`figures`) and for the groups of dotted keys (`prefixes`)."""

    figures: dict[str, dict[str, str]]
    prefixes: dict[str, dict[str, str]]


def _sections() -> Iterable[Iterable[Column]]:
    return (
        section_columns.ALARMS,
        section_columns.VISITS,
        section_columns.CAREGIVERS,
        section_columns.MEALS,
        section_columns.MEAL_POINTS,
        section_columns.DEVICES,
        MONITOR_COLUMNS,
        STATEMENT_COLUMNS,
        EXTRA,
    )


def figure_labels() -> FigureLabels:
    """Every section's column labels by key (the first wins when two sections share a key)."""
    figures: dict[str, dict[str, str]] = {}
    for columns in _sections():
        for column in columns:
            figures.setdefault(column.key, {"zh-CN": column.zh, "en": column.en})
    prefixes = {prefix: {"zh-CN": zh, "en": en} for prefix, (zh, en) in section_columns.PREFIXES.items()}
    return FigureLabels(figures=figures, prefixes=prefixes)
