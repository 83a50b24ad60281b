"""telemetry: an index for the gateway's duplicate check on (device, device time, seq)

The telemetry lane skips redelivered samples with `NOT EXISTS (... device_serial = ? AND seq = ? AND
device_time = ? AND time within a day)`. With only `(device_serial, time)` indexed, each check scanned
up to a day of that device's samples: the cost grew with every sample stored (measured under the
alarm-latency benchmark: telemetry batches of 100–500 ms after a minute, starving the alarm path of
CPU). This index turns each check into one probe.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the duplicate-check index (on every chunk, when telemetry is a hypertable)."""
    op.execute("CREATE INDEX ix_telemetry_dedupe ON telemetry (device_serial, device_time, seq)")


def downgrade() -> None:
    """Drop the duplicate-check index."""
    op.execute("DROP INDEX ix_telemetry_dedupe")
