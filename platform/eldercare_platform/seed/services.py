"""The services' part of the demo data: assessments, care plans, meal points' capacity, the roster's details.

Called by `generator._Builder.build()` after every other table; it draws from its own random source
(`random.Random(f"{seed}:services")`), so the rest of the data set is the same as without it. The proportions
and their sources are in docs/services/demo-data.md; the constants and rules in `rules.py`.

* Every resident gets one GB/T 42195-2022 assessment (26 items, total 0-90, in the band of the resident's
  `capability_level`) and care plan version 1 (visit tier, meal plan, purchased services, 特困 subsidy):
  `plans.py`.
* Staff get a home base, a travel mode and a maximum of tasks per shift; a few certificates expire soon or
  have expired; shift patterns cover days, evenings and on-call nights, and the first week's `shift` rows are
  the patterns' own (with `pattern_id`), so the roster's generator extends them without conflict:
  `staffing.py`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from eldercare_platform.seed.plans import add_assessments, add_care_plans
from eldercare_platform.seed.rules import Context
from eldercare_platform.seed.staffing import certificate_alerts, meal_point_capacity, shift_patterns, staff_details

if TYPE_CHECKING:
    from eldercare_platform.seed.generator import _Builder


def add_services(builder: _Builder) -> None:
    """Fill assessment, care_plan, shift_pattern and shift, and complete staff, meal_point and resident rows."""
    ctx = Context(builder, random.Random(f"{builder.seed}:services"))
    meal_point_capacity(ctx)
    staff_details(ctx)
    certificate_alerts(ctx)
    shift_patterns(ctx)
    add_assessments(ctx)
    add_care_plans(ctx)
