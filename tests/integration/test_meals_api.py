"""The meals API on PostgreSQL with the injected clock: cut-offs, capacity, cancel, manual check-in, the point's
day and the scope rule."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.meals.orders import generate_orders
from tests import factories as f
from tests.integration.meal_support import DAY, TOMORROW, at, care_plan, every_day, meals_world, orders_of

__all__ = ["meals_world"]
pytestmark = pytest.mark.time_sensitive


def order_body(
    world: dict[str, Any], resident: str, *, meal: str = "lunch", mode: str = "dine_in", day: Any = DAY
) -> dict[str, Any]:
    return {
        "resident_id": world[resident],
        "meal_point_id": world["point"],
        "service_date": day.isoformat(),
        "meal": meal,
        "mode": mode,
    }


@pytest.fixture
def coordinator(client: TestClient, meals_world: dict[str, Any], clock: FixedClock) -> dict[str, str]:
    """Coordinator A, logged in at 07:00 (a token is good for 12 hours from its issue)."""
    clock.set(at(7))
    return f.login(client, meals_world["coordinator_a"].username)


def test_an_ad_hoc_order_after_the_cutoff_is_refused_with_the_cutoff(
    client: TestClient, meals_world: dict[str, Any], coordinator: dict[str, str], clock: FixedClock
) -> None:
    clock.set(at(10))
    late = client.post("/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a"))
    assert late.status_code == 422
    assert late.json()["code"] == "meal_cutoff_passed"
    assert late.json()["cutoff"] == at(9, 30).isoformat().replace("+00:00", "Z")
    dinner = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a", meal="dinner")
    )
    assert dinner.status_code == 201, dinner.text
    body = dinner.json()
    assert body["source"] == "ad_hoc" and body["status"] == "ordered" and body["deadline"].startswith(DAY.isoformat())
    # Breakfast tomorrow closes at 20:00 today.
    clock.set(at(20, 1))
    coordinator = f.login(client, meals_world["coordinator_a"].username)
    breakfast = client.post(
        "/api/meals/orders",
        headers=coordinator,
        json=order_body(meals_world, "resident_a", meal="breakfast", day=TOMORROW),
    )
    assert breakfast.status_code == 422 and breakfast.json()["cutoff"] == at(20).isoformat().replace("+00:00", "Z")
    again = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a", meal="dinner")
    )
    assert again.status_code == 422  # dinner closed at 15:00


def test_a_second_order_for_the_same_meal_is_a_conflict(
    client: TestClient, meals_world: dict[str, Any], coordinator: dict[str, str], clock: FixedClock
) -> None:
    clock.set(at(8))
    first = client.post("/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a"))
    assert first.status_code == 201
    second = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a", mode="pick_up")
    )
    assert second.status_code == 409 and second.json()["code"] == "meal_order_exists"


def test_capacity_refuses_ad_hoc_orders_but_not_plans(
    db: Session,
    client: TestClient,
    meals_world: dict[str, Any],
    coordinator: dict[str, str],
    clock: FixedClock,
    api_settings: ApiSettings,
) -> None:
    point = meals_world["point"]  # 2 seats per meal
    for resident in ("resident_a", "resident_b", "resident_c"):
        care_plan(db, resident_id=meals_world[resident], meals=[every_day("lunch", "pick_up", point)])
    counts = generate_orders(db, settings=api_settings, now=at(8))
    assert counts["created"] == 6 and counts["raised"] == 2  # today and tomorrow: 3 orders for 2 seats
    alert = (
        db.execute(
            text("SELECT * FROM alert WHERE kind = :k AND subject_key = :s"),
            {"k": str(AlertKind.MEAL_CAPACITY), "s": f"meal:{point}:{DAY.isoformat()}:lunch"},
        )
        .mappings()
        .one()
    )
    assert alert["state"] == "open" and alert["detail"]["seats_taken"] == 3 and alert["detail"]["capacity"] == 2
    db.commit()

    clock.set(at(8, 30))
    full = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_c", meal="dinner")
    )
    assert full.status_code == 201  # dinner has seats
    extra = f.resident(db, community=meals_world["community_a"], name="周玉珍")
    db.commit()
    meals_world["extra"] = extra.id
    refused = client.post("/api/meals/orders", headers=coordinator, json=order_body(meals_world, "extra"))
    assert refused.status_code == 409 and refused.json()["code"] == "meal_point_full"
    assert refused.json()["capacity"] == 2 and refused.json()["seats_taken"] == 3
    delivered = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "extra", mode="delivery")
    )
    assert delivered.status_code == 201 and delivered.json()["task_id"] is not None  # delivery takes no seat

    # A cancellation frees a seat; the next run resolves the alert.
    [today_c] = [
        o for o in orders_of(db, meals_world["resident_c"]) if (o["meal"], o["service_date"]) == ("lunch", DAY)
    ]
    cancel = client.post(f"/api/meals/orders/{today_c['id']}/cancel", headers=coordinator, json={"reason": "外出"})
    assert cancel.status_code == 200
    db.expire_all()
    assert generate_orders(db, settings=api_settings, now=at(9))["resolved"] == 1

    day = client.get(f"/api/meals/points/{point}/day", headers=coordinator, params={"date": DAY.isoformat()})
    assert day.status_code == 200, day.text
    lunch = next(m for m in day.json()["meals"] if m["meal"] == "lunch")
    assert lunch["seats_taken"] == 2 and lunch["capacity"] == 2 and not lunch["over_capacity"]
    assert lunch["pick_up"] == 2 and lunch["delivery"] == 1 and lunch["cancelled"] == 1


def test_cancel_before_the_cutoff_only_and_its_delivery_task_goes_too(
    db: Session, client: TestClient, meals_world: dict[str, Any], coordinator: dict[str, str], clock: FixedClock
) -> None:
    clock.set(at(8))
    made = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a", mode="delivery")
    )
    assert made.status_code == 201
    order = made.json()
    no_reason = client.post(f"/api/meals/orders/{order['id']}/cancel", headers=coordinator, json={})
    assert no_reason.status_code == 422
    cancelled = client.post(f"/api/meals/orders/{order['id']}/cancel", headers=coordinator, json={"reason": "家属接走"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["status_reason"] == "家属接走"
    task = db.execute(text("SELECT status FROM task WHERE id = :id"), {"id": order["task_id"]}).scalar_one()
    assert task == "cancelled"
    twice = client.post(f"/api/meals/orders/{order['id']}/cancel", headers=coordinator, json={"reason": "x"})
    assert twice.status_code == 409 and twice.json()["code"] == "meal_order_state"

    dinner = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a", meal="dinner")
    ).json()
    clock.set(at(15, 1))
    late = client.post(f"/api/meals/orders/{dinner['id']}/cancel", headers=coordinator, json={"reason": "不吃了"})
    assert late.status_code == 422 and late.json()["code"] == "meal_cutoff_passed"


def test_a_manual_checkin_collects_once(
    client: TestClient, meals_world: dict[str, Any], coordinator: dict[str, str], clock: FixedClock
) -> None:
    clock.set(at(8))
    order = client.post("/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a")).json()
    clock.set(at(11, 50))
    done = client.post(f"/api/meals/orders/{order['id']}/collected", headers=coordinator, json={"note": "刷卡机故障"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "collected" and done.json()["collected_via"] == "manual"
    assert done.json()["collected_at"].startswith(at(11, 50).isoformat()[:16])
    again = client.post(f"/api/meals/orders/{order['id']}/collected", headers=coordinator, json={})
    assert again.status_code == 409
    missing = client.post("/api/meals/orders/999999999/collected", headers=coordinator, json={})
    assert missing.status_code == 404 and missing.json()["code"] == "meal_order_not_found"


def test_orders_are_seen_and_changed_only_in_scope(
    db: Session, client: TestClient, meals_world: dict[str, Any], coordinator: dict[str, str], clock: FixedClock
) -> None:
    clock.set(at(8))
    mine = client.post("/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a")).json()
    other = f.login(client, meals_world["coordinator_b"].username)
    listed = client.get("/api/meals/orders", headers=coordinator, params={"date": DAY.isoformat(), "meal": "lunch"})
    assert [o["id"] for o in listed.json()] == [mine["id"]]
    assert client.get("/api/meals/orders", headers=other, params={"date": DAY.isoformat()}).json() == []
    assert client.post(f"/api/meals/orders/{mine['id']}/cancel", headers=other, json={"reason": "x"}).status_code == 404
    assert client.post(f"/api/meals/orders/{mine['id']}/collected", headers=other, json={}).status_code == 404
    assert client.get(f"/api/meals/points/{meals_world['point']}/day", headers=other).status_code == 404
    foreign = client.post("/api/meals/orders", headers=other, json=order_body(meals_world, "resident_a", meal="dinner"))
    assert foreign.status_code == 422 and foreign.json()["code"] == "resident_not_found"
    # The operator (whole city) reads them, but may not order.
    operator = f.login(client, meals_world["operator"].username)
    assert len(client.get("/api/meals/orders", headers=operator, params={"status": "ordered"}).json()) >= 1
    assert (
        client.post("/api/meals/orders", headers=operator, json=order_body(meals_world, "resident_c")).status_code
        == 403
    )


def test_no_ad_hoc_order_for_a_resident_in_hospital(
    db: Session, client: TestClient, meals_world: dict[str, Any], coordinator: dict[str, str], clock: FixedClock
) -> None:
    db.execute(
        text(
            "INSERT INTO resident_state (resident_id, kind, starts_at, ends_at, reason, recorded_at)"
            " VALUES (:r, 'hospital', :start, :end, '住院', :start)"
        ),
        {"r": meals_world["resident_a"], "start": at(6), "end": at(16)},
    )
    db.commit()
    clock.set(at(8))
    lunch = client.post("/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a"))
    assert lunch.status_code == 422 and lunch.json()["code"] == "resident_away"
    dinner = client.post(
        "/api/meals/orders", headers=coordinator, json=order_body(meals_world, "resident_a", meal="dinner")
    )
    assert dinner.status_code == 201  # home again by then
