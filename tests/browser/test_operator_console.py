"""The operator console end to end, in real headless Chromium: device SOS → console → acknowledge → the device
hears "call received" → resolve. Also: catching up across a platform restart, and the docs screenshot."""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.settings import DEMO_DEVICE_SECRET
from eldercare_gateway.service import Gateway
from eldercare_platform.seed.generator import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, screenshot
from tests.conftest import psql
from tests.integration.gateway_support import mosquitto_pub

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def sign_in_operator(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    page.fill("#username", "operator1")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/operator/$"))
    expect(page.locator("#live")).to_have_attribute("data-state", "open")


def open_alarm_of(seeded_url: str, serial: str) -> int:
    """The id of the open alarm a device's press opened (the gateway and intake take a moment). Tests find
    their row by this id: other tests leave open alarms of the same type in the shared queue."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rows = psql(
            seeded_url, "SELECT id FROM alarm WHERE device_serial = %s AND state <> 'resolved' ORDER BY id", (serial,)
        )
        if rows:
            return int(rows[-1][0])
        time.sleep(0.2)
    raise AssertionError(f"no alarm opened for {serial}")


def card_loaded(page: Page, alarm_id: int) -> None:
    """Wait until the detail panel shows this alarm's card (its heading and card blocks): only then do actions
    and shortcuts work."""
    expect(page.locator("#detail h2")).to_have_text(re.compile(rf"^#{alarm_id}\b"), timeout=10_000)
    expect(page.locator("#detail h3").first).to_be_visible()


def home_units(seeded_url: str, count: int, offset: int) -> list[str]:
    rows = psql(
        seeded_url,
        "SELECT serial FROM device WHERE kind = 'home_alarm_unit' ORDER BY id OFFSET %s LIMIT %s",
        (offset, count),
    )
    return [row[0] for row in rows]


def press(broker: MosquittoInstance, serial: str, event_id: str, kind: str = "sos") -> None:
    body = json.dumps({"event_id": event_id, "type": kind, "ts": datetime.now(UTC).isoformat()})
    result = mosquitto_pub(
        broker,
        username=serial,
        password=demo_device_password(serial, DEMO_DEVICE_SECRET),
        topic=f"eldercare/v1/dev/{serial}/up/event",
        message=body,
    )
    assert result.returncode == 0, result.stderr


def test_sos_to_console_to_device_and_back(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    [serial] = home_units(seeded_url, 1, 0)
    sign_in_operator(page, live_api)
    listener = subprocess.Popen(
        [
            "stdbuf",
            "-oL",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(browser_broker.port),
            "-u",
            serial,
            "-P",
            demo_device_password(serial, DEMO_DEVICE_SECRET),
            "-t",
            f"eldercare/v1/dev/{serial}/down/feedback",
            "-q",
            "1",
            "-C",
            "1",
            "-W",
            "60",
            "-d",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert listener.stdout is not None
    for line in listener.stdout:
        if "SUBACK" in line:
            break

    started = time.monotonic()
    press(browser_broker, serial, "e2e-sos-1")
    alarm_id = open_alarm_of(seeded_url, serial)
    row = page.locator(f"#queue tbody tr[data-alarm-id='{alarm_id}']")
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("紧急呼叫")
    print(f"device publish → row on the console: {(time.monotonic() - started) * 1000:.0f} ms")
    expect(row).to_have_class(re.compile(r"\bnew\b"))
    expect(page.locator("#banner")).to_contain_text("新的紧急告警")

    row.click()
    expect(page.locator("#detail h2")).to_contain_text(f"#{alarm_id}")
    expect(page.locator("#detail")).to_contain_text("紧急联系人")
    page.click("button[data-action=acknowledge]")
    expect(page.locator(f"#queue tr[data-alarm-id='{alarm_id}'] .state")).to_have_text("已接警")

    out, _ = listener.communicate(timeout=30)
    feedback = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert feedback and feedback[-1]["state"] == "call_received" and feedback[-1]["event_id"] == "e2e-sos-1"

    page.click("button[data-action=call-reached]")
    expect(page.locator(f"#queue tr[data-alarm-id='{alarm_id}'] .state")).to_have_text("处理中")
    page.click("button[data-action=resolve]")
    page.select_option("#outcome", "assisted_by_phone")
    page.select_option("#reach-method", "phone")
    page.fill("#resolve-notes", "老人误触, 电话确认安全")
    page.click("#resolve-submit")
    expect(page.locator(f"#queue tr[data-alarm-id='{alarm_id}']")).to_have_count(0)
    state = psql(seeded_url, "SELECT state, outcome, reach_method FROM alarm WHERE id = %s", (alarm_id,))
    assert state == [("resolved", "assisted_by_phone", "phone")]
    actions = [
        r[0]
        for r in psql(seeded_url, "SELECT action FROM alarm_transition WHERE alarm_id = %s ORDER BY id", (alarm_id,))
    ]
    assert actions == ["opened", "acknowledge", "call_back", "resolve"]


def test_console_catches_up_after_a_platform_restart(
    page: Page, live_server: LiveServer, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    first, second = home_units(seeded_url, 2, 10)
    sign_in_operator(page, live_server.url)
    live_server.stop()
    expect(page.locator("#live")).not_to_have_attribute("data-state", "open", timeout=10_000)
    press(browser_broker, first, "while-down-1")  # the gateway stores it; no API is running to announce it
    time.sleep(1.0)
    live_server.start()
    expect(page.locator("#live")).to_have_attribute("data-state", "open", timeout=15_000)
    name = psql(
        seeded_url,
        "SELECT r.name FROM device d JOIN resident r ON r.household_id = d.household_id"
        " WHERE d.serial = %s ORDER BY r.id LIMIT 1",
        (first,),
    )[0][0]
    expect(page.locator("#queue tbody", has_text=name)).to_be_visible(timeout=10_000)
    press(browser_broker, second, "after-restart-1")
    name2 = psql(
        seeded_url,
        "SELECT r.name FROM device d JOIN resident r ON r.household_id = d.household_id"
        " WHERE d.serial = %s ORDER BY r.id LIMIT 1",
        (second,),
    )[0][0]
    expect(page.locator("#queue tbody", has_text=name2)).to_be_visible(timeout=10_000)


def test_keyboard_shortcuts_and_english(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    [serial] = home_units(seeded_url, 1, 20)
    sign_in_operator(page, live_api)
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("Alarm console")
    press(browser_broker, serial, "keys-1")
    alarm_id = open_alarm_of(seeded_url, serial)
    row = page.locator(f"#queue tbody tr[data-alarm-id='{alarm_id}']")
    expect(row).to_contain_text("SOS call", timeout=10_000)
    row.click()
    card_loaded(page, alarm_id)
    page.keyboard.press("a")
    expect(row.locator(".state")).to_have_text("Acknowledged")
    page.keyboard.press("x")
    expect(row.locator(".state")).to_have_text("In progress")
    page.keyboard.press("r")
    page.select_option("#reach-method", "not_reached")
    page.click("#resolve-submit")
    expect(page.locator("#resolve-error")).to_contain_text("dispatch")
    page.click("#resolve-dialog button[value=cancel]")
    page.keyboard.press("d")
    expect(page.locator("#detail")).to_contain_text("Dispatched")
    page.evaluate("localStorage.setItem('locale', 'zh-CN')")


def test_realistic_queue_screenshot(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    """A queue as an operator meets it at night; the picture goes to docs/ (docs/screenshots/)."""
    kinds = ["sos", "fall", "sos", "smoke", "abnormal_vitals", "inactivity", "door_open", "sos"]
    serials = home_units(seeded_url, len(kinds), 40)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in_operator(page, live_api)
    for index, (serial, kind) in enumerate(zip(serials, kinds, strict=True)):
        press(browser_broker, serial, f"shot-{index}", kind)
    low = psql(seeded_url, "SELECT serial FROM device WHERE kind = 'smoke_sensor' ORDER BY id LIMIT 1")[0][0]
    press(browser_broker, low, "shot-tamper", "tamper")
    expect(page.locator("#queue tbody tr", has_text="烟雾报警")).to_be_visible(timeout=10_000)
    expect(page.locator("#queue tbody tr", has_text="设备被拆")).to_be_visible(timeout=10_000)
    assert page.locator("#queue tbody tr").count() >= len(kinds) + 1
    taken = open_alarm_of(seeded_url, serials[2])  # one of this test's SOS calls: others may be taken already
    page.locator(f"#queue tbody tr[data-alarm-id='{taken}']").click()
    card_loaded(page, taken)
    page.click("button[data-action=acknowledge]")
    page.click("button[data-action=call-no-answer]")
    page.locator("#queue tbody tr").first.click()
    expect(page.locator("#detail")).to_contain_text("附近可派护理员")
    path = screenshot(page, "operator-console", docs=True)
    assert path.stat().st_size > 20_000
