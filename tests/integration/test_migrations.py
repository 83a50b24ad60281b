"""Alembic migrations up and down on PostgreSQL 15, and the time-series tables' plain-PostgreSQL shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlmodel import SQLModel

import eldercare_platform.models  # noqa: F401 - registers the tables
from eldercare_common.devstack import PostgresInstance
from eldercare_platform.migrate import downgrade, upgrade
from eldercare_platform.migrations.env_filters import include_object
from tests.conftest import psql

TIME_SERIES = {"device_event", "telemetry", "device_status", "dead_letter", "outbox"}
ALARM_CENTER = {"alarm_type", "alarm", "alarm_event", "alarm_transition", "task", "notification"}
SERVICES = {
    "assessment",
    "care_plan",
    "resident_state",
    "staff_certification",
    "shift_pattern",
    "staff_leave",
    "staff_preference",
    "task_event",
    "meal_order",
    "alert",
    "meal_watch_state",  # 0009
    "plan",  # 0010
    "plan_stop",
    "plan_unassigned",
    "task_staff_feed",  # 0012
    "idempotent_request",  # 0013
    "task_photo",
    "rollup_alarm_hourly",  # 0014
    "rollup_alarm_daily",
    "rollup_task_daily",
    "rollup_task_day",
    "rollup_telemetry_hourly",
    "rollup_state",
    "rollup_alarm_detail",  # 0015
    "rollup_visit_task",  # 0016
    "rollup_visit_daily",
    "rollup_visit_caregiver",
    "rollup_alarm_caller",
    "rollup_telemetry_daily",  # 0017
    "rollup_meal_order",  # 0018
    "rollup_meal_daily",
    "rollup_meal_point",
    "rollup_statement_session",  # 0020
    "rollup_statement_line",
    "rollup_statement_entitled",
    "rollup_statement_month",
    "rollup_statement_stale",
    "rollup_statement_final",  # 0021
    "rollup_statement_mixed",
    "rollup_telemetry_stale",  # (plain PostgreSQL only: the late samples' hours)
}
RAW_SQL_TABLES = TIME_SERIES | ALARM_CENTER | SERVICES  # created by migrations in SQL, not from SQLModel classes


@pytest.fixture
def scratch_url(postgres: PostgresInstance) -> Iterator[str]:
    """An empty database of its own, dropped afterwards."""
    postgres.drop_database("migration_scratch")
    postgres.create_database("migration_scratch")
    yield postgres.url_for("migration_scratch")
    postgres.drop_database("migration_scratch")


def tables(url: str) -> set[str]:
    rows = psql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {str(row[0]) for row in rows}


def test_upgrade_creates_every_model_table_and_time_series(scratch_url: str) -> None:
    upgrade(scratch_url)
    expected = set(SQLModel.metadata.tables) | RAW_SQL_TABLES | {"alembic_version"}
    assert tables(scratch_url) == expected


def test_downgrade_to_base_removes_everything_and_upgrade_again(scratch_url: str) -> None:
    upgrade(scratch_url)
    downgrade(scratch_url, "0001")
    assert not RAW_SQL_TABLES & tables(scratch_url)
    downgrade(scratch_url, "base")
    assert tables(scratch_url) == {"alembic_version"}
    upgrade(scratch_url)
    assert tables(scratch_url) >= TIME_SERIES


def test_models_match_migrations(scratch_url: str) -> None:
    """Autogenerate finds nothing to do: the SQLModel classes and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    upgrade(scratch_url)
    engine = create_engine(scratch_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_without_timescaledb_the_time_series_tables_are_plain_with_brin(scratch_url: str) -> None:
    upgrade(scratch_url)
    assert psql(scratch_url, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'") == []
    indexes = {
        str(row[0]) for row in psql(scratch_url, "SELECT indexname FROM pg_indexes WHERE tablename = 'telemetry'")
    }
    assert {
        "ix_telemetry_device_time",
        "ix_telemetry_kind_time",
        "ix_telemetry_time_brin",
        "ix_telemetry_dedupe",
    } <= indexes


def test_device_event_is_unique_per_device_and_event_id(scratch_url: str) -> None:
    upgrade(scratch_url)
    insert = (
        "INSERT INTO device_event (device_serial, event_id, event_type, device_time)"
        " VALUES ('HA0000001', 'e-1', 'sos', now())"
    )
    psql(scratch_url, insert)
    with pytest.raises(psycopg.errors.UniqueViolation):
        psql(scratch_url, insert)
    psql(scratch_url, insert.replace("HA0000001", "HA0000002"))


def test_representative_time_series_query_on_plain_postgres(scratch_url: str) -> None:
    """Hourly average heart rate per device, the query the dashboards' trend charts run."""
    upgrade(scratch_url)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with (
        psycopg.connect(scratch_url) as conn,
        conn.cursor() as cur,
        cur.copy("COPY telemetry (time, device_serial, seq, device_time, kind, data) FROM STDIN") as copy,
    ):
        for minute in range(180):
            at = start + timedelta(minutes=minute)
            copy.write_row((at, "VM0000001", minute, at, "vitals", f'{{"heart_rate": {60 + minute // 60 * 10}}}'))
    rows = psql(
        scratch_url,
        "SELECT date_bin('1 hour', time, '2000-01-01'), avg((data->>'heart_rate')::numeric)::int, count(*)"
        " FROM telemetry WHERE device_serial = 'VM0000001' GROUP BY 1 ORDER BY 1",
    )
    assert [(row[1], row[2]) for row in rows] == [(60, 60), (70, 60), (80, 60)]
    assert rows[0][0] == start
