"""The caregiver's app (issue 13) in real Chromium with a phone's viewport (360×640, touch, geolocation granted),
against the real API on the test's fixed clock over a database of its own.

The world is tests/integration/urgent_support.py's: a community with three caregivers whose routes (three visits
each, from 14:30 Shanghai time) were published by a nightly plan. 甲 uses the app. The server's clock is a
FixedClock the tests move; the phone's clock is Playwright's `page.clock` set to the same instants, so every
`at` the phone sends is known and nothing reads the wall clock.

Offline is the browser context set offline (`context.set_offline(True)`) and nothing else. Whether Chromium's
offline emulation also stops a service worker's own fetches is not a given (it has not always), so the offline
test checks it: with the context offline, a GET the worker handles must come back marked as answered from its
cache (`X-Served-From-Cache`), which happens only when the worker's own network fetch failed. With Playwright 1.65
and Debian's Chromium it does. A lost answer (the server did the work, the phone never heard back) is a route
that lets the request reach the server and then drops the connection.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, ViewportSize, expect
from sqlalchemy import text
from sqlmodel import Session

import eldercare_platform.planning  # noqa: F401 - registers the plan recorder of urgent insertions
from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.tasks import lifecycle
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
    locate,
    published_plan,
    routed_task,
)

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE: ViewportSize = {"width": 360, "height": 640}


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


def open_app(context: BrowserContext, app: AppWorld, at: datetime, *, picture: str | None = None) -> Page:
    """Sign in as 甲 in the app with the phone's clock at `at` (and the server's too); `picture`: a docs
    screenshot of the sign-in form under that name."""
    app.clock.set(at)
    page = context.new_page()
    page.clock.set_fixed_time(at)
    page.goto(f"{app.api.url}/ui/caregiver/")
    expect(page.locator("#signin")).to_be_visible()
    if picture:
        screenshot(page, picture, docs=True)
    page.fill("#username", app.caregiver)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#route li.stop").first).to_be_visible(timeout=15_000)
    return page


def set_time(page: Page, app: AppWorld, at: datetime) -> None:
    app.clock.set(at)
    page.clock.set_fixed_time(at)


def camera_png(width: int = 1600, height: int = 1200) -> bytes:
    """A phone-camera-sized PNG (a plain grey picture), made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x80\x90\xa0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def shot(page: Page, name: str) -> None:
    """A docs screenshot of the whole page, scrolled to the top first (the sticky bar stays at the top); and the
    page fits the phone's width (nothing to scroll sideways at 360 px)."""
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} is wider than the phone"
    screenshot(page, name, docs=True)


def wait_sent(page: Page) -> None:
    """Every queued action was sent (the not-yet-sent bar is gone; a refusal would keep it, with the reason)."""
    bar = page.locator("#outbox-bar")
    expect(bar).to_have_attribute("data-count", re.compile(r"^0?$"), timeout=20_000)
    rejected = page.locator("#outbox-panel li[data-state=rejected]")
    assert rejected.count() == 0, [item.inner_text() for item in rejected.all()]
    expect(bar).to_be_hidden()


def events(app: AppWorld, task_id: int) -> list[Any]:
    return app.query("SELECT action, at, detail FROM task_event WHERE task_id = :t ORDER BY at, id", t=task_id)


def test_sign_in_route_check_in_record_and_a_follow_up(phone: BrowserContext, app_world: AppWorld) -> None:
    """Sign in → today's route in order → the first stop: essentials, check in at the home, the visit record with a
    problem found → the server has the visit and a follow-up task."""
    start = TEST_NOW + timedelta(minutes=25)  # 14:25 in Shanghai
    page = open_app(phone, app_world, start, picture="caregiver-signin")
    expect(page.locator("body[data-sw=ready]")).to_be_attached(timeout=15_000)
    stops = page.locator("#route li.stop")
    expect(stops).to_have_count(3)
    for index, task_id in enumerate(app_world.route()):
        expect(stops.nth(index)).to_have_attribute("data-task-id", str(task_id))
        expect(stops.nth(index).locator(".seq")).to_have_text(str(index + 1))
    expect(stops.first.locator(".time")).to_have_text("14:30")  # planned start, Asia/Shanghai
    expect(stops.first.locator(".name")).to_contain_text("甲的老人1")
    expect(page.locator("svg.sketch circle.stop")).to_have_count(3)
    expect(page.locator("#net")).to_have_attribute("data-state", "online")
    expect(page.locator("body[data-live=open]")).to_be_attached(timeout=10_000)
    shot(page, "caregiver-today")

    first = app_world.route()[0]
    stops.first.locator("a").click()
    expect(page).to_have_url(re.compile(rf"#/task/{first}$"))
    card = page.locator("#essentials")
    expect(card).to_have_attribute("data-full", "yes")  # GET /api/me/residents answered (and was audited)
    expect(card.locator("[data-field=address]")).to_contain_text("金山社区")
    lat, lon = app_world.stop_home(0)
    expect(page.locator("#navigate")).to_have_attribute("href", re.compile(rf"^geo:{lat},{lon}\?q="))
    expect(page.locator("#todo .checklist-preview li").first).to_be_visible()
    audited = app_world.query(
        "SELECT count(*) FROM audit_log WHERE user_id = :u AND action = 'read' AND entity = 'resident'"
        " AND entity_id = (SELECT resident_id::text FROM task WHERE id = :t)",
        u=app_world.world.caregivers["甲"].id,
        t=first,
    )
    assert audited[0][0] >= 1, "reading the essentials is audited"
    shot(page, "caregiver-visit")

    phone.set_geolocation({"latitude": lat + 0.0003, "longitude": lon})  # ~33 m from the door
    checked_in = start + timedelta(minutes=6)
    set_time(page, app_world, checked_in)
    page.click("#check-in")
    note = page.locator("#checkin-note")
    expect(note).to_have_attribute("data-flagged", "no")
    expect(note).to_contain_text("签到位置距老人家 33 米")
    wait_sent(page)
    record = page.locator("form#record")
    expect(record.locator(".check-item")).to_have_count(10)  # a visit: wellbeing and home safety
    for item in record.locator(".check-item").all():
        item.locator("label", has_text="正常").click()
    record.locator("[data-key=gas_off] label", has_text="有问题").click()
    record.locator("[data-name=condition] label", has_text="一般").click()
    page.fill("#record-notes", "老人精神尚可，灶台燃气阀门松动")
    page.check("#problem-found")
    page.locator("[data-name=category] label[for=category-safety]").click()
    page.fill("#problem-text", "燃气阀门松动，需要维修")
    photo: FilePayload = {"name": "gas.png", "mimeType": "image/png", "buffer": camera_png()}
    page.set_input_files("#photo-input", files=[photo])
    expect(page.locator("#photo-thumbs img")).to_have_count(1)
    expect(page.locator("#photo-thumbs figcaption")).to_have_text("照片 1 张（已压缩）")
    shot(page, "caregiver-record")
    completed = checked_in + timedelta(minutes=24)
    set_time(page, app_world, completed)
    page.click("#check-out")
    expect(page.locator("#act.closed")).to_contain_text("已提交服务记录")
    expect(page.locator("#follow-up-note")).to_be_visible()
    wait_sent(page)

    row = app_world.query(
        "SELECT status, checked_in_at, completed_at, problem_found, findings FROM task WHERE id = :t", t=first
    )[0]
    assert (row.status, row.checked_in_at, row.completed_at, row.problem_found) == (
        "completed",
        checked_in,
        completed,
        True,
    )
    assert row.findings["checklist"]["gas_off"] == "problem" and row.findings["checklist"]["mood"] == "ok"
    assert row.findings["problem_category"] == "safety" and row.findings["resident_condition"] == "fair"
    photos = app_world.query("SELECT id, content_type, size FROM task_photo WHERE task_id = :t", t=first)
    assert len(photos) == 1 and photos[0].content_type == "image/jpeg"  # downscaled on the phone
    assert photos[0].size < 400_000 and row.findings["photo_ids"] == [photos[0].id]
    follow_ups = app_world.query("SELECT kind, status, notes FROM task WHERE follow_up_of = :t", t=first)
    assert len(follow_ups) == 1 and follow_ups[0].kind == "follow_up"
    assert "燃气阀门松动" in follow_ups[0].notes
    shot(page, "caregiver-done")
    page.click("a.back")
    expect(stops.first).to_have_attribute("data-status", "completed")


def test_offline_check_in_and_record_are_sent_once_with_the_phones_times(
    phone: BrowserContext, app_world: AppWorld
) -> None:
    """The day is opened online; then no signal: the app reopens from the service worker, the second stop is
    checked in (far from the door: flagged) and recorded offline; the signal returns 20 minutes later and the
    first answer is lost on the way back: the outbox sends again with the same Idempotency-Key, and the server
    has exactly one visit with the phone's times."""
    second = app_world.route()[1]
    opened = TEST_NOW + timedelta(minutes=80)  # 15:20
    page = open_app(phone, app_world, opened)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    page.reload()  # as the phone did earlier in the day: the day's answers pass through the worker and are kept
    expect(page.locator(f"#route li.stop[data-task-id='{second}']")).to_be_visible(timeout=15_000)

    phone.set_offline(True)
    # closed, and reopened in the stairwell: a new tab (no session storage), no network — still signed in for the
    # shift, the app and the day come from the service worker
    page.close()
    page = phone.new_page()
    page.clock.set_fixed_time(opened)
    page.goto(f"{app_world.api.url}/ui/caregiver/")
    assert page.evaluate("sessionStorage.getItem('eldercare.token')") is None
    expect(page.locator("#net")).to_have_attribute("data-state", "offline")
    expect(page.locator("#cached")).to_contain_text("离线数据")
    expect(page.locator("#route li.stop")).to_have_count(3)
    served = page.evaluate(
        """async () => {
            const r = await fetch('/api/me/residents', {headers: {Authorization: 'Bearer x'}});
            return r.headers.get('X-Served-From-Cache');
        }"""
    )
    assert served == "1", "offline, the worker's own fetch failed too and it answered from its cache"

    page.locator(f"#route li.stop[data-task-id='{second}'] a").click()
    expect(page.locator("#essentials")).to_have_attribute("data-full", "yes")  # the essentials, from the cache
    lat, lon = app_world.stop_home(1)
    phone.set_geolocation({"latitude": lat + 0.005, "longitude": lon})  # ~556 m away: allowed, flagged
    checked_in = opened + timedelta(minutes=3)
    set_time(page, app_world, checked_in)
    page.click("#check-in")
    note = page.locator("#checkin-note")
    expect(note).to_have_attribute("data-flagged", "yes")
    expect(note).to_contain_text("超过 200 米：已标记")
    expect(page.locator("#outbox-bar")).to_have_text("1 项未发送")
    record = page.locator("form#record")
    for item in record.locator(".check-item").all():
        item.locator("label", has_text="正常").click()
    page.fill("#record-notes", "老人状态良好")
    completed = checked_in + timedelta(minutes=22)
    set_time(page, app_world, completed)
    page.click("#check-out")
    expect(page.locator("#act.closed")).to_contain_text("已提交服务记录")  # optimistic
    expect(page.locator(".who .chip.pending")).to_have_text("待发送")
    expect(page.locator("#outbox-bar")).to_have_text("2 项未发送")
    page.click("#outbox-bar")
    expect(page.locator("#outbox-panel li")).to_have_count(2)
    expect(page.locator("#outbox-panel li").first).to_contain_text("签到")
    shot(page, "caregiver-offline")
    assert app_world.query("SELECT status FROM task WHERE id = :t", t=second)[0].status == "published"

    # back online 20 minutes later; the first answer is lost on the way back (the server did the check-in)
    lost: list[str] = []

    def lose_the_answer(route: Any) -> None:
        if not lost:
            route.fetch()  # the server receives it and answers …
            lost.append(route.request.headers.get("idempotency-key", ""))
            route.abort("connectionreset")  # … but the phone never hears it
        else:
            route.continue_()

    replays: list[str] = []
    page.on(
        "response",
        lambda response: (
            replays.append(response.url) if response.headers.get("idempotent-replayed") == "true" else None
        ),
    )
    page.route(f"**/api/tasks/{second}/check-in", lose_the_answer)
    back = completed + timedelta(minutes=20)
    set_time(page, app_world, back)
    phone.set_offline(False)
    expect(page.locator("#net")).to_have_attribute("data-state", "online")
    expect(page.locator("#outbox-bar")).to_have_text("2 项未发送", timeout=10_000)  # the round stopped there
    page.click("#retry-now")
    wait_sent(page)
    assert len(lost) == 1 and lost[0], "the lost request carried an Idempotency-Key"
    assert replays == [f"{app_world.api.url}/api/tasks/{second}/check-in"], "the retry got the stored answer"

    trace = events(app_world, second)
    actions = [event.action for event in trace]
    assert actions.count("checked_in") == 1 and actions.count("completed") == 1, actions
    row = app_world.query(
        "SELECT status, checked_in_at, completed_at, check_in_latitude FROM task WHERE id = :t", t=second
    )[0]
    assert (row.status, row.checked_in_at, row.completed_at) == ("completed", checked_in, completed)
    assert row.check_in_latitude == pytest.approx(lat + 0.005)
    check_in = next(event for event in trace if event.action == "checked_in")
    assert check_in.detail["location_verified"] is False and check_in.detail["distance_m"] > 500
    assert datetime.fromisoformat(check_in.detail["received_at"]) == back  # the server's time, not the phone's
    visits = app_world.query("SELECT count(*) FROM task_event WHERE task_id = :t AND action = 'completed'", t=second)
    assert visits[0][0] == 1
    expect(page.locator(".who .chip.pending")).to_have_count(0)
    # the server's own figure replaces the phone's estimate once it has the check-in
    expect(note).to_have_attribute("data-source", "server", timeout=10_000)
    expect(note).to_have_attribute("data-distance", str(round(check_in.detail["distance_m"])))
    expect(note).to_have_attribute("data-flagged", "yes")


def finish_earlier_stops(app: AppWorld, now: datetime) -> None:
    """甲 has done the first two visits by `now` (the tests above did them in the app; alone, this does)."""
    app.clock.set(now)
    token = app.api.token(app.caregiver)
    for index, task_id in enumerate(app.route()[:2]):
        status = app.query("SELECT status FROM task WHERE id = :t", t=task_id)[0].status
        lat, lon = app.stop_home(index)
        if status == "published":
            app.api.post(f"/api/tasks/{task_id}/check-in", token, {"latitude": lat, "longitude": lon})
            status = "checked_in"
        if status == "checked_in":
            app.api.post(f"/api/tasks/{task_id}/complete", token, {"latitude": lat, "longitude": lon})


def test_an_urgent_task_pushed_during_the_shift_must_be_acknowledged(
    phone: BrowserContext, app_world: AppWorld
) -> None:
    """An urgent visit inserted into 甲's live route arrives on the open app with a red banner (sound and
    vibration); it stays until acknowledged, which acknowledges the version on the server and accepts it."""
    now = TEST_NOW + timedelta(minutes=130)  # 16:10
    finish_earlier_stops(app_world, now)
    page = open_app(phone, app_world, now)
    expect(page.locator("body[data-live=open]")).to_be_attached(timeout=10_000)
    expect(page.locator("#notices")).to_be_hidden()
    engine = unpooled_engine(app_world.url)
    with Session(engine) as db:
        urgent = tasks.create_urgent_task(
            db, kind=TaskKind.URGENT_VISIT, source=TaskSource.WELFARE, now=now, within=timedelta(minutes=45),
            resident_id=app_world.world.resident.id, reason="welfare call: nobody answered",
        )  # fmt: skip
        db.commit()
    engine.dispose()
    assert urgent is not None
    owner = app_world.query("SELECT assignee_staff_id, status FROM task WHERE id = :t", t=urgent)[0]
    assert (owner.assignee_staff_id, owner.status) == (app_world.world.staff["甲"], "published")

    banner = page.locator(f"#notices .notice.urgent[data-task-id='{urgent}']")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_contain_text("紧急任务")
    expect(banner).to_contain_text("吴桂英")
    expect(page.locator("body")).to_have_attribute("data-alerted", re.compile(r"^[1-9]"))  # beeped, vibrated
    expect(page.locator(f"#route li.stop[data-task-id='{urgent}']")).to_be_visible()
    # the insertion pushed 甲's last stop later: a change to acknowledge too, without the alarm
    last = app_world.route()[2]
    moved = page.locator(f"#notices .notice[data-task-id='{last}']")
    expect(moved).to_have_attribute("data-change", "moved")
    expect(moved).not_to_have_class(re.compile("urgent"))
    expect(page.locator("#notices .notice").first).to_have_attribute("data-task-id", str(urgent))  # urgent first
    shot(page, "caregiver-urgent")
    page.wait_for_timeout(1500)
    expect(banner).to_be_visible()  # it does not go away by itself

    version = int(banner.get_attribute("data-version") or 0)
    set_time(page, app_world, now + timedelta(minutes=1))
    banner.locator("button.ack").click()
    expect(banner).to_be_hidden()
    wait_sent(page)
    row = app_world.query("SELECT acknowledged_version, accepted_at, status FROM task WHERE id = :t", t=urgent)[0]
    assert row.acknowledged_version == version
    assert row.accepted_at == now + timedelta(minutes=1)
    moved_version = int(moved.get_attribute("data-version") or 0)
    moved.locator("button.ack").click()
    expect(moved).to_be_hidden()
    wait_sent(page)
    assert app_world.query("SELECT acknowledged_version FROM task WHERE id = :t", t=last)[0][0] == moved_version
    page.reload()
    expect(page.locator(f"#route li.stop[data-task-id='{urgent}']")).to_be_visible(timeout=15_000)
    expect(page.locator("#notices .notice")).to_have_count(0)  # acknowledged: not asked again


def test_a_caregiver_cannot_open_a_resident_outside_their_tasks(phone: BrowserContext, app_world: AppWorld) -> None:
    page = open_app(phone, app_world, TEST_NOW + timedelta(minutes=140))
    others = app_world.query("SELECT resident_id FROM task WHERE id = :t", t=app_world.world.routes["乙"][0])
    own = app_world.query("SELECT resident_id FROM task WHERE id = :t", t=app_world.route()[2])
    answers = page.evaluate(
        """async ([other, own]) => {
            const token = sessionStorage.getItem('eldercare.token')
                || JSON.parse(localStorage.getItem('eldercare.shiftToken')).token;
            const read = async (id) => {
                const r = await fetch(`/api/me/residents/${id}`, {headers: {Authorization: `Bearer ${token}`}});
                return [r.status, (await r.json()).code || null];
            };
            return [await read(other), await read(own), await read(2147483000)];
        }""",
        [others[0].resident_id, own[0].resident_id],
    )
    assert answers[0] == [403, "resident_not_on_your_tasks"]
    assert answers[1] == [200, None]
    assert answers[2] == [403, "resident_not_on_your_tasks"]  # the same answer whether or not it exists
    page.goto(f"{app_world.api.url}/ui/caregiver/#/task/{app_world.world.routes['乙'][0]}")
    expect(page.locator("body[data-view=today]")).to_be_attached(timeout=10_000)  # not on their list: today
    expect(page.locator("#essentials")).to_have_count(0)


def test_english_and_the_installable_manifest(phone: BrowserContext, app_world: AppWorld) -> None:
    page = open_app(phone, app_world, TEST_NOW + timedelta(minutes=145))
    manifest = page.evaluate("fetch('/ui/caregiver/manifest.webmanifest').then((r) => r.json())")
    assert manifest["start_url"] == "/ui/caregiver/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    page.click("#lang")
    expect(page.locator(".cg-bar h1")).to_have_text("Today")
    expect(page.locator("#route li.stop").first).to_be_visible(timeout=10_000)
    shot(page, "caregiver-today-en")
    page.click("#lang")
    expect(page.locator(".cg-bar h1")).to_have_text("今日工作")
    expect(page.locator("#route li.stop").first).to_be_visible(timeout=10_000)
    # signing out takes what the phone kept of the residents with it
    page.click("#signout")
    expect(page.locator("#signin")).to_be_visible(timeout=10_000)
    kept = page.evaluate(
        """async () => [await caches.has('eldercare-caregiver-api'), localStorage.getItem('eldercare.shiftToken'),
            Object.keys(localStorage).filter((key) => key.startsWith('eldercare.caregiver.')).length]"""
    )
    assert kept == [False, None, 0]
    assert json.dumps(manifest, ensure_ascii=False).count("护理员") >= 1


def test_a_meal_delivery_is_recorded_with_its_outcome(phone: BrowserContext, app_world: AppWorld) -> None:
    """A meal delivery has no checklist: its outcome (handed over, left with a neighbour; nobody home is the
    no-answer path) is required, and the server keeps it."""
    now = TEST_NOW + timedelta(minutes=150)  # 16:30
    home = (WEST[0] - 0.004, WEST[1] + 0.003)
    engine = unpooled_engine(app_world.url)
    with Session(engine) as db:
        resident = f.resident(db, community=app_world.world.community, name="送餐老人")
        locate(db, resident, home)
        meal = routed_task(
            db, resident=resident, staff_id=app_world.world.staff["甲"], start=now + timedelta(minutes=20), sequence=9
        )
        db.execute(text("UPDATE task SET kind = 'meal_delivery', service = 'meal_delivery' WHERE id = :t"), {"t": meal})
        db.commit()
    engine.dispose()
    page = open_app(phone, app_world, now)
    page.locator(f"#route li.stop[data-task-id='{meal}'] a").click()
    expect(page.locator("#no-answer")).to_have_text("无人在家")
    phone.set_geolocation({"latitude": home[0], "longitude": home[1]})
    page.click("#check-in")
    record = page.locator("form#record")
    expect(record.locator(".check-item")).to_have_count(0)
    expect(record.locator("[data-name=outcome] label")).to_have_count(2)
    page.click("#check-out")
    expect(page.locator("#record-error")).to_have_text("请选择送餐结果")
    record.locator("[data-name=outcome] label[for=outcome-left_with_neighbour]").click()
    page.fill("#record-notes", "老人外出，交给隔壁王阿姨")
    set_time(page, app_world, now + timedelta(minutes=4))
    page.click("#check-out")
    expect(page.locator("#act.closed")).to_be_visible()
    wait_sent(page)
    row = app_world.query("SELECT status, findings FROM task WHERE id = :t", t=meal)[0]
    assert row.status == "completed" and row.findings["meal_outcome"] == "left_with_neighbour"


def test_nobody_answers_starts_the_welfare_path(phone: BrowserContext, app_world: AppWorld) -> None:
    """At the door nobody answers: a note, and the task is missed with a welfare call for the operators."""
    now = TEST_NOW + timedelta(minutes=160)  # 16:40
    home = (WEST[0] + 0.003, WEST[1] - 0.004)
    engine = unpooled_engine(app_world.url)
    with Session(engine) as db:
        resident = f.resident(db, community=app_world.world.community, name="无人应答老人")
        locate(db, resident, home)
        visit = routed_task(
            db, resident=resident, staff_id=app_world.world.staff["甲"], start=now + timedelta(minutes=10), sequence=8
        )
        db.commit()
    engine.dispose()
    page = open_app(phone, app_world, now)
    page.locator(f"#route li.stop[data-task-id='{visit}'] a").click()
    phone.set_geolocation({"latitude": home[0], "longitude": home[1]})
    page.click("#no-answer")
    expect(page.locator("#no-answer-note")).to_have_value("敲门无人应答，电话未接")
    page.fill("#no-answer-note", "敲门十分钟无人应答，电话无人接听")
    page.click("#no-answer-confirm")
    expect(page.locator("#act.closed")).to_contain_text("未完成")
    wait_sent(page)
    row = app_world.query("SELECT status, status_reason FROM task WHERE id = :t", t=visit)[0]
    assert (row.status, row.status_reason) == ("missed", "no_answer")
    reported = [event for event in events(app_world, visit) if event.action == "no_answer"]
    assert len(reported) == 1 and reported[0].detail["welfare_alarm_id"] is not None
    assert reported[0].detail["note"] == "敲门十分钟无人应答，电话无人接听"


def test_an_action_the_server_refuses_is_shown_with_the_reason(phone: BrowserContext, app_world: AppWorld) -> None:
    """Checked in offline at a visit the coordinator cancelled meanwhile: back online, the server refuses it (409);
    the app says so in words, in red, and keeps it until the caregiver removes it — it is not retried forever."""
    now = TEST_NOW + timedelta(minutes=170)  # 16:50
    home = (WEST[0] - 0.002, WEST[1] - 0.003)
    engine = unpooled_engine(app_world.url)
    with Session(engine) as db:
        resident = f.resident(db, community=app_world.world.community, name="取消探访老人")
        locate(db, resident, home)
        visit = routed_task(
            db, resident=resident, staff_id=app_world.world.staff["甲"], start=now + timedelta(minutes=5), sequence=7
        )
        db.commit()
    engine.dispose()
    page = open_app(phone, app_world, now)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    page.locator(f"#route li.stop[data-task-id='{visit}'] a").click()
    phone.set_geolocation({"latitude": home[0], "longitude": home[1]})
    phone.set_offline(True)
    page.click("#check-in")
    expect(page.locator("#outbox-bar")).to_have_text("1 项未发送")
    engine = unpooled_engine(app_world.url)
    with Session(engine) as db:
        lifecycle.cancel(db, user=app_world.world.coordinator, task_id=visit, reason="家属已接走老人", now=now)
        db.commit()
    engine.dispose()
    phone.set_offline(False)
    bar = page.locator("#outbox-bar")
    expect(bar).to_have_text("1 项被拒绝", timeout=15_000)
    expect(bar).to_have_class(re.compile("has-rejected"))
    page.click("#outbox-bar")
    item = page.locator("#outbox-panel li[data-state=rejected]")
    expect(item).to_contain_text("签到 · 取消探访老人 · 16:50")
    expect(item).to_contain_text("任务状态已变化")
    shot(page, "caregiver-rejected")
    assert [e.action for e in events(app_world, visit)].count("checked_in") == 0
    item.locator("button").click()
    expect(bar).to_be_hidden()
