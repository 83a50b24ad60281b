"""A short day of the simulated caregiver team against the real stack: the API under uvicorn on a `FixedClock` the
test advances, real PostgreSQL (the seeded demo district, a database of its own), the live channel through the
API's task hub. At each step the scheduler's functions run as the scheduler would run them: the task alerts (late,
missed), the meals watch and the intraday re-plan of the community. Every task of the team's day must end
completed, missed with a reason, cancelled with a reason, or reassigned to someone else."""

from __future__ import annotations

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
from eldercare_platform.seed.generator import generate
from eldercare_platform.seed.loader import load
from eldercare_platform.tasks import service as tasks_service
from eldercare_platform.tasks.alerting import task_alerts
from eldercare_platform.tasks.generation import generate_tasks
from eldercare_platform.tasks.jobs import alert_rules
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_sim.caregivers import Counters, Team, make_team, publish_todays_plans, team_from_db
from tests.conftest import SEED_START, migrated_database, platform_settings, unpooled_engine
from tests.integration.urgent_support import ServedApi

DAY = SEED_START + timedelta(days=2)  # a Wednesday of the seeded week of shifts: visits fall on working days
STEP = timedelta(minutes=5)
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
def district(postgres: PostgresInstance, mosquitto: MosquittoInstance) -> Iterator[District]:
    """The 1,000-resident demo district in a database of its own (the day's work is committed)."""
    url = migrated_database(postgres, "eldercare_caregiver_sim")
    load(url, generate(1000, seed=7, start_date=SEED_START))
    engine = unpooled_engine(url)
    with engine.connect() as conn:
        community_id, path = conn.execute(
            text(
                "SELECT a.id, a.path FROM app_user u JOIN area a ON a.id = u.scope_area_id WHERE username = 'coordinator1'"
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


def test_a_short_day_of_the_team_ends_with_every_task_done_missed_or_reassigned(district: District) -> None:
    d = district
    clock = FixedClock(local(DAY, 7, 0))
    with Session(d.engine) as session:  # the night before and the morning: the day's tasks and meal orders
        generate_tasks(session, now=clock.now(), window_days=1)
        generate_orders(session, settings=d.settings, now=clock.now())
        session.commit()
    served = ServedApi(d.settings, clock)
    lines: list[str] = []
    counters = Counters()
    team: Team | None = None
    try:
        with httpx.Client(base_url=served.url, timeout=20) as http:
            # coordinator1 plans the community's day on the board and publishes it (规划路线, 发布路线)
            planned = http.post(
                "/api/plans",
                json={"area_id": d.community_id, "day": DAY.isoformat()},
                headers={"Authorization": f"Bearer {served_token(http, 'coordinator1')}"},
            )
            assert planned.status_code == 201, planned.text
            published = publish_todays_plans(http, coordinator="coordinator1", area_id=d.community_id, day=str(DAY))
            assert published == [planned.json()["id"]]

            specs = team_from_db(d.url, coordinator="coordinator1")
            staff = {s.staff_id for s in specs}
            assert len(specs) >= 2 and all(s.username.startswith("caregiver") for s in specs)
            morning = team_day(d, staff)
            assert morning, "the published plan gives the team work"
            team = make_team(specs, http, api_url=served.url, seed=7, log=lines.append, counters=counters)

            urgent_id: int | None = None
            now = local(DAY, 7, 30)
            end = max(row.window_end for row in morning.values()) + RULES.missed_after + STEP
            while now <= end:
                clock.set(now)
                if urgent_id is None and now >= local(DAY, 10, 30):
                    urgent_id = urgent_for_the_team(d, now)
                team.step(now)
                run_jobs(d, now)
                now += STEP
                if urgent_id is not None:
                    end = max(end, local(DAY, 11, 30) + RULES.missed_after + STEP)
    finally:
        if team is not None:
            team.close()
        served.stop()

    day = team_day(d, staff) | {k: v for k, v in morning.items() if k not in team_day(d, staff)}
    final = {k: v for k, v in all_tasks(d, set(day)).items()}
    unfinished = {
        task_id: (row.status, row.status_reason, row.assignee_staff_id)
        for task_id, row in final.items()
        if not (
            row.status == "completed"
            or (row.status in ("missed", "cancelled") and row.status_reason)
            or (morning.get(task_id) is not None and row.assignee_staff_id != morning[task_id].assignee_staff_id)
        )
    }
    assert not unfinished, (unfinished, lines[-40:])
    statuses = [row.status for row in final.values()]
    assert statuses.count("completed") >= len(statuses) // 2, (statuses, lines[-40:])
    assert counters.counts.get("completed", 0) == statuses.count("completed") - others_completed(d, final, staff)
    # exactly once: one check-in and one completion on each completed task's trace, whatever was resent
    with d.engine.connect() as conn:
        doubles = conn.execute(
            text(
                "SELECT task_id, action, count(*) FROM task_event WHERE task_id = ANY(:ids)"
                " AND action IN ('checked_in', 'completed', 'en_route') GROUP BY 1, 2 HAVING count(*) > 1"
            ),
            {"ids": list(final)},
        ).all()
    assert doubles == []
    # the urgent task reached a caregiver of the team live, who acknowledged and accepted it and went
    assert urgent_id is not None
    urgent = final.get(urgent_id) or all_tasks(d, {urgent_id})[urgent_id]
    assert urgent.status == "completed", (urgent, lines)
    assert counters.counts.get("accepted", 0) >= 1, counters.counts
    print("\n".join(lines), counters.counts, {k: (v.status, v.status_reason, v.kind) for k, v in final.items()})


def served_token(http: httpx.Client, username: str) -> str:
    response = http.post("/api/auth/token", data={"username": username, "password": "eldercare-demo"})
    response.raise_for_status()
    return str(response.json()["access_token"])


def all_tasks(d: District, ids: set[int]) -> dict[int, Any]:
    with d.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, kind, status, status_reason, assignee_staff_id, window_end FROM task WHERE id = ANY(:ids)"
            ),
            {"ids": list(ids)},
        ).all()
    return {int(row.id): row for row in rows}


def others_completed(d: District, final: dict[int, Any], staff: set[int]) -> int:
    """Completed tasks of the day that someone outside the team did (none expected: nobody else is simulated)."""
    return sum(1 for row in final.values() if row.status == "completed" and row.assignee_staff_id not in staff)
