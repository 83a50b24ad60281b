"""The simulated caregiver's pure decisions (travel, fates, findings, route order) and its step function on a fake
API: when each step is sent, with which `at`, and that a write lost on the network is sent again with its key."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from eldercare_sim.caregivers import (
    Answer,
    Behaviour,
    CaregiverAgent,
    CaregiverApi,
    CaregiverSpec,
    UnreachableError,
    check_in_place,
    draw_fate,
    draw_findings,
    great_circle_km,
    next_task,
    rng_for,
    travel_time,
)

T0 = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
HOME = (31.78, 119.97)
CHECKLIST = [
    {"key": "condition", "label_zh": "精神状态", "label_en": "Condition", "group": "wellbeing"},
    {"key": "medicines", "label_zh": "按时服药", "label_en": "Medicines", "group": "wellbeing"},
    {"key": "gas_off", "label_zh": "燃气关闭", "label_en": "Gas off", "group": "home_safety"},
    {"key": "floors_clear", "label_zh": "地面无障碍", "label_en": "Floors clear", "group": "home_safety"},
    {"key": "done_as_planned", "label_zh": "按计划完成", "label_en": "Done as planned", "group": "service"},
]


def test_travel_is_great_circle_times_1_3_at_the_modes_speed() -> None:
    one_km_east = (HOME[0], HOME[1] + 1 / (111.32 * 0.8505))  # cos(31.78°) ≈ 0.8505
    assert great_circle_km(HOME, one_km_east) == pytest.approx(1.0, rel=0.01)
    assert travel_time(HOME, one_km_east, "ebike").total_seconds() / 60 == pytest.approx(1.3 / 15 * 60, rel=0.01)
    assert travel_time(HOME, one_km_east, "foot").total_seconds() / 60 == pytest.approx(1.3 / 4.5 * 60, rel=0.01)
    assert travel_time(HOME, one_km_east, "car") < travel_time(HOME, one_km_east, "ebike")
    assert travel_time(HOME, HOME, "car") == timedelta(minutes=1), "stairs and parking: at least a minute"
    assert travel_time(None, HOME, "ebike") == timedelta(minutes=10)


def test_fates_come_at_the_behaviours_rates_and_urgent_tasks_are_never_skipped_nor_late() -> None:
    behaviour = Behaviour()
    rng = random.Random(1)
    fates = [draw_fate(rng, {"id": 1, "priority": 3, "kind": "visit"}, behaviour) for _ in range(20_000)]
    assert sum(f.skip for f in fates) / len(fates) == pytest.approx(behaviour.skip_rate, abs=0.005)
    assert sum(f.no_answer for f in fates) / len(fates) == pytest.approx(behaviour.no_answer_rate, abs=0.005)
    assert not any(f.skip and f.no_answer for f in fates)
    late = [f.late_minutes for f in fates if f.late_minutes]
    assert len(late) / len(fates) == pytest.approx(behaviour.late_rate, abs=0.01)
    assert min(late) >= 10 and max(late) <= 40
    assert sum(bool(f.far_metres) for f in fates) / len(fates) == pytest.approx(behaviour.far_check_in_rate, abs=0.005)
    urgent = [draw_fate(rng, {"id": 2, "priority": 1, "kind": "urgent_visit"}, behaviour) for _ in range(5_000)]
    assert not any(f.skip or f.late_minutes for f in urgent)


def test_check_in_places_are_near_the_home_or_far_when_the_fate_says_so() -> None:
    behaviour = Behaviour()
    rng = random.Random(3)
    near = [
        great_circle_km(
            HOME, check_in_place(rng, HOME, draw_fate(rng, {"id": 1}, Behaviour(far_check_in_rate=0)), behaviour)
        )
        for _ in range(500)
    ]
    assert max(near) < 0.1, "GPS noise of a few tens of metres"
    far = draw_fate(random.Random(4), {"id": 1}, Behaviour(far_check_in_rate=1.0))
    assert 0.29 < great_circle_km(HOME, check_in_place(rng, HOME, far, behaviour)) < 0.71


def test_findings_a_problem_in_one_visit_in_twenty_with_a_category_and_the_checklist_marked() -> None:
    behaviour = Behaviour()
    task = {"id": 9, "kind": "visit", "checklist": CHECKLIST}
    records = [draw_findings(random.Random(i), task, behaviour) for i in range(4_000)]
    problems = [r for r in records if r["problem_found"]]
    assert len(problems) / len(records) == pytest.approx(0.05, abs=0.012)
    conditions = Counter(r["findings"]["resident_condition"] for r in records if not r["problem_found"])
    assert conditions.most_common(1)[0][0] == "good" and conditions["good"] / sum(conditions.values()) > 0.7
    for record in problems:
        findings = record["findings"]
        assert findings["problem_category"] in {"health", "safety", "home_repair", "hygiene", "food", "social", "other"}
        assert record["problem"] and findings["notes"]
        assert set(findings["checklist"]) == {item["key"] for item in CHECKLIST}
        assert list(findings["checklist"].values()).count("problem") == 1
    fine = [r for r in records if not r["problem_found"]]
    assert all("problem" not in r["findings"]["checklist"].values() for r in fine)
    assert all(set(r["findings"]["checklist"].values()) <= {"ok", "na"} for r in fine)


def test_findings_without_the_servers_checklist_use_only_the_old_fields() -> None:
    records = [
        draw_findings(random.Random(i), {"id": 9, "kind": "visit"}, Behaviour(problem_rate=0.5)) for i in range(200)
    ]
    allowed = {"resident_condition", "needs", "notes"}
    assert all(set(r["findings"]) <= allowed for r in records)
    assert any(r["problem_found"] for r in records)


def test_a_meal_delivery_records_only_its_outcome() -> None:
    task = {"id": 5, "kind": "meal_delivery", "checklist": []}
    records = [draw_findings(random.Random(i), task, Behaviour()) for i in range(2_000)]
    outcomes = Counter(r["findings"]["meal_outcome"] for r in records)
    assert set(outcomes) == {"handed_over", "left_with_neighbour"}
    assert outcomes["left_with_neighbour"] / len(records) == pytest.approx(0.07, abs=0.02)
    assert not any(r["problem_found"] or "checklist" in r["findings"] for r in records)


def test_the_next_task_is_the_one_under_way_else_the_first_in_route_order() -> None:
    tasks: list[dict[str, Any]] = [
        {"id": 1, "status": "published", "planned_start": "2026-11-18T03:00:00Z", "route_sequence": 2},
        {"id": 2, "status": "published", "planned_start": "2026-11-18T02:00:00Z", "route_sequence": 1},
        {"id": 3, "status": "completed", "planned_start": "2026-11-18T01:00:00Z", "route_sequence": 1},
        {"id": 4, "status": "published", "window_start": "2026-11-18T01:30:00Z"},
    ]
    assert next_task(tasks, passed=set())["id"] == 4  # type: ignore[index]
    assert next_task(tasks, passed={4})["id"] == 2  # type: ignore[index]
    tasks[0]["status"] = "en_route"
    assert next_task(tasks, passed=set())["id"] == 1  # type: ignore[index]
    assert next_task([t for t in tasks if t["id"] == 3], passed=set()) is None


def test_draws_depend_on_the_seed_task_and_purpose_only() -> None:
    a = rng_for(7, 40, "fate").random()
    assert a == rng_for(7, 40, "fate").random()
    assert a != rng_for(7, 41, "fate").random()
    assert a != rng_for(8, 40, "fate").random()
    assert a != rng_for(7, 40, "findings").random()


class FakeApi(CaregiverApi):
    """The API as the agent sees it: a day of tasks, and writes recorded (the first `lose` of them lost)."""

    def __init__(self, tasks: list[dict[str, Any]], lose: int = 0) -> None:
        super().__init__(httpx.Client(), "caregiver2")
        self.day = tasks
        self.lose = lose
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.applied: list[str] = []

    def sign_in(self) -> str:
        self.token = "t"
        return self.token

    def my_tasks(self, day: str) -> list[dict[str, Any]]:
        return [dict(t) for t in self.day]

    def write(self, path: str, body: Any, key: str) -> Answer:
        self.sent.append((path, dict(body), key))
        if self.lose:
            self.lose -= 1
            raise UnreachableError("connection reset")
        if key in self.applied:  # what the server's Idempotency-Key does: a replay changes nothing
            return Answer(200, {})
        self.applied.append(key)
        task = next(t for t in self.day if path.startswith(f"/api/tasks/{t['id']}/"))
        if path.endswith("/accept"):
            task["accepted_at"] = body["at"]
        task["status"] = {"en-route": "en_route", "check-in": "checked_in", "complete": "completed"}.get(
            path.rsplit("/", 1)[1], task["status"]
        )
        return Answer(200, dict(task))


def visit(task_id: int, start: datetime, lat_offset: float) -> dict[str, Any]:
    return {
        "id": task_id,
        "kind": "visit",
        "status": "published",
        "priority": 3,
        "planned_start": start.isoformat(),
        "route_sequence": task_id,
        "window_start": (start - timedelta(minutes=30)).isoformat(),
        "window_end": (start + timedelta(hours=4)).isoformat(),
        "duration_minutes": 30,
        "home_latitude": HOME[0] + lat_offset,
        "home_longitude": HOME[1],
        "version": 3,
    }


def test_the_agent_works_its_route_in_order_with_the_phones_times() -> None:
    calm = Behaviour(problem_rate=0, no_answer_rate=0, skip_rate=0, late_rate=0, far_check_in_rate=0)
    api = FakeApi([visit(2, T0 + timedelta(hours=2), 0.02), visit(1, T0 + timedelta(hours=1), 0.01)])
    agent = CaregiverAgent(CaregiverSpec("caregiver2", 12, travel_mode="ebike", home=HOME), api, behaviour=calm)
    now = T0
    while now < T0 + timedelta(hours=4):
        agent.step(now)
        now += timedelta(minutes=7)  # coarse steps: the times sent are still when each thing happened
    steps = [(path.split("/")[3], path.rsplit("/", 1)[1], body["at"]) for path, body, _ in api.sent]
    assert [s[:2] for s in steps] == [
        ("1", "en-route"), ("1", "check-in"), ("1", "complete"),
        ("2", "en-route"), ("2", "check-in"), ("2", "complete"),
    ]  # fmt: skip
    times = [datetime.fromisoformat(at) for _, _, at in steps]
    assert times == sorted(times)
    leg = travel_time(HOME, (HOME[0] + 0.01, HOME[1]), "ebike")
    assert times[0] == T0 + timedelta(hours=1) - leg, "leaves so as to arrive at the planned start"
    assert times[1] == T0 + timedelta(hours=1), "checks in at the planned start"
    assert timedelta(minutes=25) <= times[2] - times[1] <= timedelta(minutes=38), "stays about the duration"
    assert all(len(key) <= 100 and key.startswith("sim:12:") for _, _, key in api.sent)
    assert len({key for _, _, key in api.sent}) == 6


def test_a_write_lost_on_the_network_is_sent_again_with_the_same_key() -> None:
    calm = Behaviour(problem_rate=0, no_answer_rate=0, skip_rate=0, late_rate=0, far_check_in_rate=0)
    api = FakeApi([visit(1, T0 + timedelta(minutes=30), 0.01)], lose=2)
    agent = CaregiverAgent(CaregiverSpec("caregiver2", 12, home=HOME), api, behaviour=calm)
    for minute in range(0, 120, 5):
        agent.step(T0 + timedelta(minutes=minute))
    paths = [path.rsplit("/", 1)[1] for path, _, _ in api.sent]
    assert paths[:3] == ["en-route", "en-route", "en-route"], "resent until the server answers"
    assert len({key for path, _, key in api.sent if path.endswith("en-route")}) == 1
    assert len({body["at"] for path, body, _ in api.sent if path.endswith("en-route")}) == 1, "the phone's time kept"
    assert api.day[0]["status"] == "completed"
    assert agent.counters.counts["retries"] == 2


def test_an_urgent_task_is_acknowledged_then_accepted_when_the_server_has_acknowledge() -> None:
    task = visit(5, T0 + timedelta(minutes=20), 0.005) | {"priority": 1, "kind": "urgent_visit"}
    task |= {"acknowledged_version": None, "version": 8}
    api = FakeApi([task])
    agent = CaregiverAgent(CaregiverSpec("caregiver2", 12, home=HOME), api)
    agent.step(T0)
    assert [path.rsplit("/", 1)[1] for path, _, _ in api.sent][:2] == ["acknowledge", "accept"]
    assert api.sent[0][1]["version"] == 8
