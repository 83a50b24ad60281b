"""outbox: durable announcements and downlinks, written in the same transaction as the change

Rows are consumed with `FOR UPDATE SKIP LOCKED` where `processed_at IS NULL`, never by "last id seen":
identity values can commit out of order, and a cursor on ids would skip a late commit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the outbox table and its pending-rows index."""
    op.execute(
        """
        CREATE TABLE outbox (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            topic        text        NOT NULL CHECK (topic IN ('device_event', 'downlink')),
            payload      jsonb       NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            processed_at timestamptz,
            attempts     integer     NOT NULL DEFAULT 0,
            last_error   text
        )
        """
    )
    op.execute("CREATE INDEX ix_outbox_pending ON outbox (topic, id) WHERE processed_at IS NULL")
    op.execute("CREATE INDEX ix_outbox_created ON outbox (created_at)")


def downgrade() -> None:
    """Drop the outbox."""
    op.execute("DROP TABLE outbox")
