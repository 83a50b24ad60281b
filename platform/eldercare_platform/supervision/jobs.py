"""The supervision domain's scheduled jobs (see scheduler/registry.py). The rollup refresh on plain PostgreSQL
(sv-storage) is declared here."""

from __future__ import annotations

from eldercare_platform.scheduler.registry import JobSpec

JOBS: list[JobSpec] = []
