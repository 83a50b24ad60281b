"""supervision rollups: hourly alarms, daily tasks, hourly telemetry, so dashboards stay fast at district size

The supervisors' dashboards sum these instead of scanning 90 days of raw rows (docs/supervision.md,
"Storage"). Every relation holds *additive* figures only (counts and sums), so any area subtree and any
period is a plain `sum()` over rows whose `area_path` starts with the area's path:

- `rollup_alarm_hourly` (UTC hour of `opened_at` × area path × type): alarms, acknowledged, seconds to
  acknowledge (sum), acknowledged ≤ 60 s / ≤ 180 s, resolved, seconds to resolve (sum). Asia/Shanghai has no
  daylight saving, so 24 UTC hours make a local day.
- `rollup_alarm_daily` (local day × *every* area on the path — community, street, district, city — × type, from
  the hourly rollup): an area's figures are its own rows and its children's the rows one level down, so a district
  over 90 days reads a few thousand rows instead of one per alarm.
- `rollup_task_daily` (local day of `window_start` × area path × kind × status × reason, the reason
  kept for cancelled and missed tasks): tasks, late (completed after
  the window's end), problems found.
- `rollup_telemetry_hourly` (UTC hour × device × kind): samples.
- `rollup_task_day`: the local day each task was last counted on (a task moved to another day is taken off
  its old day by the next refresh).
- `rollup_state`: what each refresh has seen (the highest alarm / task version), for the incremental refresh.

Where each one comes from:

- With TimescaleDB, `rollup_telemetry_hourly` is a **continuous aggregate** over the `telemetry` hypertable
  with a refresh policy (the last 3 days every 30 minutes; older chunks are final). Alarms and tasks are not
  hypertables and cannot become ones (their primary key is an identity column, other tables reference it,
  and rows change for days after they are opened), and TimescaleDB only aggregates hypertables
  continuously: so their rollups are tables in both lanes.
- Without TimescaleDB all three are tables, and the scheduler job `supervision_rollups`
  (supervision/jobs.py) refreshes them incrementally: only the hours / days holding rows whose `version`
  moved since the last refresh (every change of an alarm or task bumps it), plus the recent days.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TELEMETRY_REFRESH_START = "3 days"
TELEMETRY_REFRESH_END = "1 hour"
TELEMETRY_REFRESH_EVERY = "30 minutes"


def _timescaledb_available() -> bool:
    bind = op.get_bind()
    return bool(bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).scalar())


def upgrade() -> None:
    """The rollup relations: continuous aggregate for telemetry on TimescaleDB, tables otherwise."""
    op.execute(
        """
        CREATE TABLE rollup_alarm_hourly (
            bucket        timestamptz NOT NULL,
            area_path     text        NOT NULL,
            type          text        NOT NULL,
            alarms        integer     NOT NULL,
            acknowledged  integer     NOT NULL,
            ack_s_sum     double precision NOT NULL,
            ack_le_60     integer     NOT NULL,
            ack_le_180    integer     NOT NULL,
            resolved      integer     NOT NULL,
            resolve_s_sum double precision NOT NULL,
            PRIMARY KEY (bucket, area_path, type)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_alarm_hourly_area ON rollup_alarm_hourly (area_path text_pattern_ops, bucket)")
    op.execute(
        """
        CREATE TABLE rollup_alarm_daily (
            day           date        NOT NULL,
            area_path     text        NOT NULL,
            depth         smallint    NOT NULL,
            type          text        NOT NULL,
            alarms        integer     NOT NULL,
            acknowledged  integer     NOT NULL,
            ack_s_sum     double precision NOT NULL,
            ack_le_60     integer     NOT NULL,
            ack_le_180    integer     NOT NULL,
            resolved      integer     NOT NULL,
            resolve_s_sum double precision NOT NULL,
            PRIMARY KEY (area_path, day, type)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_alarm_daily_depth ON rollup_alarm_daily (depth, day)")
    op.execute(
        """
        CREATE TABLE rollup_task_daily (
            day           date    NOT NULL,
            area_path     text    NOT NULL,
            kind          text    NOT NULL,
            status        text    NOT NULL,
            reason        text    NOT NULL,
            tasks         integer NOT NULL,
            late          integer NOT NULL,
            problem_found integer NOT NULL,
            PRIMARY KEY (day, area_path, kind, status, reason)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_task_daily_area ON rollup_task_daily (area_path text_pattern_ops, day)")
    op.execute("CREATE TABLE rollup_task_day (task_id bigint PRIMARY KEY, day date NOT NULL)")
    op.execute(
        """
        CREATE TABLE rollup_state (
            rollup        text PRIMARY KEY,
            seen_version  bigint,
            refreshed_at  timestamptz
        )
        """
    )
    # The refresh finds the hours to recompute by `opened_at`.
    op.execute("CREATE INDEX ix_alarm_opened ON alarm (opened_at)")

    if _timescaledb_available():
        op.execute(
            """
            CREATE MATERIALIZED VIEW rollup_telemetry_hourly
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, device_serial, kind, count(*)::integer AS samples
            FROM telemetry
            GROUP BY 1, 2, 3
            WITH NO DATA
            """
        )
        op.execute(
            "SELECT add_continuous_aggregate_policy('rollup_telemetry_hourly',"
            f" start_offset => INTERVAL '{TELEMETRY_REFRESH_START}', end_offset => INTERVAL '{TELEMETRY_REFRESH_END}',"
            f" schedule_interval => INTERVAL '{TELEMETRY_REFRESH_EVERY}')"
        )
    else:
        op.execute(
            """
            CREATE TABLE rollup_telemetry_hourly (
                bucket        timestamptz NOT NULL,
                device_serial text        NOT NULL,
                kind          text        NOT NULL,
                samples       integer     NOT NULL,
                PRIMARY KEY (bucket, device_serial, kind)
            )
            """
        )
        op.execute("CREATE INDEX ix_rollup_telemetry_hourly_device ON rollup_telemetry_hourly (device_serial, bucket)")


def downgrade() -> None:
    """Drop the rollups (the continuous aggregate's policy goes with it)."""
    if _timescaledb_available():
        op.execute("DROP MATERIALIZED VIEW IF EXISTS rollup_telemetry_hourly CASCADE")
    else:
        op.execute("DROP TABLE IF EXISTS rollup_telemetry_hourly")
    op.execute("DROP INDEX IF EXISTS ix_alarm_opened")
    for table in ("rollup_state", "rollup_task_day", "rollup_task_daily", "rollup_alarm_daily", "rollup_alarm_hourly"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
