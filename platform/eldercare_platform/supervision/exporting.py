"""A section's children table (and a totals row) as a CSV or XLSX download."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response

from eldercare_platform.core.exports import Column, ExportFormat, Lang, table_response
from eldercare_platform.supervision.schemas import SectionFigures

AREA_COLUMNS = (Column("area", "区域", "Area"), Column("level", "层级", "Level"))
TOTAL_LABEL = {"zh": "合计", "en": "Total"}


def section_rows(figures: SectionFigures, *, lang: Lang = "zh") -> list[dict[str, Any]]:
    """One row per child area, then the area's own totals."""
    rows: list[dict[str, Any]] = [
        {"area": child.area.name, "level": child.area.level, **child.figures} for child in figures.children
    ]
    rows.append({"area": f"{figures.area.name}（{TOTAL_LABEL[lang]}）", "level": figures.area.level, **figures.totals})
    return rows


def export_section(
    figures: SectionFigures, columns: Sequence[Column], fmt: ExportFormat, *, lang: Lang = "zh"
) -> Response:
    """The section's table as a file named after the section, the area and the period."""
    filename = f"supervision-{figures.section}-{figures.area.id}-{figures.from_.isoformat()}-{figures.to.isoformat()}"
    return table_response(
        section_rows(figures, lang=lang),
        [*AREA_COLUMNS, *columns],
        fmt,
        filename=filename,
        lang=lang,
        sheet=figures.section,
    )
