"""meals: the meal watch's watermark over canteen check-ins

`meal_watch_state` holds one row per reader of the `telemetry` table's `meal_checkin` samples (today only
`meal_watch`): the gateway receive time up to which it has read. The job rereads a short overlap before the
watermark (rows committed late), so the watermark never has to be exact (docs/services/meals.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The watermark table, and an index for the watch's look at recent deliveries."""
    op.execute(
        """
        CREATE TABLE meal_watch_state (
            reader          text PRIMARY KEY CHECK (length(reader) BETWEEN 1 AND 64),
            watermark       timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_meal_order_day_status ON meal_order (service_date, status) WHERE task_id IS NOT NULL")


def downgrade() -> None:
    """Drop the watermark table."""
    op.execute("DROP INDEX ix_meal_order_day_status")
    op.execute("DROP TABLE meal_watch_state")
