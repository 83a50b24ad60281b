"""The caregiver's app (issue 13) in real Chromium with a phone's viewport (360×640, touch, geolocation granted),
against the real API on the test's fixed clock over a database of its own.

The world is tests/integration/urgent_support.py's: a community with three caregivers whose routes (three visits
each, from 14:30 Shanghai time) were published by a nightly plan. 甲 uses the app. The server's clock is a
FixedClock the tests move; the phone's clock is Playwright's `page.clock` set to the same instants, so every
`at` the phone sends is known and nothing reads the wall clock.

Offline is the browser context set offline (`context.set_offline(True)`). Chromium's offline emulation does not
reach a service worker's own fetches (checked in `test_offline_...`: the test says which way it went), so while
"offline" the test also makes the server refuse the app's API calls at the socket level — see `Outage` — which is
what a phone in a stairwell gets either way: no answer from the platform.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import text
from sqlmodel import Session

import eldercare_platform.planning  # noqa: F401 - registers the plan recorder of urgent insertions
from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import TaskKind, TaskSource
from tests import factories as f
from tests.browser.conftest import screenshot
from tests.conftest import TEST_NOW, migrated_database, platform_settings, unpooled_engine
from tests.integration.urgent_support import (
    OFFSETS,
    WEST,
    ServedApi,
    UrgentWorld,
    build_urgent_world,
    published_plan,
)

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 360, "height": 640}


@dataclass
class AppWorld:
    api: ServedApi
    clock: FixedClock
    url: str  # the database's
    world: UrgentWorld

    @property
    def caregiver(self) -> str:
        return str(self.world.caregivers["甲"].username)

    def route(self) -> list[int]:
        return self.world.routes["甲"]

    def stop_home(self, index: int) -> tuple[float, float]:
        """Where the home of 甲's stop `index` (0-based) is."""
        dlat, dlon = OFFSETS[index]
        return (WEST[0] + dlat, WEST[1] + dlon)

    def query(self, sql: str, **params: Any) -> list[Any]:
        engine = unpooled_engine(self.url)
        try:
            with Session(engine) as db:
                return list(db.execute(text(sql), params).all())
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def app_world(postgres: PostgresInstance, mosquitto: MosquittoInstance) -> Iterator[AppWorld]:
    url = migrated_database(postgres, "caregiver_app")
    engine = unpooled_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        world = build_urgent_world(db)
        published_plan(db, world)
        db.commit()
    engine.dispose()
    clock = FixedClock(TEST_NOW)
    api = ServedApi(platform_settings(url, mosquitto), clock)
    try:
        yield AppWorld(api=api, clock=clock, url=url, world=world)
    finally:
        api.stop()


@pytest.fixture
def phone(browser: Browser, app_world: AppWorld) -> Iterator[BrowserContext]:
    """A phone: 360×640, touch, zh-CN, Asia/Shanghai, location granted and set at 甲's home base."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        permissions=["geolocation"],
        geolocation={"latitude": WEST[0], "longitude": WEST[1]},
    )
    yield context
    context.close()


def open_app(context: BrowserContext, app: AppWorld, at: datetime) -> Page:
    """Sign in as 甲 in the app with the phone's clock at `at` (and the server's too)."""
    app.clock.set(at)
    page = context.new_page()
    page.clock.set_fixed_time(at)
    page.goto(f"{app.api.url}/ui/caregiver/")
    page.fill("#username", app.caregiver)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#route li.stop").first).to_be_visible(timeout=15_000)
    return page


def set_time(page: Page, app: AppWorld, at: datetime) -> None:
    app.clock.set(at)
    page.clock.set_fixed_time(at)


def test_sign_in_lands_on_the_app_and_the_service_worker_takes_over(phone: BrowserContext, app_world: AppWorld) -> None:
    page = open_app(phone, app_world, TEST_NOW)
    expect(page.locator("body[data-sw=ready]")).to_be_attached(timeout=15_000)
    stops = page.locator("#route li.stop")
    expect(stops).to_have_count(3)
    for index, task_id in enumerate(app_world.route()):
        expect(stops.nth(index)).to_have_attribute("data-task-id", str(task_id))
    screenshot(page, "caregiver-today", docs=True)
