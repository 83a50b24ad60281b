"""The supervision rollups on PostgreSQL (tables the scheduler job refreshes): the figures they give equal the ones
computed from the raw rows, after a full refresh and after an incremental one (tests/support/rollup_data.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from eldercare_platform.supervision.alarms_figures import alarms_section
from eldercare_platform.supervision.rollups import (
    DEFAULT_LATE_AFTER,
    refresh_rollups,
    telemetry_is_continuous_aggregate,
)
from eldercare_platform.supervision.visits_figures import visits_section
from tests.conftest import migrated_database, unpooled_engine
from tests.factories import login
from tests.integration.supervision_support import NOW, build
from tests.support import meal_rollup, rollup_data


@pytest.fixture(scope="module")
def rollup_engine(postgres: PostgresInstance) -> Iterator[Engine]:
    """A database of its own with the fixed data set, refreshed once in full."""
    url = migrated_database(postgres, "supervision_rollups")
    with psycopg.connect(url) as conn:
        rollup_data.load(conn)
    engine = unpooled_engine(url)
    with Session(engine) as session:
        refresh_rollups(session, now=rollup_data.NOW)
        session.commit()
    yield engine
    engine.dispose()


def test_plain_postgres_has_rollup_tables(rollup_engine: Engine) -> None:
    with Session(rollup_engine) as session:
        assert not telemetry_is_continuous_aggregate(session)
        filled = session.execute(
            text(
                "SELECT (SELECT count(*) FROM rollup_alarm_hourly), (SELECT count(*) FROM rollup_task_daily),"
                " (SELECT count(*) FROM rollup_telemetry_hourly)"
            )
        ).one()
    assert all(count > 0 for count in filled)


def test_rollups_and_raw_agree_after_full_refresh(rollup_engine: Engine) -> None:
    with Session(rollup_engine) as session:
        rollup_data.assert_hand_computed(session, changed=False)
        rollup_data.assert_visits_hand_computed(session, changed=False)
        rollup_data.assert_rollups_agree(session)


def test_incremental_refresh_catches_late_changes(rollup_engine: Engine) -> None:
    """An old alarm acknowledged late and a task moved three days on are recomputed by version."""
    url = rollup_engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        rollup_data.change(conn)
    with Session(rollup_engine) as session:
        result = refresh_rollups(session, now=rollup_data.NOW, lookback_days=1)
        session.commit()
        assert result.alarm_hours == 2, "the changed alarm's hour and the hour of the one alarm opened in the last day"
        assert result.task_days == 4, "the moved task's old and new days, and the last day's two local days"
        rollup_data.assert_hand_computed(session, changed=True)
        rollup_data.assert_rollups_agree(session)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")


def test_scheduler_job_refreshes_with_the_injected_clock(rollup_engine: Engine) -> None:
    from eldercare_platform.core.clock import FixedClock
    from eldercare_platform.core.config import SchedulerSettings
    from eldercare_platform.supervision.jobs import JOBS

    (spec,) = JOBS
    work = spec.build(SchedulerSettings(environment="test"), FixedClock(rollup_data.NOW))
    assert work is not None
    with Session(rollup_engine) as session:
        detail = work(session, rollup_data.NOW)
        session.commit()
        refreshed = session.execute(text("SELECT DISTINCT refreshed_at FROM rollup_state")).scalars().all()
    # Alarms: 40 hours and the visit world's alarm on the 20th; visits: the 10 days with visits since 6 November and
    # the days of the two visits that were not final (29 October, 2 November); no completed service task changed.
    assert detail == (
        "alarm hours 41, task days 11, visit days 12, telemetry table hours 2, telemetry days 1, meal days 0,"
        " statement residents 0"
    )
    assert refreshed == [rollup_data.NOW]


def test_visit_rollup_follows_changes_after_the_refresh(rollup_engine: Engine) -> None:
    """A visit moved to another day, a follow-up that closes a problem and a hospital stay recorded late, all after
    the refresh: the section reads those visits raw until the next refresh, which recomputes them and their days."""
    with psycopg.connect(_url(rollup_engine)) as conn:
        rollup_data.change_visits(conn)
    with Session(rollup_engine) as session:
        rollup_data.assert_visits_hand_computed(session, changed=True)
        rollup_data.assert_visits_agree(session)
        result = refresh_rollups(session, now=rollup_data.NOW, lookback_days=1)
        session.commit()
        # The changed visits' days (9017: 4 → 1 November; 9010: 2 November; 802's missed visits: 28, 30 October and
        # 1 November), the visits not final (29 October, 2 November, and the 8 planned ones of the first data
        # set, 10–19 November), and the last day: 14 days.
        assert result.visit_days == 14
        stored = session.execute(
            text(
                "SELECT task_id, day, excused, closed_at IS NOT NULL FROM rollup_visit_task"
                " WHERE task_id IN (9006, 9010, 9017) ORDER BY task_id"
            )
        ).all()
        assert [tuple(row) for row in stored] == [
            (9006, date(2026, 11, 1), True, False),
            (9010, date(2026, 11, 2), False, True),
            (9017, date(2026, 11, 1), False, False),
        ]
        rollup_data.assert_visits_hand_computed(session, changed=True)
        rollup_data.assert_visits_agree(session)
        # Three days on, 9105 (completed "two days after the refresh") closes 9014 without a row changing: 9014 was
        # not final, so it is read raw.
        rollup_data.assert_visits_agree(session, now=rollup_data.NOW + timedelta(days=3))


def test_visit_rollup_is_read_and_keeps_its_late_after(rollup_engine: Engine) -> None:
    """The sections read the rollups (a stored sum changed behind the refresh's back shows until a full refresh), and
    a rollup built with another `task_late_after_minutes` is not read."""
    with Session(rollup_engine) as session:
        tier, period = rollup_data.district_and_period()
        before = visits_section(session, tier=tier, period=period, now=rollup_data.NOW, late_after=DEFAULT_LATE_AFTER)
        session.execute(
            text(
                "UPDATE rollup_visit_daily SET due = due + 100"
                " WHERE area_path = '/1/8/' AND day = '2026-10-27' AND reason = ''"
            )
        )
        session.execute(text("DELETE FROM rollup_alarm_caller WHERE resident_id = 801"))
        session.commit()
        tampered = visits_section(session, tier=tier, period=period, now=rollup_data.NOW, late_after=DEFAULT_LATE_AFTER)
        assert tampered.totals["due"] == int(before.totals["due"] or 0) + 100
        assert alarms_section(session, tier=tier, period=period, now=rollup_data.NOW).totals["repeat_callers"] == 2
        refresh_rollups(session, now=rollup_data.NOW, full=True)
        session.commit()
        rollup_data.assert_visits_hand_computed(session, changed=True)
        rollup_data.refresh(session, late_after=timedelta(minutes=10))  # another setting: the visits rebuilt
        rollup_data.assert_visits_hand_computed(session, changed=True, late_after_minutes=10)
        rollup_data.assert_visits_agree(session, late_after=timedelta(minutes=10))
        rollup_data.assert_visits_hand_computed(session, changed=True)  # 15 minutes: raw rows, not the rollup


@pytest.fixture(scope="module")
def sections(postgres: PostgresInstance) -> Iterator[tuple[str, TestClient, dict[str, dict[str, str]]]]:
    """The figures helper's small world (tests/integration/supervision_support.py) behind the API."""
    url = migrated_database(postgres, "supervision_rollup_sections")
    build(url)
    settings = ApiSettings(environment="test", database_url=url, mqtt_url="mqtt://127.0.0.1:1")
    app = create_app(settings, connect_broker=False, clock=FixedClock(NOW))
    with TestClient(app) as client:
        users = ("sv_city", "sv_district", "sv_street", "sv_community", "sv_institution")
        yield url, client, {user: login(client, user) for user in users}


def test_alarms_section_reads_the_rollup_and_gives_the_raw_figures(
    sections: tuple[str, TestClient, dict[str, dict[str, str]]],
) -> None:
    url, client, headers = sections

    def answers() -> dict[str, Any]:
        period = {"from": "2026-11-01", "to": "2026-11-22"}
        got = {}
        for user, header in headers.items():
            response = client.get("/api/supervision/alarms", params=period, headers=header)
            assert response.status_code == 200, response.text
            got[user] = {key: value for key, value in response.json().items() if key != "generated_at"}
        return got

    def visits() -> dict[tuple[str, str, str], Any]:
        """The visits section and the caregiver rows of every tier (the hand-computed world: a visit moved to
        another day, a missed visit in hospital, follow-up chains, a visit later today), and the meals section and its
        points (migration 0018: welfare calls, an over-capacity meal, orders later today)."""
        got: dict[tuple[str, str, str], Any] = {}
        for user, header in headers.items():
            for section in ("visits", "visits/caregivers", "meals", "meals/points"):
                for period in ({"from": "2026-11-01", "to": "2026-11-22"}, {"from": "2026-11-03", "to": "2026-11-12"}):
                    response = client.get(f"/api/supervision/{section}", params=period, headers=header)
                    assert response.status_code == 200, response.text
                    body = {key: value for key, value in response.json().items() if key != "generated_at"}
                    got[(user, section, period["from"])] = body
        return got

    raw = answers()  # no refresh yet: everything from the raw rows
    raw_visits = visits()
    engine = unpooled_engine(url)
    try:
        with Session(engine) as session:
            refresh_rollups(session, now=NOW)
            session.commit()
        assert answers() == raw, "the rollup up to the last refresh, raw rows after it: the same figures"
        assert visits() == raw_visits

        # Proof that the rollup is read: alarm 1 (an SOS on 3 November) becomes a fall behind the refresh's back
        # (no version bump, outside the lookback): the section still counts it as an SOS until a full refresh.
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE alarm SET type = 'fall' WHERE id = 1")
        with Session(engine) as session:
            refresh_rollups(session, now=NOW, lookback_days=0)
            session.commit()
        assert answers() == raw
        with Session(engine) as session:
            refresh_rollups(session, now=NOW, full=True)
            session.commit()
        moved = answers()["sv_city"]["totals"]
        assert (moved.get("type.sos", 0), moved.get("type.fall", 0)) == (
            raw["sv_city"]["totals"].get("type.sos", 0) - 1,
            raw["sv_city"]["totals"].get("type.fall", 0) + 1,
        )
    finally:
        engine.dispose()


def test_meal_rollup_equals_raw_through_changes(sections: tuple[str, TestClient, dict[str, dict[str, str]]]) -> None:
    """The meals section from the meal rollup (migration 0018) equals the raw one through changes and refreshes, on
    the figures helper's world (the TimescaleDB lane: tests/timescale_tests/test_supervision_meal_rollup.py)."""
    engine = unpooled_engine(sections[0])
    try:
        with Session(engine) as session:
            meal_rollup.check(session)
    finally:
        engine.dispose()
