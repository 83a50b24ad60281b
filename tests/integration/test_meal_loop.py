"""The meal loop end to end on PostgreSQL with the injected clock: a care plan's lunch at a meal point becomes an
order; a canteen check-in collects it; without one, the deadline opens a welfare call in the operators' queue,
which they handle like any alarm (acknowledge, call back, resolve).

The last hop of the issue's loop ("no answer" on the call back → an urgent visit) is built and tested on the
lifecycle branch (alarms/service.py `act`); these tests stop at the call back.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service as alarms
from eldercare_platform.alarms.jobs import EscalationPolicy, escalate, flag_substitute_cover
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings, SchedulerSettings
from eldercare_platform.meals.jobs import JOBS
from eldercare_platform.meals.orders import generate_orders
from eldercare_platform.meals.watch import watch
from tests import factories as f
from tests.integration.meal_support import DAY, TOMORROW, at, care_plan, checkin, every_day, meals_world, orders_of

__all__ = ["meals_world"]


@pytest.fixture
def lunch(db: Session, meals_world: dict[str, Any], api_settings: ApiSettings) -> dict[str, Any]:
    """Resident A's care plan has lunch at the canteen every day; the order job ran at 08:00."""
    care_plan(db, resident_id=meals_world["resident_a"], meals=[every_day("lunch", "dine_in", meals_world["point"])])
    counts = generate_orders(db, settings=api_settings, now=at(8))
    assert counts["created"] == 2  # today's and tomorrow's lunch
    [today, tomorrow] = orders_of(db, meals_world["resident_a"])
    assert (today["service_date"], tomorrow["service_date"]) == (DAY, TOMORROW)
    assert today["status"] == "ordered" and today["source"] == "plan" and today["mode"] == "dine_in"
    assert today["deadline"] == at(13)  # 12:30 + 30 min grace
    db.commit()
    return {**meals_world, "order": today["id"]}


def test_the_order_job_is_idempotent(db: Session, lunch: dict[str, Any], api_settings: ApiSettings) -> None:
    again = generate_orders(db, settings=api_settings, now=at(8, 15))
    assert again["created"] == 0
    assert len(orders_of(db, lunch["resident_a"])) == 2


def test_a_canteen_checkin_collects_the_order(db: Session, lunch: dict[str, Any], api_settings: ApiSettings) -> None:
    checkin(db, serial=lunch["terminal"], resident_id=lunch["resident_a"], received=at(11, 40))
    counts = watch(db, settings=api_settings, now=at(11, 41))
    assert counts["collected"] == 1
    order = orders_of(db, lunch["resident_a"])[0]
    assert order["status"] == "collected" and order["collected_via"] == "terminal"
    assert order["collected_at"] == at(11, 40)
    # Reread (overlap), then past the deadline: nothing changes and no welfare call opens.
    assert watch(db, settings=api_settings, now=at(11, 45))["collected"] == 0
    assert watch(db, settings=api_settings, now=at(13, 5))["welfare_calls"] == 0
    assert db.execute(text("SELECT count(*) FROM alarm WHERE meal_order_id = :o"), {"o": lunch["order"]}).scalar() == 0


def test_the_watch_reads_from_its_watermark(db: Session, lunch: dict[str, Any], api_settings: ApiSettings) -> None:
    """A check-in received long before the watermark (minus its overlap) is not reread."""
    watch(db, settings=api_settings, now=at(11, 0))
    checkin(db, serial=lunch["terminal"], resident_id=lunch["resident_a"], received=at(10, 0))
    assert watch(db, settings=api_settings, now=at(11, 30))["checkins"] == 0
    checkin(db, serial=lunch["terminal"], resident_id=lunch["resident_a"], received=at(11, 25))
    assert watch(db, settings=api_settings, now=at(11, 31))["collected"] == 1


def test_no_checkin_opens_a_welfare_call_the_operator_handles(
    db: Session, lunch: dict[str, Any], api_settings: ApiSettings, client: TestClient, clock: FixedClock
) -> None:
    assert watch(db, settings=api_settings, now=at(12, 59))["welfare_calls"] == 0
    counts = watch(db, settings=api_settings, now=at(13, 0))
    assert counts["welfare_calls"] == 1
    order = orders_of(db, lunch["resident_a"])[0]
    assert order["status"] == "not_collected" and order["welfare_alarm_id"] is not None
    alarm_id = order["welfare_alarm_id"]
    assert watch(db, settings=api_settings, now=at(13, 1))["welfare_calls"] == 0  # once per order
    db.commit()

    clock.set(at(13, 2))
    headers = f.login(client, lunch["operator"].username)
    queue = client.get("/api/alarms", headers=headers)
    assert queue.status_code == 200
    [call] = [a for a in queue.json() if a["id"] == alarm_id]
    assert call["source"] == "welfare" and call["device_serial"] is None
    assert call["type"] == "meal_not_collected" and call["meal_order_id"] == lunch["order"]
    assert call["resident_id"] == lunch["resident_a"] and call["state"] == "new"

    card = client.get(f"/api/alarms/{alarm_id}/card", headers=headers)
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["meal_order"]["id"] == lunch["order"] and body["meal_order"]["meal"] == "lunch"
    assert body["meal_order"]["meal_point_name"] == "丽华老年食堂"
    assert body["last_24h"] == {"events": [], "vitals": [], "device_status": []}
    assert body["resident"]["resident"]["name"] == "张桂英"

    # The jobs of the alarm center run over it without a device.
    db.expire_all()
    assert escalate(db, now=at(13, 5), policy=EscalationPolicy())["realerted"] >= 1
    assert flag_substitute_cover(db, now=at(16)) == 0
    db.commit()

    clock.set(at(13, 10))
    assert client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=headers).status_code == 200
    reached = client.post(
        f"/api/alarms/{alarm_id}/actions",
        headers=headers,
        json={"action": "call_back", "result": "reached", "note": "老人在家, 今天不想吃"},
    )
    assert reached.status_code == 200, reached.text
    assert reached.json()["alarm"]["state"] == "in_progress"
    resolved = client.post(
        f"/api/alarms/{alarm_id}/resolve",
        headers=headers,
        json={"outcome": "assisted_by_phone", "reach_method": "phone", "notes": "已电话确认"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["state"] == "resolved"
    actions = [line.action for line in alarms.trace(db, alarm_id=alarm_id)]
    assert actions[0] == "opened" and actions[-3:] == ["acknowledge", "call_back", "resolve"]
    # No device: nothing was sent down to any device.
    assert (
        db.execute(text("SELECT count(*) FROM outbox WHERE topic = 'downlink' AND payload->>'serial' IS NULL")).scalar()
        == 0
    )


def test_a_late_checkin_collects_and_notes_the_open_call(
    db: Session, lunch: dict[str, Any], api_settings: ApiSettings
) -> None:
    watch(db, settings=api_settings, now=at(13, 0))
    alarm_id = orders_of(db, lunch["resident_a"])[0]["welfare_alarm_id"]
    checkin(db, serial=lunch["terminal"], resident_id=lunch["resident_a"], received=at(13, 3))
    assert watch(db, settings=api_settings, now=at(13, 4))["collected"] == 1
    order = orders_of(db, lunch["resident_a"])[0]
    assert order["status"] == "collected" and order["status_reason"] == "checked_in_after_not_collected"
    last = alarms.trace(db, alarm_id=alarm_id)[-1]
    assert last.action == "note" and last.reason == "meal_collected_late"


def test_a_second_missed_meal_is_noted_on_the_open_call(
    db: Session, lunch: dict[str, Any], api_settings: ApiSettings
) -> None:
    care_plan_id = db.execute(
        text("SELECT id FROM care_plan WHERE resident_id = :r"), {"r": lunch["resident_a"]}
    ).scalar_one()
    dinner = json.dumps([every_day("dinner", "pick_up", lunch["point"])])
    db.execute(
        text("UPDATE care_plan SET meals = meals || CAST(:entry AS jsonb) WHERE id = :id"),
        {"entry": dinner, "id": care_plan_id},
    )
    generate_orders(db, settings=api_settings, now=at(9))
    watch(db, settings=api_settings, now=at(13, 0))
    counts = watch(db, settings=api_settings, now=at(19, 0))
    assert counts == counts | {"welfare_calls": 0, "noted": 1}
    alarm_ids = {o["welfare_alarm_id"] for o in orders_of(db, lunch["resident_a"]) if o["service_date"] == DAY}
    assert len(alarm_ids) == 1 and None not in alarm_ids


def test_a_delivery_order_gets_its_task_and_is_delivered_when_it_is_done(
    db: Session, meals_world: dict[str, Any], api_settings: ApiSettings
) -> None:
    care_plan(db, resident_id=meals_world["resident_c"], meals=[every_day("lunch", "delivery", meals_world["point"])])
    generate_orders(db, settings=api_settings, now=at(8))
    order = orders_of(db, meals_world["resident_c"])[0]
    task = db.execute(text("SELECT * FROM task WHERE id = :id"), {"id": order["task_id"]}).mappings().one()
    assert task["kind"] == "meal_delivery" and task["source"] == "meal" and task["meal_order_id"] == order["id"]
    assert (task["window_start"], task["window_end"]) == (at(11), at(12, 30))
    assert task["priority"] == 2 and task["required_skill"] == "meal_delivery" and task["service"] == "meal_delivery"
    assert task["slot"] == f"meal:{DAY.isoformat()}:lunch" and task["duration_minutes"] == 45
    # Picked up at 11:05, at the door at 12:10: more than 45 minutes of hot food on the road.
    db.execute(
        text(
            "UPDATE task SET status = 'completed', en_route_at = :picked, checked_in_at = :door, completed_at = :door"
            " WHERE id = :id"
        ),
        {"picked": at(11, 5), "door": at(12, 10), "id": task["id"]},
    )
    assert watch(db, settings=api_settings, now=at(12, 11))["delivered"] == 1
    order = orders_of(db, meals_world["resident_c"])[0]
    assert order["status"] == "delivered" and order["collected_via"] == "staff"
    assert order["status_reason"] == "delivered_late"
    assert watch(db, settings=api_settings, now=at(13, 30))["welfare_calls"] == 0


def test_a_delivery_left_with_a_neighbour_says_so_on_the_order(
    db: Session, meals_world: dict[str, Any], api_settings: ApiSettings
) -> None:
    """The caregiver app's meal outcome (issue 13): who holds the meal matters more than its lateness."""
    care_plan(db, resident_id=meals_world["resident_c"], meals=[every_day("lunch", "delivery", meals_world["point"])])
    generate_orders(db, settings=api_settings, now=at(8))
    order = orders_of(db, meals_world["resident_c"])[0]
    db.execute(
        text(
            "UPDATE task SET status = 'completed', en_route_at = :picked, checked_in_at = :door, completed_at = :door,"
            ' findings = \'{"meal_outcome": "left_with_neighbour"}\' WHERE id = :id'
        ),
        {"picked": at(11, 5), "door": at(12, 10), "id": order["task_id"]},
    )
    assert watch(db, settings=api_settings, now=at(12, 11))["delivered"] == 1
    order = orders_of(db, meals_world["resident_c"])[0]
    assert (order["status"], order["status_reason"]) == ("delivered", "left_with_neighbour")


def test_a_checkin_without_an_order_is_recorded_as_an_ad_hoc_dine_in(
    db: Session, meals_world: dict[str, Any], api_settings: ApiSettings
) -> None:
    checkin(db, serial=meals_world["terminal"], resident_id=meals_world["resident_c"], received=at(17, 20), meal=None)
    checkin(db, serial=meals_world["terminal"], resident_id=None, received=at(17, 21))
    counts = watch(db, settings=api_settings, now=at(17, 30))
    assert counts["ad_hoc"] == 1 and counts["unknown_resident"] == 1
    [order] = orders_of(db, meals_world["resident_c"])
    assert order["meal"] == "dinner" and order["status"] == "collected" and order["source"] == "ad_hoc"
    assert order["mode"] == "dine_in" and order["meal_point_id"] == meals_world["point"]
    assert watch(db, settings=api_settings, now=at(17, 35))["ad_hoc"] == 0


def test_residents_away_or_gone_get_no_orders(
    db: Session, meals_world: dict[str, Any], api_settings: ApiSettings
) -> None:
    point = meals_world["point"]
    care_plan(db, resident_id=meals_world["resident_a"], meals=[every_day("lunch", "dine_in", point)])
    care_plan(db, resident_id=meals_world["resident_c"], meals=[every_day("dinner", "dine_in", point)])
    db.execute(
        text(
            "INSERT INTO resident_state (resident_id, kind, starts_at, ends_at, reason, recorded_at)"
            " VALUES (:a, 'hospital', :start, :end, '肺炎住院', :start), (:c, 'deceased', :start, NULL, '去世', :start)"
        ),
        {"a": meals_world["resident_a"], "c": meals_world["resident_c"], "start": at(7), "end": at(10, day_offset=1)},
    )
    counts = generate_orders(db, settings=api_settings, now=at(8))
    assert counts["away"] == 1  # today's lunch; tomorrow's lunch at 11:00 is after the stay ends at 10:00
    [tomorrow] = orders_of(db, meals_world["resident_a"])
    assert tomorrow["service_date"] == DAY + timedelta(days=1)
    assert orders_of(db, meals_world["resident_c"]) == []


def test_the_declared_jobs_run_on_the_injected_clock(db: Session, lunch: dict[str, Any], database_url: str) -> None:
    settings = SchedulerSettings(environment="test", database_url=database_url)
    clock = FixedClock(at(13, 0))
    jobs = {spec.name: spec.build(settings, clock) for spec in JOBS}
    orders_job, watch_job = jobs["meal_orders"], jobs["meal_watch"]
    assert orders_job is not None and watch_job is not None
    assert "'created': 0" in str(orders_job(db, clock.now()))  # today's and tomorrow's lunch exist already
    assert "'welfare_calls': 1" in str(watch_job(db, clock.now()))


def test_a_resident_taken_to_hospital_after_ordering_gets_no_welfare_call(
    db: Session, lunch: dict[str, Any], api_settings: ApiSettings
) -> None:
    """The state was recorded after the order was made and nobody cancelled it: at the deadline the order is
    cancelled (`resident_away`) instead of opening a welfare call."""
    db.execute(
        text(
            "INSERT INTO resident_state (resident_id, kind, starts_at, reason, recorded_at)"
            " VALUES (:r, 'hospital', :start, '急诊住院', :start)"
        ),
        {"r": lunch["resident_a"], "start": at(10)},
    )
    counts = watch(db, settings=api_settings, now=at(13, 0))
    assert counts["welfare_calls"] == 0 and counts["away"] == 1
    order = orders_of(db, lunch["resident_a"])[0]
    assert order["status"] == "cancelled" and order["status_reason"] == "resident_away"
