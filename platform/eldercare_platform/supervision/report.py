"""The printable monthly report of a tier (`GET /api/supervision/report.pdf`): the figures of every section, in
Chinese, as a PDF a supervisor attaches to their report to the bureau.

One A4 page (or more) per section: the section's key figures, its exceptions (worst first, the first 12), the
sub-areas' table (the drill-down rows and the tier's totals) and, for the sections that have one, a chart: the
alarms by day, the visit rate and the devices' online share by sub-area. Charts are drawn with reportlab's own
graphics (vector pictures in the page), so the report needs nothing but reportlab and a font.

The font: reportlab embeds TrueType outlines only, and Noto CJK (what the browsers use) has CFF outlines, so the
report uses WenQuanYi Micro Hei (Debian `fonts-wqy-microhei`, installed by scripts/bootstrap.sh and the
Dockerfile) or the file named by `ELDERCARE_REPORT_FONT`. Without one the endpoint answers 503
`report_font_missing` saying how to install it, never a PDF of empty boxes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlmodel import Session

from eldercare_platform.audit.service import record
from eldercare_platform.core.clock import LOCAL_TIMEZONE, local_date
from eldercare_platform.core.errors import DomainError
from eldercare_platform.core.exports import Column
from eldercare_platform.meta.labels import all_labels
from eldercare_platform.supervision import columns as section_columns
from eldercare_platform.supervision.alarms_figures import alarms_section
from eldercare_platform.supervision.devices_figures import devices_section
from eldercare_platform.supervision.meals_figures import meals_section
from eldercare_platform.supervision.monitor import monitor_section
from eldercare_platform.supervision.monitor_columns import MONITOR_COLUMNS, STATEMENT_COLUMNS
from eldercare_platform.supervision.schemas import AreaRef, Figure, SectionFigures
from eldercare_platform.supervision.statement import services_statement
from eldercare_platform.supervision.tier import Period, Tier
from eldercare_platform.supervision.visits_figures import visits_section

FONT_NAME = "EldercareCJK"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
"""TrueType CJK fonts, first found wins (after `ELDERCARE_REPORT_FONT`)."""

LEVELS = {"city": "市", "district": "区", "street": "街道", "community": "社区"}
MAX_EXCEPTIONS = 12
MAX_CHILD_ROWS = 40
MAX_TABLE_FIGURES = 7


class ReportFontMissingError(DomainError):
    """No TrueType CJK font is installed: the report would print empty boxes."""

    status = 503
    code = "report_font_missing"


@dataclass(frozen=True)
class ReportSection:
    """One section of the report: its title, its figures and the words for its figure keys."""

    title: str
    figures: SectionFigures
    columns: Sequence[Column] = ()
    chart: str | None = None
    """None, "series" (the first series by day) or a figure key (that figure by sub-area, as bars)."""
    notes: Sequence[str] = field(default_factory=tuple)


def find_font() -> Path | None:
    """The TrueType CJK font file the report uses, if one is installed."""
    named = os.environ.get("ELDERCARE_REPORT_FONT")
    for candidate in ([Path(named)] if named else []) + list(FONT_CANDIDATES):
        if candidate.is_file():
            return candidate
    return None


def _register_font() -> str:
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = find_font()
    if path is None:
        raise ReportFontMissingError(
            "no TrueType CJK font for the report: install fonts-wqy-microhei (scripts/bootstrap.sh does) "
            "or set ELDERCARE_REPORT_FONT to a .ttf/.ttc file",
            candidates=[str(p) for p in FONT_CANDIDATES],
        )
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME


def is_share(key: str) -> bool:
    """A figure that is a share of 0..1 (printed as a percentage)."""
    return key.endswith(("_share", "_rate", "rate", "_use")) or key.startswith("share")


def is_seconds(key: str) -> bool:
    """A figure in seconds (printed as minutes and seconds)."""
    return key.endswith(("_s", "_seconds"))


def figure_text(key: str, value: Figure | str) -> str:
    """A figure as the report prints it: — for none, a percentage for a share, 1分05秒 for seconds."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if is_share(key):
        return f"{value * 100:.1f}%"
    if is_seconds(key):
        total = round(value)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{hours}小时{minutes}分"
        return f"{minutes}分{seconds:02d}秒" if minutes else f"{seconds}秒"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, textColor=colors.HexColor("#5f6b7a")),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
    }


EXTRA_LABELS = {
    "alarms_per_day": "每日告警数",
    "visits_due_per_day": "每日应探访",
    "visits_done_per_day": "每日已探访",
    "meal_orders_per_day": "每日订餐",
    "meals_served_per_day": "每日送达/取餐",
    "residents": "老人数",
    "lines": "结算行数",
    "delivered_share": "服务完成率（已服务/应享时长）",
}
"""Words for figure keys no section's export columns name."""


def _label(columns: Sequence[Column], key: str) -> str:
    """A figure's words: its export column's head (without the "(秒)" of a raw number: the report prints
    durations in words), else the report's own."""
    for column in columns:
        if column.key == key:
            return column.zh.removesuffix("(秒)") if is_seconds(key) else column.zh
    return EXTRA_LABELS.get(key, key)


def _numeric_keys(figures: Mapping[str, Any]) -> list[str]:
    """The plain figures (not the dotted counts of a distribution, `type.sos`)."""
    return [
        key for key, value in figures.items() if "." not in key and (value is None or isinstance(value, int | float))
    ]


CODE_KINDS = {"type": "eventType", "outcome": "outcome", "missed": "taskEngineReason", "not_collected": "outcome"}
"""The label kind (GET /api/meta/labels) of each distribution's codes."""
CODE_WORDS = {
    "open": "未结案",
    "no_call": "未致电",
    "resolved": "已处理",
    "none": "未注明",
    "meal_not_collected": "未取餐关怀",
    "visit_no_answer": "探访无人应答",
}
"""Words for the codes no label kind names (states of a count, welfare-call types)."""


def _distributions(figures: Mapping[str, Any]) -> list[str]:
    """The dotted counts in words, one line per group: "告警类型：一键呼叫 4、跌倒 1"."""
    labels = all_labels()
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, value in figures.items():
        prefix, _, code = key.partition(".")
        if code and isinstance(value, int | float) and value:
            groups.setdefault(prefix, []).append((code, value))
    lines = []
    for prefix, counts in groups.items():
        title = section_columns.PREFIXES.get(prefix, (prefix, prefix))[0]
        kind = labels.get(CODE_KINDS.get(prefix, ""), {})
        words = [
            f"{kind.get(code, {}).get('zh-CN') or CODE_WORDS.get(code, code)} {figure_text(code, value)}"
            for code, value in sorted(counts, key=lambda item: -item[1])
        ]
        lines.append(f"{title}：{'、'.join(words)}")
    return lines


def _table(rows: list[list[Any]], widths: list[float] | None, font: str, *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0bec5")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0fb")))
    table.setStyle(TableStyle(style))
    return table


def _key_figures(section: ReportSection, font: str, styles: dict[str, ParagraphStyle]) -> Table:
    keys = _numeric_keys(section.figures.totals)
    cells = [
        [Paragraph(_label(section.columns, key), styles["base"]), figure_text(key, section.figures.totals[key])]
        for key in keys
    ]
    # Two pairs of columns side by side: more figures per line, the page stays readable.
    half = (len(cells) + 1) // 2
    rows = [cells[i] + (cells[i + half] if i + half < len(cells) else ["", ""]) for i in range(half)]
    return _table(rows or [["—", "", "", ""]], [55 * mm, 30 * mm, 55 * mm, 30 * mm], font, header=False)


def _children_table(section: ReportSection, font: str, styles: dict[str, ParagraphStyle]) -> Table:
    keys = _numeric_keys(section.figures.totals)[:MAX_TABLE_FIGURES]
    header = [Paragraph("区域", styles["small"])] + [
        Paragraph(_label(section.columns, k), styles["small"]) for k in keys
    ]
    rows: list[list[Any]] = [header]
    for child in section.figures.children[:MAX_CHILD_ROWS]:
        rows.append(
            [Paragraph(child.area.name, styles["small"])] + [figure_text(k, child.figures.get(k)) for k in keys]
        )
    area = section.figures.area
    rows.append(
        [Paragraph(f"{area.name}（合计）", styles["small"])]
        + [figure_text(k, section.figures.totals.get(k)) for k in keys]
    )
    first = 40 * mm
    rest = (170 * mm - first) / max(1, len(keys))
    table = _table(rows, [first] + [rest] * len(keys), font)
    table.setStyle(TableStyle([("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f6f8"))]))
    return table


def _exceptions(section: ReportSection, font: str, styles: dict[str, ParagraphStyle]) -> Table | None:
    items = section.figures.exceptions[:MAX_EXCEPTIONS]
    if not items:
        return None
    rows: list[list[Any]] = [["级别", "对象", "情况", "开始"]]
    for item in items:
        since = item.since.astimezone(LOCAL_TIMEZONE).strftime("%m-%d %H:%M") if item.since else "—"
        rows.append(
            [
                f"{item.severity}级",
                Paragraph(item.subject, styles["small"]),
                Paragraph(item.message, styles["small"]),
                since,
            ]
        )
    table = _table(rows, [14 * mm, 40 * mm, 92 * mm, 24 * mm], font)
    table.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT")]))
    return table


def _is_day(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _chart(section: ReportSection, font: str) -> Drawing | None:
    """The section's chart: its first series by day as a line, or one figure by sub-area as bars."""
    figures = section.figures
    width, height = 170 * mm, 62 * mm
    drawing = Drawing(width, height)
    if section.chart == "series":
        series = [s for s in figures.series if s.points and _is_day(str(s.points[0][0]))][:2]
        if not series:
            return None
        labels = [str(point[0])[5:10] for point in series[0].points]
        chart: HorizontalLineChart | VerticalBarChart = HorizontalLineChart()
        chart.data = [[float(p[1] or 0) for p in s.points] for s in series]
        for index, color in enumerate((colors.HexColor("#0b6bcb"), colors.HexColor("#e65100"))[: len(series)]):
            chart.lines[index].strokeColor = color
            chart.lines[index].strokeWidth = 1.5
        title = "、".join(_label(section.columns, s.key) for s in series) + "（按日）"
        step = max(1, len(labels) // 10)
        chart.categoryAxis.categoryNames = [label if i % step == 0 else "" for i, label in enumerate(labels)]
    elif section.chart:
        key = section.chart
        children = figures.children[:20]
        if not children:
            return None
        if all(child.figures.get(key) is None for child in children):
            return None  # nothing to compare (e.g. a rate over zero everywhere)
        chart = VerticalBarChart()
        values = [float(child.figures.get(key) or 0) for child in children]
        chart.data = [[v * 100 for v in values] if is_share(key) else values]
        chart.bars[0].fillColor = colors.HexColor("#0b6bcb")
        chart.categoryAxis.categoryNames = [child.area.name[:6] for child in children]
        chart.categoryAxis.labels.angle = 30 if len(children) > 6 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(children) > 6 else "n"
        if is_share(key):
            chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
        title = _label(section.columns, key) + ("（%）" if is_share(key) else "") + "：按下级区域"
    else:
        return None
    chart.x, chart.y, chart.width, chart.height = 14 * mm, 14 * mm, width - 20 * mm, height - 24 * mm
    chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = chart.valueAxis.valueMin if chart.valueAxis.valueMin is not None else 0
    drawing.add(chart)
    drawing.add(String(0, height - 8, title, fontName=font, fontSize=9))
    return drawing


def render_report(*, area: AreaRef, month: str, sections: Sequence[ReportSection], generated_at: datetime) -> bytes:
    """The report as PDF bytes: a title, then one part per section."""
    font = _register_font()
    styles = _styles(font)
    out = io.BytesIO()
    level = LEVELS.get(area.level, "")
    title = f"{area.name} 养老服务监管月报（{month[:4]}年{int(month[5:7])}月）"

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#5f6b7a"))
        canvas.drawString(20 * mm, 10 * mm, f"{area.name} · {month} · 虚拟养老院服务平台")
        canvas.drawRightString(190 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="虚拟养老院服务平台",
        subject=f"{area.name} {month}",
    )
    local = generated_at.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%d %H:%M")
    story: list[Any] = [
        Paragraph(title, styles["title"]),
        Paragraph(
            f"{level}：{area.name} · 统计期：{month}（北京时间，按自然日）· 生成时间：{local}"
            " · 指标定义见 docs/supervision.md",
            styles["subtitle"],
        ),
        Spacer(1, 4 * mm),
    ]
    for index, section in enumerate(sections):
        if index:
            story.append(PageBreak())
        figures = section.figures
        story.append(Paragraph(section.title, styles["h2"]))
        story.append(Paragraph(f"{figures.from_.isoformat()} 至 {figures.to.isoformat()}", styles["subtitle"]))
        story.append(Paragraph("主要指标", styles["h3"]))
        story.append(_key_figures(section, font, styles))
        for line in _distributions(figures.totals):
            story.append(Paragraph(line, styles["base"]))
        exceptions = _exceptions(section, font, styles)
        if exceptions is not None:
            story.append(Paragraph(f"异常预警（{len(figures.exceptions)} 项，按严重程度）", styles["h3"]))
            story.append(exceptions)
        chart = _chart(section, font)
        if chart is not None:
            story.append(Spacer(1, 3 * mm))
            story.append(KeepTogether([chart]))
        story.append(Paragraph("下级区域", styles["h3"]))
        story.append(_children_table(section, font, styles))
        for note in section.notes:
            story.append(Paragraph(note, styles["small"]))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def report_sections(
    session: Session,
    *,
    tier: Tier,
    period: Period,
    now: datetime,
    verified_within_m: float,
    task_late_after_minutes: int,
) -> list[ReportSection]:
    """Every section's figures of the tier for the month, as the report prints them."""
    late_after = timedelta(minutes=task_late_after_minutes)
    return [
        ReportSection(
            title="一、紧急呼叫服务",
            figures=alarms_section(session, tier=tier, period=period, now=now),
            columns=section_columns.ALARMS,
            chart="series",
            notes=("接警达标参考 TSA/TEC 质量标准：60 秒内接警率 97.5%，180 秒内接警率 99%。",),
        ),
        ReportSection(
            title="二、探访关爱",
            figures=visits_section(session, tier=tier, period=period, now=now, late_after=late_after),
            columns=section_columns.VISITS,
            chart="visit_rate",
            notes=("探访率 = 已探访 / 应探访；因住院、外出取消的探访不计入应探访。",),
        ),
        ReportSection(
            title="三、助餐服务",
            figures=meals_section(session, tier=tier, period=period, now=now),
            columns=section_columns.MEALS,
            chart="series",
        ),
        ReportSection(
            title="四、智能设备运行",
            figures=devices_section(session, tier=tier, period=period, now=now),
            columns=section_columns.DEVICES,
            chart="online_share",
        ),
        ReportSection(
            title="五、购买服务（月度结算）",
            figures=services_statement(
                session, tier=tier, period=period, now=now, verified_within_m=verified_within_m, limit=0
            ),
            columns=STATEMENT_COLUMNS,
            chart="delivered_share",
            notes=("结算明细（每位老人 × 服务项目 × 服务机构，附服务核验记录）见结算单导出（CSV/XLSX）。",),
        ),
        ReportSection(
            title="六、照料中心与养老机构监测",
            figures=monitor_section(session, tier=tier, period=period, now=now),
            columns=MONITOR_COLUMNS,
            chart="camera_online_share",
        ),
    ]


def monthly_report(
    session: Session,
    *,
    tier: Tier,
    period: Period,
    now: datetime,
    verified_within_m: float,
    task_late_after_minutes: int,
    user_id: int | None = None,
    client_ip: str | None = None,
) -> bytes:
    """The tier's monthly report as PDF bytes (`period` is a `month_period`; a month not over yet ends today).
    It names residents (in the exceptions), so the read is written to the audit log (committed by the caller)."""
    record(
        session,
        user_id=user_id,
        action="read",
        entity="supervision_report",
        entity_id=tier.area.id,
        detail={"month": period.first.strftime("%Y-%m")},
        client_ip=client_ip,
    )
    if period.first <= local_date(now) < period.last:
        period = Period(period.first, local_date(now))
    sections = report_sections(
        session,
        tier=tier,
        period=period,
        now=now,
        verified_within_m=verified_within_m,
        task_late_after_minutes=task_late_after_minutes,
    )
    return render_report(area=tier.area, month=period.first.strftime("%Y-%m"), sections=sections, generated_at=now)
