"""Live updates never take away what the operator is typing or has chosen (issue 10): a push of an unrelated
alarm, or of the selected alarm itself, leaves the half-typed note (its text, focus and caret), the resolve
dialog's fields and the dispatch choice as they were; the next key still goes into the note, not to a shortcut."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from eldercare_common.devstack import MosquittoInstance
from eldercare_gateway.service import Gateway
from eldercare_platform.seed.generator import DEMO_PASSWORD
from tests.browser.conftest import screenshot
from tests.browser.test_console_safety import alarm_state, row
from tests.browser.test_operator_console import card_loaded, home_units, open_alarm_of, press, sign_in_operator
from tests.conftest import psql

pytestmark = pytest.mark.browser

HALF_NOTE = "家属说老人在卫生间"


def other_operator(base: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/auth/token", data={"username": "operator2", "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def push_unrelated_alarm(page: Page, broker: MosquittoInstance, seeded_url: str, serial: str, event_id: str) -> None:
    """A new alarm from another home, through the real gateway and intake, until the console shows it."""
    press(broker, serial, event_id)
    expect(row(page, open_alarm_of(seeded_url, serial))).to_be_visible(timeout=10_000)


def caret(page: Page, selector: str) -> list[int]:
    return list(page.eval_on_selector(selector, "node => [node.selectionStart, node.selectionEnd]"))


def test_a_half_typed_note_survives_pushes_with_its_focus_and_caret(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    mine, unrelated, later = home_units(seeded_url, 3, 70)
    sign_in_operator(page, live_api)
    press(browser_broker, mine, "note-keep-1")
    alarm_id = open_alarm_of(seeded_url, mine)
    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    note = page.locator("#note-input")
    note.click()
    page.keyboard.type(HALF_NOTE)

    push_unrelated_alarm(page, browser_broker, seeded_url, unrelated, "note-keep-2")
    page.wait_for_timeout(300)  # the console has refreshed the queue and the detail panel
    expect(note).to_have_value(HALF_NOTE)
    expect(note).to_be_focused()
    assert caret(page, "#note-input") == [len(HALF_NOTE), len(HALF_NOTE)]

    # Another operator writes on the same alarm: its trace changes on screen, the note being typed does not.
    written = httpx.post(
        f"{live_api}/api/alarms/{alarm_id}/notes", headers=other_operator(live_api), json={"text": "另一坐席的备注"}
    )
    assert written.status_code == 200, written.text
    expect(page.locator("#detail .trace")).to_contain_text("另一坐席的备注", timeout=10_000)
    push_unrelated_alarm(page, browser_broker, seeded_url, later, "note-keep-3")
    expect(note).to_have_value(HALF_NOTE)
    expect(note).to_be_focused()

    # Typing goes on into the note: "a" is a letter here, not the acknowledge shortcut.
    page.keyboard.type("a，已上门")
    expect(note).to_have_value(HALF_NOTE + "a，已上门")
    assert alarm_state(seeded_url, alarm_id) == "new"
    page.click("#detail button[data-action=note]")
    expect(page.locator("#detail .trace")).to_contain_text(HALF_NOTE + "a，已上门", timeout=10_000)
    expect(note).to_have_value("")


def test_the_resolve_dialog_keeps_its_fields_through_pushes(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    mine, unrelated = home_units(seeded_url, 2, 74)
    sign_in_operator(page, live_api)
    press(browser_broker, mine, "resolve-keep-1")
    alarm_id = open_alarm_of(seeded_url, mine)
    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    page.click("#detail button[data-action=acknowledge]")
    page.click("#detail button[data-action=call-reached]")
    expect(row(page, alarm_id).locator(".state")).to_have_text("处理中")
    page.click("#detail button[data-action=resolve]")
    page.select_option("#outcome", "false_alarm")
    page.select_option("#reach-method", "device_voice")
    page.locator("#resolve-notes").click()
    page.keyboard.type("老人说是误按")

    push_unrelated_alarm(page, browser_broker, seeded_url, unrelated, "resolve-keep-2")
    page.wait_for_timeout(300)
    expect(page.locator("#resolve-dialog")).to_have_attribute("open", "")
    expect(page.locator("#outcome")).to_have_value("false_alarm")
    expect(page.locator("#reach-method")).to_have_value("device_voice")
    expect(page.locator("#resolve-notes")).to_have_value("老人说是误按")
    expect(page.locator("#resolve-notes")).to_be_focused()
    page.keyboard.type("，已确认安全")
    page.click("#resolve-submit")
    expect(row(page, alarm_id)).to_have_count(0)
    assert psql(seeded_url, "SELECT outcome, reach_method, resolution_notes FROM alarm WHERE id = %s", (alarm_id,)) == [
        ("false_alarm", "device_voice", "老人说是误按，已确认安全")
    ]


def test_the_dispatch_choice_survives_pushes_and_is_who_goes(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    mine, unrelated = home_units(seeded_url, 2, 76)
    sign_in_operator(page, live_api)
    press(browser_broker, mine, "dispatch-keep-1")
    alarm_id = open_alarm_of(seeded_url, mine)
    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    page.keyboard.press("a")
    expect(row(page, alarm_id).locator(".state")).to_have_text("已接警")
    chooser = page.locator("#dispatch-staff")
    expect(chooser).to_be_enabled()
    options = chooser.locator("option")
    assert options.count() >= 2, "the card offers more than one caregiver"
    chosen = options.nth(options.count() - 1).get_attribute("value")
    assert chosen and chosen != options.first.get_attribute("value")
    chooser.select_option(chosen)

    push_unrelated_alarm(page, browser_broker, seeded_url, unrelated, "dispatch-keep-2")
    written = httpx.post(
        f"{live_api}/api/alarms/{alarm_id}/notes", headers=other_operator(live_api), json={"text": "邻居有钥匙"}
    )
    assert written.status_code == 200, written.text
    expect(page.locator("#detail .trace")).to_contain_text("邻居有钥匙", timeout=10_000)
    expect(chooser).to_have_value(chosen)

    page.locator("#queue").click(position={"x": 5, "y": 5})  # focus off the chooser; shortcuts work again
    page.keyboard.press("d")
    expect(page.locator("#detail")).to_contain_text("已派人")
    staff = psql(
        seeded_url,
        "SELECT detail->>'staff_id' FROM alarm_transition WHERE alarm_id = %s AND action = 'dispatch'",
        (alarm_id,),
    )
    assert staff == [(chosen,)]
    screenshot(page, "console-inputs-kept")


def test_the_shortcut_help_and_buttons_come_from_one_table(page: Page, live_api: str) -> None:
    sign_in_operator(page, live_api)
    keys = page.locator(".keys")
    expect(keys).to_contain_text("A 接警")
    expect(keys).to_contain_text("D 派人上门")
    expect(keys).to_contain_text("H 交接班")
    assert re.search(r"↓/J .* ↑/K ", keys.inner_text())


def test_an_unknown_refusal_shows_the_servers_detail_not_a_status(
    page: Page, live_api: str, browser_broker: MosquittoInstance, browser_gateway: Gateway, seeded_url: str
) -> None:
    [serial] = home_units(seeded_url, 1, 78)
    sign_in_operator(page, live_api)
    press(browser_broker, serial, "detail-shown-1")
    alarm_id = open_alarm_of(seeded_url, serial)
    page.route(
        f"**/api/alarms/{alarm_id}/acknowledge",
        lambda route: route.fulfill(
            status=500,
            content_type="application/json",
            body='{"detail": "the dispatch desk is closed for maintenance", "code": "desk_closed"}',
        ),
    )
    row(page, alarm_id).click()
    card_loaded(page, alarm_id)
    page.keyboard.press("a")
    banner = page.locator("#banner")
    expect(banner).to_contain_text(f"告警 #{alarm_id}：服务器内部错误")
    expect(banner).to_contain_text("the dispatch desk is closed for maintenance")
    expect(banner).not_to_contain_text("HTTP")
    assert alarm_state(seeded_url, alarm_id) == "new"
