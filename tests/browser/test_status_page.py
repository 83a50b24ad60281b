"""Signing in and the status page, in real headless Chromium against the real API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from eldercare_platform.seed.generator import DEMO_PASSWORD
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_supervisor_signs_in_and_sees_health_counts_and_residents(page: Page, live_api: str) -> None:
    sign_in(page, live_api, "supervisor_district")
    expect(page).to_have_url(re.compile(r"/ui/supervisor/(\?.*)?$"))  # supervisors land on their dashboard
    page.click("#status-link")
    expect(page).to_have_url(re.compile(r"/ui/status/$"))
    expect(page.locator("[data-check=database]")).to_have_attribute("data-state", "ok")
    expect(page.locator("[data-check=broker]")).to_have_attribute("data-state", "ok", timeout=10_000)
    expect(page.locator("[data-count=residents] .value")).to_have_text("1,000")
    expect(page.locator("#residents tbody tr")).to_have_count(20)
    expect(page.locator("header")).to_contain_text("监管人员")
    screenshot(page, "status-page", docs=True)


def test_an_operator_lands_on_the_console(page: Page, live_api: str) -> None:
    sign_in(page, live_api, "operator1")
    expect(page).to_have_url(re.compile(r"/ui/operator/$"))
    expect(page.locator("#live")).to_have_attribute("data-state", "open")


def test_wrong_password_shows_an_error_in_chinese(page: Page, live_api: str) -> None:
    sign_in(page, live_api, "operator1", "wrong-password")
    expect(page.locator("#error")).to_have_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/ui/$"))


def test_english_switch_and_caregiver_without_resident_access(page: Page, live_api: str) -> None:
    page.goto(f"{live_api}/")
    page.click("#lang")
    expect(page.locator("button[type=submit]")).to_have_text("Sign in")
    sign_in(page, live_api, "caregiver1")
    expect(page).to_have_url(re.compile(r"/ui/caregiver/$"))  # a caregiver's landing page (test_landing_pages.py)
    expect(page.locator(".cg-bar h1")).to_have_text("Today")  # the caregiver app, in English too
    page.goto(f"{live_api}/ui/me/")
    expect(page.locator("#me-role")).to_have_text("Caregiver")
    page.click("#pages a[href='/ui/status/']")
    expect(page.locator("#resident-note")).to_have_text("Your role may not see this")
    expect(page.locator("[data-count=residents] .value")).to_have_text("1,000")


def test_unauthenticated_visit_goes_to_the_login_page(page: Page, live_api: str) -> None:
    page.goto(f"{live_api}/ui/status/")
    expect(page).to_have_url(re.compile(r"/ui/$"))
