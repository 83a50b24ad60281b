"""The schema and representative time-series queries on a real TimescaleDB (2.23, PGlite over the wire).

CI runs these (`make test` installs the npm server); they are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import SQLModel

import eldercare_platform.models  # noqa: F401 - registers the tables
from eldercare_common.contract.v1 import TelemetryPayload
from eldercare_gateway.lanes.telemetry import copy_telemetry
from eldercare_platform.migrate import downgrade, upgrade
from tests.support.timescale import connect, pglite_timescale_server

pytestmark = pytest.mark.timescale
TIME_SERIES = {"device_event", "telemetry", "device_status", "dead_letter", "outbox"}
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def tsdb() -> Iterator[str]:
    """A TimescaleDB server with the schema migrated to head."""
    with pglite_timescale_server() as dsn:
        upgrade(dsn)
        yield dsn


def rows(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with connect(dsn) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def database_now(dsn: str) -> datetime:
    """The database server's clock: TimescaleDB's policies judge a chunk's age by it, not by this process's."""
    moment: datetime = rows(dsn, "SELECT now()")[0][0]
    return moment


def test_extension_and_every_table(tsdb: str) -> None:
    assert rows(tsdb, "SELECT extname FROM pg_extension WHERE extname = 'timescaledb'") == [("timescaledb",)]
    tables = {r[0] for r in rows(tsdb, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert set(SQLModel.metadata.tables) | TIME_SERIES <= tables


def test_hypertables_compression_and_retention(tsdb: str) -> None:
    hypertables = dict(
        rows(tsdb, "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables")
    )
    assert hypertables == {"telemetry": True, "dead_letter": False}
    jobs = rows(
        tsdb,
        "SELECT hypertable_name, proc_name, config FROM timescaledb_information.jobs"
        " WHERE hypertable_name IN ('telemetry', 'dead_letter') ORDER BY 1, 2",
    )
    assert [(j[0], j[1]) for j in jobs] == [
        ("dead_letter", "policy_retention"),
        ("telemetry", "policy_compression"),
        ("telemetry", "policy_retention"),
    ]
    configs = {(j[0], j[1]): j[2] for j in jobs}
    assert configs[("telemetry", "policy_retention")]["drop_after"] == "400 days"
    assert configs[("telemetry", "policy_compression")]["compress_after"] == "7 days"
    segment = rows(
        tsdb,
        "SELECT segmentby FROM timescaledb_information.hypertable_compression_settings"
        " WHERE hypertable = 'telemetry'::regclass",
    )
    assert segment == [("device_serial",)]


def _load_vitals(dsn: str, serial: str, start: datetime, minutes: int) -> int:
    samples = []
    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        payload = TelemetryPayload(seq=minute, ts=at, kind="vitals", data={"heart_rate": 60 + (minute // 60) * 10})
        samples.append((at, serial, payload))
    with connect(dsn) as conn, conn.transaction():
        return copy_telemetry(conn, samples)


def test_gateway_telemetry_writer_and_hourly_trend(tsdb: str) -> None:
    """The gateway's COPY path works on TimescaleDB, and the dashboards' hourly query returns the trend."""
    assert _load_vitals(tsdb, "VMTS00001", START, 180) == 180
    assert _load_vitals(tsdb, "VMTS00001", START, 180) == 0, "a redelivered batch is skipped by seq"
    trend = rows(
        tsdb,
        "SELECT time_bucket('1 hour', time) AS hour, avg((data->>'heart_rate')::numeric)::int, count(*)"
        " FROM telemetry WHERE device_serial = 'VMTS00001' GROUP BY hour ORDER BY hour",
    )
    assert [(r[0], r[1], r[2]) for r in trend] == [
        (START, 60, 60),
        (START + timedelta(hours=1), 70, 60),
        (START + timedelta(hours=2), 80, 60),
    ]


def test_gap_filled_series_for_a_silent_period(tsdb: str) -> None:
    """A device silent for two hours shows as a gap that `locf` carries across (supervisor charts)."""
    _load_vitals(tsdb, "VMTS00002", START, 60)
    _load_vitals(tsdb, "VMTS00002", START + timedelta(hours=3), 60)
    series = rows(
        tsdb,
        "SELECT time_bucket_gapfill('1 hour', time) AS hour, count(*) AS samples,"
        " locf(avg((data->>'heart_rate')::numeric)) FROM telemetry"
        " WHERE device_serial = 'VMTS00002' AND time >= %s AND time < %s GROUP BY hour ORDER BY hour",
        (START, START + timedelta(hours=4)),
    )
    assert [(r[1], r[2]) for r in series] == [(60, 60), (None, 60), (None, 60), (60, 60)]


@pytest.mark.time_sensitive
def test_compression_policy_compresses_old_chunks_and_data_stays_readable(tsdb: str) -> None:
    job = rows(
        tsdb,
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'"
        " AND hypertable_name = 'telemetry'",
    )[0][0]
    _load_vitals(tsdb, "VMTS00003", database_now(tsdb) - timedelta(days=30), 30)
    rows(tsdb, f"CALL run_job({job})")
    compressed = rows(
        tsdb,
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry' AND is_compressed",
    )
    assert compressed[0][0] >= 1
    assert rows(tsdb, "SELECT count(*) FROM telemetry WHERE device_serial = 'VMTS00003'") == [(30,)]


@pytest.mark.time_sensitive
def test_retention_policy_drops_chunks_past_400_days(tsdb: str) -> None:
    job = rows(
        tsdb,
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'"
        " AND hypertable_name = 'telemetry'",
    )[0][0]
    now = database_now(tsdb)
    _load_vitals(tsdb, "VMTS00004", now - timedelta(days=500), 10)
    _load_vitals(tsdb, "VMTS00005", now - timedelta(days=2), 10)
    rows(tsdb, f"CALL run_job({job})")
    remaining = dict(
        rows(
            tsdb,
            "SELECT device_serial, count(*) FROM telemetry"
            " WHERE device_serial IN ('VMTS00004', 'VMTS00005') GROUP BY 1",
        )
    )
    assert remaining == {"VMTS00005": 10}


def test_migrations_down_and_up_again() -> None:
    """On its own server: down to base leaves no tables, up again rebuilds the hypertables."""
    with pglite_timescale_server() as dsn:
        upgrade(dsn)
        downgrade(dsn, "base")
        left = {r[0] for r in rows(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert left == {"alembic_version"}
        upgrade(dsn)
        hypertables = {r[0] for r in rows(dsn, "SELECT hypertable_name FROM timescaledb_information.hypertables")}
        assert hypertables == {"telemetry", "dead_letter"}
