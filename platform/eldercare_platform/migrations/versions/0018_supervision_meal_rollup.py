"""supervision: the meals section from a daily rollup

The meals section read the period's orders raw (a district's quarter: 446,000 lunch orders, ~1 s), joined to the
homes, and once more per meal point for capacity. These relations keep what an order counts as
(docs/supervision.md, "Speed: the rollups", "The meal rollup"):

- `rollup_meal_order`: one row per meal order of a local day before the refresh's, with what the section counts it
  as (supervision/meal_facts.py): its status, what followed a not-collected order (the welfare call's outcome,
  `open`, `no_call`), the home's area path, point, meal, mode, deadline, and whether that is `final` — collected,
  delivered, cancelled, or not collected with no call or a resolved one. An order still `ordered` or not collected
  with an open call is read raw by the section.
- `rollup_meal_daily` (local day × every area on the home's path × status × what followed, `''` for the rest) and
  `rollup_meal_point` (local day × meal point × meal: orders not cancelled, seats taken): the final rows' counts.
- `meal_order.version` (from `meal_order_version_seq`, bumped on every update by a trigger, like `task.version`):
  an order changed after a refresh is found by version. A resident moving to another household and a household
  moving to another area bump the versions of the resident's orders (triggers on `resident` and `household`): the
  order's location (the home's area) is then read raw until the next refresh.
- `ix_meal_order_welfare`: the orders of the welfare calls changed since a refresh; `ix_meal_order_day`: the
  orders of the days after the refresh (read raw).

Tables in both lanes (meal orders change for days after they are written). The next refresh fills them (full).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The tables, the order version and its triggers; the next refresh (full) fills the tables."""
    op.execute(
        """
        CREATE TABLE rollup_meal_order (
            order_id        bigint      PRIMARY KEY,
            day             date        NOT NULL,
            resident_id     integer     NOT NULL,
            area_path       text,
            meal_point_id   integer     NOT NULL,
            meal            text        NOT NULL,
            mode            text        NOT NULL,
            status          text        NOT NULL,
            followed        text,
            deadline        timestamptz NOT NULL,
            final           boolean     NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_meal_order_day ON rollup_meal_order (day)")
    op.execute("CREATE INDEX ix_rollup_meal_order_open ON rollup_meal_order (day) WHERE NOT final")
    # The exceptions' stored candidates of a period (not collected, no call), read from the index alone.
    op.execute(
        "CREATE INDEX ix_rollup_meal_order_no_call ON rollup_meal_order (day, deadline, order_id)"
        " INCLUDE (area_path, resident_id, meal_point_id) WHERE final AND followed = 'no_call'"
    )
    op.execute(
        """
        CREATE TABLE rollup_meal_daily (
            day             date        NOT NULL,
            area_path       text        NOT NULL,
            depth           smallint    NOT NULL,
            status          text        NOT NULL,
            followed        text        NOT NULL,
            orders          integer     NOT NULL,
            PRIMARY KEY (area_path, day, status, followed)
        )
        """
    )
    op.execute("CREATE INDEX ix_rollup_meal_daily_depth ON rollup_meal_daily (depth, day)")
    op.execute(
        """
        CREATE TABLE rollup_meal_point (
            day             date        NOT NULL,
            meal_point_id   integer     NOT NULL,
            meal            text        NOT NULL,
            orders          integer     NOT NULL,
            seats           integer     NOT NULL,
            PRIMARY KEY (meal_point_id, day, meal)
        )
        """
    )
    op.execute("CREATE SEQUENCE meal_order_version_seq")
    op.execute("ALTER TABLE meal_order ADD COLUMN version bigint NOT NULL DEFAULT nextval('meal_order_version_seq')")
    op.execute("CREATE INDEX ix_meal_order_version ON meal_order (version)")
    op.execute("CREATE INDEX ix_meal_order_welfare ON meal_order (welfare_alarm_id) WHERE welfare_alarm_id IS NOT NULL")
    op.execute("CREATE INDEX ix_meal_order_day ON meal_order (service_date)")
    op.execute(
        """
        CREATE FUNCTION meal_order_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.version = OLD.version AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
                NEW.version := nextval('meal_order_version_seq');
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER meal_order_version_bump BEFORE UPDATE ON meal_order"
        " FOR EACH ROW EXECUTE FUNCTION meal_order_version_bump()"
    )
    op.execute(
        """
        CREATE FUNCTION meal_order_home_moved() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'resident' THEN
                UPDATE meal_order SET version = nextval('meal_order_version_seq') WHERE resident_id = NEW.id;
            ELSE
                UPDATE meal_order SET version = nextval('meal_order_version_seq')
                WHERE resident_id IN (SELECT id FROM resident WHERE household_id = NEW.id);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER meal_order_resident_moved AFTER UPDATE OF household_id ON resident FOR EACH ROW"
        " WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION meal_order_home_moved()"
    )
    op.execute(
        "CREATE TRIGGER meal_order_household_moved AFTER UPDATE OF area_id ON household FOR EACH ROW"
        " WHEN (OLD.area_id IS DISTINCT FROM NEW.area_id) EXECUTE FUNCTION meal_order_home_moved()"
    )
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('meal', 'meal_alarm')")


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.execute("DROP TRIGGER IF EXISTS meal_order_household_moved ON household")
    op.execute("DROP TRIGGER IF EXISTS meal_order_resident_moved ON resident")
    op.execute("DROP FUNCTION IF EXISTS meal_order_home_moved()")
    op.execute("DROP TRIGGER IF EXISTS meal_order_version_bump ON meal_order")
    op.execute("DROP FUNCTION IF EXISTS meal_order_version_bump()")
    op.execute("DROP INDEX IF EXISTS ix_meal_order_welfare")
    op.execute("DROP INDEX IF EXISTS ix_meal_order_day")
    op.execute("ALTER TABLE meal_order DROP COLUMN IF EXISTS version")
    op.execute("DROP SEQUENCE IF EXISTS meal_order_version_seq")
    op.execute("DELETE FROM rollup_state WHERE rollup IN ('meal', 'meal_alarm')")
    for table in ("rollup_meal_point", "rollup_meal_daily", "rollup_meal_order"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
