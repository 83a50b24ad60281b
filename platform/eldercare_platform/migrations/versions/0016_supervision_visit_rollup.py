"""supervision: the visits section and the alarms section's repeat callers from rollups

The visits section classified every visit of the period on each request (a district's quarter: 574,000 visits,
~1.2 s). These relations keep that classification (docs/supervision.md, "Speed: the rollups"):

- `rollup_visit_task`: one row per visit whose window starts before the local day of the refresh, classified by
  the section's own SQL (supervision/visit_facts.py) at the refresh's instant: excused, due, done, late, missed
  (with its reason), problem found, when the problem was closed and the seconds to close, and whether that is
  `final` — the visit is closed (completed, missed, cancelled; suspended past its window), its window has ended,
  and its problem is either closed or has no closing follow-up dated after the refresh. What is not final is read
  raw by the section. The section subtracts a row and reads the visit raw instead when the visit, a task of its
  follow-up chain, or (for a missed visit) one of its resident's states changed after the refresh.
- `rollup_visit_daily` (local day × every area on the path × missed reason, `''` for the rest) and
  `rollup_visit_caregiver` (local day × every area on the path × assignee): the final rows' counts and every
  closed problem's seconds to close (`close_s`, so the median over the concatenated arrays is the raw median).
- `rollup_alarm_caller` (resident × every area on the alarm's path): the instants of the resident's alarms there
  (device faults left out), sorted, so the alarms in any period are two binary searches (`width_bucket`) away:
  repeat callers (≥ 3 alarms) without reading the alarms.
- `resident_state.version` (from `resident_state_version_seq`, bumped on every update by a trigger, like
  `task.version`): a hospital or away state recorded or changed after a refresh is found by version.
- `rollup_state.late_after`: the `task_late_after_minutes` the visit rollup was built with (the section reads raw
  rows when its own setting differs).
- `ix_task_visit_window`: visits by window start (the rows after the rollup's day, and the refresh by day).

Tables in both lanes (tasks and alarms are not hypertables). The next refresh after this migration is a full one.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = """
            visits        integer     NOT NULL,
            due           integer     NOT NULL,
            done          integer     NOT NULL,
            late          integer     NOT NULL,
            missed        integer     NOT NULL,
            problems      integer     NOT NULL,
            closed        integer     NOT NULL,
            excused       integer     NOT NULL,
            close_s       double precision[] NOT NULL"""


def upgrade() -> None:
    """The tables, the state version and the visit index; the next refresh (full) fills them."""
    op.execute(
        """
        CREATE TABLE rollup_visit_task (
            task_id           bigint      PRIMARY KEY,
            day               date        NOT NULL,
            area_path         text        NOT NULL,
            resident_id       integer,
            assignee_staff_id integer,
            window_start      timestamptz NOT NULL,
            completed_at      timestamptz,
            status            text        NOT NULL,
            status_reason     text,
            final             boolean     NOT NULL,
            excused           boolean     NOT NULL,
            due               boolean     NOT NULL,
            done              boolean     NOT NULL,
            late              boolean     NOT NULL,
            missed            boolean     NOT NULL,
            problem           boolean     NOT NULL,
            closed_at         timestamptz,
            close_s           double precision
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_visit_task_day ON rollup_visit_task (day)")
    op.execute("CREATE INDEX ix_rollup_visit_task_open ON rollup_visit_task (day) WHERE NOT final")
    op.execute(
        "CREATE INDEX ix_rollup_visit_task_exception ON rollup_visit_task (window_start, task_id)"
        " WHERE final AND (missed OR (problem AND closed_at IS NULL))"
    )
    op.execute(
        f"""
        CREATE TABLE rollup_visit_daily (
            day           date        NOT NULL,
            area_path     text        NOT NULL,
            depth         smallint    NOT NULL,
            reason        text        NOT NULL,{COUNTS},
            PRIMARY KEY (area_path, day, reason)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_visit_daily_depth ON rollup_visit_daily (depth, day)")
    op.execute(
        f"""
        CREATE TABLE rollup_visit_caregiver (
            day           date        NOT NULL,
            area_path     text        NOT NULL,
            depth         smallint    NOT NULL,
            staff_id      integer,{COUNTS}
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_visit_caregiver_area ON rollup_visit_caregiver (area_path, day)")
    op.execute(
        """
        CREATE TABLE rollup_alarm_caller (
            resident_id   integer     NOT NULL,
            area_path     text        NOT NULL,
            depth         smallint    NOT NULL,
            alarms        integer     NOT NULL,
            opened        timestamptz[] NOT NULL,
            PRIMARY KEY (resident_id, area_path)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_rollup_alarm_caller_area ON rollup_alarm_caller (depth, area_path text_pattern_ops)"
        " WHERE alarms >= 3"
    )
    op.execute("ALTER TABLE rollup_state ADD COLUMN late_after interval")
    op.execute("CREATE SEQUENCE resident_state_version_seq")
    op.execute(
        "ALTER TABLE resident_state ADD COLUMN version bigint NOT NULL DEFAULT nextval('resident_state_version_seq')"
    )
    op.execute("CREATE INDEX ix_resident_state_version ON resident_state (version)")
    op.execute(
        """
        CREATE FUNCTION resident_state_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.version = OLD.version AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
                NEW.version := nextval('resident_state_version_seq');
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER resident_state_version_bump BEFORE UPDATE ON resident_state"
        " FOR EACH ROW EXECUTE FUNCTION resident_state_version_bump()"
    )
    op.execute("CREATE INDEX ix_task_visit_window ON task (window_start) WHERE kind = 'visit'")
    # The caller rollup is refreshed with the alarm rollups: make their next refresh a full one.
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('alarm_hourly', 'visit', 'visit_state')")


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.execute("DROP INDEX IF EXISTS ix_task_visit_window")
    op.execute("DROP TRIGGER IF EXISTS resident_state_version_bump ON resident_state")
    op.execute("DROP FUNCTION IF EXISTS resident_state_version_bump()")
    op.execute("ALTER TABLE resident_state DROP COLUMN IF EXISTS version")
    op.execute("DROP SEQUENCE IF EXISTS resident_state_version_seq")
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('visit', 'visit_state')")
    op.execute("ALTER TABLE rollup_state DROP COLUMN IF EXISTS late_after")
    for table in ("rollup_alarm_caller", "rollup_visit_caregiver", "rollup_visit_daily", "rollup_visit_task"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
