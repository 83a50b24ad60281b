"""Idempotent job execution: a PostgreSQL advisory lock plus a unique `(job, fire_time)` row.

Whatever runs the job (the scheduler after a restart, a second scheduler by mistake, a retried
misfire), each `(job, fire_time)` does its work at most once: the row is inserted in the same
transaction as the work, so a crash rolls both back and the next firing does it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_common.logging import get_logger
from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock

log = get_logger(__name__)

JobFn = Callable[[Session, datetime], str | None]


def slot_start(now: datetime, interval: timedelta) -> datetime:
    """The fire time of the interval slot containing `now` (the same on every replica)."""
    seconds = interval.total_seconds()
    epoch = now.astimezone(UTC).timestamp()
    return datetime.fromtimestamp(epoch - (epoch % seconds), tz=UTC)


def run_once(engine: Engine, *, job: str, fire_time: datetime, work: JobFn, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Run `work(session, fire_time)` unless this (job, fire_time) already ran; True if it ran now.

    `clock` stamps the run's start and end (the scheduler passes its own clock).
    """
    with Session(engine) as session:
        locked = session.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:job))"), {"job": job}).scalar()
        if not locked:
            return False
        inserted = session.execute(
            text(
                "INSERT INTO job_run (job, fire_time, started_at, status) VALUES (:job, :fire, :now, 'running')"
                " ON CONFLICT ON CONSTRAINT job_run_once DO NOTHING RETURNING id"
            ),
            {"job": job, "fire": fire_time, "now": clock.now()},
        ).scalar()
        if inserted is None:
            session.rollback()
            return False
        try:
            detail = work(session, fire_time)
        except Exception as exc:
            session.rollback()
            log.exception("job failed", job=job, fire_time=fire_time.isoformat())
            _record_failure(engine, job=job, fire_time=fire_time, error=f"{type(exc).__name__}: {exc}", now=clock.now())
            return False
        session.execute(
            text("UPDATE job_run SET status = 'succeeded', finished_at = :now, detail = :detail WHERE id = :id"),
            {"now": clock.now(), "detail": (detail or "")[:2000], "id": inserted},
        )
        session.commit()
        return True


def _record_failure(engine: Engine, *, job: str, fire_time: datetime, error: str, now: datetime) -> None:
    with Session(engine) as session:
        session.execute(
            text(
                "INSERT INTO job_run (job, fire_time, started_at, finished_at, status, detail)"
                " VALUES (:job, :fire, :now, :now, 'failed', :detail)"
                " ON CONFLICT ON CONSTRAINT job_run_once DO NOTHING"
            ),
            {"job": job, "fire": fire_time, "now": now, "detail": error[:2000]},
        )
        session.commit()
