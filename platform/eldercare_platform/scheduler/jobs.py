"""The platform-wide jobs the scheduler owns (domain jobs live beside their domain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session


def heartbeat(session: Session, fire_time: datetime) -> str:
    """Proves the scheduler is alive: the status page shows the last successful run."""
    return f"alive at {fire_time.isoformat()}"


def telemetry_retention(session: Session, fire_time: datetime, *, keep_days: int = 400) -> str:
    """On plain PostgreSQL, delete telemetry and dead letters past retention (TimescaleDB has policies)."""
    has_timescale = session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).scalar()
    if has_timescale:
        return "skipped: timescaledb retention policies are in charge"
    telemetry = session.execute(
        text("DELETE FROM telemetry WHERE time < :fire - make_interval(days => :days)"),
        {"fire": fire_time, "days": keep_days},
    )
    dead = session.execute(
        text("DELETE FROM dead_letter WHERE received_at < :fire - interval '180 days'"), {"fire": fire_time}
    )
    return f"deleted {telemetry.rowcount} telemetry rows, {dead.rowcount} dead letters"  # type: ignore[attr-defined]
