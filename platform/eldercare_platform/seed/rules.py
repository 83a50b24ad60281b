"""The services' part of the demo data: the constants, rules and helpers shared by `staffing.py` and `plans.py`.

Called by `generator._Builder.build()` after every other table; it draws from its own random source
(`random.Random(f"{seed}:services")`), so the rest of the data set is the same as without it. The proportions
and their sources are in docs/services/demo-data.md.

* Every resident gets one GB/T 42195-2022 assessment (26 items, total 0–90, in the band of the resident's
  `capability_level`) and care plan version 1 (visit tier, meal plan, purchased services, 特困 subsidy).
* Staff get a home base, a travel mode and a maximum of tasks per shift; a few certificates expire soon or
  have expired; shift patterns cover days, evenings and on-call nights, and the first week's `shift` rows are
  the patterns' own (with `pattern_id`), so the roster's generator extends them without conflict.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any

from eldercare_platform.care_plans.models import MealMode
from eldercare_platform.care_plans.rules import propose_tier
from eldercare_platform.care_plans.scale import DOMAINS as SCALE_DOMAINS
from eldercare_platform.residents.models import CapabilityLevel, CareTier, ResidentCategory
from eldercare_platform.roster.models import StaffRole

if TYPE_CHECKING:
    from eldercare_platform.seed.generator import _Builder

Row = dict[str, Any]
C = ResidentCategory

# --- GB/T 42195-2022 (老年人能力评估规范), appendix B: four first-level indicators, 26 items, 90 points ---------
# fmt: off
ASSESSMENT_STANDARD = "GB/T 42195-2022"
ASSESSMENT_ITEMS: dict[str, tuple[tuple[str, str, int], ...]] = {
    # domain: ((item code, name, maximum score), ...): the platform's own scale (care_plans/scale.py), so a seeded
    # assessment reads back exactly like one recorded through the API
    domain.code: tuple((item.code, item.zh, item.max_score) for item in domain.items)
    for domain in SCALE_DOMAINS
}
MAX_TOTAL = 90
LEVEL_BANDS: dict[str, tuple[int, int]] = {
    # total score bands of the five levels (inclusive)
    CapabilityLevel.INTACT.value: (90, 90),
    CapabilityLevel.MILD.value: (66, 89),
    CapabilityLevel.MODERATE.value: (46, 65),
    CapabilityLevel.SEVERE.value: (30, 45),
    CapabilityLevel.TOTAL.value: (0, 29),
}
REASSESS_MONTHS = 6  # MZ/T 039
OVERDUE_SHARE = 0.05
EXTERNAL_ASSESSORS = ("常州颐康评估中心", "天宁区第三方评估机构", "江苏康养评估服务中心")

# --- care plans ---------------------------------------------------------------------------------------------
OVERRIDE_SHARE = 0.03
OVERRIDE_REASONS: dict[tuple[str, str], str] = {
    # (proposed, chosen): reason
    ("regular", "key"): "子女长期在外地,网格员反映近期情绪低落",
    ("key", "high_risk"): "近期跌倒后独自在家,社区要求每周探访",
    ("high_risk", "key"): "子女已搬来同住,照护充分",
    ("key", "regular"): "本人要求减少上门,已有保姆全天照料",
}
MEAL_PLAN_SHARE = 0.25
SERVICE_SHARE = 0.18  # Zhenjiang's target: 18% of home-dwelling elderly receive home services
MODE_SHARES = {MealMode.DINE_IN: 0.40, MealMode.PICK_UP: 0.20, MealMode.DELIVERY: 0.40}  # the targets overall
# Residents with a severe or total loss of capability get meals delivered; the others draw from these weights,
# which bring the overall shares to MODE_SHARES.
MODE_WEIGHTS_AMBULANT = ((MealMode.DINE_IN, 0.45), (MealMode.PICK_UP, 0.22), (MealMode.DELIVERY, 0.33))
# 特困人员照料护理补贴 per month (fen) by level; dispersed support (分散供养, at home) is 50% of it.
CARE_SUBSIDY_FEN: dict[str, tuple[int, str]] = {
    CapabilityLevel.TOTAL.value: (165_600, "完全失能"),
    CapabilityLevel.SEVERE.value: (165_600, "完全失能"),
    CapabilityLevel.MODERATE.value: (82_800, "中度失能"),
    CapabilityLevel.MILD.value: (41_400, "轻度失能"),
    CapabilityLevel.INTACT.value: (20_700, "生活自理"),
}
DISPERSED_SHARE = 0.5
MEAL_POINT_EXTRA_CAPACITY = (40, 60)

# --- the roster -----------------------------------------------------------------------------------------------
DAY = (time(8), time(17))
EVENING = (time(16), time(22))
NIGHT = (time(20), time(8))  # on call, ends the next morning
OPERATOR_SHIFTS = ((time(8), time(16)), (time(16), time(0)), (time(0), time(8)))  # 早 / 中 / 夜
PART_TIME = (time(9), time(12))
WEEKDAYS = [1, 2, 3, 4, 5]
WITH_WEEKEND = ([3, 4, 5, 6, 7], [1, 2, 5, 6, 7], [1, 4, 5, 6, 7])
MAX_TASKS: dict[str, tuple[int, int]] = {
    StaffRole.CAREGIVER.value: (6, 8),
    StaffRole.NURSE.value: (6, 8),
    StaffRole.SOCIAL_WORKER.value: (4, 6),
    StaffRole.COORDINATOR.value: (3, 5),
    StaffRole.VOLUNTEER.value: (2, 3),
    StaffRole.OPERATOR.value: (1, 1),
}
EXPIRING_CERTIFICATES = 4  # within 30 days of the start date
EXPIRED_CERTIFICATES = 2
# fmt: on


def level_band(level: str) -> tuple[int, int]:
    """The inclusive total-score band of a capability level."""
    return LEVEL_BANDS[level]


KEY_CATEGORIES = frozenset(
    {
        C.EXTREME_POVERTY,
        C.MINIMUM_INCOME,
        C.MARGINAL_INCOME,
        C.LOST_ONLY_CHILD,
        C.LEFT_BEHIND,
        C.DISABLED,
        C.SEMI_DISABLED,
        C.DEMENTIA,
    }
)


def proposed_tier(categories: set[str], level: str, age: int) -> tuple[CareTier, list[str]]:
    """The visit tier the platform's own rule proposes (care_plans/rules.py) and its reason codes.

    A demo resident has no alarm history and no recent major event when the district is generated; `age` is
    carried by the 高龄 category (80+), which the generator sets from the birth date.
    """
    del age  # the rule reads 高龄 from the categories
    proposal = propose_tier(
        categories=categories, level=CapabilityLevel(level), living_alone=False, alarms_30d=0, major_event_30d=False
    )
    return proposal.tier, list(proposal.reasons)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def weighted_sample(rng: random.Random, rows: list[Row], weights: list[float], k: int) -> list[Row]:
    """k rows without replacement, each drawn with probability proportional to its weight (Efraimidis-Spirakis)."""
    keyed = sorted(((rng.random() ** (1 / w), i) for i, w in enumerate(weights)), reverse=True)
    return [rows[i] for _, i in sorted(keyed[:k], key=lambda pair: pair[1])]


@dataclass
class Context:
    builder: _Builder
    rng: random.Random

    @property
    def start(self) -> date:
        return self.builder.start
