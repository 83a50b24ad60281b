"""Job runs: one row per (job, fire time) makes every job idempotent across restarts and replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from eldercare_platform.core.types import timestamp_field


class JobRun(SQLModel, table=True):
    """One firing of a scheduled job."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "fire_time", name="job_run_once"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    fire_time: datetime = timestamp_field()
    started_at: datetime = timestamp_field(default_now=True)
    finished_at: datetime | None = timestamp_field(nullable=True)
    status: str = Field(default="running", max_length=16, description="running, succeeded, failed")
    detail: str | None = Field(default=None, max_length=2000)
