"""The coordinator's board and the console's welfare calls, in real Chromium against the real API (issue 11).

The board is opened on a fixed day (2026-11-22, inside the seeded district's week of shifts), never "today",
so nothing here depends on the wall clock's date. Tasks and alerts are written into the seeded database with
the services' own functions (tasks.service.create_task, alerts.service.raise_alert, alarms.service
.open_welfare_call); a coordinator of one seeded community and two staff members of our own are added for the
test and removed after it, so what the roster says about them is known:

- 测试护理员甲: on shift 08:00–16:00 that day, visits and bathing, a valid caregiver certificate (助浴 needs one:
  roster/rules.py REQUIRED_CERTIFICATES): the bathing task at 10:00 can go to them;
- 测试护理员乙: on shift 18:00–22:00 only, visits only, no certificate: the roster refuses them the bathing task
  (not on shift, lacks the skill, certificate missing), and the drawer says so in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service as alarms
from eldercare_platform.alerts import service as alerts
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.meals.models import MealReason
from eldercare_platform.meta.labels import (
    CAPABILITY,
    CARE_TIER,
    MEAL,
    MEAL_MODE,
    PURCHASED_SERVICE,
    STATE_KIND,
    UNASSIGNABLE,
)
from eldercare_platform.roster.rules import CAREGIVER_CERTIFICATE
from eldercare_platform.seed.generator import DEMO_PASSWORD
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import TaskKind, TaskSource
from tests.browser.conftest import screenshot
from tests.conftest import unpooled_engine

pytestmark = pytest.mark.browser

DAY = "2026-11-22"
SHANGHAI = ZoneInfo("Asia/Shanghai")
USERNAME = "coordinator_board_test"


def _staff(db: Session, *, name: str, area: int, skills: list[str], shift: tuple[int, int], day: datetime) -> int:
    """A staff member of the area with one shift that day (local hours) and nothing else."""
    staff_id = int(
        db.execute(
            text(
                "INSERT INTO staff (name, phone, role, skills, home_area_id, active) VALUES"
                " (:name, '13900000000', 'caregiver', :skills, :area, true) RETURNING id"
            ),
            {"name": name, "skills": skills, "area": area},
        ).scalar_one()
    )
    db.execute(
        text("INSERT INTO shift (staff_id, starts_at, ends_at, on_call) VALUES (:s, :a, :b, false)"),
        {"s": staff_id, "a": day + timedelta(hours=shift[0]), "b": day + timedelta(hours=shift[1])},
    )
    return staff_id


@pytest.fixture(scope="module")
def board_world(seeded_url: str) -> Iterator[dict[str, Any]]:
    """A seeded community with residents who have a care plan and an assessment: a coordinator for it, our two
    staff members, an unassigned bathing task with an alert, and a visit assigned to 甲."""
    engine = unpooled_engine(seeded_url)
    day_start = datetime(2026, 11, 22, tzinfo=SHANGHAI)
    with Session(engine) as db:
        area_id = int(
            db.execute(
                text(
                    "SELECT h.area_id FROM resident r JOIN household h ON h.id = r.household_id"
                    " JOIN area a ON a.id = h.area_id AND a.level = 'community'"
                    " JOIN care_plan cp ON cp.resident_id = r.id AND cp.valid_to IS NULL"
                    " WHERE jsonb_array_length(cp.meals) > 0 AND jsonb_array_length(cp.services) > 0"
                    " AND EXISTS (SELECT 1 FROM assessment x WHERE x.resident_id = r.id)"
                    " GROUP BY h.area_id ORDER BY count(*) DESC, h.area_id LIMIT 1"
                )
            ).scalar_one()
        )
        residents = db.execute(
            text(
                "SELECT r.id, r.name, cp.visit_tier, cp.meals -> 0 ->> 'meal' AS meal,"
                " cp.services -> 0 ->> 'service' AS service,"
                " (SELECT x.level FROM assessment x WHERE x.resident_id = r.id"
                "  ORDER BY x.assessed_on DESC, x.id DESC LIMIT 1) AS level"
                " FROM resident r JOIN household h ON h.id = r.household_id"
                " JOIN care_plan cp ON cp.resident_id = r.id AND cp.valid_to IS NULL"
                " WHERE h.area_id = :area AND EXISTS (SELECT 1 FROM assessment x WHERE x.resident_id = r.id)"
                " ORDER BY (jsonb_array_length(cp.meals) > 0 AND jsonb_array_length(cp.services) > 0) DESC,"
                " r.id LIMIT 2"
            ),
            {"area": area_id},
        ).all()
        able = _staff(db, name="测试护理员甲", area=area_id, skills=["visit", "bathing"], shift=(8, 16), day=day_start)
        db.execute(
            text(
                "INSERT INTO staff_certification (staff_id, name, level, issued_on, expires_on)"
                " VALUES (:s, :n, '四级', :issued, :expires)"
            ),
            {"s": able, "n": CAREGIVER_CERTIFICATE, "issued": date(2024, 3, 1), "expires": date(2029, 3, 1)},
        )
        off_shift = _staff(db, name="测试护理员乙", area=area_id, skills=["visit"], shift=(18, 22), day=day_start)
        created = day_start + timedelta(hours=6)
        unassigned = tasks.create_task(
            db, kind=TaskKind.SERVICE, source=TaskSource.MANUAL, now=created, service="bathing",
            required_skill="bathing", duration_minutes=60, resident_id=residents[0].id, reason="board test",
            window_start=day_start + timedelta(hours=10), window_end=day_start + timedelta(hours=11, minutes=30),
        )  # fmt: skip
        assigned = tasks.create_task(
            db, kind=TaskKind.VISIT, source=TaskSource.MANUAL, now=created, resident_id=residents[-1].id,
            window_start=day_start + timedelta(hours=9), window_end=day_start + timedelta(hours=10), staff_id=able,
            reason="board test",
        )  # fmt: skip
        assert unassigned is not None and assigned is not None
        alert_id = alerts.raise_alert(
            db, kind=AlertKind.TASK_UNASSIGNED, subject_key=f"task:{unassigned}:board-test", severity=2,
            message="10:00 助浴无人可派", now=created, task_id=unassigned,
        )  # fmt: skip
        db.execute(
            text(
                "INSERT INTO app_user (username, full_name, role, scope_area_id, password_hash, locale, active)"
                " SELECT :u, '测试协调员', 'coordinator', :area, password_hash, 'zh-CN', true FROM app_user"
                " WHERE username = 'operator1'"
            ),
            {"u": USERNAME, "area": area_id},
        )
        db.commit()
    yield {
        "area": area_id, "staff": able, "off_shift": off_shift, "unassigned": unassigned, "assigned": assigned,
        "alert": alert_id, "resident": residents[0].name, "tier": residents[0].visit_tier,
        "level": residents[0].level, "meal": residents[0].meal, "service": residents[0].service,
    }  # fmt: skip
    with Session(engine) as db:
        ids = {"ids": [unassigned, assigned], "staff": [able, off_shift]}
        db.execute(text("DELETE FROM alert WHERE task_id = ANY(:ids)"), ids)
        db.execute(text("DELETE FROM task_event WHERE task_id = ANY(:ids)"), ids)
        db.execute(text("DELETE FROM task WHERE id = ANY(:ids)"), ids)
        for table in ("shift", "staff_certification"):
            db.execute(text(f"DELETE FROM {table} WHERE staff_id = ANY(:staff)"), ids)
        db.execute(text("DELETE FROM staff WHERE id = ANY(:staff)"), ids)
        # The seeded database is shared by the session and other tests count its rows: our test user goes too,
        # with the audit rows of its own sign-ins and reads (test data, not a resident's record of access).
        user = {"u": USERNAME}
        db.execute(text("DELETE FROM audit_log WHERE user_id = (SELECT id FROM app_user WHERE username = :u)"), user)
        db.execute(text("DELETE FROM app_user WHERE username = :u"), user)
        db.commit()
    engine.dispose()


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    page.fill("#username", USERNAME)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")


def open_board(page: Page, base: str, world: dict[str, Any]) -> None:
    sign_in(page, base)
    expect(page).to_have_url(re.compile(r"/ui/coordinator/"))  # a coordinator lands on the board
    page.goto(f"{base}/ui/coordinator/?area={world['area']}&date={DAY}")
    expect(page.locator("body[data-board-date='2026-11-22']")).to_be_attached(timeout=10_000)


def test_the_coordinator_sees_alerts_first_and_the_unassigned_lane(
    page: Page, live_api: str, board_world: dict[str, Any]
) -> None:
    open_board(page, live_api, board_world)
    alert = page.locator(f"[data-alert-id='{board_world['alert']}']")
    expect(alert).to_contain_text("任务无人可派")
    expect(alert).to_contain_text("待处理")
    lanes = page.locator("#lanes")
    alerts_box, lanes_box = page.locator("#alerts-panel").bounding_box(), lanes.bounding_box()
    assert alerts_box is not None and lanes_box is not None
    assert alerts_box["y"] < lanes_box["y"], "alerts come first"
    unassigned = page.locator("[data-lane=unassigned]")
    expect(unassigned.locator(f"[data-task-id='{board_world['unassigned']}']")).to_contain_text(board_world["resident"])
    staff_lane = page.locator(f"[data-lane='staff-{board_world['staff']}']")
    expect(staff_lane.locator(f"[data-task-id='{board_world['assigned']}']")).to_contain_text("探访关爱")
    expect(staff_lane.locator("[data-load]")).to_contain_text("任务量")
    # the day is over by the wall clock: both tasks, still open, are highlighted as missed
    expect(unassigned.locator(f"[data-task-id='{board_world['unassigned']}'].missed")).to_be_visible()
    # the roster's panel (GET /api/roster/availability): our two staff members with their shifts
    able_row = page.locator(f"#availability [data-availability] tr[data-staff-id='{board_world['staff']}']")
    expect(able_row).to_contain_text("测试护理员甲")
    expect(able_row).to_contain_text("08:00–16:00")
    expect(able_row).to_contain_text("助浴")
    expect(page.locator(f"#availability tr[data-staff-id='{board_world['off_shift']}']")).to_contain_text("18:00–22:00")

    page.locator(f"[data-task-id='{board_world['unassigned']}']").click()
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator("#drawer-task")).to_contain_text(f"任务 #{board_world['unassigned']}")
    expect(drawer.locator("#drawer-task")).to_contain_text("未分配")
    expect(drawer.locator("#drawer-task")).to_contain_text("助浴")  # the service and the skill it needs, in words
    expect(drawer.locator("#assign-staff option")).not_to_have_count(1)  # the board's staff to choose from
    expect(drawer.locator(f"#drawer-trace [data-trace='{board_world['unassigned']}']")).to_contain_text("创建")
    # the resident's care plan (its tier) and assessment history (the latest level), from their endpoints
    plan = drawer.locator("[data-panel=carePlan] [data-tier]")
    expect(plan).to_have_attribute("data-tier", board_world["tier"])
    expect(plan).to_contain_text(CARE_TIER[board_world["tier"]][0])
    expect(plan).to_contain_text(MEAL[board_world["meal"]][0])
    expect(plan).to_contain_text(PURCHASED_SERVICE[board_world["service"]][0])
    latest = drawer.locator("[data-panel=assessments] [data-latest-level]")
    expect(latest).to_have_text(CAPABILITY[board_world["level"]][0])
    expect(drawer.locator("[data-panel=assessments] [data-assessment]").first).to_contain_text("总分")
    expect(drawer.locator("[data-failed]")).to_have_count(0)
    screenshot(page, "coordinator-board", docs=True)
    page.click("#drawer-close")
    expect(drawer).to_be_hidden()

    page.locator("#lang").click()
    expect(page.locator("#alerts-panel h2")).to_contain_text("Open alerts")
    expect(page.locator(f"[data-alert-id='{board_world['alert']}']")).to_contain_text("Task unassigned")
    expect(page.locator("[data-lane=unassigned] h3")).to_have_text("Unassigned")
    screenshot(page, "coordinator-board-en", docs=True)
    page.locator("#lang").click()

    alert = page.locator(f"[data-alert-id='{board_world['alert']}']")
    alert.locator("[data-action=acknowledge]").click()
    expect(alert).to_contain_text("处理中")
    expect(alert).to_contain_text("测试协调员")
    alert.locator("[data-action=resolve]").click()
    page.fill("#resolution", "已电话联系家属，改为明天上午探访")
    page.click("#resolve-submit")
    expect(page.locator("#resolve-dialog")).not_to_be_visible()
    expect(page.locator(f"[data-alert-id='{board_world['alert']}']")).to_have_count(0)
    expect(page.locator("[data-empty=alerts]")).to_be_visible()


def test_a_refused_reassignment_lists_the_rosters_reasons_in_words(
    page: Page, live_api: str, board_world: dict[str, Any]
) -> None:
    open_board(page, live_api, board_world)
    page.locator(f"[data-task-id='{board_world['unassigned']}']").click()
    page.select_option("#assign-staff", str(board_world["off_shift"]))
    page.fill("#assign-reason", "试派晚班人员")
    page.click("#assign-submit")
    result = page.locator("#assign-result.error")
    expect(result).to_contain_text("不能派给该人员")
    for code in ("not_on_shift", "missing_skill", "certificate_missing"):
        expect(result.locator(f"[data-reason='{code}']")).to_have_text(UNASSIGNABLE[code][0])
    expect(result).not_to_contain_text("_")  # no raw code
    expect(
        page.locator("[data-lane=unassigned]").locator(f"[data-task-id='{board_world['unassigned']}']")
    ).to_be_visible()


def test_a_task_is_reassigned_and_its_trace_shows_it(page: Page, live_api: str, board_world: dict[str, Any]) -> None:
    open_board(page, live_api, board_world)
    page.locator(f"[data-task-id='{board_world['unassigned']}']").click()
    page.select_option("#assign-staff", str(board_world["staff"]))
    page.fill("#assign-reason", "就近安排")
    page.click("#assign-submit")
    expect(page.locator("#assign-result")).to_contain_text("已派给 测试护理员甲")
    staff_lane = page.locator(f"[data-lane='staff-{board_world['staff']}']")
    expect(staff_lane.locator(f"[data-task-id='{board_world['unassigned']}']")).to_be_visible(timeout=10_000)
    trace = page.locator(f"#drawer-trace [data-trace='{board_world['unassigned']}']")
    expect(trace.locator("[data-action=assigned]")).to_contain_text("派单")
    expect(trace.locator("[data-action=assigned]")).to_contain_text("待派 → 已派")
    expect(trace.locator("[data-action=assigned]")).to_contain_text("测试协调员 · 就近安排")
    expect(page.locator("#drawer-task")).to_contain_text("测试护理员甲")


def test_the_days_actions_publish_the_assigned_and_report_the_nearest_assignment(
    page: Page, live_api: str, board_world: dict[str, Any]
) -> None:
    """The toolbar's two buttons: publishing sends the day's assigned task to its caregiver's list (published),
    and "assign nearest" reports what it did (how many, and why the others could not go) without an error."""
    open_board(page, live_api, board_world)
    page.click("#publish")
    # The world is the module's: the assigned task, and the unassigned one if the reassign test ran before.
    expect(page.locator("#action-result")).to_have_text(re.compile(r"^已下发 [12] 项任务$"))
    assigned = page.locator(f"[data-task-id='{board_world['assigned']}']")
    expect(assigned).to_contain_text("已下发", timeout=10_000)
    page.click("#auto-assign")
    # The live API runs on the wall clock: whether the fixed day's task can still go to 甲 depends on the date, so
    # only the report's form is checked here (tests/integration/test_task_lifecycle.py checks the assignments).
    expect(page.locator("#action-result")).to_have_text(re.compile(r"^已就近派出 [01] 项，[01] 项无人可派"))
    expect(page.locator("#banner")).to_be_hidden()


@pytest.fixture
def welfare_call(seeded_url: str) -> Iterator[dict[str, Any]]:
    """A lunch not collected today (by the wall clock: the live API runs on it) and its welfare call, opened as
    meals/watch.py opens one; the resident was taken to hospital an hour ago (a temporary state)."""
    engine = unpooled_engine(seeded_url)
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    with Session(engine) as db:
        resident = db.execute(
            text(
                "SELECT r.id, r.name FROM resident r WHERE NOT EXISTS (SELECT 1 FROM alarm a WHERE a.resident_id = r.id"
                " AND a.state <> 'resolved') AND NOT EXISTS (SELECT 1 FROM resident_state s WHERE s.resident_id = r.id)"
                " AND NOT EXISTS (SELECT 1 FROM meal_order o WHERE o.resident_id = r.id AND o.service_date = :day)"
                " ORDER BY r.id DESC LIMIT 1"
            ),
            {"day": today},
        ).one()
        point = db.execute(text("SELECT id, name FROM meal_point ORDER BY id LIMIT 1")).one()
        order_id = db.execute(
            text(
                "INSERT INTO meal_order (resident_id, meal_point_id, service_date, meal, mode, source, status,"
                " status_reason, deadline, ordered_at) VALUES (:r, :p, :day, 'lunch', 'pick_up', 'ad_hoc',"
                " 'not_collected', 'deadline_passed', :deadline, :ordered) RETURNING id"
            ),
            {"r": resident.id, "p": point.id, "day": today, "deadline": now - timedelta(minutes=30),
             "ordered": now - timedelta(hours=5)},
        ).scalar_one()  # fmt: skip
        state_id = db.execute(
            text(
                "INSERT INTO resident_state (resident_id, kind, starts_at, reason, recorded_at)"
                " VALUES (:r, 'hospital', :at, '家属来电：已送医', :now) RETURNING id"
            ),
            {"r": resident.id, "at": now - timedelta(hours=1), "now": now},
        ).scalar_one()
        reason = MealReason.MEAL_NOT_COLLECTED
        alarm_id = alarms.open_welfare_call(
            db, alarm_type=str(reason), resident_id=resident.id, now=now, reason=reason, meal_order_id=order_id,
            detail={"reason_code": reason, "service_date": today.isoformat(), "meal": "lunch", "mode": "pick_up"},
        )  # fmt: skip
        assert alarm_id is not None
        db.execute(text("UPDATE meal_order SET welfare_alarm_id = :a WHERE id = :id"), {"a": alarm_id, "id": order_id})
        db.commit()
    yield {"alarm": alarm_id, "order": order_id, "point": point.name, "day": today.isoformat()}
    with Session(engine) as db:
        visits = {"ids": db.execute(text("SELECT id FROM task WHERE alarm_id = :a"), {"a": alarm_id}).scalars().all()}
        # the urgent visit's insertion was recorded as a plan (kind urgent_insertion) naming it: that goes too
        plans = {
            "plans": db.execute(
                text("SELECT id FROM plan WHERE CAST(trigger->>'task_id' AS bigint) = ANY(:ids)"), visits
            )
            .scalars()
            .all()
        }
        db.execute(text("UPDATE task SET plan_id = NULL WHERE plan_id = ANY(:plans)"), plans)
        db.execute(text("DELETE FROM plan WHERE id = ANY(:plans)"), plans)
        db.execute(text("DELETE FROM alert WHERE task_id = ANY(:ids)"), visits)
        db.execute(text("DELETE FROM task_event WHERE task_id = ANY(:ids)"), visits)
        db.execute(text("DELETE FROM task WHERE id = ANY(:ids)"), visits)
        db.execute(text("DELETE FROM resident_state WHERE id = :id"), {"id": state_id})
        for table in ("alarm_transition", "alarm_event"):
            db.execute(text(f"DELETE FROM {table} WHERE alarm_id = :id"), {"id": alarm_id})
        db.execute(text("UPDATE meal_order SET welfare_alarm_id = NULL WHERE id = :id"), {"id": order_id})
        db.execute(text("DELETE FROM alarm WHERE id = :id"), {"id": alarm_id})
        db.execute(text("DELETE FROM meal_order WHERE id = :id"), {"id": order_id})
        db.commit()
    engine.dispose()


def test_the_console_shows_a_welfare_call_with_its_badge_and_filters(
    page: Page, live_api: str, welfare_call: dict[str, Any]
) -> None:
    page.goto(f"{live_api}/")
    page.fill("#username", "operator1")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#live[data-state=open]")).to_be_visible(timeout=10_000)
    alarm_id = welfare_call["alarm"]
    row = page.locator(f"#queue tr[data-alarm-id='{alarm_id}']")
    expect(row.locator("[data-welfare]")).to_have_text("关怀呼叫")
    row.click()
    detail = page.locator("#detail")
    expect(detail.locator(".detail-head [data-welfare]")).to_be_visible()
    expect(detail.locator(".detail-head")).not_to_contain_text("None")
    expect(detail.locator(".detail-head")).not_to_contain_text("null")
    expect(detail.locator("[data-action=acknowledge]")).to_be_enabled(timeout=10_000)
    # the meal order instead of device data, and the resident's temporary state
    order = detail.locator(f"[data-meal-order='{welfare_call['order']}']")
    for words in (welfare_call["day"], MEAL["lunch"][0], MEAL_MODE["pick_up"][0], welfare_call["point"], "未取餐"):
        expect(order).to_contain_text(words)
    expect(detail.locator("[data-resident-state=hospital]")).to_contain_text(f"当前状态：{STATE_KIND['hospital'][0]}")
    expect(detail.locator("[data-device-status]")).to_have_count(0)
    expect(detail).not_to_contain_text("近24小时设备记录")
    expect(detail.locator("[data-trace-action=opened]")).to_contain_text("助餐未取")
    expect(detail.locator("[data-trace-action=opened]")).not_to_contain_text("meal_not_collected")
    screenshot(page, "console-welfare-call", docs=True)

    page.click("[data-filter=welfare]")
    expect(page.locator("#queue tbody tr[data-source=device]")).to_have_count(0)
    expect(row).to_be_visible()
    page.click("[data-filter=device]")
    expect(row).to_have_count(0)
    page.click("[data-filter=all]")
    expect(row).to_be_visible()
    row.click()
    detail.locator("[data-action=acknowledge]").click()
    expect(row).to_contain_text("已接警", timeout=10_000)
    # nobody answers the call back: an urgent visit is created, and its line is on the trace
    detail.locator("[data-action=call-no-answer]").click()
    expect(row).to_contain_text("处理中", timeout=10_000)
    visit = detail.locator("[data-trace-action=visit_progress]")
    expect(visit).to_contain_text("上门进展", timeout=10_000)
    expect(visit).to_contain_text("紧急探访 #")
    expect(visit).to_contain_text("已生成")
    expect(visit).to_contain_text(re.compile("待派|已下发"))
    expect(detail.locator(".detail-head")).to_contain_text("已派人")
    visit.scroll_into_view_if_needed()
    screenshot(page, "console-welfare-call-visit", docs=True)
