"""The supervision dashboard (dashboards/supervisor/), in real Chromium against the real API (issue 14).

The API runs on the supervision figures' small fixed world (tests/integration/supervision_support.py: a city, two
districts, streets and communities, a handful of residents, alarms, visits, meals and devices, "now" = TEST_NOW,
14:00 on 22 November in Shanghai) with a vitals monitor of our own at the care center (东青照料中心) for 老人3, whose
heart rate is out of range twice. The numbers the page shows are the ones the figures' tests compute by hand: in
天宁区 from 1 to 22 November, 9 alarms, 22.2 % acknowledged within 60 s, a visit rate of 66.7 %, 2 of 7 devices online
(the figures' 6 and our vitals monitor, which has no status). Screenshots go to docs/screenshots/supervisor-*.png.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pypdfium2 as pdfium
import pytest
import uvicorn
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from eldercare_common.devstack import PostgresInstance, free_port, wait_for_port
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from tests.browser.conftest import DOCS_SCREENSHOTS, screenshot
from tests.conftest import migrated_database
from tests.factories import PASSWORD
from tests.integration.supervision_support import HOME as HOME_OF
from tests.integration.supervision_support import NOW, PATHS, build, local

pytestmark = pytest.mark.browser


HOME = (31.7800, 119.9700)
FAR = (31.8000, 119.9700)  # about 2.2 km north of the home: a check-in there is not verified


def _statement_records(conn: psycopg.Connection[Any]) -> None:
    """Purchased services for the statement: 老人1 entitled to 8 h of bathing a month (government), 老人3 to 6 h of
    cleaning (self-paid); bathing delivered twice by 张护理 (the platform's own) and once by 李护理 (红梅养老院)
    checked in far from home, cleaning once by 李护理."""
    for household in (1, 3):
        conn.execute("UPDATE household SET latitude = %s, longitude = %s WHERE id = %s", (*HOME, household))
    plans = ((501, 1, "bathing", 8, "government"), (502, 3, "cleaning", 6, "self_paid"))
    for plan, resident, service, monthly, funder in plans:
        conn.execute(
            "INSERT INTO care_plan (id, resident_id, version, valid_from, visit_tier, proposed_tier, services,"
            " created_at) OVERRIDING SYSTEM VALUE VALUES (%s, %s, 1, '2026-10-01', 'regular', 'regular', %s, %s)",
            (
                plan,
                resident,
                json.dumps([{"service": service, "hours_per_month": monthly, "funder": funder}]),
                local(10, 1),
            ),
        )
    sessions = [  # resident, service, staff, day, hours, check-in place
        (1, "bathing", 1, 4, 1.5, HOME),
        (1, "bathing", 1, 11, 1.5, HOME),
        (1, "bathing", 2, 18, 2.0, FAR),
        (3, "cleaning", 2, 12, 2.0, HOME),
    ]
    for task, (resident, service, staff, day, hours, place) in enumerate(sessions, start=501):
        start = local(11, day, 9)
        end = start + timedelta(hours=hours)
        conn.execute(
            "INSERT INTO task (id, kind, status, source, service, resident_id, assignee_staff_id, area_path,"
            " window_start, window_end, checked_in_at, completed_at, check_in_latitude, check_in_longitude,"
            " check_out_latitude, check_out_longitude, created_at) OVERRIDING SYSTEM VALUE"
            " VALUES (%s, 'service', 'completed', 'plan', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (task, service, resident, staff, PATHS[HOME_OF[resident]], start, end, start, end, *place, *place, start),
        )


def _monitor_feeds(url: str) -> None:
    """A vitals monitor at the care center for 老人3 (resident 3, community 5): a sample every hour on 20 and 21
    November, the heart rate out of range (130 bpm) at 03:00 on both days; and the statement's records."""
    with psycopg.connect(url, autocommit=True) as conn:
        _statement_records(conn)
        conn.execute(
            "INSERT INTO device (id, serial, kind, model, heartbeat_interval_s, state, care_center_id, resident_id)"
            " OVERRIDING SYSTEM VALUE VALUES (50, 'CC-VIT-1', 'vitals_monitor', 'V-1', 60, 'active', 1, 3)"
        )
        for day in (20, 21):
            for hour in range(24):
                heart = 130 if hour == 3 else 70 + hour % 5
                conn.execute(
                    "INSERT INTO telemetry (time, device_serial, kind, data) VALUES (%s, 'CC-VIT-1', 'vitals', %s)",
                    (local(11, day, hour), json.dumps({"heart_rate": heart, "spo2": 97, "resident_ref": "R000003"})),
                )


@pytest.fixture(scope="module")
def sv_api(postgres: PostgresInstance) -> Iterator[str]:
    """The API on the figures' world, its clock fixed at TEST_NOW, no broker (nothing here is live)."""
    url = migrated_database(postgres, "supervision_pages")
    build(url)
    _monitor_feeds(url)
    settings = ApiSettings(environment="test", database_url=url, mqtt_url="mqtt://127.0.0.1:1")
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, connect_broker=False, clock=FixedClock(NOW)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def sign_in(page: Page, base: str, username: str) -> None:
    page.on("console", lambda message: print("console:", message.type, message.text))
    page.on("pageerror", lambda error: print("pageerror:", error, error.stack))
    page.on("response", lambda r: print("resp:", r.status, r.url) if r.status >= 400 else None)
    page.goto(f"{base}/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def loaded(page: Page, tab: str) -> None:
    expect(page.locator(f"body[data-section={tab}][data-loading=no]")).to_be_attached(timeout=15_000)


def tile(page: Page, key: str) -> str:
    return page.locator(f"#tiles [data-figure='{key}'] .value").inner_text()


def test_a_district_supervisor_sees_exceptions_first_figures_charts_and_drills_down(
    page: Page, sv_api: str, tmp_path: Path
) -> None:
    sign_in(page, sv_api, "sv_district")
    expect(page).to_have_url(re.compile(r"/ui/supervisor/(\?.*)?$"))  # supervisors land here
    loaded(page, "alarms")
    expect(page.locator("#area-title")).to_have_text("天宁区")
    expect(page.locator("#period-title")).to_contain_text("2026-11-01 至 2026-11-22")  # this month to today
    # Exceptions first: the worst (an alarm never acknowledged) at the top, above the tiles.
    first = page.locator("#exceptions li").first
    expect(first).to_have_attribute("data-kind", "alarm_unanswered")
    expect(first.locator(".kind")).to_have_text("告警超时未接")
    exceptions_box = page.locator("#exceptions-panel").bounding_box()
    tiles_box = page.locator("#tiles-panel").bounding_box()
    assert exceptions_box and tiles_box and exceptions_box["y"] < tiles_box["y"]
    # The figures, as computed by hand in the figures' tests, in the page's words.
    assert tile(page, "alarms") == "9"
    assert tile(page, "ack_within_60s_share") == "22.2%"
    assert tile(page, "ack_p50_s") == "1分钟35秒"
    assert tile(page, "alarms_per_1000_residents") == "2,250"
    expect(page.locator("#tiles [data-figure='ack_within_60s_share'] .label")).to_have_text("60秒接警率")
    # ECharts (served from our origin): the daily trend, the streets compared, alarms by type.
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    expect(page.locator("#trend-chart")).to_have_attribute("data-series", "1")  # alarms per day (by hour: a choice)
    expect(page.locator("#compare-chart")).to_have_attribute("data-bars", "2")
    # alarms by type: sos, fall, inactivity, bed exit, meal not collected
    expect(page.locator("#dist-chart")).to_have_attribute("data-slices", "5")
    expect(page.locator("#dist-group")).to_have_value("type")
    rows = page.locator("#children tbody tr")
    expect(rows).to_have_count(3)  # two streets and the district's total
    expect(rows.nth(0).locator("td").first).to_have_text("红梅街道")
    expect(rows.nth(2)).to_have_class(re.compile("totals"))
    screenshot(page, "supervisor-district-alarms", docs=True)

    # Exports: the children table and a totals row, as CSV (UTF-8 with BOM) and XLSX.
    with page.expect_download() as download:
        page.click("#export-csv")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:3] == ["区域", "层级", "告警数"] and [row[0] for row in table[1:]] == [
        "红梅街道",
        "茶山街道",
        "天宁区（合计）",
    ]
    with page.expect_download() as download:
        page.click("#export-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert sheet is not None
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["红梅街道", "茶山街道", "天宁区（合计）"]

    # The monthly report of the tier (PDF): every section, in Chinese.
    with page.expect_download() as download:
        page.click("#report-pdf")
    assert download.value.suggested_filename == "supervision-report-2-2026-11.pdf"
    pdf = pdfium.PdfDocument(download.value.path())
    assert len(pdf) >= 6
    assert "天宁区 养老服务监管月报（2026年11月）" in pdf[0].get_textpage().get_text_range()
    for index in range(len(pdf)):
        picture = pdf[index].render(scale=1.4).to_pil()
        assert sum(picture.convert("L").histogram()[:128]) > 5_000, f"page {index + 1} is (nearly) blank"
        if index == 0:
            picture.save(DOCS_SCREENSHOTS / "supervisor-report-page1.png")  # the docs show the first page
    pdf.close()

    # Drill-down: the district → a street → a community; the breadcrumb leads back up.
    rows.nth(0).locator("button.drill").click()
    loaded(page, "alarms")
    expect(page.locator("#crumbs")).to_have_text(re.compile(r"天宁区\s*›\s*红梅街道"))
    assert tile(page, "alarms") == "7"
    expect(page.locator("#children tbody tr")).to_have_count(3)  # 红梅社区, 东青社区, total
    page.locator("#children tbody tr").first.locator("button.drill").click()
    loaded(page, "alarms")
    expect(page.locator("#crumbs")).to_have_text(re.compile(r"天宁区\s*›\s*红梅街道\s*›\s*红梅社区"))
    expect(page.locator("#table-note")).to_contain_text("已是最末一级")
    # A community lists its residents (老人1, 老人2 and 老人6, deceased), each with the monitor's drill-down.
    expect(page.locator("#residents tbody tr")).to_have_count(3)
    expect(page.locator("#residents tr[data-resident='6']")).to_contain_text("已故")
    screenshot(page, "supervisor-community-residents", docs=True)
    assert "area=4" in page.url
    page.locator("#crumbs button[data-area='2']").click()
    loaded(page, "alarms")
    expect(page.locator("#area-title")).to_have_text("天宁区")

    # Visits: 探访率 and the caregivers' table.
    page.click("[data-tab=visits]")
    loaded(page, "visits")
    assert tile(page, "visit_rate") == "66.7%"
    expect(page.locator("#exceptions li").first).to_have_attribute("data-kind", "visit_missed")
    expect(page.locator("#extra-panel")).to_be_visible()
    expect(page.locator("#extra tbody")).to_contain_text("张护理")
    screenshot(page, "supervisor-district-visits", docs=True)

    page.click("[data-tab=meals]")
    loaded(page, "meals")
    expect(page.locator("#tiles [data-figure=orders]")).to_be_visible()
    page.click("[data-tab=devices]")
    loaded(page, "devices")
    assert tile(page, "online_share") == "28.6%"  # 2 of the figures' 6 devices online, and our monitor (silent)
    expect(page.locator("#exceptions li").first).to_have_attribute("data-kind", "device_fault_uncovered")
    # 查看 opens the record behind an exception: here the fault alarm of HOME-2 (GET /api/alarms/23)
    page.locator("#exceptions li").first.locator("button").click()
    expect(page.locator("#record-title")).to_contain_text("HOME-2")
    expect(page.locator("#drawer table.record")).to_contain_text("low_battery")
    page.click("#drawer-close")
    screenshot(page, "supervisor-district-devices", docs=True)

    page.click("[data-tab=services]")
    loaded(page, "services")
    expect(page.locator("#month")).to_have_value("2026-11")
    expect(page.locator("#table-title")).to_contain_text("购买服务结算单（2026-11）")
    # 老人1's bathing: the platform's own (2 sessions, 3 h, verified) and 红梅养老院 (1 session, 2 h, not verified)
    lines = page.locator("#children > tbody > tr")
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_contain_text("平台自有")
    expect(lines.nth(0).locator("[data-figure=hours_delivered]")).to_have_text("3")
    expect(page.locator("#exceptions li[data-kind=evv_unverified]")).to_have_count(1)
    lines.nth(0).locator("summary").click()
    expect(lines.nth(0).locator("table.evidence tbody tr")).to_have_count(2)
    screenshot(page, "supervisor-district-services", docs=True)

    # The care-center monitor: the camera that sent no link status is an exception (视频监控应接尽接), the heart
    # rate out of range too; a resident's drill-down draws the trend with the out-of-range marks.
    page.click("[data-tab=monitor]")
    loaded(page, "monitor")
    kinds = page.locator("#exceptions li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert "camera_offline" in kinds and "vitals_out_of_range" in kinds
    expect(page.locator("#extra tbody")).to_contain_text("东青照料中心")
    screenshot(page, "supervisor-district-monitor", docs=True)
    page.locator("#exceptions li[data-kind=vitals_out_of_range] button").first.click()
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#resident-title")).to_contain_text("老人3")
    expect(page.locator("#vitals-chart")).to_have_attribute("data-out-of-range", "2", timeout=10_000)
    expect(page.locator("#vitals-summary")).to_contain_text("超出范围 2 次")
    screenshot(page, "supervisor-monitor-resident", docs=True)


def test_a_street_supervisor_stays_in_their_street_and_reads_english(page: Page, sv_api: str) -> None:
    sign_in(page, sv_api, "sv_street")
    expect(page).to_have_url(re.compile(r"/ui/supervisor/(\?.*)?$"))
    loaded(page, "alarms")
    expect(page.locator("#area-title")).to_have_text("红梅街道")
    assert tile(page, "alarms") == "7"
    page.goto(f"{sv_api}/ui/supervisor/?tab=alarms&area=2")  # the district above: outside the scope
    loaded(page, "alarms")
    expect(page.locator("#banner")).to_contain_text("未找到该区域")
    page.goto(f"{sv_api}/ui/supervisor/?tab=visits")
    loaded(page, "visits")
    page.click("#lang")
    loaded(page, "visits")
    expect(page.locator("[data-tab=visits]")).to_have_text("Visits")
    expect(page.locator("#tiles [data-figure=visit_rate] .label")).to_have_text("Visit rate")
    assert tile(page, "visit_rate") == "75.0%"
    screenshot(page, "supervisor-street-visits-en", docs=True)
    page.click("#lang")  # back to Chinese for the next test in this browser context


def test_an_institution_supervisor_sees_their_institution_and_an_operator_is_refused(page: Page, sv_api: str) -> None:
    sign_in(page, sv_api, "sv_institution")
    loaded(page, "alarms")
    expect(page.locator("#area-title")).to_have_text("红梅社区")  # the institution's community
    page.click("[data-tab=devices]")
    loaded(page, "devices")
    assert tile(page, "devices") == "1"  # the institution's mattress only
    sign_in(page, sv_api, "sv_operator")
    expect(page).to_have_url(re.compile(r"/ui/operator/$"))
    page.goto(f"{sv_api}/ui/supervisor/")
    expect(page.locator("#refused")).to_contain_text("您的角色无权查看监管数据")
