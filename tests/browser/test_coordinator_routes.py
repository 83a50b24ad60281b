"""The coordinator's board shows routes and plans (issue 12), in real Chromium against the real API.

The API runs on the test's fixed clock (TEST_NOW, 14:00 in Shanghai on 2026-11-22) over a database of its own: a
community with three caregivers whose routes were published by a nightly plan, an urgent visit that was then
inserted into 甲's route (tasks.service.create_urgent_task), a visit nobody has planned yet and a bathing task
nobody on shift has the skill for. So the board is "today" for the server, and nothing depends on the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
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
    EAST,
    ServedApi,
    UrgentWorld,
    build_urgent_world,
    locate,
    published_plan,
)

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = "2026-11-22"


@dataclass
class RoutesWorld:
    api: ServedApi
    world: UrgentWorld
    urgent: int
    unplanned: int
    bathing: int
    planned: dict[int, str]  # task id → its planned start, HH:mm in Shanghai


@pytest.fixture(scope="module")
def routes(postgres: PostgresInstance, mosquitto: MosquittoInstance) -> Iterator[RoutesWorld]:
    url = migrated_database(postgres, "urgent_board")
    engine = unpooled_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        w = build_urgent_world(db)
        published_plan(db, w)
        urgent = tasks.create_urgent_task(
            db, kind=TaskKind.URGENT_VISIT, source=TaskSource.WELFARE, now=TEST_NOW, within=timedelta(minutes=30),
            resident_id=w.resident.id, reason="welfare call: nobody answered",
        )  # fmt: skip
        waiting = f.resident(db, community=w.community, name="郑淑珍")
        locate(db, waiting, (EAST[0] + 0.004, EAST[1] - 0.003))
        bather = f.resident(db, community=w.community, name="冯德明")
        locate(db, bather, (EAST[0] - 0.003, EAST[1] + 0.002))
        unplanned, bathing = (
            tasks.create_task(
                db,
                kind=kind,
                source=TaskSource.MANUAL,
                now=TEST_NOW - timedelta(hours=1),
                resident_id=who.id,
                window_start=TEST_NOW + timedelta(hours=3),
                window_end=TEST_NOW + timedelta(hours=4),
                service=service,
                required_skill=skill,
            )
            for kind, who, service, skill in (
                (TaskKind.VISIT, waiting, "visit", None),
                (TaskKind.SERVICE, bather, "bathing", "bathing"),
            )
        )
        rows = db.execute(
            text("SELECT id, planned_start FROM task WHERE assignee_staff_id = :s"), {"s": w.staff["甲"]}
        ).all()
        db.commit()
    engine.dispose()
    assert urgent is not None and unplanned is not None and bathing is not None
    planned = {int(r.id): r.planned_start.astimezone(SHANGHAI).strftime("%H:%M") for r in rows}
    settings = platform_settings(url, mosquitto).model_copy(update={"planner_seconds": 0.5})
    api = ServedApi(settings, FixedClock(TEST_NOW))
    try:
        yield RoutesWorld(api, w, urgent, unplanned, bathing, planned)
    finally:
        api.stop()


def open_board(page: Page, routes: RoutesWorld) -> None:
    page.goto(f"{routes.api.url}/")
    page.fill("#username", routes.world.coordinator.username)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/coordinator/"))
    page.goto(f"{routes.api.url}/ui/coordinator/?area={routes.world.community.id}&date={DAY}")
    expect(page.locator(f"body[data-board-date='{DAY}']")).to_be_attached(timeout=10_000)


def test_lanes_show_each_route_in_order_with_planned_starts_and_km(page: Page, routes: RoutesWorld) -> None:
    open_board(page, routes)
    w = routes.world
    lane = page.locator(f"[data-lane='staff-{w.staff['甲']}']")
    cards = lane.locator("li.task")
    order = [routes.urgent, *w.routes["甲"]]
    expect(cards).to_have_count(4)
    for index, task_id in enumerate(order):
        card = cards.nth(index)
        expect(card).to_have_attribute("data-task-id", str(task_id))
        expect(card).to_have_attribute("data-sequence", str(index + 1))
        expect(card.locator(".planned")).to_contain_text(routes.planned[task_id])  # HH:mm, Asia/Shanghai
    expect(cards.first.locator("[data-badge=urgent-inserted]")).to_have_text("紧急插单")
    expect(lane.locator("[data-badge=urgent-inserted]")).to_have_count(1)
    expect(lane.locator(".lane-km")).to_contain_text(re.compile(r"路程 \d+\.\d 公里"))
    other = page.locator(f"[data-lane='staff-{w.staff['乙']}']")
    expect(other.locator("li.task").first).to_have_attribute("data-task-id", str(w.routes["乙"][0]))
    expect(other.locator("[data-badge=urgent-inserted]")).to_have_count(0)
    screenshot(page, "coordinator-board-routes", docs=True)


def test_plan_the_day_and_the_plan_panel(page: Page, routes: RoutesWorld) -> None:
    open_board(page, routes)
    w = routes.world
    panel = page.locator("#plan-panel")
    # the latest plan is the urgent insertion: who got it, and the visit that now starts later
    latest = panel.locator("[data-plan-kind=urgent_insertion]")
    expect(latest).to_contain_text("紧急插单")
    expect(latest).to_contain_text("已发布")
    expect(latest).to_contain_text("新派给 甲护理员")
    expect(latest).to_contain_text(f"开始时间 14:30 → {routes.planned[w.routes['甲'][0]]}")
    # 规划路线: a manual plan of the day, a draft, with the task it could not place and why, in words
    page.click("#plan-day")
    expect(page.locator("#action-result")).to_contain_text("已规划", timeout=20_000)
    draft = panel.locator("[data-plan-kind=manual]")
    expect(draft).to_contain_text("手动排班")
    expect(draft).to_contain_text("草稿")
    expect(draft.locator("[data-cost=travel_km]")).to_contain_text(re.compile(r"总路程 \d+\.\d 公里"))
    expect(draft.locator("[data-cost=served]")).to_contain_text("无法安排 1 项")
    reason = draft.locator(f".plan-unassigned [data-task-id='{routes.bathing}']")
    expect(reason).to_contain_text("当班人员无此技能")
    expect(reason).not_to_contain_text("no_staff_with_skill")
    expect(draft.locator("[data-changes]")).to_contain_text("相对第")
    expect(draft).to_contain_text(f"任务 #{routes.unplanned}")  # newly placed since the previous plan
    screenshot(page, "coordinator-plan-panel", docs=True)
    # publish it: the plan panel says so; the unplanned visit is now in a lane with a planned start
    page.click("#publish-plan")
    expect(panel.locator("[data-plan-kind=manual][data-plan-status=published]")).to_be_visible(timeout=10_000)
    placed = page.locator(f"#lanes .lane.staff li.task[data-task-id='{routes.unplanned}'] .planned")
    expect(placed).to_contain_text(re.compile(r"\d{2}:\d{2}"))
