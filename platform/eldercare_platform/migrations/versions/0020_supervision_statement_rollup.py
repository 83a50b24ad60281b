"""supervision: the services statement's lines rolled up per month

The statement computed every line of the month raw (a district's month: 25,500 entitlements, 79,000 sessions,
~500 ms). These relations keep what it counts (docs/supervision.md, "The statement rollup"):

- `rollup_statement_session`: one row per completed service task whose EVV start lies before the refresh's local
  day (a *final* session), as the statement's own SQL computes it (supervision/statement.py, `SESSIONS`): local
  month, resident, service, provider (the caregiver's institution), the task's area path, EVV start, check-in,
  hours and whether its EVV is verified (with the deployment's `checkin_verified_within_m`).
- `rollup_statement_line`: those sessions per month × resident × service × provider × task area path (sessions,
  hours, verified, unverified, the first unverified session, the hours per local day).
- `rollup_statement_entitled`: the entitlements per month × resident × service (`ENTITLED`), and
  `rollup_statement_month` the months they are kept for.
- `rollup_statement_stale`: residents whose stored rows may no longer be what the statement computes, logged by
  triggers — a care plan written (insert, update, delete), a resident moved to another household, a household's
  coordinates changed (the EVV check), a caregiver moved to another institution (the provider). The statement
  reads such residents raw until the next refresh, which recomputes them and empties the log. Tasks changed since
  the refresh are found by `task.version`.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The tables and the stale-resident triggers; the next refresh (full) fills the tables."""
    op.execute(
        """
        CREATE TABLE rollup_statement_session (
            task_id         bigint      PRIMARY KEY,
            month           date        NOT NULL,
            resident_id     integer     NOT NULL,
            service         text        NOT NULL,
            provider_id     integer,
            area_path       text        NOT NULL,
            moment          timestamptz NOT NULL,
            checked_in_at   timestamptz,
            hours           numeric,
            verified        boolean     NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_statement_session_resident ON rollup_statement_session (resident_id, month)")
    op.execute("CREATE INDEX ix_rollup_statement_session_moment ON rollup_statement_session (moment)")
    op.execute(
        """
        CREATE TABLE rollup_statement_line (
            month                   date        NOT NULL,
            resident_id             integer     NOT NULL,
            service                 text        NOT NULL,
            provider_id             integer,
            area_path               text        NOT NULL,
            sessions                integer     NOT NULL,
            hours                   numeric,
            verified                integer     NOT NULL,
            unverified              integer     NOT NULL,
            unverified_since        timestamptz,
            since                   timestamptz NOT NULL,
            first_unverified_task   bigint,
            first_unverified_at     timestamptz,
            days                    date[]      NOT NULL,
            day_hours               numeric[]   NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_statement_line_month ON rollup_statement_line (month, resident_id)")
    op.execute("CREATE INDEX ix_rollup_statement_line_resident ON rollup_statement_line (resident_id)")
    op.execute(
        """
        CREATE TABLE rollup_statement_entitled (
            month           date        NOT NULL,
            resident_id     integer     NOT NULL,
            service         text        NOT NULL,
            funder          text,
            hours           numeric     NOT NULL,
            PRIMARY KEY (month, resident_id, service)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_statement_entitled_resident ON rollup_statement_entitled (resident_id)")
    op.execute("CREATE TABLE rollup_statement_month (month date PRIMARY KEY)")
    op.execute("CREATE TABLE rollup_statement_stale (resident_id integer NOT NULL)")
    op.execute(
        """
        CREATE FUNCTION rollup_statement_stale_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'care_plan' THEN
                IF TG_OP <> 'INSERT' THEN
                    INSERT INTO rollup_statement_stale (resident_id) VALUES (OLD.resident_id);
                END IF;
                IF TG_OP <> 'DELETE' THEN
                    INSERT INTO rollup_statement_stale (resident_id) VALUES (NEW.resident_id);
                END IF;
            ELSIF TG_TABLE_NAME = 'resident' THEN
                INSERT INTO rollup_statement_stale (resident_id) VALUES (NEW.id);
            ELSIF TG_TABLE_NAME = 'household' THEN
                INSERT INTO rollup_statement_stale (resident_id) SELECT id FROM resident WHERE household_id = NEW.id;
            ELSE
                INSERT INTO rollup_statement_stale (resident_id)
                SELECT DISTINCT s.resident_id FROM rollup_statement_session s JOIN task t ON t.id = s.task_id
                WHERE t.assignee_staff_id = NEW.id;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_care_plan AFTER INSERT OR UPDATE OR DELETE ON care_plan"
        " FOR EACH ROW EXECUTE FUNCTION rollup_statement_stale_log()"
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_resident_moved AFTER UPDATE OF household_id ON resident FOR EACH ROW"
        " WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION rollup_statement_stale_log()"
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_home_moved AFTER UPDATE OF latitude, longitude ON household FOR EACH ROW"
        " WHEN (OLD.latitude IS DISTINCT FROM NEW.latitude OR OLD.longitude IS DISTINCT FROM NEW.longitude)"
        " EXECUTE FUNCTION rollup_statement_stale_log()"
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_staff_moved AFTER UPDATE OF institution_id ON staff FOR EACH ROW"
        " WHEN (OLD.institution_id IS DISTINCT FROM NEW.institution_id) EXECUTE FUNCTION rollup_statement_stale_log()"
    )
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('statement', 'statement_within')")


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_staff_moved ON staff")
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_home_moved ON household")
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_resident_moved ON resident")
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_care_plan ON care_plan")
    op.execute("DROP FUNCTION IF EXISTS rollup_statement_stale_log()")
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('statement', 'statement_within')")
    for table in (
        "rollup_statement_stale",
        "rollup_statement_month",
        "rollup_statement_entitled",
        "rollup_statement_line",
        "rollup_statement_session",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
