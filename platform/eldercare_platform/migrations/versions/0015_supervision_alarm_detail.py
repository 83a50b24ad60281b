"""supervision: a daily alarm rollup exact enough for the whole alarms section (percentiles, outcomes, hours)

`rollup_alarm_detail` (local day of `opened_at` × *every* area on the path — community, street, district, city — ×
type × outcome, `open` while unresolved) holds what the alarms section needs beyond counts
(docs/supervision.md, "Speed: the rollups"): alarms, acknowledged, resolved, acknowledged ≤ 60 s / ≤ 180 s, the
alarms per local hour of day (`by_hour`, 24 counts), and every alarm's seconds to acknowledge / to resolve
(`ack_s`, `resolve_s`: the values themselves, so p50 / p90 over the concatenated arrays are exactly the
percentiles of the raw rows). A district over 90 days reads a few thousand rows instead of one per alarm.

Refreshed with the other alarm rollups (the local days of the hours that changed, supervision/rollups.py); a
table in both lanes (alarms are not a hypertable).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The table and its area index; the next refresh (full when it has never run) fills it."""
    op.execute(
        """
        CREATE TABLE rollup_alarm_detail (
            day           date        NOT NULL,
            area_path     text        NOT NULL,
            depth         smallint    NOT NULL,
            type          text        NOT NULL,
            outcome       text        NOT NULL,
            alarms        integer     NOT NULL,
            acknowledged  integer     NOT NULL,
            resolved      integer     NOT NULL,
            ack_le_60     integer     NOT NULL,
            ack_le_180    integer     NOT NULL,
            by_hour       integer[]   NOT NULL,
            ack_s         double precision[] NOT NULL,
            resolve_s     double precision[] NOT NULL,
            PRIMARY KEY (area_path, day, type, outcome)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_alarm_detail_depth ON rollup_alarm_detail (depth, day)")
    # An existing database gets the detail on the next refresh: make it a full one.
    op.execute("DELETE FROM rollup_state WHERE rollup = 'alarm_hourly'")


def downgrade() -> None:
    """Drop the table."""
    op.execute("DROP TABLE IF EXISTS rollup_alarm_detail")
