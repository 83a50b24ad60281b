"""Component checks shared by `/health` and the status page."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from eldercare_platform.core.broker import BrokerLink


def database_check(engine: Engine) -> str:
    """`ok` when the database answers a query, else the error."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is reported, not raised: this is a probe
        return f"error: {type(exc).__name__}"
    return "ok"


def broker_check(link: BrokerLink | None) -> str:
    """`ok` when the platform's MQTT session is up."""
    if link is None:
        return "disabled"
    return "ok" if link.connected else "error: not connected"


def headline_counts(engine: Engine, *, now: datetime) -> dict[str, int]:
    """Residents, households, devices, online devices, staff: the figures on the status page.

    "The last 24 h" are counted back from `now`, the platform's clock (never the database server's `now()`).
    """
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM resident WHERE status = 'active') AS residents,"
                    " (SELECT count(*) FROM household) AS households,"
                    " (SELECT count(*) FROM device) AS devices,"
                    " (SELECT count(*) FROM device_status WHERE online) AS devices_online,"
                    " (SELECT count(*) FROM staff WHERE active) AS staff,"
                    " (SELECT count(*) FROM device_event WHERE received_at > :since)"
                    " AS events_24h,"
                    " (SELECT count(*) FROM dead_letter WHERE received_at > :since)"
                    " AS dead_letters_24h"
                ),
                {"since": now - timedelta(hours=24)},
            )
            .mappings()
            .one()
        )
    return {key: int(value) for key, value in row.items()}
