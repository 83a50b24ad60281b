"""A short day of the simulated caregiver team against the real stack: the API under uvicorn on a `FixedClock` the
test advances, real PostgreSQL (the seeded demo district, a database of its own), the live channel through the
API's task hub. At each step the scheduler's functions run as the scheduler would run them: the task alerts (late,
missed), the meals watch and the intraday re-plan of the community. Every task of the team's day must end
completed, missed with a reason, cancelled with a reason, or reassigned to someone else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_platform.core.clock import LOCAL_TIMEZONE, FixedClock, as_utc
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.meals.orders import generate_orders
from eldercare_platform.meals.watch import watch
from eldercare_platform.planning import runs
from eldercare_platform.tasks import service as tasks_service
from eldercare_platform.tasks.alerting import task_alerts
from eldercare_platform.tasks.generation import generate_tasks
from eldercare_platform.tasks.jobs import alert_rules
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_sim.caregivers import Behaviour, Counters, Team, make_team, publish_todays_plans, team_from_db
from tests.conftest import SEED_START, platform_settings, seeded_database, unpooled_engine
from tests.integration.urgent_support import ServedApi

DAY = SEED_START + timedelta(days=2)  # a Wednesday of the seeded week of shifts: visits fall on working days
STEP = timedelta(minutes=5)
BUSY = Behaviour(problem_rate=0.25, no_answer_rate=0.1, skip_rate=0.1, late_rate=0.25, far_check_in_rate=0.25)
"""A busy day: the rates turned up so that a short day shows every path (the defaults are an ordinary day's)."""
EXTRA_VISITS = 12
RULES = alert_rules(ApiSettings(environment="test"))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIMEZONE))


@dataclass
class District:
    url: str
    engine: Engine
    settings: ApiSettings
    community_id: int
    community_path: str


@pytest.fixture(scope="module")
def district(postgres: PostgresInstance, seeded_template: str, mosquitto: MosquittoInstance) -> Iterator[District]:
    """The 1,000-resident demo district in a database of its own (the day's work is committed)."""
    url = seeded_database(postgres, seeded_template, "eldercare_caregiver_sim")
    engine = unpooled_engine(url)
    with engine.connect() as conn:
        community_id, path = conn.execute(
            text(
                "SELECT a.id, a.path FROM app_user u JOIN area a ON a.id = u.scope_area_id"
                " WHERE u.username = 'coordinator1'"
            )
        ).one()
    settings = platform_settings(url, mosquitto).model_copy(update={"planner_seconds": 0.2})
    yield District(url, engine, settings, int(community_id), str(path))
    engine.dispose()
    postgres.drop_database("eldercare_caregiver_sim")


def run_jobs(d: District, now: datetime) -> None:
    """What the scheduler does every minute or so, at `now`."""
    with Session(d.engine) as session:
        task_alerts(session, now=now, rules=RULES)
        watch(session, settings=d.settings, now=now)
        session.commit()
        runs.intraday(session, now=now, settings=d.settings, within=d.community_path)
        session.commit()


def team_day(d: District, staff: set[int]) -> dict[int, Any]:
    with d.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, kind, status, status_reason, assignee_staff_id, window_end, priority FROM task"
                " WHERE window_start < :end AND window_end > :start AND assignee_staff_id = ANY(:staff)"
            ),
            {"start": local(DAY, 0), "end": local(DAY + timedelta(days=1), 0), "staff": list(staff)},
        ).all()
    return {int(row.id): row for row in rows}


def urgent_for_the_team(d: District, now: datetime) -> int:
    """A welfare call nobody answered, in the community: an urgent visit inserted into a live route and pushed."""
    with Session(d.engine) as session:
        resident_id = session.execute(
            text(
                "SELECT r.id FROM resident r JOIN household h ON h.id = r.household_id"
                " WHERE h.area_id = :area AND h.latitude IS NOT NULL AND r.status = 'active' ORDER BY r.id LIMIT 1"
            ),
            {"area": d.community_id},
        ).scalar_one()
        task_id = tasks_service.create_urgent_task(
            session,
            kind=TaskKind.URGENT_VISIT,
            source=TaskSource.WELFARE,
            now=now,
            within=timedelta(minutes=60),
            resident_id=int(resident_id),
            slot=f"sim:{now.isoformat()}",
            reason="welfare call: nobody answered",
            area_path=d.community_path,
        )
        session.commit()
    assert task_id is not None
    return task_id


def extra_visits(d: District, now: datetime) -> list[int]:
    """Ad-hoc visits a coordinator adds for the day (a short day of a small community has only a handful)."""
    with Session(d.engine) as session:
        residents = session.execute(
            text(
                "SELECT r.id FROM resident r JOIN household h ON h.id = r.household_id WHERE h.area_id = :area"
                " AND h.latitude IS NOT NULL AND r.status = 'active' ORDER BY r.id OFFSET 1 LIMIT :n"
            ),
            {"area": d.community_id, "n": EXTRA_VISITS},
        ).scalars()
        ids = []
        for index, resident_id in enumerate(residents):
            opens = 9 + index % 6  # windows open 09:00 … 14:00 and last three hours
            task_id = tasks_service.create_task(
                session,
                kind=TaskKind.VISIT,
                source=TaskSource.MANUAL,
                now=now,
                window_start=local(DAY, opens),
                window_end=local(DAY, opens + 3),
                resident_id=int(resident_id),
                service="visit",
                slot=f"sim-visit:{DAY}",
                priority=3,
                required_skill="visit",
                duration_minutes=30,
            )
            assert task_id is not None
            ids.append(task_id)
        session.commit()
    return ids


def trace(d: District, ids: set[int]) -> list[Any]:
    with d.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT task_id, action, at, reason, detail FROM task_event WHERE task_id = ANY(:ids) ORDER BY id"
                ),
                {"ids": list(ids)},
            ).all()
        )


def test_a_short_day_of_the_team_ends_with_every_task_done_missed_or_reassigned(district: District) -> None:
    d = district
    clock = FixedClock(local(DAY, 7, 0))
    with Session(d.engine) as session:  # the morning: the day's tasks and meal orders, as the scheduler makes them
        generate_tasks(session, now=clock.now(), window_days=1)
        generate_orders(session, settings=d.settings, now=clock.now())
        session.commit()
    extra_visits(d, clock.now())
    served = ServedApi(d.settings, clock)
    lines: list[str] = []
    counters = Counters()
    team: Team | None = None
    try:
        with httpx.Client(base_url=served.url, timeout=20) as http:
            # coordinator1 plans the community's day on the board and publishes it (规划路线, 发布路线)
            token = http.post("/api/auth/token", data={"username": "coordinator1", "password": "eldercare-demo"})
            planned = http.post(
                "/api/plans",
                json={"area_id": d.community_id, "day": DAY.isoformat()},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            assert planned.status_code == 201, planned.text
            published = publish_todays_plans(http, coordinator="coordinator1", area_id=d.community_id, day=str(DAY))
            assert published == [planned.json()["id"]]

            specs = team_from_db(d.url, coordinator="coordinator1", day=DAY)
            staff = {s.staff_id for s in specs}
            assert len(specs) >= 2 and all(s.username.startswith("caregiver") for s in specs)
            morning = team_day(d, staff)
            assert len(morning) >= 8, "the published plan gives the team its day"
            team = make_team(
                specs, http, api_url=served.url, seed=7, behaviour=BUSY, log=lines.append, counters=counters
            )
            urgent_id: int | None = None
            now = local(DAY, 7, 30)
            end = max(row.window_end for row in morning.values()) + RULES.missed_after + STEP
            while now <= end:
                clock.set(now)
                if urgent_id is None and now >= local(DAY, 10, 30):
                    urgent_id = urgent_for_the_team(d, now)
                    end = max(end, now + timedelta(hours=1) + RULES.missed_after + STEP)
                team.step(now)
                run_jobs(d, now)
                now += STEP
    finally:
        if team is not None:
            team.close()
        served.stop()
    log = "\n".join(lines)

    # Every task the team had that day (in the morning, or given during the day) ended as the issue says.
    final = all_tasks(d, set(morning) | set(team_day(d, staff)))
    unfinished = {
        task_id: (row.status, row.status_reason, row.assignee_staff_id)
        for task_id, row in final.items()
        if row.window_end <= end  # a follow-up found today may be due tomorrow
        and not (
            row.status == "completed"
            or (row.status in ("missed", "cancelled") and row.status_reason)
            or (task_id in morning and row.assignee_staff_id != morning[task_id].assignee_staff_id)
        )
    }
    assert not unfinished, (unfinished, log)
    statuses = Counter(row.status for row in final.values())
    assert statuses["completed"] >= len(final) // 2, (statuses, log)
    events = trace(d, set(final))
    steps = Counter((e.task_id, e.action) for e in events)
    # Exactly once, whatever was resent: one en route, check-in and completion per task at most.
    assert all(n == 1 for (_, action), n in steps.items() if action in ("en_route", "checked_in", "completed"))
    # The times on the record are the phone's, not the steps': most fall between two steps of the clock.
    stamps = [e.at for e in events if e.action in ("checked_in", "completed")]
    assert sum(stamp.minute % 5 != 0 or stamp.second != 0 for stamp in stamps) > len(stamps) // 2

    # Each path of the day left its mark on the record.
    done = [e for e in events if e.action == "completed"]
    assert counters.counts["completed"] == len(done) == statuses["completed"], (counters.counts, statuses)
    problems = [e for e in done if e.detail.get("problem_found")]
    assert len(problems) == counters.counts.get("problems", 0) >= 1, (counters.counts, log)
    with d.engine.connect() as conn:
        follow_ups: dict[int, str] = dict(
            conn.execute(
                text("SELECT follow_up_of, notes FROM task WHERE kind = 'follow_up' AND follow_up_of = ANY(:ids)"),
                {"ids": [e.task_id for e in problems]},
            ).all()
        )
        findings: dict[int, dict[str, Any]] = dict(
            conn.execute(text("SELECT id, findings FROM task WHERE id = ANY(:ids)"), {"ids": list(final)}).all()
        )
    assert set(follow_ups) == {e.task_id for e in problems}, "every problem found opened a follow-up"
    for event in problems:
        category = findings[event.task_id]["problem_category"]
        assert follow_ups[event.task_id].startswith(f"[{category}]")
        assert "problem" in findings[event.task_id]["checklist"].values()
    visits = [e.task_id for e in done if final[e.task_id].kind != "meal_delivery"]
    assert visits and all(findings[t]["checklist"] for t in visits), "the visit record ticks the checklist"
    meals = [e.task_id for e in done if final[e.task_id].kind == "meal_delivery"]
    assert all(findings[t]["meal_outcome"] in ("handed_over", "left_with_neighbour") for t in meals)
    nobody = [e for e in events if e.action == "no_answer"]
    assert len(nobody) == counters.counts.get("no_answer", 0) >= 1, (counters.counts, log)
    assert all(final[e.task_id].status_reason == "no_answer" and e.detail["welfare_alarm_id"] for e in nobody)
    assert counters.counts.get("skipped", 0) >= 1, (counters.counts, log)
    skipped = [t for t, row in final.items() if row.status_reason == "not_done_in_time"]
    assert len(skipped) >= counters.counts["skipped"], (skipped, log)
    far = [e for e in events if e.action == "checked_in" and e.detail.get("location_verified") is False]
    assert len(far) == counters.counts.get("far_check_in", 0) >= 1, (counters.counts, log)
    assert all(e.detail["distance_m"] > 200 for e in far)

    # The urgent task reached a caregiver of the team on the live channel: acknowledged, accepted, on the way.
    assert urgent_id is not None
    urgent = [e.action for e in trace(d, {urgent_id})]
    assert urgent.index("acknowledged") < urgent.index("accepted") < urgent.index("en_route"), (urgent, log)
    assert urgent[-1] in ("completed", "no_answer"), (urgent, log)  # at the door: done, or nobody opens again
    assert counters.counts.get("pushed", 0) >= 1


def all_tasks(d: District, ids: set[int]) -> dict[int, Any]:
    with d.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, kind, status, status_reason, assignee_staff_id, window_end FROM task WHERE id = ANY(:ids)"
            ),
            {"ids": list(ids)},
        ).all()
    return {int(row.id): row for row in rows}
