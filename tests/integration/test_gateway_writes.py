"""The gateway's write statements on real PostgreSQL: alarm events in one statement, telemetry dedupe.

Both were found by the alarm-latency benchmark: five round trips per alarm transaction, and a
telemetry duplicate check whose prepared (generic) plan scanned the whole table for every batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_common.contract.v1 import TelemetryPayload
from eldercare_common.devstack import PostgresInstance
from eldercare_gateway.lanes.alarm import EventRow, insert_events
from eldercare_gateway.lanes.telemetry import MOVE_NEW_ROWS, STAGE_DDL, copy_telemetry
from tests.conftest import migrated_database

Connection = psycopg.Connection[tuple[object, ...]]


@pytest.fixture(scope="module")
def writes_url(postgres: PostgresInstance) -> str:
    """A database of its own: these tests fill device_event, outbox and telemetry."""
    return migrated_database(postgres, "eldercare_writes")


@pytest.fixture
def conn(writes_url: str) -> Iterator[Connection]:
    """A connection like the gateway's (UTC, explicit commits)."""
    with psycopg.connect(writes_url, options="-c timezone=UTC") as connection:
        yield connection


def sos(serial: str, event_id: str) -> EventRow:
    """An SOS row as the alarm lane builds it."""
    now = datetime.now(UTC)
    return EventRow(serial, event_id, "sos", now, now, {"seq": 1, "data": {}})


def test_alarm_events_one_statement_new_ids_outbox_and_one_notify(conn: Connection, writes_url: str) -> None:
    with psycopg.connect(writes_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {NotifyChannel.DEVICE_EVENT.value}")
        # A batch with a duplicate inside it (a device resending before its PUBACK).
        first = insert_events(conn, [sos("WR-A", "e1"), sos("WR-B", "e1"), sos("WR-A", "e1")])
        conn.commit()
        assert len(first) == 2 and first == sorted(first)
        notices = list(listener.notifies(timeout=2, stop_after=1))
        assert [n.payload for n in notices] == [",".join(map(str, first))]

        # Redelivery of the same events plus one new: only the new one is stored and announced.
        second = insert_events(conn, [sos("WR-A", "e1"), sos("WR-B", "e1"), sos("WR-B", "e2")])
        conn.commit()
        assert len(second) == 1 and second[0] > max(first)
        assert [n.payload for n in listener.notifies(timeout=2, stop_after=1)] == [str(second[0])]

        # Nothing new: no row, and no NOTIFY waking the platform for nothing.
        assert insert_events(conn, [sos("WR-B", "e2")]) == []
        conn.commit()
        assert list(listener.notifies(timeout=0.5)) == []

    outbox = conn.execute(
        "SELECT (payload->>'device_event_id')::bigint, payload->>'device_serial', payload->>'event_type'"
        " FROM outbox WHERE topic = 'device_event' ORDER BY id"
    ).fetchall()
    assert outbox == [(first[0], "WR-A", "sos"), (first[1], "WR-B", "sos"), (second[0], "WR-B", "sos")]
    assert conn.execute("SELECT count(*) FROM device_event WHERE device_serial LIKE 'WR-%'").fetchone() == (3,)


def samples(serial: str, seqs: range, base: datetime) -> list[tuple[datetime, str, TelemetryPayload]]:
    """Telemetry rows as the lane hands them to `copy_telemetry`."""
    return [
        (
            base + timedelta(seconds=s),
            serial,
            TelemetryPayload(seq=s, ts=base + timedelta(seconds=s), kind="vitals", data={"heart_rate": 70}),
        )
        for s in seqs
    ]


def test_telemetry_redelivery_skipped_and_never_a_generic_plan(conn: Connection) -> None:
    base = datetime.now(UTC) - timedelta(hours=1)
    stored = 0
    for batch in range(8):  # more than psycopg's prepare threshold (5)
        stored += copy_telemetry(conn, samples("WR-T", range(batch * 100, batch * 100 + 100), base))
        conn.commit()
    # A gateway killed between commit and PUBACK gets the last batch again, with a later receipt time.
    redelivered = [(t + timedelta(seconds=30), s, p) for t, s, p in samples("WR-T", range(700, 800), base)]
    assert copy_telemetry(conn, redelivered) == 0
    conn.commit()
    assert stored == 800
    assert conn.execute("SELECT count(*) FROM telemetry WHERE device_serial = 'WR-T'").fetchone() == (800,)
    prepared = conn.execute("SELECT statement FROM pg_prepared_statements").fetchall()
    assert not [s for (s,) in prepared if "telemetry_stage s" in str(s)], prepared


def test_telemetry_duplicate_check_is_an_index_probe(conn: Connection) -> None:
    base = datetime.now(UTC) - timedelta(hours=2)
    conn.execute(
        "INSERT INTO telemetry (time, device_serial, seq, device_time, kind, data)"
        " SELECT %s + g * interval '100 ms', 'WR-I' || (g %% 20), g, %s + g * interval '100 ms', 'vitals', '{}'"
        " FROM generate_series(1, 300000) AS g",
        (base, base),
    )
    conn.execute("ANALYZE telemetry")
    conn.execute(STAGE_DDL)
    conn.execute("INSERT INTO telemetry_stage SELECT * FROM telemetry WHERE device_serial = 'WR-I1' LIMIT 200")
    plan = "\n".join(str(row[0]) for row in conn.execute("EXPLAIN " + MOVE_NEW_ROWS))
    conn.rollback()
    assert "ix_telemetry_dedupe" in plan, plan
