"""The services statement and the care-center monitor on TimescaleDB (PGlite over the wire; `telemetry` is a
hypertable there): the same hand-computed figures as on PostgreSQL (tests/integration/services_monitor_support.py),
on the lane's session server, the world written in a transaction rolled back at the end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.scope import EVERYTHING, Scope, ScopeKind
from eldercare_platform.supervision import monitor, statement
from eldercare_platform.supervision.tier import Period
from tests.conftest import timescale_session
from tests.integration.services_monitor_support import (
    DISTRICT_MONITOR_TOTALS,
    DISTRICT_STATEMENT_TOTALS,
    World,
    build,
)

pytestmark = pytest.mark.timescale


@pytest.fixture(scope="module")
def world(timescale_url: str) -> Iterator[tuple[Session, World]]:
    """The fixed world on the lane's server; one session (PGlite has one backend), rolled back afterwards."""
    with timescale_session(timescale_url) as session:
        w = build(session)
        session.commit()
        yield session, w


def _path(session: Session, area_id: int) -> str:
    return str(session.execute(text("SELECT path FROM area WHERE id = :id"), {"id": area_id}).scalar_one())


def test_telemetry_is_a_hypertable_here(world: tuple[Session, World]) -> None:
    session, _ = world
    found = session.execute(
        text("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry'")
    ).scalar_one()
    assert found == 1


def test_the_same_figures_as_on_postgresql(world: tuple[Session, World]) -> None:
    session, w = world
    period = Period(date(2026, 11, 20), date(2026, 11, 21))
    district = _path(session, w.ids["d"])
    scope = Scope(ScopeKind.AREA, area_path=_path(session, w.ids["city"]))
    found = monitor.monitor(session, scope=scope, area_path=district, start=period.start, end=period.end)
    assert monitor.figures(found.facilities) == DISTRICT_MONITOR_TOTALS
    assert found.series["night_bed_exits"] == {"2026-11-20": 3}
    st = statement.statement(session, scope=EVERYTHING, area_path=district, month=date(2026, 11, 1))
    assert statement.figures(st.lines, st.entitled) == DISTRICT_STATEMENT_TOTALS
