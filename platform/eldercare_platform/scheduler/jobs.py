"""The platform-wide jobs the scheduler owns (domain jobs live beside their domain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.idempotency import IDEMPOTENCY_KEEP_DAYS
from eldercare_platform.scheduler.registry import JobSpec


def heartbeat(session: Session, fire_time: datetime) -> str:
    """Proves the scheduler is alive: the status page shows the last successful run."""
    return f"alive at {fire_time.isoformat()}"


def _old_idempotency_keys(session: Session, fire_time: datetime) -> int:
    """Stored answers of idempotent writes older than `IDEMPOTENCY_KEEP_DAYS` (a phone replays within a day)."""
    result = session.execute(
        text("DELETE FROM idempotent_request WHERE created_at < :fire - make_interval(days => :days)"),
        {"fire": fire_time, "days": IDEMPOTENCY_KEEP_DAYS},
    )
    return int(getattr(result, "rowcount", 0))


def telemetry_retention(session: Session, fire_time: datetime, *, keep_days: int = 400) -> str:
    """On plain PostgreSQL, delete telemetry and dead letters past retention (TimescaleDB has policies); on both,
    old job runs and old idempotency keys (core/idempotency.py)."""
    keys = _old_idempotency_keys(session, fire_time)
    has_timescale = session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).scalar()
    if has_timescale:
        runs = session.execute(
            text("DELETE FROM job_run WHERE fire_time < :fire - interval '30 days'"), {"fire": fire_time}
        )
        done = getattr(runs, "rowcount", 0)
        return f"timescaledb policies keep telemetry; deleted {done} job runs, {keys} idempotency keys"
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
    return (
        f"deleted {counts[0]} telemetry rows, {counts[1]} dead letters, {counts[2]} job runs, {keys} idempotency keys"
    )


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
