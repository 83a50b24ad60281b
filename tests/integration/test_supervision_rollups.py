"""The supervision rollups on PostgreSQL (tables the scheduler job refreshes): the figures they give equal the ones
computed from the raw rows, after a full refresh and after an incremental one (tests/support/rollup_data.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.supervision.rollups import refresh_rollups, telemetry_is_continuous_aggregate
from tests.conftest import migrated_database, unpooled_engine
from tests.support import rollup_data


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
        rollup_data.assert_rollups_agree(session)


def test_incremental_refresh_catches_late_changes(rollup_engine: Engine) -> None:
    """An old alarm acknowledged late and a task moved three days on are recomputed by version."""
    url = rollup_engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        rollup_data.change(conn)
    with Session(rollup_engine) as session:
        result = refresh_rollups(session, now=rollup_data.NOW, lookback_days=1)
        session.commit()
        assert result.alarm_hours == 1, "only the changed alarm's hour (nothing opened in the last day)"
        assert result.task_days == 4, "the moved task's old and new days, and the last day's two local days"
        rollup_data.assert_hand_computed(session, changed=True)
        rollup_data.assert_rollups_agree(session)


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
    assert detail == "alarm hours 40, task days 11, telemetry table hours 2", "the last 14 days are recomputed"
    assert refreshed == [rollup_data.NOW]
