"""Tables as files: one helper turns rows and their zh/en column labels into CSV or XLSX.

CSV is UTF-8 with a byte-order mark, so Excel (the tool supervisors open it with) reads the Chinese text
correctly; XLSX is written with openpyxl, one sheet, a bold header row, numbers kept as numbers. A value of
None is an empty cell (a figure that cannot be computed, e.g. a rate over zero), never "None" or 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote

from fastapi.responses import Response

Lang = Literal["zh", "en"]


class ExportFormat(StrEnum):
    """The file formats a table can be exported in."""

    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Column:
    """A column of an exported table: the row key it reads and its header in Chinese and English."""

    key: str
    zh: str
    en: str

    def label(self, lang: Lang) -> str:
        """The header in this language."""
        return self.zh if lang == "zh" else self.en


def _cell(value: Any) -> Any:
    """A value as a cell: numbers and text as they are, times as ISO text, None as empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str):
        return value
    if isinstance(value, StrEnum):
        return str(value)
    return str(value)


def table_bytes(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    fmt: ExportFormat,
    *,
    lang: Lang = "zh",
    sheet: str = "Sheet1",
) -> bytes:
    """The table as a file's bytes: a header row of the columns' labels, then one line per row."""
    header = [column.label(lang) for column in columns]
    body = [[_cell(row.get(column.key)) for column in columns] for row in rows]
    if fmt is ExportFormat.CSV:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(header)
        for line in body:
            writer.writerow(["" if value is None else value for value in line])
        return text.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet[:31]  # Excel's limit
    worksheet.append(header)
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        worksheet.append(line)
    for index, label in enumerate(header, start=1):
        letter = worksheet.cell(row=1, column=index).column_letter
        worksheet.column_dimensions[letter].width = max(10, min(40, 2 * len(label) + 2))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_response(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    fmt: ExportFormat,
    *,
    filename: str,
    lang: Lang = "zh",
    sheet: str = "Sheet1",
) -> Response:
    """The table as a download (`filename` without its extension; ASCII is safest, others are %-encoded)."""
    name = f"{filename}.{fmt.value}"
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return Response(
        content=table_bytes(rows, columns, fmt, lang=lang, sheet=sheet),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"},
    )
