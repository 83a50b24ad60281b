"""task push: every change of a task is versioned and announced to the caregivers it concerns

A caregiver's live channel (`/api/me/tasks/live`, tasks/live.py) must hear of every change to their tasks — an
urgent task inserted into their route, a later stop moved, a task cancelled or given to someone else — whoever
wrote it (the task engine's `move`, the planner applying a plan with a plain `UPDATE`, a migration). So the
database does it, not each writer:

- `task_version_bump` (BEFORE UPDATE): an UPDATE that changes a row without taking a new `version` itself gets
  one from `task_version_seq` (the engine's `move` already takes one: it is left alone);
- `task_staff_feed` (staff_id, task_id, version): the newest version of each task per staff member it concerns —
  its assignee, and, when it is reassigned or unassigned, the previous assignee too (who must learn it left their
  list). `task_feed_note` (AFTER INSERT OR UPDATE) keeps it and sends `NOTIFY task_changed, '<staff id>'`, which
  only wakes the live hubs: the feed and the task table are the truth, and a socket resumes after the version it
  last saw.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The feed table and the two triggers."""
    op.execute(
        """
        CREATE TABLE task_staff_feed (
            staff_id  integer NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
            task_id   bigint NOT NULL REFERENCES task(id) ON DELETE CASCADE,
            version   bigint NOT NULL,
            PRIMARY KEY (staff_id, task_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_task_staff_feed_version ON task_staff_feed (staff_id, version)")
    op.execute(
        """
        CREATE FUNCTION task_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.version = OLD.version AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
                NEW.version := nextval('task_version_seq');
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER task_version_bump BEFORE UPDATE ON task FOR EACH ROW EXECUTE FUNCTION task_version_bump()"
    )
    op.execute(
        """
        CREATE FUNCTION task_feed_note() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            previous integer := CASE WHEN TG_OP = 'UPDATE' THEN OLD.assignee_staff_id END;
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN
                RETURN NULL;  -- nothing changed
            END IF;
            IF NEW.assignee_staff_id IS NOT NULL THEN
                INSERT INTO task_staff_feed (staff_id, task_id, version)
                VALUES (NEW.assignee_staff_id, NEW.id, NEW.version)
                ON CONFLICT (staff_id, task_id) DO UPDATE SET version = EXCLUDED.version;
                PERFORM pg_notify('task_changed', NEW.assignee_staff_id::text);
            END IF;
            IF previous IS NOT NULL AND previous IS DISTINCT FROM NEW.assignee_staff_id THEN
                INSERT INTO task_staff_feed (staff_id, task_id, version)
                VALUES (previous, NEW.id, NEW.version)
                ON CONFLICT (staff_id, task_id) DO UPDATE SET version = EXCLUDED.version;
                PERFORM pg_notify('task_changed', previous::text);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER task_feed_note AFTER INSERT OR UPDATE ON task FOR EACH ROW EXECUTE FUNCTION task_feed_note()"
    )


def downgrade() -> None:
    """Drop the triggers, their functions and the feed."""
    op.execute("DROP TRIGGER task_feed_note ON task")
    op.execute("DROP TRIGGER task_version_bump ON task")
    op.execute("DROP FUNCTION task_feed_note()")
    op.execute("DROP FUNCTION task_version_bump()")
    op.execute("DROP TABLE task_staff_feed")
