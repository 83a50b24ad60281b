"""The supervision domain's front door: the figures of a tier, for views, reports and other helpers.

`resolve_tier` / `resolve_period` (tier.py) turn a request's `area_id`, `from` and `to` into the area (inside the
user's scope) and the local days; each section function takes them and returns the common `SectionFigures`.
"""

from __future__ import annotations

from eldercare_platform.supervision.tier import (
    AreaNotFoundError,
    Period,
    PeriodInvalidError,
    Tier,
    month_period,
    resolve_period,
    resolve_tier,
)

__all__ = [
    "AreaNotFoundError",
    "Period",
    "PeriodInvalidError",
    "Tier",
    "month_period",
    "resolve_period",
    "resolve_tier",
]
