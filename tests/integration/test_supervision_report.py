"""The monthly report endpoint (`GET /api/supervision/report.pdf`) through the API: the PDF's pages are turned
into pictures with pypdfium2 and looked at (not blank), its text is read back (the tier's name in Chinese, every
section), and the scope holds (a street supervisor gets no report of the district above them; an operator none at
all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.audit.models import AuditLog
from eldercare_platform.supervision.report import find_font
from eldercare_platform.users.models import Role
from tests import factories as f

PICTURES = Path(__file__).resolve().parents[2] / "var" / "test" / "report"


@pytest.fixture
def tiers(db: Session) -> dict[str, Any]:
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="雕庄街道", level=AreaLevel.STREET, parent=district)
    other = f.area(db, name="红梅街道", level=AreaLevel.STREET, parent=district)
    community = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=street)
    f.resident(db, community=community, name="张桂英")
    return {
        "district": district,
        "street": street,
        "other": other,
        "district_supervisor": f.user(db, role=Role.SUPERVISOR, scope_area=district),
        "street_supervisor": f.user(db, role=Role.SUPERVISOR, scope_area=street),
        "operator": f.user(db, role=Role.OPERATOR),
    }


@pytest.mark.skipif(find_font() is None, reason="no TrueType CJK font: run scripts/bootstrap.sh")
def test_the_monthly_report_renders_for_the_tier_and_keeps_to_the_scope(
    client: TestClient, db: Session, tiers: dict[str, Any]
) -> None:
    district, street = tiers["district"], tiers["street"]
    headers = f.login(client, tiers["district_supervisor"].username)
    response = client.get(f"/api/supervision/report.pdf?area_id={district.id}&month=2026-11", headers=headers)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert f"supervision-report-{district.id}-2026-11.pdf" in response.headers["content-disposition"]
    pdf = pdfium.PdfDocument(response.content)
    pages = len(pdf)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(pages))
    assert "天宁区 养老服务监管月报（2026年11月）" in text
    sections = (
        "紧急呼叫服务",
        "探访关爱",
        "助餐服务",
        "智能设备运行",
        "购买服务（月度结算）",
        "照料中心与养老机构监测",
    )
    for section in sections:
        assert section in text, section
    assert "雕庄街道" in text and "红梅街道" in text  # the sub-areas' rows
    assert pages >= len(sections)  # a page (or more) per section
    PICTURES.mkdir(parents=True, exist_ok=True)
    for index in range(pages):
        image = pdf[index].render(scale=1).to_pil().convert("L")
        assert sum(image.histogram()[:128]) > 2_000, f"page {index + 1} is (nearly) blank"
        image.save(PICTURES / f"report-api-page{index + 1}.png")
    pdf.close()

    audit = db.exec(select(AuditLog).where(AuditLog.entity == "supervision_report")).all()
    assert [(row.action, row.entity_id, row.detail) for row in audit] == [
        ("read", str(district.id), {"month": "2026-11"})
    ]

    own = client.get(
        "/api/supervision/report.pdf?month=2026-11", headers=f.login(client, tiers["street_supervisor"].username)
    )
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert "雕庄街道" in pdfium.PdfDocument(own.content)[0].get_textpage().get_text_range()
    street_headers = f.login(client, tiers["street_supervisor"].username)
    above = client.get(f"/api/supervision/report.pdf?area_id={district.id}&month=2026-11", headers=street_headers)
    assert above.status_code == 404 and above.json()["code"] == "area_not_found"
    beside = client.get(f"/api/supervision/report.pdf?area_id={tiers['other'].id}", headers=street_headers)
    assert beside.status_code == 404
    assert (
        client.get(f"/api/supervision/report.pdf?area_id={street.id}&month=2026-13", headers=headers).status_code == 422
    )
    operator = f.login(client, tiers["operator"].username)
    assert client.get("/api/supervision/report.pdf", headers=operator).status_code == 403
