"""The roster (issue 11, "The roster"): shifts from patterns (idempotent, regenerated after a change), leave that
sends assigned work back to planning with an alert, certificates that make a person unassignable when expired and
raise alerts ahead, the staff API in scope, the coordinator board's availability and the console's on-shift list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE, FixedClock, local_date
from eldercare_platform.roster import service
from eldercare_platform.roster.jobs import JOBS
from eldercare_platform.roster.models import Staff, StaffRole
from eldercare_platform.roster.rules import CAREGIVER_CERTIFICATE
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_platform.tasks.service import create_task
from eldercare_platform.users.models import Role
from tests import factories as f

pytestmark = pytest.mark.time_sensitive  # every rule here is about dates relative to the clock


def _staff(db: Session, *, name: str, area_id: int, skills: list[str], lat: float, lon: float) -> Staff:
    row = Staff(
        name=name,
        phone="13900000000",
        role=StaffRole.CAREGIVER,
        skills=skills,
        home_area_id=area_id,
        home_latitude=lat,
        home_longitude=lon,
        max_tasks_per_shift=3,
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def world(db: Session, clock: FixedClock) -> dict[str, Any]:
    district = f.area(db, name="天宁区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="雕庄街道", level=AreaLevel.STREET, parent=district)
    community_a = f.area(db, name="丽华社区", level=AreaLevel.COMMUNITY, parent=street)
    community_b = f.area(db, name="红梅新村社区", level=AreaLevel.COMMUNITY, parent=district)
    assert community_a.id is not None and community_b.id is not None
    skills = ["visit", "bathing", "nursing"]
    today = local_date(clock.now())
    return {
        "today": today,
        "community_a": community_a,
        "resident_a": f.resident(db, community=community_a, name="张桂英"),
        "resident_b": f.resident(db, community=community_b, name="陈建国"),
        "near": _staff(db, name="李护理", area_id=community_a.id, skills=skills, lat=31.780, lon=119.950),
        "far": _staff(db, name="王护理", area_id=community_a.id, skills=skills, lat=31.900, lon=119.950),
        "other": _staff(db, name="赵护理", area_id=community_b.id, skills=skills, lat=31.781, lon=119.950),
        "coordinator": f.user(db, role=Role.COORDINATOR, scope_area=community_a),
        "operator": f.user(db, role=Role.OPERATOR),
        "admin": f.user(db, role=Role.ADMIN),
    }


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TIMEZONE)


def auth(client: TestClient, user: Any) -> dict[str, str]:
    return f.login(client, user.username)


def add_pattern(db: Session, staff: Staff, start: int, end: int, *, on_call: bool = False, since: date) -> int:
    return int(
        db.execute(
            text(
                "INSERT INTO shift_pattern (staff_id, weekdays, start_time, end_time, on_call, valid_from)"
                " VALUES (:s, '{1,2,3,4,5,6,7}', :start, :end, :on_call, :since) RETURNING id"
            ),
            {"s": staff.id, "start": time(start), "end": time(end), "on_call": on_call, "since": since},
        ).scalar_one()
    )


def shifts_of(db: Session, staff: Staff) -> list[tuple[datetime, datetime, bool]]:
    rows = db.execute(
        text("SELECT starts_at, ends_at, on_call FROM shift WHERE staff_id = :s ORDER BY starts_at"), {"s": staff.id}
    ).all()
    return [(row.starts_at, row.ends_at, row.on_call) for row in rows]


def give_shift(db: Session, staff: Staff, starts: datetime, ends: datetime) -> None:
    db.execute(
        text("INSERT INTO shift (staff_id, starts_at, ends_at, on_call) VALUES (:s, :a, :b, false)"),
        {"s": staff.id, "a": starts, "b": ends},
    )


def assigned_task(db: Session, world: dict[str, Any], staff: Staff, at: datetime, now: datetime) -> int:
    task_id = create_task(
        db,
        kind=TaskKind.VISIT,
        source=TaskSource.MANUAL,
        now=now,
        window_start=at,
        window_end=at + timedelta(hours=1),
        resident_id=world["resident_a"].id,
        staff_id=staff.id,
    )
    assert task_id is not None
    return task_id


# --- shifts from patterns ---------------------------------------------------------------------------------------


def test_patterns_fill_the_window_and_a_rerun_writes_nothing(db: Session, world: dict[str, Any], clock: Any) -> None:
    now, today = clock.now(), world["today"]
    add_pattern(db, world["near"], 8, 17, since=today - timedelta(days=30))
    add_pattern(db, world["near"], 20, 8, on_call=True, since=today - timedelta(days=30))
    first = service.generate_shifts(db, today=today, days=14, now=now)
    shifts = shifts_of(db, world["near"])
    days = [s for s in shifts if not s[2]]
    nights = [s for s in shifts if s[2]]
    # Today's day shift (08–17, under way at 14:00) and 14 nights from tonight: last night ended at 08:00.
    assert len(days) == 14 and days[0][0] == local(today, 8)
    assert len(nights) == 14 and nights[0][0] == local(today, 20)
    assert all(end - start == timedelta(hours=12) for start, end, _ in nights)
    assert nights[-1][1] == local(today + timedelta(days=14), 8)  # the last night ends after the window's last day
    assert first["created"] == 28
    again = service.generate_shifts(db, today=today, days=14, now=now)
    assert again["created"] == 0 and again["removed"] == 0
    assert shifts_of(db, world["near"]) == shifts


def test_a_changed_pattern_moves_untouched_future_shifts_and_keeps_busy_ones(
    client: TestClient, db: Session, world: dict[str, Any], clock: Any
) -> None:
    now, today = clock.now(), world["today"]
    near = world["near"]
    pattern = add_pattern(db, near, 8, 17, since=today - timedelta(days=7))
    service.generate_shifts(db, today=today, days=14, now=now)
    tomorrow = today + timedelta(days=1)
    busy_task = assigned_task(db, world, near, local(tomorrow, 9), now)
    db.commit()
    body = {"weekdays": [1, 2, 3, 4, 5, 6, 7], "start_time": "10:00", "end_time": "18:00", "valid_from": str(today)}
    response = client.put(
        f"/api/roster/staff/{near.id}/patterns/{pattern}", json=body, headers=auth(client, world["coordinator"])
    )
    assert response.status_code == 200, response.text
    starts = [start for start, _, _ in shifts_of(db, near)]
    assert local(today, 8) in starts and local(today, 10) not in starts  # under way: not doubled
    assert local(tomorrow, 8) in starts and local(tomorrow, 10) not in starts  # a task is assigned in it: kept
    day_after = tomorrow + timedelta(days=1)
    assert local(day_after, 8) not in starts and local(day_after, 10) in starts
    status = db.execute(text("SELECT status FROM task WHERE id = :t"), {"t": busy_task}).scalar()
    assert status == "assigned"
    # Ending the pattern removes every untouched future shift; the busy one stays, detached from it.
    response = client.delete(
        f"/api/roster/staff/{near.id}/patterns/{pattern}", headers=auth(client, world["coordinator"])
    )
    assert response.status_code == 204
    left = db.execute(
        text("SELECT starts_at, pattern_id FROM shift WHERE staff_id = :s ORDER BY starts_at"), {"s": near.id}
    ).all()
    assert [row.starts_at for row in left] == [local(today, 8), local(tomorrow, 8)]
    assert all(row.pattern_id is None for row in left)


def test_the_shift_generation_job_is_declared_with_its_settings() -> None:
    specs = {spec.name: spec for spec in JOBS}
    assert specs["shift_generation"].interval_setting == "shift_generation_seconds"
    assert specs["certification_alerts"].enabled_setting == "daily_alerts_enabled"


# --- leave ------------------------------------------------------------------------------------------------------


def test_a_sick_day_sends_assigned_work_back_to_planning_with_an_alert(
    client: TestClient, db: Session, world: dict[str, Any], clock: Any
) -> None:
    now, today = clock.now(), world["today"]
    near = world["near"]
    tomorrow = today + timedelta(days=1)
    hit = assigned_task(db, world, near, local(tomorrow, 9), now)
    under_way = assigned_task(db, world, near, local(tomorrow, 11), now)
    db.execute(text("UPDATE task SET status = 'en_route' WHERE id = :t"), {"t": under_way})
    later = assigned_task(db, world, near, local(tomorrow + timedelta(days=3), 9), now)
    db.commit()
    body = {
        "kind": "sick",
        "starts_at": local(tomorrow, 0).isoformat(),
        "ends_at": local(tomorrow + timedelta(days=1), 0).isoformat(),
        "reason": "发烧",
    }
    response = client.post(f"/api/roster/staff/{near.id}/leave", json=body, headers=auth(client, world["coordinator"]))
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["unassigned_task_ids"] == [hit]
    assert result["leave"]["kind"] == "sick" and result["leave"]["cancelled_at"] is None
    rows = {
        row.id: row
        for row in db.execute(
            text("SELECT id, status, assignee_staff_id, status_reason FROM task WHERE id = ANY(:ids)"),
            {"ids": [hit, under_way, later]},
        )
    }
    assert rows[hit].status == "planned" and rows[hit].assignee_staff_id is None
    assert "sick" in rows[hit].status_reason and "发烧" in rows[hit].status_reason
    assert rows[under_way].status == "en_route" and rows[later].status == "assigned"
    event = db.execute(
        text("SELECT action, from_status, to_status FROM task_event WHERE task_id = :t ORDER BY id DESC LIMIT 1"),
        {"t": hit},
    ).one()
    assert tuple(event) == ("unassigned", "assigned", "planned")
    alert = db.execute(
        text("SELECT kind, owner_user_id, task_id, state FROM alert WHERE subject_key = :s"), {"s": f"task:{hit}"}
    ).one()
    assert alert.kind == AlertKind.TASK_UNASSIGNED and alert.owner_user_id == world["coordinator"].id
    assert alert.task_id == hit and alert.state == "open"
    # Listed, then cancelled (kept, with its time); cancelling twice is a conflict.
    headers = auth(client, world["coordinator"])
    leave_id = result["leave"]["id"]
    assert [item["id"] for item in client.get(f"/api/roster/staff/{near.id}/leave", headers=headers).json()] == [
        leave_id
    ]
    cancelled = client.delete(f"/api/roster/staff/{near.id}/leave/{leave_id}", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"] is not None
    again = client.delete(f"/api/roster/staff/{near.id}/leave/{leave_id}", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "leave_cancelled"


def test_a_leave_ending_before_it_starts_is_refused(client: TestClient, world: dict[str, Any], clock: Any) -> None:
    now = clock.now()
    body = {"kind": "annual", "starts_at": now.isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()}
    response = client.post(
        f"/api/roster/staff/{world['near'].id}/leave", json=body, headers=auth(client, world["coordinator"])
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


# --- certificates and who is assignable --------------------------------------------------------------------------


def add_cert(db: Session, staff: Staff, expires_on: date, name: str = CAREGIVER_CERTIFICATE) -> int:
    return int(
        db.execute(
            text(
                "INSERT INTO staff_certification (staff_id, name, level, expires_on)"
                " VALUES (:s, :n, '四级', :e) RETURNING id"
            ),
            {"s": staff.id, "n": name, "e": expires_on},
        ).scalar_one()
    )


def test_an_expired_certificate_makes_a_person_unassignable_for_skills_that_need_it(
    db: Session, world: dict[str, Any], clock: Any
) -> None:
    today = world["today"]
    near = world["near"]
    tomorrow = today + timedelta(days=1)
    give_shift(db, near, local(tomorrow, 8), local(tomorrow, 17))
    cert = add_cert(db, near, expires_on=today + timedelta(days=1))  # valid through tomorrow
    start, end = local(tomorrow, 10), local(tomorrow, 11)
    assert [s.id for s in service.available_staff(db, start=start, end=end, skill="bathing")] == [near.id]
    day_after = tomorrow + timedelta(days=1)
    give_shift(db, near, local(day_after, 8), local(day_after, 17))
    later = (local(day_after, 10), local(day_after, 11))
    assert service.available_staff(db, start=later[0], end=later[1], skill="bathing") == []
    assert service.why_not_assignable(db, staff_id=near.id, start=later[0], end=later[1], skill="bathing") == [
        "certificate_expired"
    ]
    # A skill that needs no certificate; then a renewal.
    assert [s.id for s in service.available_staff(db, start=later[0], end=later[1], skill="visit")] == [near.id]
    db.execute(
        text("UPDATE staff_certification SET expires_on = :e WHERE id = :c"),
        {"e": today + timedelta(days=1000), "c": cert},
    )
    assert service.why_not_assignable(db, staff_id=near.id, start=later[0], end=later[1], skill="bathing") == []


def test_why_not_assignable_names_every_reason(db: Session, world: dict[str, Any], clock: Any) -> None:
    now, today = clock.now(), world["today"]
    near, other = world["near"], world["other"]
    tomorrow = today + timedelta(days=1)
    start, end = local(tomorrow, 10), local(tomorrow, 11)
    assert service.why_not_assignable(db, staff_id=2**31 - 1, start=start, end=end) == ["unknown_staff"]
    assert service.why_not_assignable(
        db, staff_id=other.id, start=start, end=end, skill="cleaning", resident_id=world["resident_a"].id
    ) == ["not_on_shift", "missing_skill"]
    give_shift(db, near, local(tomorrow, 8), local(tomorrow, 17))
    for hour in (8, 9, 12):
        assigned_task(db, world, near, local(tomorrow, hour), now)
    db.execute(
        text(
            "INSERT INTO staff_preference (staff_id, resident_id, kind, recorded_at) VALUES (:s, :r, 'declined', :now)"
        ),
        {"s": near.id, "r": world["resident_b"].id, "now": now},
    )
    db.execute(
        text(
            "INSERT INTO staff_leave (staff_id, kind, starts_at, ends_at, recorded_at)"
            " VALUES (:s, 'training', :a, :b, :now)"
        ),
        {"s": near.id, "a": local(tomorrow, 10), "b": local(tomorrow, 12), "now": now},
    )
    db.execute(text("UPDATE staff SET active = false WHERE id = :s"), {"s": near.id})
    reasons = service.why_not_assignable(
        db, staff_id=near.id, start=start, end=end, skill="nursing", resident_id=world["resident_b"].id
    )
    assert reasons == ["inactive", "on_leave", "certificate_missing", "declined_resident", "max_tasks_reached"]
    assert service.available_staff(db, start=start, end=end) == []


def test_certification_alerts_warn_ahead_and_resolve_on_renewal(db: Session, world: dict[str, Any], clock: Any) -> None:
    now, today = clock.now(), world["today"]
    near = world["near"]
    soon = add_cert(db, near, expires_on=today + timedelta(days=30))
    not_yet = add_cert(db, near, expires_on=today + timedelta(days=31), name="红十字救护员证")
    gone = add_cert(db, world["far"], expires_on=today - timedelta(days=1))
    service.certification_alerts(db, today=today, warn_days=30, now=now)

    def open_alerts() -> dict[str, str]:
        rows = db.execute(
            text(
                "SELECT subject_key, kind FROM alert WHERE state <> 'resolved'"
                " AND kind IN ('certification_expiring', 'certification_expired')"
                " AND subject_key = ANY(:s)"
            ),
            {"s": [f"certification:{c}" for c in (soon, not_yet, gone)]},
        ).all()
        return {row.subject_key: row.kind for row in rows}

    assert open_alerts() == {
        f"certification:{soon}": "certification_expiring",
        f"certification:{gone}": "certification_expired",
    }
    owner = db.execute(
        text("SELECT owner_user_id FROM alert WHERE subject_key = :s"), {"s": f"certification:{soon}"}
    ).scalar()
    assert owner == world["coordinator"].id
    again = service.certification_alerts(db, today=today, warn_days=30, now=now)
    assert again["raised"] == 0 and again["resolved"] == 0
    # A day later the second certificate is 30 days out; the renewed one and the replaced one resolve.
    clock.advance(timedelta(days=1))
    db.execute(
        text("UPDATE staff_certification SET expires_on = :e WHERE id = :c"),
        {"e": today + timedelta(days=900), "c": soon},
    )
    db.execute(
        text("UPDATE staff_certification SET expires_on = :e WHERE id = :c"),
        {"e": today + timedelta(days=900), "c": gone},
    )
    later = clock.now()
    service.certification_alerts(db, today=local_date(later), warn_days=30, now=later)
    assert open_alerts() == {f"certification:{not_yet}": "certification_expiring"}
    resolutions = (
        db.execute(
            text("SELECT resolution FROM alert WHERE subject_key = ANY(:s) AND state = 'resolved'"),
            {"s": [f"certification:{soon}", f"certification:{gone}"]},
        )
        .scalars()
        .all()
    )
    assert sorted(resolutions) == ["renewed", "renewed"]


# --- the staff API in scope ----------------------------------------------------------------------------------------


def test_a_coordinator_sees_and_edits_only_staff_in_their_area(client: TestClient, world: dict[str, Any]) -> None:
    headers = auth(client, world["coordinator"])
    page = client.get("/api/roster/staff", headers=headers).json()
    assert {item["id"] for item in page["items"]} == {world["near"].id, world["far"].id}
    other = world["other"].id
    assert client.get(f"/api/roster/staff/{other}", headers=headers).json()["code"] == "staff_not_found"
    body = {"kind": "annual", "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-02T00:00:00Z"}
    assert client.post(f"/api/roster/staff/{other}/leave", json=body, headers=headers).status_code == 404
    assert client.patch(f"/api/roster/staff/{other}", json={"active": False}, headers=headers).status_code == 404
    # An admin sees everyone; filters.
    admin = auth(client, world["admin"])
    filtered = client.get(
        "/api/roster/staff", params={"area_id": world["community_a"].id, "skill": "nursing"}, headers=admin
    ).json()
    assert {item["id"] for item in filtered["items"]} == {world["near"].id, world["far"].id}
    assert (
        client.get(
            "/api/roster/staff", params={"skill": "cleaning", "area_id": world["community_a"].id}, headers=admin
        ).json()["total"]
        == 0
    )
    # The operator may read (dispatch) but not edit.
    operator = auth(client, world["operator"])
    assert (
        client.patch(f"/api/roster/staff/{world['near'].id}", json={"active": False}, headers=operator).status_code
        == 403
    )


def test_patch_staff_and_read_the_detail(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    headers = auth(client, world["coordinator"])
    near = world["near"].id
    response = client.patch(
        f"/api/roster/staff/{near}",
        json={"skills": ["visit", "cleaning"], "max_tasks_per_shift": 6, "travel_mode": "foot", "home_latitude": None},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    staff = response.json()
    assert staff["skills"] == ["visit", "cleaning"] and staff["max_tasks_per_shift"] == 6
    assert staff["travel_mode"] == "foot" and staff["home_latitude"] is None
    assert (
        client.patch(f"/api/roster/staff/{near}", json={"max_tasks_per_shift": 0}, headers=headers).status_code == 422
    )
    pattern = {"label": "夜班", "weekdays": [6, 7], "start_time": "20:00", "end_time": "08:00", "on_call": True,
               "valid_from": str(world["today"])}  # fmt: skip
    created = client.post(f"/api/roster/staff/{near}/patterns", json=pattern, headers=headers)
    assert created.status_code == 201 and created.json()["crosses_midnight"] is True
    bad = pattern | {"end_time": "20:00"}
    assert client.post(f"/api/roster/staff/{near}/patterns", json=bad, headers=headers).status_code == 422
    cert = {"name": CAREGIVER_CERTIFICATE, "level": "三级", "expires_on": str(world["today"] + timedelta(days=10))}
    added = client.post(f"/api/roster/staff/{near}/certifications", json=cert, headers=headers)
    assert added.status_code == 201 and added.json()["status"] == "expiring"
    cert_id = added.json()["id"]
    renewed = client.put(
        f"/api/roster/staff/{near}/certifications/{cert_id}",
        json=cert | {"expires_on": str(world["today"] + timedelta(days=1000))},
        headers=headers,
    )
    assert renewed.status_code == 200 and renewed.json()["status"] == "valid"
    pref = client.put(
        f"/api/roster/staff/{near}/preferences/{world['resident_a'].id}",
        json={"kind": "declined", "reason": "家属要求"},
        headers=headers,
    )
    assert pref.status_code == 200 and pref.json()["resident_name"] == "张桂英"
    outside = client.put(
        f"/api/roster/staff/{near}/preferences/{world['resident_b'].id}", json={"kind": "preferred"}, headers=headers
    )
    assert outside.status_code == 404
    detail = client.get(f"/api/roster/staff/{near}", headers=headers).json()
    assert [p["label"] for p in detail["patterns"]] == ["夜班"]
    assert detail["upcoming_shifts"] and all(s["on_call"] for s in detail["upcoming_shifts"])
    assert [c["status"] for c in detail["certifications"]] == ["valid"]
    assert [p["kind"] for p in detail["preferences"]] == ["declined"]
    assert (
        client.delete(f"/api/roster/staff/{near}/preferences/{world['resident_a'].id}", headers=headers).status_code
        == 204
    )
    assert client.delete(f"/api/roster/staff/{near}/certifications/{cert_id}", headers=headers).status_code == 204
    assert client.get(f"/api/roster/staff/{near}/certifications", headers=headers).json() == []


# --- the board and dispatch ------------------------------------------------------------------------------------------


def test_availability_shows_shifts_leave_load_and_certificates_due(
    client: TestClient, db: Session, world: dict[str, Any], clock: Any
) -> None:
    now, today = clock.now(), world["today"]
    near, far = world["near"], world["far"]
    give_shift(db, near, local(today, 8), local(today, 17))
    assigned_task(db, world, near, local(today, 15), now)
    add_cert(db, near, expires_on=today + timedelta(days=5))
    db.execute(
        text(
            "INSERT INTO staff_leave (staff_id, kind, starts_at, ends_at, recorded_at)"
            " VALUES (:s, 'annual', :a, :b, :now)"
        ),
        {"s": far.id, "a": local(today, 0), "b": local(today + timedelta(days=2), 0), "now": now},
    )
    db.commit()
    board = client.get(
        "/api/roster/availability", params={"date": str(today)}, headers=auth(client, world["coordinator"])
    ).json()
    items = {item["staff"]["id"]: item for item in board["items"]}
    assert set(items) == {near.id, far.id}
    assert len(items[near.id]["shifts"]) == 1 and items[near.id]["load"] == 1 and items[near.id]["capacity"] == 3
    assert [c["status"] for c in items[near.id]["certifications_due"]] == ["expiring"]
    assert items[far.id]["shifts"] == [] and items[far.id]["leave"][0]["kind"] == "annual"


def test_on_shift_lists_the_nearest_first_in_scope(
    client: TestClient, db: Session, world: dict[str, Any], clock: Any
) -> None:
    now = clock.now()
    for member in (world["near"], world["far"], world["other"]):
        give_shift(db, member, now - timedelta(hours=2), now + timedelta(hours=3))
    db.commit()
    params = {"lat": 31.95, "lon": 119.95}
    operator = client.get("/api/roster/on-shift", params=params, headers=auth(client, world["operator"])).json()
    assert [m["id"] for m in operator] == [world["far"].id, world["other"].id, world["near"].id]
    assert operator[0]["distance_km"] == pytest.approx(5.56, abs=0.05)
    coordinator = client.get("/api/roster/on-shift", params=params, headers=auth(client, world["coordinator"])).json()
    assert [m["id"] for m in coordinator] == [world["far"].id, world["near"].id]
    # Nobody is certified for bathing; later, nobody is on shift.
    assert (
        client.get("/api/roster/on-shift", params={"skill": "bathing"}, headers=auth(client, world["operator"])).json()
        == []
    )
    at = (now + timedelta(hours=4)).isoformat()
    assert client.get("/api/roster/on-shift", params={"at": at}, headers=auth(client, world["operator"])).json() == []
