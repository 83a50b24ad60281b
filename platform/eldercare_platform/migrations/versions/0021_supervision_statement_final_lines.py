"""supervision: the services statement's final lines kept per month

With the sessions rolled up (0020) a district's statement still built its ~30,000 lines on every request (joining
the homes, summing the kept lines per provider, adding the entitlements nobody delivered): ~350 ms for a past month.
`rollup_statement_final` keeps those lines as the statement computes them, one row per month × resident × service ×
provider (`undelivered` for an entitlement nobody delivered), for the residents whose kept sessions all carry their
home's area path; `rollup_statement_mixed` lists the others, whose lines the statement builds from the kept lines as
before (a session counts where its task lies, which can differ from the home after a move):

- the resident's name, home area and its path at the refresh;
- the line's sums (sessions, hours rounded as the statement rounds them, verified, unverified, the first unverified
  session, the hours per local day);
- the (resident, service) pair's entitlement and funder, and the pair's sums over its lines, on every line of the
  pair; `pair_first` marks one line per pair, where the entitlement and the over-entitlement check are counted.

The stale-resident log (0020) gains what these rows also depend on: a resident renamed or deleted, a household
moved to another area.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The table, the extra stale-resident triggers; the next refresh (full) fills the table."""
    op.execute(
        """
        CREATE TABLE rollup_statement_final (
            month                   date        NOT NULL,
            resident_id             integer     NOT NULL,
            service                 text        NOT NULL,
            provider_id             integer,
            undelivered             boolean     NOT NULL,
            resident_name           text        NOT NULL,
            home_area_id            integer     NOT NULL,
            home_path               text        NOT NULL,
            sessions                integer     NOT NULL,
            hours                   numeric     NOT NULL,
            verified                integer     NOT NULL,
            unverified              integer     NOT NULL,
            unverified_since        timestamptz,
            since                   timestamptz,
            first_unverified_task   bigint,
            first_unverified_at     timestamptz,
            days                    date[]      NOT NULL,
            day_hours               numeric[]   NOT NULL,
            entitled                numeric,
            funder                  text,
            pair_first              boolean     NOT NULL,
            pair_hours              numeric     NOT NULL,
            pair_sessions           integer     NOT NULL,
            pair_since              timestamptz
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_rollup_statement_final_month ON rollup_statement_final (month, home_path text_pattern_ops)"
    )
    op.execute("CREATE INDEX ix_rollup_statement_final_resident ON rollup_statement_final (resident_id, month)")
    op.execute(
        "CREATE TABLE rollup_statement_mixed (month date NOT NULL, resident_id integer NOT NULL,"
        " PRIMARY KEY (month, resident_id))"
    )
    op.execute(
        """
        CREATE FUNCTION rollup_statement_stale_home() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'household' THEN
                INSERT INTO rollup_statement_stale (resident_id) SELECT id FROM resident WHERE household_id = NEW.id;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO rollup_statement_stale (resident_id) VALUES (OLD.id);
            ELSE
                INSERT INTO rollup_statement_stale (resident_id) VALUES (NEW.id);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_resident_renamed AFTER UPDATE OF name ON resident FOR EACH ROW"
        " WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION rollup_statement_stale_home()"
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_resident_deleted AFTER DELETE ON resident FOR EACH ROW"
        " EXECUTE FUNCTION rollup_statement_stale_home()"
    )
    op.execute(
        "CREATE TRIGGER rollup_statement_home_area AFTER UPDATE OF area_id ON household FOR EACH ROW"
        " WHEN (OLD.area_id IS DISTINCT FROM NEW.area_id) EXECUTE FUNCTION rollup_statement_stale_home()"
    )
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('statement', 'statement_within')")


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_home_area ON household")
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_resident_deleted ON resident")
    op.execute("DROP TRIGGER IF EXISTS rollup_statement_resident_renamed ON resident")
    op.execute("DROP FUNCTION IF EXISTS rollup_statement_stale_home()")
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('statement', 'statement_within')")
    op.execute("DROP TABLE IF EXISTS rollup_statement_mixed")
    op.execute("DROP TABLE IF EXISTS rollup_statement_final")
