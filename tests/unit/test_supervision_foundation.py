"""The supervision domain's foundation: the period rule and the table exports (no database)."""

from __future__ import annotations

import importlib
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from eldercare_platform.core.exports import Column, ExportFormat, table_bytes
from eldercare_platform.supervision.monitor_facts import FACT_AGGREGATES, VITAL_RANGES, jsonpath_outside
from eldercare_platform.supervision.service import PeriodInvalidError, month_period, resolve_period

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 December in Shanghai


def test_the_default_period_is_the_local_month_to_today() -> None:
    period = resolve_period(None, None, now=NOW)
    assert (period.first, period.last) == (date(2026, 12, 1), date(2026, 12, 1))
    assert period.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_a_period_is_at_most_366_days_and_never_reversed() -> None:
    assert len(resolve_period(date(2025, 1, 1), date(2026, 1, 1), now=NOW).days) == 366
    with pytest.raises(PeriodInvalidError):
        resolve_period(date(2025, 1, 1), date(2026, 1, 2), now=NOW)
    with pytest.raises(PeriodInvalidError):
        resolve_period(date(2026, 11, 2), date(2026, 11, 1), now=NOW)
    assert resolve_period(date(2026, 11, 5), None, now=NOW).last == date(2026, 12, 1)


def test_a_month_is_its_local_days() -> None:
    february = month_period("2028-02", now=NOW)
    assert (february.first, february.last) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_period(None, now=NOW).first == date(2026, 12, 1)


COLUMNS = [Column("name", "区域", "Area"), Column("rate", "探访率", "Visit rate"), Column("count", "数量", "Count")]
ROWS: list[dict[str, object]] = [
    {"name": "东城街道", "rate": 0.5, "count": 3},
    {"name": "西城", "rate": None, "count": 0},
]


def test_csv_has_a_bom_and_chinese_labels() -> None:
    data = table_bytes(ROWS, COLUMNS, ExportFormat.CSV)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["区域,探访率,数量", "东城街道,0.5,3", "西城,,0"]
    assert table_bytes(ROWS, COLUMNS, ExportFormat.CSV, lang="en").decode("utf-8-sig").startswith("Area,Visit rate")


def test_xlsx_keeps_numbers_and_empty_cells() -> None:
    sheet = load_workbook(io.BytesIO(table_bytes(ROWS, COLUMNS, ExportFormat.XLSX, sheet="visits"))).active
    assert sheet is not None and sheet.title == "visits"
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["区域", "探访率", "数量"],
        ["东城街道", 0.5, 3],
        ["西城", None, 0],
    ]


def test_the_telemetry_rollup_computes_the_monitors_facts_as_the_monitor_does() -> None:
    """Migration 0017 defines the rollup (continuous aggregate or table) with its own copy of the hourly facts: the
    same SQL as supervision/monitor_facts.py, ranges included."""
    migration = importlib.import_module("eldercare_platform.migrations.versions.0017_supervision_telemetry_rollup")
    assert " ".join(migration.AGGREGATES.split()) == " ".join(FACT_AGGREGATES.split())
    assert jsonpath_outside(VITAL_RANGES) == migration.VITALS_OUTSIDE
