"""The meals section from the meal rollup equals the raw one in the TimescaleDB lane (tests/support/meal_rollup.py;
the PostgreSQL side is in tests/integration/test_supervision_rollups.py)."""

from __future__ import annotations

import pytest

from eldercare_platform.core.db import raw_connection
from tests.conftest import timescale_session
from tests.integration.supervision_support import write_world
from tests.support import meal_rollup

pytestmark = pytest.mark.timescale


def test_meal_rollup_equals_raw_through_changes(timescale_url: str) -> None:
    with timescale_session(timescale_url) as session:
        write_world(raw_connection(session))
        session.commit()
        meal_rollup.check(session)
