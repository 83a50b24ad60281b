"""The supervision domain's front door: the figures of a tier, for views, reports and other helpers.

`resolve_tier` / `resolve_period` (tier.py) turn a request's `area_id`, `from` and `to` into the area (inside the
user's scope) and the local days; each section function takes them and returns the common `SectionFigures`.
The section functions read the raw tables; a rollup-backed path (sv-storage) goes behind the same signatures.
"""

from __future__ import annotations

from eldercare_platform.supervision.alarms_figures import alarms_section
from eldercare_platform.supervision.devices_figures import devices_section
from eldercare_platform.supervision.meals_figures import meals_section, point_rows
from eldercare_platform.supervision.tier import (
    AreaNotFoundError,
    Period,
    PeriodInvalidError,
    Tier,
    month_period,
    resolve_period,
    resolve_tier,
)
from eldercare_platform.supervision.visits_figures import caregiver_rows, visits_section

__all__ = [
    "AreaNotFoundError",
    "Period",
    "PeriodInvalidError",
    "Tier",
    "alarms_section",
    "caregiver_rows",
    "devices_section",
    "meals_section",
    "month_period",
    "point_rows",
    "resolve_period",
    "resolve_tier",
    "visits_section",
]
