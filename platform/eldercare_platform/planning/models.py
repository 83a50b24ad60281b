"""The planning domain's vocabulary (the `plan`, `plan_stop` and `plan_unassigned` tables are written in SQL by
migration 0010; the API's shapes are in `schemas.py`)."""

from __future__ import annotations

from enum import StrEnum


class PlanKind(StrEnum):
    """Why a plan was made."""

    NIGHTLY = "nightly"  # tomorrow's plan, published at the cut-off
    INTRADAY = "intraday"  # the rest of today, re-planned around what is fixed (sick call, cancellation…)
    URGENT_INSERTION = "urgent_insertion"  # one urgent task put into the best on-shift caregiver's live route
    MANUAL = "manual"  # a coordinator asked for a plan now


class PlanStatus(StrEnum):
    """draft → published → superseded; failed when the solver or the inputs broke."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    FAILED = "failed"
