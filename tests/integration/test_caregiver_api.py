"""The caregiver app's API on PostgreSQL (issue 13): exactly-once writes with `Idempotency-Key`, the resident's
essentials (least privilege, audited), the visit record per kind (checklist, problem category, meal outcome),
photos, acknowledging a change, the urgent-acknowledgement alert and the check-in distance setting. The API stands
at TEST_NOW (FixedClock)."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from eldercare_platform.scheduler.jobs import telemetry_retention
from eldercare_platform.tasks.alerting import AlertRules, task_alerts
from eldercare_platform.tasks.push import staff_changes
from tests.conftest import TEST_NOW, migrated_database, psql, unpooled_engine
from tests.integration.lifecycle_support import HOME, NEAR, World, auth, build, iso, published_task


@pytest.fixture
def w(db: Session) -> World:
    return build(db)


def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None, key: str | None = None) -> Any:
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, headers=headers | extra, json=body)


def count(db: Session, sql: str, **params: Any) -> int:
    return int(db.execute(text(sql), params).scalar_one())


def png(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


FINDINGS = {"resident_condition": "good", "checklist": {"condition": "ok", "gas_off": "ok"}, "notes": "精神好"}


# --- idempotency ------------------------------------------------------------------------------------------------


def test_a_replay_after_a_lost_response_changes_nothing_and_answers_the_same(
    client: TestClient, db: Session, w: World
) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    check_in = {"latitude": NEAR[0], "longitude": NEAR[1], "at": iso(TEST_NOW - timedelta(minutes=5))}
    first = post(client, f"/api/tasks/{task_id}/check-in", caregiver, check_in, key="app-1:check-in")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    again = post(client, f"/api/tasks/{task_id}/check-in", caregiver, check_in, key="app-1:check-in")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert count(db, "SELECT count(*) FROM task_event WHERE task_id = :t AND action = 'checked_in'", t=task_id) == 1
    # the complete with a problem found, sent twice: one visit, one follow-up, one alert
    complete = {
        "latitude": HOME[0],
        "longitude": HOME[1],
        "findings": FINDINGS | {"problem_category": "safety"},
        "problem_found": True,
        "problem": "燃气灶打不着火",
    }
    done = post(client, f"/api/tasks/{task_id}/complete", caregiver, complete, key="app-1:complete")
    replayed = post(client, f"/api/tasks/{task_id}/complete", caregiver, complete, key="app-1:complete")
    assert done.status_code == replayed.status_code == 200 and replayed.json() == done.json()
    assert count(db, "SELECT count(*) FROM task_event WHERE task_id = :t AND action = 'completed'", t=task_id) == 1
    assert count(db, "SELECT count(*) FROM task WHERE follow_up_of = :t", t=task_id) == 1
    assert (
        count(
            db,
            "SELECT count(*) FROM alert WHERE kind = 'follow_up_open' AND detail->>'found_on_task_id' = :t",
            t=str(task_id),
        )
        == 1
    )
    # without a key, a second complete is what it always was: 409
    assert post(client, f"/api/tasks/{task_id}/complete", caregiver, complete).status_code == 409


def test_a_replayed_no_answer_opens_one_welfare_call(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    body = {"latitude": HOME[0], "longitude": HOME[1], "note": "敲门无人应答"}
    first = post(client, f"/api/tasks/{task_id}/no-answer", caregiver, body, key="door-1")
    again = post(client, f"/api/tasks/{task_id}/no-answer", caregiver, body, key="door-1")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert first.json()["welfare_alarm_id"] is not None
    assert count(db, "SELECT count(*) FROM alarm WHERE task_id = :t", t=task_id) == 1


def test_a_key_reused_for_another_request_or_malformed_is_422(client: TestClient, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    assert post(client, f"/api/tasks/{task_id}/accept", caregiver, {}, key="k-1").status_code == 200
    other_body = post(client, f"/api/tasks/{task_id}/accept", caregiver, {"at": iso(TEST_NOW)}, key="k-1")
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    other_path = post(client, f"/api/tasks/{task_id}/en-route", caregiver, {}, key="k-1")
    assert other_path.status_code == 422 and other_path.json()["code"] == "idempotency_key_reused"
    for bad in (b"", b"has space", b"x" * 101, "中文".encode()):
        response = client.post(f"/api/tasks/{task_id}/en-route", headers=caregiver | {"Idempotency-Key": bad})
        assert response.status_code == 422 and response.json()["code"] == "bad_idempotency_key", bad


def test_a_failed_request_stores_nothing_and_its_key_can_be_retried(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    too_early = {"latitude": HOME[0], "longitude": HOME[1], "at": iso(TEST_NOW - timedelta(days=2))}
    refused = post(client, f"/api/tasks/{task_id}/check-in", caregiver, too_early, key="retry-me")
    assert refused.status_code == 422 and refused.json()["code"] == "event_time_out_of_range"
    assert count(db, "SELECT count(*) FROM idempotent_request WHERE key = 'retry-me'") == 0
    # a fixed request under the same key (the app corrected `at`) — the key is free again
    fixed = post(client, f"/api/tasks/{task_id}/check-in", caregiver, too_early | {"at": iso(TEST_NOW)}, key="retry-me")
    assert fixed.status_code == 200 and fixed.json()["status"] == "checked_in"


def test_stored_answers_are_deleted_after_a_week(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    assert post(client, f"/api/tasks/{task_id}/accept", caregiver, None, key="week-old").status_code == 200
    assert post(client, f"/api/tasks/{task_id}/en-route", caregiver, None, key="fresh").status_code == 200
    db.execute(
        text("UPDATE idempotent_request SET created_at = :at WHERE key = 'week-old'"),
        {"at": TEST_NOW - timedelta(days=8)},
    )
    summary = telemetry_retention(db, TEST_NOW)
    assert "1 idempotency keys" in summary
    assert [
        row[0]
        for row in db.execute(text("SELECT key FROM idempotent_request WHERE user_id = :u"), {"u": w.near_caregiver.id})
    ] == ["fresh"]


def test_keys_are_per_user(client: TestClient, w: World) -> None:
    near, far = auth(client, w.near_caregiver), auth(client, w.far_caregiver)
    mine = published_task(client, w)
    theirs = published_task(client, w, staff_id=w.far_staff)
    assert post(client, f"/api/tasks/{mine}/accept", near, None, key="same").status_code == 200
    answer = post(client, f"/api/tasks/{theirs}/accept", far, None, key="same")
    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers


@pytest.fixture(scope="module")
def own_database(postgres: PostgresInstance) -> str:
    """A database of this module's own: the concurrency test commits (two connections must see the data)."""
    return migrated_database(postgres, "eldercare_caregiver_api")


def _waiting_on_locks(url: str) -> int:
    rows = psql(
        url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    return int(rows[0][0])


def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_concurrent_duplicates_make_one_effect_and_the_second_replays(own_database: str) -> None:
    """Two requests with the same key at once: the second waits on the first's claim, then replays its answer."""
    engine = unpooled_engine(own_database)
    with Session(engine, expire_on_commit=False) as session:
        world = build(session)
        session.commit()
    settings = ApiSettings(environment="test", database_url=own_database, mqtt_url="mqtt://127.0.0.1:1")
    app = create_app(settings, connect_broker=False, clock=FixedClock(TEST_NOW))
    with TestClient(app) as client:
        caregiver = auth(client, world.near_caregiver)
        task_id = published_task(client, world)
        body = {"latitude": HOME[0], "longitude": HOME[1]}
        answers: list[Any] = []

        def check_in() -> None:
            answers.append(post(client, f"/api/tasks/{task_id}/check-in", caregiver, body, key="twice"))

        with psycopg.connect(own_database) as blocker:  # holds the task's row: the first request waits inside
            blocker.execute("SELECT id FROM task WHERE id = %s FOR UPDATE", (task_id,))
            first = threading.Thread(target=check_in)
            first.start()
            _until(lambda: _waiting_on_locks(own_database) == 1, "the first request to wait on the task row")
            second = threading.Thread(target=check_in)
            second.start()
            _until(lambda: _waiting_on_locks(own_database) == 2, "the second request to wait on the key")
            blocker.rollback()
        first.join(10)
        second.join(10)
    engine.dispose()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get("Idempotent-Replayed", "false") for a in answers) == ["false", "true"]
    events = psql(
        own_database, "SELECT count(*) FROM task_event WHERE task_id = %s AND action = 'checked_in'", (task_id,)
    )
    assert events == [(1,)]


# --- the resident's essentials ------------------------------------------------------------------------------------


def test_essentials_only_for_residents_on_own_current_tasks_and_every_read_audited(
    client: TestClient, db: Session, w: World
) -> None:
    caregiver = auth(client, w.near_caregiver)
    denied = client.get(f"/api/me/residents/{w.resident.id}", headers=caregiver)
    assert denied.status_code == 403 and denied.json()["code"] == "resident_not_on_your_tasks"
    task_id = published_task(client, w)
    card = client.get(f"/api/me/residents/{w.resident.id}", headers=caregiver)
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["name"] == "赵玉兰" and body["age"] == 86 and body["task_ids"] == [task_id]
    assert body["access_notes"] == "钥匙在邻居家" and body["health_conditions"] == ["高血压"]
    assert body["keyholders"] == [{"name": "李强", "phone": "13800000000"}]
    assert body["emergency_contacts"][0]["relation"] == "儿子"
    assert not {"id_number", "categories", "consent_camera"} & set(body)
    # a resident who is nobody's task of mine, and one who does not exist: the same 403
    for other in (w.other_resident.id, 2_000_000_000):
        response = client.get(f"/api/me/residents/{other}", headers=caregiver)
        assert response.status_code == 403 and response.json()["code"] == "resident_not_on_your_tasks"
    # the other caregiver (not their task)
    other_caregiver = auth(client, w.far_caregiver)
    assert client.get(f"/api/me/residents/{w.resident.id}", headers=other_caregiver).status_code == 403
    listing = client.get("/api/me/residents", headers=caregiver)
    assert [r["id"] for r in listing.json()] == [w.resident.id]
    audited = db.execute(
        text(
            "SELECT action, entity_id, detail->>'view' AS view FROM audit_log"
            " WHERE user_id = :u AND entity = 'resident' ORDER BY id"
        ),
        {"u": w.near_caregiver.id},
    ).all()
    assert [(a.action, a.view) for a in audited] == [
        ("read_denied", "essentials"),
        ("read", "essentials"),
        ("read_denied", "essentials"),
        ("read_denied", "essentials"),
        ("read", "essentials_list"),
    ]


def test_essentials_close_after_the_visit(client: TestClient, w: World, clock: Any) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    done = post(client, f"/api/tasks/{task_id}/complete", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    assert done.status_code == 200
    clock.advance(timedelta(minutes=110))
    assert client.get(f"/api/me/residents/{w.resident.id}", headers=caregiver).status_code == 200
    clock.advance(timedelta(minutes=20))
    assert client.get(f"/api/me/residents/{w.resident.id}", headers=caregiver).status_code == 403


# --- my tasks: checklist, urgency, route order --------------------------------------------------------------------


def test_my_tasks_carry_checklist_age_urgency_and_come_in_route_order(
    client: TestClient, db: Session, w: World
) -> None:
    caregiver = auth(client, w.near_caregiver)
    first = published_task(client, w)
    second = published_task(client, w, kind="urgent_visit", priority=1)
    db.execute(
        text("UPDATE task SET planned_start = :a, route_sequence = 2 WHERE id = :t"),
        {"a": TEST_NOW + timedelta(minutes=40), "t": first},
    )
    db.execute(
        text("UPDATE task SET planned_start = :a, route_sequence = 1 WHERE id = :t"),
        {"a": TEST_NOW + timedelta(minutes=10), "t": second},
    )
    mine = client.get("/api/me/tasks", headers=caregiver).json()
    assert [t["id"] for t in mine] == [second, first]
    urgent, visit = mine
    assert urgent["is_urgent"] is True and visit["is_urgent"] is False
    assert visit["resident_age"] == 86 and visit["acknowledged_version"] is None and visit["photos"] == []
    keys = [item["key"] for item in visit["checklist"]]
    assert keys[:2] == ["condition", "mood"] and "gas_off" in keys and "done_as_planned" not in keys
    assert {item["group"] for item in visit["checklist"]} == {"wellbeing", "home_safety"}
    assert visit["checklist"][0]["label_zh"] and visit["checklist"][0]["label_en"]


def test_the_live_channel_sends_the_same_task_as_the_list(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    [listed] = client.get("/api/me/tasks", headers=caregiver).json()
    [change] = [c for c in staff_changes(db, staff_ids=[w.near_staff], since=0, now=TEST_NOW) if c.task_id == task_id]
    assert change.task is not None
    pushed = change.task.model_dump(mode="json")
    assert pushed == listed and pushed["checklist"] and pushed["resident_age"] == 86


def test_the_visit_record_is_checked_against_the_task(client: TestClient, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    place = {"latitude": HOME[0], "longitude": HOME[1]}
    unknown = post(
        client, f"/api/tasks/{task_id}/complete", caregiver, place | {"findings": {"checklist": {"x": "ok"}}}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_checklist_item"
    assert unknown.json()["items"] == ["x"]
    meal = post(
        client, f"/api/tasks/{task_id}/complete", caregiver, place | {"findings": {"meal_outcome": "handed_over"}}
    )
    assert meal.status_code == 422 and meal.json()["code"] == "meal_outcome_not_applicable"
    photo = post(client, f"/api/tasks/{task_id}/complete", caregiver, place | {"findings": {"photo_ids": [999999]}})
    assert photo.status_code == 422 and photo.json()["code"] == "unknown_photo"
    answer = post(
        client, f"/api/tasks/{task_id}/complete", caregiver, place | {"findings": {"checklist": {"x": "bad"}}}
    )
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"


def test_a_meal_delivery_is_completed_with_its_outcome(client: TestClient, db: Session, w: World) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w)
    db.execute(text("UPDATE task SET kind = 'meal_delivery', service = 'meal_delivery' WHERE id = :t"), {"t": task_id})
    [mine] = client.get("/api/me/tasks", headers=caregiver).json()
    assert mine["kind"] == "meal_delivery" and mine["checklist"] == []
    post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    place = {"latitude": HOME[0], "longitude": HOME[1]}
    missing = post(client, f"/api/tasks/{task_id}/complete", caregiver, place)
    assert missing.status_code == 422 and missing.json()["code"] == "meal_outcome_required"
    done = post(
        client,
        f"/api/tasks/{task_id}/complete",
        caregiver,
        place | {"findings": {"meal_outcome": "left_with_neighbour"}},
    )
    assert done.status_code == 200 and done.json()["findings"]["meal_outcome"] == "left_with_neighbour"


# --- photos -------------------------------------------------------------------------------------------------------


def test_photos_are_uploaded_while_checked_in_and_read_by_the_caregiver_and_the_coordinator(
    client: TestClient, w: World
) -> None:
    caregiver, coordinator = auth(client, w.near_caregiver), auth(client, w.coordinator)
    task_id = published_task(client, w)
    image = png()
    early = client.post(f"/api/me/tasks/{task_id}/photos", headers=caregiver, files={"file": ("a.png", image)})
    assert early.status_code == 409 and early.json()["code"] == "photo_not_accepted"
    post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": HOME[0], "longitude": HOME[1]})
    upload = client.post(
        f"/api/me/tasks/{task_id}/photos",
        headers=caregiver | {"Idempotency-Key": "photo-1"},
        files={"file": ("a.jpg", image, "image/jpeg")},  # the client's word is ignored: the bytes are a PNG
        data={"taken_at": iso(TEST_NOW - timedelta(minutes=1))},
    )
    assert upload.status_code == 201, upload.text
    stored = upload.json()
    assert stored["content_type"] == "image/png" and stored["size"] == len(image) and stored["task_id"] == task_id
    again = client.post(
        f"/api/me/tasks/{task_id}/photos",
        headers=caregiver | {"Idempotency-Key": "photo-1"},
        files={"file": ("a.jpg", image, "image/jpeg")},
        data={"taken_at": iso(TEST_NOW - timedelta(minutes=1))},
    )
    assert again.status_code == 201 and again.json() == stored and again.headers["Idempotent-Replayed"] == "true"
    not_image = client.post(f"/api/me/tasks/{task_id}/photos", headers=caregiver, files={"file": ("a.txt", b"x" * 64)})
    assert not_image.status_code == 422 and not_image.json()["code"] == "photo_type_not_allowed"
    huge = client.post(
        f"/api/me/tasks/{task_id}/photos",
        headers=caregiver,
        files={"file": ("big.png", image + b"\0" * (2 * 1024 * 1024))},
    )
    assert huge.status_code == 413 and huge.json()["code"] == "photo_too_large"
    beyond = client.post(
        f"/api/me/tasks/{task_id}/photos",
        headers=caregiver,
        files={"file": ("big.png", image + b"\0" * (3 * 1024 * 1024))},
    )
    assert beyond.status_code == 413 and beyond.json()["code"] == "payload_too_large"  # refused before it is read
    json_too_big = client.post(
        f"/api/tasks/{task_id}/complete",
        headers=caregiver | {"Content-Type": "application/json"},
        content=b" " * 1_100_000,
    )
    assert json_too_big.status_code == 413  # other bodies keep the 1 MiB limit
    done = post(
        client,
        f"/api/tasks/{task_id}/complete",
        caregiver,
        {"latitude": HOME[0], "longitude": HOME[1], "findings": {"photo_ids": [stored["id"]]}},
    )
    assert done.status_code == 200 and done.json()["findings"]["photo_ids"] == [stored["id"]]
    for headers in (caregiver, coordinator):
        got = client.get(f"/api/tasks/{task_id}/photos/{stored['id']}", headers=headers)
        assert got.status_code == 200 and got.content == image and got.headers["content-type"] == "image/png"
    assert client.get(f"/api/tasks/{task_id}", headers=coordinator).json()["photo_ids"] == [stored["id"]]
    for headers in (auth(client, w.far_caregiver), auth(client, w.other_coordinator)):
        hidden = client.get(f"/api/tasks/{task_id}/photos/{stored['id']}", headers=headers)
        assert hidden.status_code == 404 and hidden.json()["code"] == "photo_not_found"
    assert [t["photos"] for t in client.get("/api/me/tasks", headers=caregiver).json()] == [[stored["id"]]]


# --- acknowledge, and the urgent task nobody acknowledged -------------------------------------------------------


def test_acknowledging_a_version_is_recorded_once(client: TestClient, w: World) -> None:
    caregiver, coordinator = auth(client, w.near_caregiver), auth(client, w.coordinator)
    task_id = published_task(client, w)
    [mine] = client.get("/api/me/tasks", headers=caregiver).json()
    future = post(client, f"/api/tasks/{task_id}/acknowledge", caregiver, {"version": mine["version"] + 1000})
    assert future.status_code == 422 and future.json()["code"] == "version_unknown"
    acked = post(client, f"/api/tasks/{task_id}/acknowledge", caregiver, {"version": mine["version"]})
    assert acked.status_code == 200 and acked.json()["acknowledged_version"] == mine["version"]
    assert acked.json()["acknowledged_at"] == iso(TEST_NOW)
    again = post(client, f"/api/tasks/{task_id}/acknowledge", caregiver, {"version": mine["version"]})
    assert again.status_code == 200 and again.json()["version"] == acked.json()["version"]  # nothing changed
    trace = client.get(f"/api/tasks/{task_id}", headers=coordinator).json()["trace"]
    lines = [line for line in trace if line["action"] == "acknowledged"]
    assert len(lines) == 1 and lines[0]["detail"]["version"] == mine["version"]
    other = auth(client, w.far_caregiver)
    assert post(client, f"/api/tasks/{task_id}/acknowledge", other, {"version": mine["version"]}).status_code == 404
    # given to someone else, the task is not acknowledged by its new caregiver
    moved = post(client, f"/api/tasks/{task_id}/assign", coordinator, {"staff_id": w.far_staff, "reason": "调班"})
    assert moved.status_code == 200
    [theirs] = client.get("/api/me/tasks", headers=other).json()
    assert theirs["id"] == task_id and theirs["acknowledged_version"] is None and theirs["acknowledged_at"] is None


def test_an_urgent_task_not_acknowledged_in_time_raises_an_alert_resolved_by_acknowledging(
    client: TestClient, db: Session, w: World
) -> None:
    caregiver = auth(client, w.near_caregiver)
    task_id = published_task(client, w, kind="urgent_visit", priority=1)
    rules = AlertRules(urgent_ack=timedelta(minutes=3))
    task_alerts(db, now=TEST_NOW + timedelta(minutes=2), rules=rules)
    subject = f"task:{task_id}"
    query = "SELECT count(*) FROM alert WHERE kind = 'task_not_acknowledged' AND subject_key = :s AND state = :state"
    assert count(db, query, s=subject, state="open") == 0
    task_alerts(db, now=TEST_NOW + timedelta(minutes=4), rules=rules)
    assert count(db, query, s=subject, state="open") == 1
    [mine] = client.get("/api/me/tasks", headers=caregiver).json()
    assert post(client, f"/api/tasks/{task_id}/acknowledge", caregiver, {"version": mine["version"]}).status_code == 200
    task_alerts(db, now=TEST_NOW + timedelta(minutes=5), rules=rules)
    assert count(db, query, s=subject, state="resolved") == 1 and count(db, query, s=subject, state="open") == 0


# --- check-in distance ------------------------------------------------------------------------------------------


def test_a_check_in_beyond_the_setting_is_flagged_with_its_distance(client: TestClient, w: World) -> None:
    caregiver, coordinator = auth(client, w.near_caregiver), auth(client, w.coordinator)
    task_id = published_task(client, w)
    # ~140 m (NEAR): within 200 m; 250 m north of the home: beyond
    beyond = (HOME[0] + 0.00225, HOME[1])
    post(client, f"/api/tasks/{task_id}/check-in", caregiver, {"latitude": beyond[0], "longitude": beyond[1]})
    line = client.get(f"/api/tasks/{task_id}", headers=coordinator).json()["trace"][-1]
    assert line["action"] == "checked_in" and 240 < line["detail"]["distance_m"] < 260
    assert line["detail"]["location_verified"] is False and line["detail"]["verified_within_m"] == 200
    [mine] = client.get("/api/me/tasks", headers=caregiver).json()
    assert mine["location_verified"] is False and 240 < mine["check_in_distance_m"] < 260
    assert mine["checkin_verified_within_m"] == 200
    assert client.get(f"/api/tasks/{task_id}/evv", headers=coordinator).json()["location_verified"] is False
