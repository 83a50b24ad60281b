"""The console never lets an operator act on the wrong alarm, shows only what the role may use, speaks zh-CN
without raw codes, and words conflicts in Asia/Shanghai time (issue 9, findings 3, 4 and 6), in real Chromium."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from eldercare_common.devstack import MosquittoInstance
from eldercare_gateway.service import Gateway
from eldercare_platform.seed.generator import DEMO_PASSWORD
from tests.browser.conftest import screenshot
from tests.browser.test_operator_console import card_loaded, home_units, open_alarm_of, press, sign_in_operator
from tests.conftest import psql

pytestmark = pytest.mark.browser
# Raw codes an operator must never read on the zh-CN console.
RAW = re.compile(r"\b(sos|online|offline|fall|escalation_\w+|heart_rate|spo2|device_silent_\w*)\b|\?%|\{\"")


def resident_of(seeded_url: str, serial: str) -> str:
    return str(
        psql(
            seeded_url,
            "SELECT r.name FROM device d JOIN resident r ON r.household_id = d.household_id"
            " WHERE d.serial = %s ORDER BY r.id LIMIT 1",
            (serial,),
        )[0][0]
    )


def alarm_state(seeded_url: str, alarm_id: int) -> str:
    return str(psql(seeded_url, "SELECT state FROM alarm WHERE id = %s", (alarm_id,))[0][0])


def row(page: Page, alarm_id: int) -> Any:
    return page.locator(f"#queue tbody tr[data-alarm-id='{alarm_id}']")


def press_every_shortcut(page: Page) -> None:
    for key in "acxder":
        page.keyboard.press(key)
        if page.locator("#resolve-dialog[open]").count():
            page.keyboard.press("Escape")


def test_a_failed_card_load_clears_the_panel_and_disables_every_action(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    first, second = home_units(seeded_url, 2, 60)
    sign_in_operator(page, live_api)
    press(browser_broker, first, "card-fail-1")
    press(browser_broker, second, "card-fail-2")
    a, b = open_alarm_of(seeded_url, first), open_alarm_of(seeded_url, second)
    resident_a = resident_of(seeded_url, first)
    assert resident_a != resident_of(seeded_url, second)
    # The platform fails on the second alarm's card the way an unhandled error does: 500, plain text.
    page.route(
        f"**/api/alarms/{b}/card",
        lambda route: route.fulfill(status=500, content_type="text/plain", body="Internal Server Error"),
    )

    row(page, a).click()
    card_loaded(page, a)
    expect(page.locator("#detail")).to_contain_text(resident_a)
    expect(page.locator("#detail button[data-action=acknowledge]")).to_be_enabled()

    row(page, b).click()
    detail = page.locator("#detail")
    expect(page.locator("#banner")).to_contain_text("服务器内部错误")
    expect(page.locator("#banner")).not_to_contain_text("HTTP")
    expect(detail).not_to_contain_text(resident_a)  # the previous alarm's resident is gone
    expect(detail).to_have_attribute("data-state", "failed")
    expect(detail).to_contain_text(f"#{b}")
    expect(detail.locator("button[data-action]")).not_to_have_count(0)
    expect(detail.locator("button[data-action]:enabled")).to_have_count(0)
    press_every_shortcut(page)
    page.wait_for_timeout(500)
    assert (alarm_state(seeded_url, a), alarm_state(seeded_url, b)) == ("new", "new"), "no action reached any alarm"
    screenshot(page, "console-card-failed", docs=True)


def test_until_the_selected_alarms_card_arrives_nothing_of_the_previous_one_stays_or_acts(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    first, second = home_units(seeded_url, 2, 62)
    sign_in_operator(page, live_api)
    press(browser_broker, first, "card-slow-1")
    press(browser_broker, second, "card-slow-2")
    a, b = open_alarm_of(seeded_url, first), open_alarm_of(seeded_url, second)
    resident_a, resident_b = resident_of(seeded_url, first), resident_of(seeded_url, second)
    held: list[Route] = []
    # The second card hangs until the test lets it go.
    page.route(f"**/api/alarms/{b}/card", lambda route: held.append(route))

    row(page, a).click()
    card_loaded(page, a)
    row(page, b).click()
    detail = page.locator("#detail")
    expect(detail).not_to_contain_text(resident_a)
    expect(detail.locator("button[data-action]:enabled")).to_have_count(0)
    expect(detail).to_have_attribute("data-state", "loading")
    press_every_shortcut(page)
    expect(page.locator("#banner")).to_contain_text("尚未加载完成")
    assert (alarm_state(seeded_url, a), alarm_state(seeded_url, b)) == ("new", "new")

    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    held[0].continue_()
    card_loaded(page, b)
    expect(detail).to_contain_text(resident_b)
    page.click("#detail button[data-action=acknowledge]")
    expect(row(page, b).locator(".state")).to_have_text("已接警")
    assert (alarm_state(seeded_url, a), alarm_state(seeded_url, b)) == ("new", "acknowledged")


def test_a_supervisor_sees_the_queue_without_any_action(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    [serial] = home_units(seeded_url, 1, 64)
    press(browser_broker, serial, "supervisor-view-1")
    alarm_id = open_alarm_of(seeded_url, serial)
    page.goto(f"{live_api}/")
    page.fill("#username", "supervisor_district")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/supervisor/(\?.*)?$"))
    page.click("#console-link")
    expect(page).to_have_url(re.compile(r"/ui/operator/$"))
    expect(page.locator("#live")).to_have_attribute("data-state", "open")
    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    detail = page.locator("#detail")
    expect(detail).to_contain_text("紧急联系人")
    expect(detail.locator("button[data-action]")).to_have_count(0)
    expect(detail.locator("[data-read-only]")).to_have_text("只读：您可以查看告警，但不能处理")
    expect(page.locator("#note-input")).to_have_count(0)
    expect(page.locator(".keys")).not_to_contain_text("接警")
    press_every_shortcut(page)
    page.wait_for_timeout(500)
    assert alarm_state(seeded_url, alarm_id) == "new"
    screenshot(page, "console-supervisor-read-only", docs=True)


def test_zh_cn_console_shows_no_raw_codes(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    [serial] = home_units(seeded_url, 1, 65)
    press(browser_broker, serial, "no-raw-codes-1")
    alarm_id = open_alarm_of(seeded_url, serial)
    # What the card shows of the home: a device whose battery is unknown, vitals, and trace lines with a
    # system reason written as a code (as the escalation job writes it now) and one stored as text before that.
    psql(
        seeded_url,
        "INSERT INTO device_status (device_serial, online, last_seen_at, battery_pct) VALUES (%s, true, now(), NULL)"
        " ON CONFLICT (device_serial) DO UPDATE SET online = true, battery_pct = NULL, last_seen_at = now()",
        (serial,),
    )
    psql(
        seeded_url,
        "INSERT INTO telemetry (time, device_serial, kind, data) VALUES (now(), %s, 'vitals', %s)",
        (serial, json.dumps({"heart_rate": 76, "spo2": 97})),
    )
    legacy = "无人接警: 再次提醒全体坐席 re-alert every operator"
    psql(
        seeded_url,
        "INSERT INTO alarm_transition (alarm_id, at, action, from_state, to_state, reason, detail) VALUES"
        " (%s, now(), 'escalate', 'new', 'new', %s, '{\"level\": 1}'),"
        " (%s, now(), 'escalate', 'new', 'new', 'escalation_supervisor',"
        ' \'{"level": 2, "reason_code": "escalation_supervisor", "after_s": 90}\')',
        (alarm_id, legacy, alarm_id),
    )
    sign_in_operator(page, live_api)
    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    detail = page.locator("#detail")
    expect(detail).to_contain_text("紧急呼叫")
    text = detail.inner_text()
    assert "在线" in text and "电量未知" in text and "心率 76" in text, text
    assert "超过 1分钟30秒 仍无人接警：已通知值班主管" in text, text
    assert legacy in text, "a reason stored as text before reasons became codes is shown as written"
    assert not RAW.findall(text.replace(legacy, "")), RAW.findall(text)
    queue = page.locator("#queue").inner_text()
    assert not RAW.findall(queue), RAW.findall(queue)


def test_a_conflict_is_told_in_shanghai_time(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    [serial] = home_units(seeded_url, 1, 66)
    frozen: set[int] = set()

    def live(ws: WebSocketRoute) -> None:
        """Pass the live socket through, except changes of the alarms this console must not hear about."""
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message))

        def to_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "alarm" and data["alarm"]["id"] in frozen:
                return
            ws.send(message)

        server.on_message(to_page)

    page.route_web_socket(re.compile(r"/api/alarms/live"), live)
    sign_in_operator(page, live_api)
    press(browser_broker, serial, "conflict-1")
    alarm_id = open_alarm_of(seeded_url, serial)
    expect(row(page, alarm_id)).to_be_visible(timeout=10_000)
    frozen.add(alarm_id)  # the console misses that another operator takes it

    token = httpx.post(f"{live_api}/api/auth/token", data={"username": "operator2", "password": DEMO_PASSWORD})
    taken = httpx.post(
        f"{live_api}/api/alarms/{alarm_id}/acknowledge",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert taken.status_code == 200, taken.text
    # Pin the time the other operator took it: 06:00:05 UTC is 14:00:05 in Shanghai.
    psql(seeded_url, "UPDATE alarm SET acknowledged_at = '2026-11-22T06:00:05Z' WHERE id = %s", (alarm_id,))
    other = psql(seeded_url, "SELECT full_name FROM app_user WHERE username = 'operator2'")[0][0]

    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    page.click("#detail button[data-action=acknowledge]")
    banner = page.locator("#banner")
    expect(banner).to_contain_text(f"告警 #{alarm_id}：已由 {other} 于 2026/11/22 14:00:05 接警")
    expect(banner).not_to_contain_text("UTC")
    expect(banner).not_to_contain_text("06:00:05")
