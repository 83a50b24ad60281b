"""planning: a plan's stop no longer pins its shift row

`plan_stop.shift_id` referenced `shift(id)` with no action, so the roster could not remove a future shift once a
plan had routed a task in it (shift generation removes shifts a changed pattern no longer calls for, and
`end_pattern` those of a deleted pattern): the delete failed on the foreign key, and the shift-generation job
with it. A plan is a record of what was decided: its stop keeps the staff member, the times and the task, and
forgets the shift row when the roster removes it (ON DELETE SET NULL).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """plan_stop.shift_id → shift(id) ON DELETE SET NULL."""
    op.execute("ALTER TABLE plan_stop DROP CONSTRAINT plan_stop_shift_id_fkey")
    op.execute(
        "ALTER TABLE plan_stop ADD CONSTRAINT plan_stop_shift_id_fkey"
        " FOREIGN KEY (shift_id) REFERENCES shift(id) ON DELETE SET NULL"
    )


def downgrade() -> None:
    """Back to a plain foreign key."""
    op.execute("ALTER TABLE plan_stop DROP CONSTRAINT plan_stop_shift_id_fkey")
    op.execute(
        "ALTER TABLE plan_stop ADD CONSTRAINT plan_stop_shift_id_fkey FOREIGN KEY (shift_id) REFERENCES shift(id)"
    )
