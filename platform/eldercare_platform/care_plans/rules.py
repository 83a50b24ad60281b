"""Pure rules of a care plan: the proposed visit tier and the 特困 care subsidy (docs/services/care-plans.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eldercare_platform.residents.models import CapabilityLevel, CareTier, ResidentCategory

# --- visit tier --------------------------------------------------------------------------------------------

HIGH_RISK_LEVELS = frozenset({CapabilityLevel.SEVERE, CapabilityLevel.TOTAL})
FRAIL_LEVELS = frozenset({CapabilityLevel.MODERATE, CapabilityLevel.SEVERE, CapabilityLevel.TOTAL})
FRAIL_CATEGORIES = frozenset({ResidentCategory.DISABLED, ResidentCategory.SEMI_DISABLED, ResidentCategory.DEMENTIA})
NOBODY_AT_HOME = frozenset(
    {ResidentCategory.LIVING_ALONE, ResidentCategory.EXTREME_POVERTY, ResidentCategory.LOST_ONLY_CHILD}
)
"""Categories meaning nobody at home would notice a decline: 独居, 特困 (no one obliged to care), 失独."""
KEY_CATEGORIES = frozenset(
    {
        ResidentCategory.EXTREME_POVERTY,
        ResidentCategory.MINIMUM_INCOME,
        ResidentCategory.MARGINAL_INCOME,
        ResidentCategory.LEFT_BEHIND,
        ResidentCategory.LOST_ONLY_CHILD,
        ResidentCategory.DISABLED,
        ResidentCategory.SEMI_DISABLED,
        ResidentCategory.DEMENTIA,
    }
)
"""Key groups (重点人群) on their own; 高龄 counts when living alone or empty-nest (`ADVANCED_AGE_ALONE`)."""
FREQUENT_ALARMS = 2  # alarms in the last 30 days that make a resident high-risk


class TierReason:
    """Reason codes of a proposed tier (pages translate them: meta/labels.py `tierReason`)."""

    CAPABILITY_SEVERE = "capability_severe"  # 重度受损 or 完全丧失
    ALONE_AND_FRAIL = "alone_and_frail"  # nobody at home (独居, 特困, 失独) and frail (失能, 半失能, 认知障碍, 中度+)
    SPOUSE_ONLY_CARER = "spouse_only_carer"  # 空巢 and disabled, demented or severely impaired
    FREQUENT_ALARMS = "frequent_alarms"  # 2+ alarms in 30 days
    RECENT_MAJOR_EVENT = "recent_major_event"  # hospital discharge / fall with injury in the last 30 days
    KEY_CATEGORY = "key_category"  # one of the key groups (特困, 低保, 低边, 留守, 失独, 失能, 半失能, 认知障碍)
    ADVANCED_AGE_ALONE = "advanced_age_alone"  # 高龄 (80+) living alone or empty-nest
    CAPABILITY_IMPAIRED = "capability_impaired"  # 中度受损
    RECENT_ALARM = "recent_alarm"  # one alarm in 30 days
    NO_RISK_FACTOR = "no_risk_factor"

    ALL = (
        CAPABILITY_SEVERE,
        ALONE_AND_FRAIL,
        SPOUSE_ONLY_CARER,
        FREQUENT_ALARMS,
        RECENT_MAJOR_EVENT,
        KEY_CATEGORY,
        ADVANCED_AGE_ALONE,
        CAPABILITY_IMPAIRED,
        RECENT_ALARM,
        NO_RISK_FACTOR,
    )


@dataclass(frozen=True)
class TierProposal:
    """The tier the rules propose and why (the reasons of that tier only)."""

    tier: CareTier
    reasons: tuple[str, ...]


def propose_tier(
    *,
    categories: Iterable[str],
    level: CapabilityLevel,
    living_alone: bool,
    alarms_30d: int,
    major_event_30d: bool,
) -> TierProposal:
    """High-risk (weekly) if any high-risk factor holds; key (monthly) for key groups, 80+ alone, moderate
    impairment or an alarm; regular (quarterly) otherwise. The one rule: the API proposes with it, the demo data
    is generated with it."""
    cats = set(categories)
    alone = living_alone or ResidentCategory.LIVING_ALONE in cats
    nobody_at_home = alone or bool(cats & NOBODY_AT_HOME)
    frail = bool(cats & FRAIL_CATEGORIES) or level in FRAIL_LEVELS
    high: list[str] = []
    if level in HIGH_RISK_LEVELS:
        high.append(TierReason.CAPABILITY_SEVERE)
    if nobody_at_home and frail:
        high.append(TierReason.ALONE_AND_FRAIL)
    if ResidentCategory.EMPTY_NEST in cats and (
        cats & {ResidentCategory.DISABLED, ResidentCategory.DEMENTIA} or level in HIGH_RISK_LEVELS
    ):
        high.append(TierReason.SPOUSE_ONLY_CARER)
    if alarms_30d >= FREQUENT_ALARMS:
        high.append(TierReason.FREQUENT_ALARMS)
    if major_event_30d:
        high.append(TierReason.RECENT_MAJOR_EVENT)
    if high:
        return TierProposal(CareTier.HIGH_RISK, tuple(high))
    key: list[str] = []
    if cats & KEY_CATEGORIES:
        key.append(TierReason.KEY_CATEGORY)
    if ResidentCategory.ADVANCED_AGE in cats and (alone or ResidentCategory.EMPTY_NEST in cats):
        key.append(TierReason.ADVANCED_AGE_ALONE)
    if level in FRAIL_LEVELS:
        key.append(TierReason.CAPABILITY_IMPAIRED)
    if alarms_30d >= 1:
        key.append(TierReason.RECENT_ALARM)
    if key:
        return TierProposal(CareTier.KEY, tuple(key))
    return TierProposal(CareTier.REGULAR, (TierReason.NO_RISK_FACTOR,))


# --- 特困 care subsidy -------------------------------------------------------------------------------------

# The seeds' 特困 care fees per month (fen): 全失能 ¥1,656, 中度 ¥828, 轻度 ¥414, 生活自理 ¥207.
SUBSIDY_BANDS_FEN: dict[str, int] = {
    "fully_dependent": 165_600,
    "moderate": 82_800,
    "mild": 41_400,
    "self_caring": 20_700,
}
# GB/T 42195's five levels onto the four bands: 重度受损 and 完全丧失 are both 全失能.
LEVEL_BAND: dict[CapabilityLevel, str] = {
    CapabilityLevel.INTACT: "self_caring",
    CapabilityLevel.MILD: "mild",
    CapabilityLevel.MODERATE: "moderate",
    CapabilityLevel.SEVERE: "fully_dependent",
    CapabilityLevel.TOTAL: "fully_dependent",
}
DISPERSED_SHARE_PERCENT = 50  # 分散供养 (living at home): half of the centralised amount


@dataclass(frozen=True)
class Subsidy:
    """A monthly care subsidy in fen and the basis it was computed on (`extreme_poverty:<band>:<dispersed|…>`)."""

    monthly_fen: int
    basis: str | None


def care_subsidy(*, categories: Iterable[str], level: CapabilityLevel, at_home: bool) -> Subsidy:
    """特困 residents get the band of their level, half of it when supported at home; nobody else gets one."""
    if ResidentCategory.EXTREME_POVERTY not in set(categories):
        return Subsidy(0, None)
    band = LEVEL_BAND[level]
    amount = SUBSIDY_BANDS_FEN[band]
    if at_home:
        amount = amount * DISPERSED_SHARE_PERCENT // 100
    return Subsidy(amount, f"extreme_poverty:{band}:{'dispersed' if at_home else 'centralised'}")
