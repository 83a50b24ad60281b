"""The supervision rollups on TimescaleDB (PGlite over the wire): telemetry is a continuous aggregate with a refresh
policy, alarms and tasks are tables the job refreshes; the figures equal the raw ones (tests/support/rollup_data.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from eldercare_platform.migrate import upgrade
from eldercare_platform.supervision.rollups import refresh_rollups, telemetry_is_continuous_aggregate
from tests.support import rollup_data
from tests.support.timescale import connect, pglite_timescale_server

pytestmark = pytest.mark.timescale


@pytest.fixture(scope="module")
def tsdb() -> Iterator[str]:
    """A TimescaleDB server migrated to head, with the fixed data set."""
    with pglite_timescale_server() as dsn:
        upgrade(dsn)
        with connect(dsn) as conn:
            rollup_data.load(conn)
        yield dsn


@pytest.fixture(scope="module")
def engine(tsdb: str) -> Iterator[Engine]:
    """One connection at a time (PGlite has one backend), no prepared statements."""
    eng = create_engine(
        tsdb.replace("postgresql://", "postgresql+psycopg://"),
        poolclass=NullPool,
        connect_args={"prepare_threshold": None},
    )
    yield eng
    eng.dispose()


def refresh_telemetry_aggregate(dsn: str) -> None:
    """What the policy does on its schedule (outside a transaction, as TimescaleDB requires)."""
    with connect(dsn) as conn:
        conn.execute("CALL refresh_continuous_aggregate('rollup_telemetry_hourly', NULL, NULL)")


def test_telemetry_rollup_is_a_continuous_aggregate_with_a_policy(tsdb: str, engine: Engine) -> None:
    with Session(engine) as session:
        assert telemetry_is_continuous_aggregate(session)
    with connect(tsdb) as conn:
        policies = conn.execute(
            "SELECT config FROM timescaledb_information.jobs"
            " WHERE hypertable_name = 'rollup_telemetry_hourly' AND proc_name = 'policy_refresh_continuous_aggregate'"
        ).fetchall()
    assert [(p[0]["start_offset"], p[0]["end_offset"]) for p in policies] == [("3 days", "01:00:00")]


def test_real_time_aggregate_before_any_refresh(engine: Engine) -> None:
    """Not yet materialized, the continuous aggregate answers from the raw rows (real-time aggregation)."""
    with Session(engine) as session:
        refresh_rollups(session, now=rollup_data.NOW)
        session.commit()
        rollup_data.assert_rollups_agree(session)


def test_rollups_and_raw_agree_after_refresh(tsdb: str, engine: Engine) -> None:
    refresh_telemetry_aggregate(tsdb)
    with Session(engine) as session:
        rollup_data.assert_hand_computed(session, changed=False)
        rollup_data.assert_visits_hand_computed(session, changed=False)
        rollup_data.assert_rollups_agree(session)


def test_incremental_refresh_catches_late_changes(tsdb: str, engine: Engine) -> None:
    with connect(tsdb) as conn:
        rollup_data.change(conn)
    refresh_telemetry_aggregate(tsdb)
    with Session(engine) as session:
        result = refresh_rollups(session, now=rollup_data.NOW, lookback_days=1)
        session.commit()
        assert result.telemetry == "continuous aggregate (policy)"
        rollup_data.assert_hand_computed(session, changed=True)
        rollup_data.assert_rollups_agree(session)


def test_visit_rollup_follows_changes_and_its_late_after(tsdb: str, engine: Engine) -> None:
    """A visit moved, a problem closed and a hospital stay recorded after the refresh: read raw until the next
    refresh, which recomputes them; a rollup built with another `late_after` is not read (supervision/visit_rollup.py,
    tables in this lane too)."""
    with connect(tsdb) as conn:
        rollup_data.change_visits(conn)
    with Session(engine) as session:
        rollup_data.assert_visits_hand_computed(session, changed=True)
        rollup_data.assert_visits_agree(session)
        rollup_data.refresh(session, lookback_days=1)
        rollup_data.assert_visits_hand_computed(session, changed=True)
        rollup_data.assert_visits_agree(session)
        rollup_data.assert_visits_agree(session, now=rollup_data.NOW + timedelta(days=3))
        rollup_data.refresh(session, late_after=timedelta(minutes=10))
        rollup_data.assert_visits_hand_computed(session, changed=True, late_after_minutes=10)
        rollup_data.assert_visits_agree(session, late_after=timedelta(minutes=10))
