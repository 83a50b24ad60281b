"""device events: salvaged emergencies keep their raw bytes; implausible device clocks are flagged, not stored

* `payload_raw` (bytea) and `salvage_reason` (text): an emergency event from a message that broke the
  contract (or held what PostgreSQL cannot store, like a NUL character) is kept as an event, with the
  bytes as received and what was wrong.
* `device_time` becomes nullable, with `clock_suspect` and `device_time_raw`: a device time far from
  the receive time (or one no client can read back, like year 1 at +14:00, which made psycopg fail
  and the event list answer 500) is not stored as the event time; what the device said is kept.
* A CHECK keeps every stored device time readable by Python in any session time zone.

Rows stored before this migration are brought under the same rule with the gateway's default bounds
(7 days behind, 5 minutes ahead of the receive time): their device time moves to `device_time_raw`
(as the stored instant in UTC) and is flagged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep in step with eldercare_gateway.events (READABLE_FROM/UNTIL, ClockBounds defaults).
READABLE = "device_time IS NULL OR device_time BETWEEN '0001-01-03 00:00:00+00' AND '9999-12-29 00:00:00+00'"
PLAUSIBLE = "device_time BETWEEN received_at - interval '7 days' AND received_at + interval '5 minutes'"


def upgrade() -> None:
    """Add the salvage and clock columns, flag implausible stored times, guarantee readable ones."""
    op.execute(
        """
        ALTER TABLE device_event
            ALTER COLUMN device_time DROP NOT NULL,
            ADD COLUMN clock_suspect   boolean NOT NULL DEFAULT false,
            ADD COLUMN device_time_raw text,
            ADD COLUMN payload_raw     bytea,
            ADD COLUMN salvage_reason  text
        """
    )
    op.execute(
        "COMMENT ON COLUMN device_event.device_time IS"
        " 'device clock, only when plausible (else NULL and clock_suspect): order by received_at'"
    )
    op.execute("COMMENT ON COLUMN device_event.device_time_raw IS 'what the device sent as ts, when clock_suspect'")
    op.execute(
        "COMMENT ON COLUMN device_event.payload_raw IS"
        " 'the message as received, when it was salvaged or had to be changed to be stored'"
    )
    op.execute("COMMENT ON COLUMN device_event.salvage_reason IS 'why the message was salvaged or changed'")
    # to_char never goes through a Python datetime, so it reads even year 0 or 10000.
    op.execute(
        f"""
        UPDATE device_event
        SET device_time_raw = regexp_replace(
                to_char(device_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z" BC'), ' AD$', ''),
            device_time = NULL,
            clock_suspect = true
        WHERE NOT ({PLAUSIBLE}) OR NOT ({READABLE})
        """
    )
    op.execute(f"ALTER TABLE device_event ADD CONSTRAINT device_event_time_readable CHECK ({READABLE})")


def downgrade() -> None:
    """Drop the columns; a device time that was not stored becomes the receive time again."""
    op.execute("ALTER TABLE device_event DROP CONSTRAINT device_event_time_readable")
    op.execute("UPDATE device_event SET device_time = received_at WHERE device_time IS NULL")
    op.execute(
        """
        ALTER TABLE device_event
            ALTER COLUMN device_time SET NOT NULL,
            DROP COLUMN clock_suspect,
            DROP COLUMN device_time_raw,
            DROP COLUMN payload_raw,
            DROP COLUMN salvage_reason
        """
    )
