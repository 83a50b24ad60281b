"""The proposed visit tier and the 特困 care subsidy (care_plans/rules.py)."""

from __future__ import annotations

import pytest

from eldercare_platform.care_plans.rules import TierReason, care_subsidy, propose_tier
from eldercare_platform.residents.models import CapabilityLevel, CareTier


def _tier(
    categories: list[str] | None = None,
    level: CapabilityLevel = CapabilityLevel.INTACT,
    living_alone: bool = False,
    alarms_30d: int = 0,
    major_event_30d: bool = False,
) -> tuple[CareTier, tuple[str, ...]]:
    proposal = propose_tier(
        categories=categories or [],
        level=level,
        living_alone=living_alone,
        alarms_30d=alarms_30d,
        major_event_30d=major_event_30d,
    )
    return proposal.tier, proposal.reasons


def test_nobody_at_risk_is_regular() -> None:
    assert _tier() == (CareTier.REGULAR, (TierReason.NO_RISK_FACTOR,))


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"level": CapabilityLevel.SEVERE}, TierReason.CAPABILITY_SEVERE),
        ({"level": CapabilityLevel.TOTAL}, TierReason.CAPABILITY_SEVERE),
        ({"level": CapabilityLevel.MODERATE, "living_alone": True}, TierReason.ALONE_AND_FRAIL),
        ({"categories": ["dementia", "living_alone"]}, TierReason.ALONE_AND_FRAIL),
        ({"categories": ["semi_disabled", "extreme_poverty"]}, TierReason.ALONE_AND_FRAIL),
        ({"categories": ["disabled", "empty_nest"]}, TierReason.SPOUSE_ONLY_CARER),
        ({"alarms_30d": 2}, TierReason.FREQUENT_ALARMS),
        ({"major_event_30d": True}, TierReason.RECENT_MAJOR_EVENT),
    ],
)
def test_each_high_risk_factor_alone_makes_the_resident_high_risk(kwargs: dict[str, object], reason: str) -> None:
    tier, reasons = _tier(**kwargs)  # type: ignore[arg-type]
    assert tier == CareTier.HIGH_RISK and reason in reasons


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"categories": ["extreme_poverty"]}, TierReason.KEY_CATEGORY),
        ({"categories": ["semi_disabled"]}, TierReason.KEY_CATEGORY),
        ({"categories": ["advanced_age", "living_alone"]}, TierReason.ADVANCED_AGE_ALONE),
        ({"categories": ["advanced_age", "empty_nest"]}, TierReason.ADVANCED_AGE_ALONE),
        ({"level": CapabilityLevel.MODERATE}, TierReason.CAPABILITY_IMPAIRED),
        ({"alarms_30d": 1}, TierReason.RECENT_ALARM),
    ],
)
def test_key_groups_impairment_or_one_alarm_make_the_resident_key(kwargs: dict[str, object], reason: str) -> None:
    tier, reasons = _tier(**kwargs)  # type: ignore[arg-type]
    assert tier == CareTier.KEY and reason in reasons


@pytest.mark.parametrize(
    "kwargs",
    [
        {"categories": ["advanced_age"]},  # 80+ with family at home
        {"living_alone": True},  # alone, well and able
        {"categories": ["empty_nest"]},
        {"level": CapabilityLevel.MILD},
    ],
)
def test_without_a_risk_factor_or_key_group_the_resident_is_regular(kwargs: dict[str, object]) -> None:
    assert _tier(**kwargs)[0] == CareTier.REGULAR  # type: ignore[arg-type]


def test_the_reasons_are_those_of_the_tier_proposed() -> None:
    tier, reasons = _tier(categories=["extreme_poverty"], level=CapabilityLevel.SEVERE, alarms_30d=3)
    assert tier == CareTier.HIGH_RISK
    assert reasons == (TierReason.CAPABILITY_SEVERE, TierReason.ALONE_AND_FRAIL, TierReason.FREQUENT_ALARMS)


@pytest.mark.parametrize(
    ("level", "at_home", "fen", "band"),
    [
        (CapabilityLevel.TOTAL, False, 165_600, "fully_dependent"),
        (CapabilityLevel.SEVERE, False, 165_600, "fully_dependent"),
        (CapabilityLevel.MODERATE, False, 82_800, "moderate"),
        (CapabilityLevel.MILD, False, 41_400, "mild"),
        (CapabilityLevel.INTACT, False, 20_700, "self_caring"),
        (CapabilityLevel.TOTAL, True, 82_800, "fully_dependent"),
        (CapabilityLevel.INTACT, True, 10_350, "self_caring"),
    ],
)
def test_extreme_poverty_subsidy_by_level_half_at_home(
    level: CapabilityLevel, at_home: bool, fen: int, band: str
) -> None:
    subsidy = care_subsidy(categories=["extreme_poverty"], level=level, at_home=at_home)
    assert subsidy.monthly_fen == fen
    assert subsidy.basis == f"extreme_poverty:{band}:{'dispersed' if at_home else 'centralised'}"


def test_no_subsidy_outside_extreme_poverty() -> None:
    subsidy = care_subsidy(categories=["minimum_income"], level=CapabilityLevel.TOTAL, at_home=True)
    assert (subsidy.monthly_fen, subsidy.basis) == (0, None)
