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


class PlanReason(StrEnum):
    """Reason codes a plan writes on tasks' traces (`task_event.reason`) and alerts' resolutions; pages translate
    them (meta/labels.py, kind `planReason`). The trace line's detail names the plan (`plan_id`)."""

    PLANNED = "planned"  # given to the caregiver the plan chose
    REPLANNED = "replanned"  # moved to another caregiver by a later plan (the task was not yet published)
    CAREGIVER_UNAVAILABLE = "caregiver_unavailable"  # its caregiver is on leave or off shift: moved or given back
    NOT_SERVED = "not_served"  # the plan could not serve it (detail: the unassigned reason): back to planning
    PLAN_PUBLISHED = "plan_published"  # published with its plan
    PLAN_SUCCEEDED = "plan_succeeded"  # a failed plan's alert, resolved by a later plan of the same day
