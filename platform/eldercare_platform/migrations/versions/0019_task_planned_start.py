"""tasks: "late" counts from the planned start — the visit rollup is rebuilt under the new definition

A task is late when it is not checked in `task_late_after_minutes` after the time its caregiver was planned to
arrive (`task.planned_start`, written by the plan applied to it, migration 0010), else after its window start; at
the latest at its window end (tasks/lateness.py; docs/services/tasks-engine.md, "Late"). The column exists since
0010 and planning writes it through `tasks.service.set_routes` / the urgent insertion; this migration:

- makes it agree with the published plan each task points at (`plan_stop.planned_start`), for a task whose
  published plan has a stop for it but whose own value differs (none is expected: a consistency backfill), with
  a version bump so every reader of `task.version` sees the change;
- forgets the visit rollup's state (migration 0016): the next refresh of the scheduler job is a full one, so the
  visits rolled up under the old "late" (window start + 15 min) are classified again.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Backfill from the published plans; the visit rollup is rebuilt at its next refresh."""
    op.execute(
        """
        UPDATE task t SET planned_start = ps.planned_start, version = nextval('task_version_seq')
        FROM plan_stop ps JOIN plan p ON p.id = ps.plan_id
        WHERE p.status = 'published' AND ps.task_id = t.id AND t.plan_id = p.id
          AND t.planned_start IS DISTINCT FROM ps.planned_start
        """
    )
    op.execute("UPDATE rollup_state SET late_after = NULL WHERE rollup = 'visit'")


def downgrade() -> None:
    """The visit rollup is rebuilt (under the old definition) at its next refresh; the planned starts stay."""
    op.execute("UPDATE rollup_state SET late_after = NULL WHERE rollup = 'visit'")
