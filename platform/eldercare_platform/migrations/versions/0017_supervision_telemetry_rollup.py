"""supervision: the hourly telemetry rollup holds what the care-center monitor needs, so a district month is fast

`rollup_telemetry_hourly` (UTC hour × device × kind; 0014 gave it `samples`) gains, per hour (docs/supervision.md,
"Care-center monitor: speed"; supervision/monitor_facts.py reads them):

- `out_of_range`, `out_of_range_first`: vitals samples with a metric outside the vitals ranges, room samples outside
  the room ranges, and the first of them;
- `smoke`, `smoke_first`: room samples with `smoke: true`;
- `in_bed_first`, `in_bed_last`, `out_of_bed_first`, `out_of_bed_last`: the first and last mattress sample with
  `in_bed` true / false — a night bed exit at the start of an hour (its previous sample in an earlier hour) follows
  from them exactly; the monitor reads exits inside an hour from the raw samples of the night hours that can hold
  one (a `true` before a `false`);
- `residents`: the distinct `resident_ref` of the hour's check-ins.

`rollup_telemetry_daily` (local day × device × kind, a table in both lanes, rebuilt by the scheduler job from the
hourly rollup for the days whose hours changed) holds the same sums per day, and per mattress the day's first and
last state and its night bed exits (the hourly states, plus the raw samples of the night hours with an exit
inside): a district month then reads a few thousand rows instead of one per terminal and hour.

The services statement gets an index on completed service tasks by their EVV start (it read the whole `task`
table).

Only plain aggregates with FILTER and DISTINCT, which a continuous aggregate accepts.

- **TimescaleDB**: the continuous aggregate is dropped and created again with the new columns (a continuous
  aggregate's query cannot be altered), with 0014's refresh policy, then refreshed over the whole history up to the
  policy's end offset (outside the migration's transaction, as TimescaleDB requires): without that, the hours the
  policy's 3-day window never reaches would read as empty once its watermark moves.
- **PostgreSQL**: the table gains the columns; the next refresh of the scheduler job is a full one (the telemetry
  state is forgotten). Samples can arrive late (a gateway's batch written after a refresh, for an hour already
  rolled up): a statement-level trigger on `telemetry` logs the hours of inserted samples older than the last
  refresh's recomputed window in `rollup_telemetry_stale`, and the next refresh recomputes them — as TimescaleDB's
  invalidation log does for the continuous aggregate.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TELEMETRY_REFRESH_START = "3 days"
TELEMETRY_REFRESH_END = "1 hour"
TELEMETRY_REFRESH_EVERY = "30 minutes"

VITALS_OUTSIDE = (
    "$ ? (@.heart_rate < 50 || @.heart_rate > 120 || @.spo2 < 90 || @.spo2 > 100 || @.systolic < 90"
    " || @.systolic > 160 || @.diastolic < 50 || @.diastolic > 100 || @.temperature < 35.5 || @.temperature > 37.5)"
)
ROOM_OUTSIDE = "$ ? (@.temperature < 18 || @.temperature > 28 || @.humidity < 30 || @.humidity > 70)"
OUT = f"(t.kind = 'vitals' AND (t.data @? '{VITALS_OUTSIDE}') OR t.kind = 'room' AND (t.data @? '{ROOM_OUTSIDE}'))"
SMOKE = "(t.kind = 'room' AND t.data->'smoke' = 'true'::jsonb)"
IN_BED = "(t.kind = 'mattress' AND t.data->'in_bed' = 'true'::jsonb)"
OUT_OF_BED = "(t.kind = 'mattress' AND t.data->'in_bed' = 'false'::jsonb)"
REF = "(t.kind = 'checkin' AND t.data ? 'resident_ref')"

AGGREGATES = f"""count(*)::integer AS samples,
       count(*) FILTER (WHERE {OUT})::integer AS out_of_range,
       min(t.time) FILTER (WHERE {OUT}) AS out_of_range_first,
       count(*) FILTER (WHERE {SMOKE})::integer AS smoke,
       min(t.time) FILTER (WHERE {SMOKE}) AS smoke_first,
       min(t.time) FILTER (WHERE {IN_BED}) AS in_bed_first,
       max(t.time) FILTER (WHERE {IN_BED}) AS in_bed_last,
       min(t.time) FILTER (WHERE {OUT_OF_BED}) AS out_of_bed_first,
       max(t.time) FILTER (WHERE {OUT_OF_BED}) AS out_of_bed_last,
       array_agg(DISTINCT t.data->>'resident_ref') FILTER (WHERE {REF}) AS residents"""
"""The hourly facts (the same text as supervision/monitor_facts.py FACT_AGGREGATES; tests/unit keeps them equal)."""

NEW_COLUMNS = (
    ("out_of_range", "integer NOT NULL DEFAULT 0"),
    ("out_of_range_first", "timestamptz"),
    ("smoke", "integer NOT NULL DEFAULT 0"),
    ("smoke_first", "timestamptz"),
    ("in_bed_first", "timestamptz"),
    ("in_bed_last", "timestamptz"),
    ("out_of_bed_first", "timestamptz"),
    ("out_of_bed_last", "timestamptz"),
    ("residents", "text[]"),
)

LOG_LATE = """
CREATE FUNCTION rollup_telemetry_log_late() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_telemetry_stale (bucket)
    SELECT DISTINCT date_bin(INTERVAL '1 hour', a.time, TIMESTAMPTZ '2000-01-01 00:00:00+00')
    FROM added a
    WHERE a.time < (SELECT s.refreshed_at - INTERVAL '1 hour' FROM rollup_state s WHERE s.rollup = 'telemetry_hourly')
    ON CONFLICT (bucket) DO NOTHING;
    RETURN NULL;
END
$$
"""
"""Samples older than the last refresh less an hour: the next incremental refresh would not recompute their hour
(it starts at the hour before the last refresh). Nothing is logged before the first refresh (a full one)."""


def _timescaledb_available() -> bool:
    bind = op.get_bind()
    return bool(bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).scalar())


def _continuous_aggregate(aggregates: str) -> None:
    op.execute("DROP MATERIALIZED VIEW IF EXISTS rollup_telemetry_hourly CASCADE")
    op.execute(
        f"""
        CREATE MATERIALIZED VIEW rollup_telemetry_hourly
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 hour', t.time) AS bucket, t.device_serial, t.kind,
               {aggregates}
        FROM telemetry t
        GROUP BY 1, 2, 3
        WITH NO DATA
        """
    )
    op.execute(
        "SELECT add_continuous_aggregate_policy('rollup_telemetry_hourly',"
        f" start_offset => INTERVAL '{TELEMETRY_REFRESH_START}', end_offset => INTERVAL '{TELEMETRY_REFRESH_END}',"
        f" schedule_interval => INTERVAL '{TELEMETRY_REFRESH_EVERY}')"
    )
    with op.get_context().autocommit_block():
        op.execute(
            "CALL refresh_continuous_aggregate('rollup_telemetry_hourly', NULL,"
            f" now() - INTERVAL '{TELEMETRY_REFRESH_END}')"
        )


DAILY = """
CREATE TABLE rollup_telemetry_daily (
    day                date        NOT NULL,
    device_serial      text        NOT NULL,
    kind               text        NOT NULL,
    samples            integer     NOT NULL,
    out_of_range       integer     NOT NULL,
    out_of_range_first timestamptz,
    smoke              integer     NOT NULL,
    smoke_first        timestamptz,
    residents          text[],
    bed_first          timestamptz,
    first_in_bed       boolean,
    last_in_bed        boolean,
    night_exits        integer     NOT NULL,
    night_exit_first   timestamptz,
    PRIMARY KEY (device_serial, kind, day)
)
"""
"""Local day × device × kind, rebuilt by the scheduler job from the hourly rollup (both lanes: a table): the sums,
the distinct check-in residents, and per mattress the day's first sample (`bed_first`, `first_in_bed`), its last
state (`last_in_bed`) and the night bed exits whose previous sample is on the same day (`night_exits`,
`night_exit_first`); an exit at a day's first sample follows from the previous day's last state when read."""


EVV_START_INDEX = (
    "CREATE INDEX ix_task_service_evv_start ON task ((coalesce(checked_in_at, completed_at)))"
    " WHERE kind = 'service' AND status = 'completed'"
)
"""The services statement's sessions: completed service tasks by EVV start (`checked_in_at`, else `completed_at`)
in the month; without it the statement read every task of the table."""


def upgrade() -> None:
    """The new facts: a new continuous aggregate on TimescaleDB; columns, the late-sample log and its trigger on
    PostgreSQL; the daily rollup in both."""
    op.execute(DAILY)
    op.execute(EVV_START_INDEX)
    if _timescaledb_available():
        _continuous_aggregate(AGGREGATES)
        return
    op.execute(
        "ALTER TABLE rollup_telemetry_hourly " + ", ".join(f"ADD COLUMN {name} {kind}" for name, kind in NEW_COLUMNS)
    )
    op.execute("CREATE TABLE rollup_telemetry_stale (bucket timestamptz PRIMARY KEY)")
    op.execute(LOG_LATE)
    op.execute(
        "CREATE TRIGGER telemetry_log_late AFTER INSERT ON telemetry REFERENCING NEW TABLE AS added"
        " FOR EACH STATEMENT EXECUTE FUNCTION rollup_telemetry_log_late()"
    )
    # The rows already there lack the new facts: the next refresh is a full one.
    op.execute("DELETE FROM rollup_state WHERE rollup = 'telemetry_hourly'")


def downgrade() -> None:
    """Back to 0014's samples-only rollup."""
    op.execute("DROP TABLE IF EXISTS rollup_telemetry_daily")
    op.execute("DROP INDEX IF EXISTS ix_task_service_evv_start")
    op.execute("DELETE FROM rollup_state WHERE rollup = 'telemetry_daily'")
    if _timescaledb_available():
        _continuous_aggregate("count(*)::integer AS samples")
        return
    op.execute("DROP TRIGGER IF EXISTS telemetry_log_late ON telemetry")
    op.execute("DROP FUNCTION IF EXISTS rollup_telemetry_log_late()")
    op.execute("DROP TABLE IF EXISTS rollup_telemetry_stale")
    op.execute("ALTER TABLE rollup_telemetry_hourly " + ", ".join(f"DROP COLUMN {name}" for name, _ in NEW_COLUMNS))
