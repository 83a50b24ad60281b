"""The monthly report's PDF (supervision/report.py) from a small fixed set of figures, no database: its pages are
turned into pictures with pypdfium2 and looked at (not blank, ink where the chart is), and its text is read back
(the Chinese title, the figures as printed, the sub-areas)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from eldercare_platform.core.exports import Column
from eldercare_platform.supervision.report import (
    ReportFontMissingError,
    ReportSection,
    figure_text,
    find_font,
    render_report,
)
from eldercare_platform.supervision.schemas import AreaRef, ChildFigures, Exception_, SectionFigures, Series

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PICTURES = Path(__file__).resolve().parents[2] / "var" / "test" / "report"
DISTRICT = AreaRef(id=2, name="天宁区", level="district", path="/1/2/")
STREETS = [
    AreaRef(id=10 + n, name=name, level="street", path=f"/1/2/{10 + n}/")
    for n, name in enumerate(("天宁街道", "茶山街道", "雕庄街道"))
]
COLUMNS = (
    Column("alarms", "告警总数", "Alarms"),
    Column("ack_le_60_share", "60秒内接警率", "Acknowledged ≤ 60 s"),
    Column("ack_p90_s", "接警时长P90", "Time to acknowledge p90"),
)


def _alarms() -> SectionFigures:
    days = [date(2026, 11, d) for d in range(1, 31)]
    return SectionFigures(
        section="alarms",
        area=DISTRICT,
        from_=date(2026, 11, 1),
        to=date(2026, 11, 30),
        generated_at=NOW,
        totals={"alarms": 42, "ack_le_60_share": 0.975, "ack_p90_s": 75.0},
        children=[
            ChildFigures(area=STREETS[0], figures={"alarms": 20, "ack_le_60_share": 1.0, "ack_p90_s": 40.0}),
            ChildFigures(area=STREETS[1], figures={"alarms": 22, "ack_le_60_share": 0.95, "ack_p90_s": 95.0}),
            ChildFigures(area=STREETS[2], figures={"alarms": 0, "ack_le_60_share": None, "ack_p90_s": None}),
        ],
        series=[Series(key="alarms", points=[(day.isoformat(), (day.day * 7) % 5) for day in days])],
        exceptions=[
            Exception_(
                kind="alarm_ack_slow",
                severity=1,
                area_id=11,
                subject="张桂英",
                message="接警用时 4分10秒",
                since=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
            ),
        ],
    )


needs_font = pytest.mark.skipif(find_font() is None, reason="no TrueType CJK font: run scripts/bootstrap.sh")


def test_figures_print_as_people_read_them() -> None:
    assert figure_text("ack_le_60_share", 0.975) == "97.5%"
    assert figure_text("ack_p90_s", 75.0) == "1分15秒"
    assert figure_text("ack_p50_s", 9) == "9秒"
    assert figure_text("alarms", 1234) == "1,234"
    assert figure_text("alarms_per_1000", 12.345) == "12.35"
    assert figure_text("visit_rate", None) == "—"


@needs_font
def test_the_report_renders_in_chinese_with_a_chart() -> None:
    sections = [
        ReportSection(title="一、紧急呼叫服务", figures=_alarms(), columns=COLUMNS, chart="series"),
        ReportSection(title="二、接警达标", figures=_alarms(), columns=COLUMNS, chart="ack_le_60_share"),
    ]
    pdf_bytes = render_report(area=DISTRICT, month="2026-11", sections=sections, generated_at=NOW)
    assert pdf_bytes.startswith(b"%PDF")
    pdf = pdfium.PdfDocument(pdf_bytes)
    assert len(pdf) == 2  # one page per section
    text = pdf[0].get_textpage().get_text_range()
    for expected in (
        "天宁区 养老服务监管月报（2026年11月）",
        "告警总数",
        "97.5%",
        "1分15秒",
        "茶山街道",
        "张桂英",
        "合计",
    ):
        assert expected in text, expected
    assert "雕庄街道" in pdf[1].get_textpage().get_text_range()
    PICTURES.mkdir(parents=True, exist_ok=True)
    for index in range(len(pdf)):
        image = pdf[index].render(scale=1).to_pil().convert("L")
        dark = sum(image.histogram()[:128])
        assert dark > 2_000, f"page {index + 1} is (nearly) blank"
        image.save(PICTURES / f"report-unit-page{index + 1}.png")  # for a human to look at
    pdf.close()


def test_without_a_cjk_font_the_report_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from eldercare_platform.supervision import report

    monkeypatch.setattr(report, "FONT_CANDIDATES", ())
    monkeypatch.delenv("ELDERCARE_REPORT_FONT", raising=False)
    monkeypatch.setattr(report, "FONT_NAME", "EldercareCJKMissing")  # not registered by the test above
    with pytest.raises(ReportFontMissingError) as refused:
        render_report(area=DISTRICT, month="2026-11", sections=[], generated_at=NOW)
    assert refused.value.status == 503 and "fonts-wqy-microhei" in refused.value.detail
