"""Component checks shared by `/health` and the status page."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_platform.core.broker import BrokerLink
from eldercare_platform.core.scope import EVERYTHING, Scope


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


def headline_counts(session: Session, scope: Scope = EVERYTHING, *, now: datetime) -> dict[str, int]:
    """Residents, households, devices, online devices, staff, events: the figures on the status page.

    Counted within `scope` (`core/scope.py`). "The last 24 h" are counted back from `now`, the
    platform's clock (never the database server's `now()`). Dead letters cannot be located (the
    message was not readable), so only users who see the whole city get that figure.
    """
    sql = (
        f"SELECT (SELECT count(*) FROM resident r WHERE r.status = 'active' AND {scope.residents_sql('r')})"
        " AS residents,"
        f" (SELECT count(*) FROM household h WHERE {scope.households_sql('h')}) AS households,"
        f" (SELECT count(*) FROM device d WHERE {scope.devices_sql('d')}) AS devices,"
        f" (SELECT count(*) FROM device_status s WHERE s.online AND {scope.device_serial_sql('s.device_serial')})"
        " AS devices_online,"
        f" (SELECT count(*) FROM staff st WHERE st.active AND {scope.staff_sql('st')}) AS staff,"
        " (SELECT count(*) FROM device_event e WHERE e.received_at > :since"
        f" AND {scope.events_sql('e')}) AS events_24h"
    )
    if scope.unrestricted:
        sql += ", (SELECT count(*) FROM dead_letter WHERE received_at > :since) AS dead_letters_24h"
    row = session.execute(text(sql), {**scope.params, "since": now - timedelta(hours=24)}).mappings().one()
    return {key: int(value) for key, value in row.items()}
