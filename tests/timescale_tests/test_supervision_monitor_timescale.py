"""The services statement and the care-center monitor on TimescaleDB (PGlite over the wire; `telemetry` is a
hypertable there): the same hand-computed figures as on PostgreSQL (tests/integration/services_monitor_support.py).
Its own server, not the lane's shared one: the continuous aggregate is refreshed by `CALL`, outside any transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from eldercare_platform.core.scope import EVERYTHING, Scope, ScopeKind
from eldercare_platform.migrate import upgrade
from eldercare_platform.supervision import monitor, statement
from eldercare_platform.supervision.rollups import RefreshResult, refresh_rollups
from eldercare_platform.supervision.tier import Period
from tests.integration.services_monitor_support import (
    DISTRICT_MONITOR_TOTALS,
    DISTRICT_STATEMENT_TOTALS,
    LATEST,
    NOW,
    World,
    add_late_samples,
    add_todays_sample,
    assert_monitor_rollup_is_raw,
    build,
    changed_by_late_samples,
    monitor_answer,
)
from tests.support.timescale import connect, pglite_timescale_server

pytestmark = pytest.mark.timescale


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A migrated TimescaleDB with the fixed world; one connection at a time, no prepared statements."""
    with pglite_timescale_server() as dsn:
        upgrade(dsn)
        eng = create_engine(
            dsn.replace("postgresql://", "postgresql+psycopg://"),
            poolclass=NullPool,
            connect_args={"prepare_threshold": None},
        )
        yield eng
        eng.dispose()


@pytest.fixture(scope="module")
def world(engine: Engine) -> World:
    with Session(engine, expire_on_commit=False) as session:
        w = build(session)
        session.commit()
    return w


def _path(session: Session, area_id: int) -> str:
    return str(session.execute(text("SELECT path FROM area WHERE id = :id"), {"id": area_id}).scalar_one())


def test_telemetry_is_a_hypertable_here(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        found = session.execute(
            text("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry'")
        ).scalar_one()
    assert found == 1


def test_the_same_figures_as_on_postgresql(engine: Engine, world: World) -> None:
    period = Period(date(2026, 11, 20), date(2026, 11, 21))
    with Session(engine) as session:
        district = _path(session, world.ids["d"])
        scope = Scope(ScopeKind.AREA, area_path=_path(session, world.ids["city"]))
        found = monitor.monitor(session, scope=scope, area_path=district, start=period.start, end=period.end)
        assert monitor.figures(found.facilities) == DISTRICT_MONITOR_TOTALS
        assert found.series["night_bed_exits"] == {"2026-11-20": 3}
        st = statement.statement(session, scope=EVERYTHING, area_path=district, month=date(2026, 11, 1))
        assert statement.figures(st.lines, st.entitled) == DISTRICT_STATEMENT_TOTALS


def test_the_monitor_from_the_rollups_equals_the_raw_samples(engine: Engine, world: World) -> None:
    """Migration 0017 on TimescaleDB: the continuous aggregate (refreshed as its policy does) and the daily rollup
    give the raw answers, also after samples arrived late for hours already materialized — within the policy's
    3-day window, which the job rebuilds the daily rows of; one is a bed exit whose previous sample is in the hour
    and the day before."""
    dsn = engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")

    def refresh(now: datetime) -> RefreshResult:
        with connect(dsn) as conn:
            conn.execute("CALL refresh_continuous_aggregate('rollup_telemetry_hourly', NULL, NULL)")
        with Session(engine) as session:
            result = refresh_rollups(session, now=now)
            session.commit()
        return result

    assert refresh(NOW).telemetry == "continuous aggregate (policy)"
    with Session(engine) as session:
        before = assert_monitor_rollup_is_raw(session, world)
        city = _path(session, world.ids["city"])  # the statement's SQL figures are figures() of all its lines here too
        st = statement.statement(session, scope=EVERYTHING, area_path=city, month=date(2026, 11, 1))
        assert st.totals == statement.figures(st.lines, st.entitled) and st.lines_total == len(st.lines) == 6
        add_late_samples(session)
        session.commit()
        latest = Period(date(2026, 11, 15), date(2026, 12, 2))
        assert monitor_answer(session, EVERYTHING, city, latest, "rollup") == before[LATEST], "the rollups are read"
    assert refresh(NOW + timedelta(minutes=5)).telemetry_days == 4, "the days of the policy's window, and today"
    with Session(engine) as session:
        after = assert_monitor_rollup_is_raw(session, world)
        assert changed_by_late_samples(before[LATEST], after[LATEST]) == (1, 1)
        add_todays_sample(session)
        session.commit()
        assert changed_by_late_samples(after[LATEST], assert_monitor_rollup_is_raw(session, world)[LATEST]) == (1, 0)
