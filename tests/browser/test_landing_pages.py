"""Every role lands on a page that works for it, and the console refuses the roles it is not for instead of
reconnecting forever (issue 9, finding 6), in real Chromium against the real API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, WebSocket, expect

from eldercare_platform.seed.generator import DEMO_PASSWORD
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize(
    ("username", "landing", "works"),
    [
        ("operator1", "/ui/operator/", "#live[data-state=open]"),
        ("admin", "/ui/operator/", "#live[data-state=open]"),
        ("supervisor_district", "/ui/supervisor/", "body[data-loading=no] #tiles [data-figure=alarms]"),
        ("caregiver1", "/ui/caregiver/", "body[data-view=today]"),
    ],
)
def test_each_role_lands_on_a_page_that_works_for_it(
    page: Page, live_api: str, username: str, landing: str, works: str
) -> None:
    sign_in(page, live_api, username)
    expect(page).to_have_url(re.compile(re.escape(landing) + r"(\?.*)?$"))  # a page may keep its state in the query
    expect(page.locator(works)).to_be_visible(timeout=10_000)


def test_a_caregiver_gets_their_page_and_never_the_console(page: Page, live_api: str) -> None:
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    sign_in(page, live_api, "caregiver1")
    expect(page).to_have_url(re.compile(r"/ui/caregiver/$"))  # the caregiver app (issue 13)
    expect(page.locator("body[data-view=today]")).to_be_attached(timeout=10_000)
    page.goto(f"{live_api}/ui/me/")
    expect(page.locator("#me-role")).to_have_text("护理员")
    expect(page.locator("#me-scope")).to_contain_text("服务片区")
    expect(page.locator("#work-notice")).to_contain_text("护理员 App")
    expect(page.locator("#pages a")).to_have_count(2)  # their app and the status page; not the console
    expect(page.locator("#pages a").first).to_have_attribute("href", "/ui/caregiver/")
    expect(page.locator("#pages a").last).to_have_attribute("href", "/ui/status/")
    screenshot(page, "me-caregiver", docs=True)

    sockets.clear()  # the caregiver app's own task channel, opened above
    page.goto(f"{live_api}/ui/operator/")  # typed in, or an old bookmark
    refused = page.locator("#refused")
    expect(refused).to_contain_text("您的角色（护理员）不能使用接警台")
    expect(refused.locator("a")).to_have_attribute("href", "/ui/caregiver/")
    page.wait_for_timeout(3000)
    assert sockets == [], "the console opened no live connection, so nothing reconnects forever"
    expect(page.locator("#live")).to_be_hidden()
    screenshot(page, "console-refused-caregiver", docs=True)
    refused.locator("a").click()
    expect(page).to_have_url(re.compile(r"/ui/caregiver/$"))

    page.goto(f"{live_api}/ui/status/")
    expect(page.locator("[data-count=residents] .value")).to_have_text("1,000")
    expect(page.locator("#console-link")).to_be_hidden()
