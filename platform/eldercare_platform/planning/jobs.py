"""The planning domain's scheduled jobs (see scheduler/registry.py)."""

from __future__ import annotations

from eldercare_platform.scheduler.registry import JobSpec

JOBS: list[JobSpec] = []
