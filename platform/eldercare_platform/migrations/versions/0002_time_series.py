"""time-series tables: device events, telemetry, device status, dead letters

With the `timescaledb` extension available, telemetry and dead letters become hypertables with
compression and retention policies. Without it (Debian's plain PostgreSQL), the same tables, columns
and indexes are created as plain tables with a BRIN index on time; retention is then a scheduler job.

Device events (the alarm lane) stay a plain table everywhere: the unique key `(device_serial,
event_id)` that makes redelivery harmless cannot include a time column, which a hypertable needs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TELEMETRY_CHUNK = "1 day"
TELEMETRY_COMPRESS_AFTER = "7 days"
TELEMETRY_RETAIN = "400 days"
DEAD_LETTER_RETAIN = "180 days"


def _timescaledb_available() -> bool:
    bind = op.get_bind()
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")).scalar()
    if not available:
        return False
    op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    return True


def upgrade() -> None:
    """Create the time-series tables, as hypertables when TimescaleDB is there."""
    op.execute(
        """
        CREATE TABLE device_event (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            device_serial text        NOT NULL,
            event_id      text        NOT NULL,
            event_type    text        NOT NULL,
            device_time   timestamptz NOT NULL,
            received_at   timestamptz NOT NULL DEFAULT now(),
            payload       jsonb       NOT NULL DEFAULT '{}'::jsonb,
            CONSTRAINT device_event_once UNIQUE (device_serial, event_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_device_event_device_received ON device_event (device_serial, received_at DESC)")
    op.execute("CREATE INDEX ix_device_event_received ON device_event (received_at)")

    op.execute(
        """
        CREATE TABLE telemetry (
            time          timestamptz NOT NULL,
            device_serial text        NOT NULL,
            seq           bigint,
            device_time   timestamptz,
            kind          text        NOT NULL,
            data          jsonb       NOT NULL
        )
        """
    )
    op.execute("COMMENT ON COLUMN telemetry.time IS 'gateway receive time (UTC): device clocks may be wrong'")
    op.execute("CREATE INDEX ix_telemetry_device_time ON telemetry (device_serial, time DESC)")
    op.execute("CREATE INDEX ix_telemetry_kind_time ON telemetry (kind, time DESC)")

    op.execute(
        """
        CREATE TABLE device_status (
            device_serial     text PRIMARY KEY,
            online            boolean     NOT NULL DEFAULT false,
            last_seen_at      timestamptz,
            last_heartbeat_at timestamptz,
            battery_pct       smallint CHECK (battery_pct BETWEEN 0 AND 100),
            signal_dbm        smallint,
            mains_power       boolean,
            firmware          text,
            changed_at        timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_device_status_last_seen ON device_status (last_seen_at)")

    op.execute(
        """
        CREATE TABLE dead_letter (
            id            bigint GENERATED ALWAYS AS IDENTITY,
            received_at   timestamptz NOT NULL DEFAULT now(),
            topic         text        NOT NULL,
            payload       bytea       NOT NULL,
            reason        text        NOT NULL,
            device_serial text,
            PRIMARY KEY (id, received_at)
        )
        """
    )
    op.execute("CREATE INDEX ix_dead_letter_device ON dead_letter (device_serial, received_at DESC)")

    if _timescaledb_available():
        op.execute(f"SELECT create_hypertable('telemetry', by_range('time', INTERVAL '{TELEMETRY_CHUNK}'))")
        op.execute(
            "ALTER TABLE telemetry SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'device_serial', timescaledb.compress_orderby = 'time DESC')"
        )
        op.execute(f"SELECT add_compression_policy('telemetry', INTERVAL '{TELEMETRY_COMPRESS_AFTER}')")
        op.execute(f"SELECT add_retention_policy('telemetry', INTERVAL '{TELEMETRY_RETAIN}')")
        op.execute("SELECT create_hypertable('dead_letter', by_range('received_at', INTERVAL '7 days'))")
        op.execute(f"SELECT add_retention_policy('dead_letter', INTERVAL '{DEAD_LETTER_RETAIN}')")
    else:
        op.execute("CREATE INDEX ix_telemetry_time_brin ON telemetry USING brin (time)")
        op.execute("CREATE INDEX ix_dead_letter_received_brin ON dead_letter USING brin (received_at)")


def downgrade() -> None:
    """Drop the time-series tables (their TimescaleDB policies go with them)."""
    for table in ("dead_letter", "device_status", "telemetry", "device_event"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
