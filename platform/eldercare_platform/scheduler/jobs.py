"""The platform-wide jobs the scheduler owns (domain jobs live beside their domain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.scheduler.registry import JobSpec


def heartbeat(session: Session, fire_time: datetime) -> str:
    """Proves the scheduler is alive: the status page shows the last successful run."""
    return f"alive at {fire_time.isoformat()}"


def telemetry_retention(session: Session, fire_time: datetime, *, keep_days: int = 400) -> str:
    """On plain PostgreSQL, delete telemetry and dead letters past retention (TimescaleDB has policies)."""
    has_timescale = session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).scalar()
    if has_timescale:
        runs = session.execute(
            text("DELETE FROM job_run WHERE fire_time < :fire - interval '30 days'"), {"fire": fire_time}
        )
        return f"timescaledb policies keep telemetry; deleted {runs.rowcount} job runs"  # type: ignore[attr-defined]
    telemetry = session.execute(
        text("DELETE FROM telemetry WHERE time < :fire - make_interval(days => :days)"),
        {"fire": fire_time, "days": keep_days},
    )
    dead = session.execute(
        text("DELETE FROM dead_letter WHERE received_at < :fire - interval '180 days'"), {"fire": fire_time}
    )
    runs = session.execute(
        text("DELETE FROM job_run WHERE fire_time < :fire - interval '30 days'"), {"fire": fire_time}
    )
    counts = [getattr(result, "rowcount", 0) for result in (telemetry, dead, runs)]
    return f"deleted {counts[0]} telemetry rows, {counts[1]} dead letters, {counts[2]} job runs"


JOBS = [
    JobSpec(
        name="heartbeat",
        interval_setting="heartbeat_seconds",
        enabled_setting="heartbeat_enabled",
        build=lambda settings, clock: heartbeat,
    ),
    JobSpec(
        name="telemetry_retention",
        interval_setting="telemetry_retention_seconds",
        enabled_setting="telemetry_retention_enabled",
        build=lambda settings, clock: telemetry_retention,
    ),
]
