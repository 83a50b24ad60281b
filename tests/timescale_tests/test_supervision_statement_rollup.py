"""The services statement from its rollup equals the raw one in the TimescaleDB lane (migration 0020;
tests/integration/services_monitor_support.py, `check_statement_rollup`), on the lane's shared server, in one
transaction rolled back."""

from __future__ import annotations

import pytest

from tests.conftest import timescale_session
from tests.integration.services_monitor_support import World, build_services, check_statement_rollup

pytestmark = pytest.mark.timescale


def test_statement_rollup_equals_raw_through_changes(timescale_url: str) -> None:
    with timescale_session(timescale_url) as session:
        world = World(url=timescale_url)
        build_services(session, world)
        check_statement_rollup(session, world)
