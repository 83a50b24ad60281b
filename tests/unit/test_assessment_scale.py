"""The GB/T 42195-2022 scale as data and its pure scoring functions."""

from __future__ import annotations

import pytest

from eldercare_platform.care_plans import scale
from eldercare_platform.care_plans.scale import LevelAdjustment
from eldercare_platform.residents.models import CapabilityLevel


def test_the_scale_has_four_indicators_26_items_and_totals_90() -> None:
    assert [d.zh for d in scale.DOMAINS] == ["自理能力", "基础运动能力", "精神状态", "感知觉与社会参与"]
    assert [len(d.items) for d in scale.DOMAINS] == [8, 4, 9, 5]
    assert {d.code: d.max_score for d in scale.DOMAINS} == {
        "self_care": 32,
        "mobility": 15,
        "mental": 28,
        "perception_social": 15,
    }
    assert sum(scale.full_marks().values()) == scale.TOTAL_MAX == 90


@pytest.mark.parametrize(
    ("total", "level"),
    [
        (90, CapabilityLevel.INTACT),
        (89, CapabilityLevel.MILD),
        (66, CapabilityLevel.MILD),
        (65, CapabilityLevel.MODERATE),
        (46, CapabilityLevel.MODERATE),
        (45, CapabilityLevel.SEVERE),
        (30, CapabilityLevel.SEVERE),
        (29, CapabilityLevel.TOTAL),
        (0, CapabilityLevel.TOTAL),
    ],
)
def test_cut_offs_at_every_band_edge(total: int, level: CapabilityLevel) -> None:
    assert scale.level_for_total(total) == level


@pytest.mark.parametrize("total", [-1, 91])
def test_a_total_outside_0_to_90_is_refused(total: int) -> None:
    with pytest.raises(ValueError, match="0–90"):
        scale.level_for_total(total)


def test_validation_names_missing_unknown_and_out_of_range_items() -> None:
    items: dict[str, object] = dict(scale.full_marks())
    del items["eating"]
    items["stairs"] = 4  # stairs is 0–3
    items["vision"] = -1
    items["consciousness"] = True  # a boolean is not a score
    items["wings"] = 2
    problems = scale.validate_items(items)
    assert problems.missing == ("eating",)
    assert problems.unknown == ("wings",)
    assert set(problems.out_of_range) == {"stairs", "vision", "consciousness"}
    assert not scale.validate_items(scale.full_marks())


def test_score_sums_domains_and_rates_the_level() -> None:
    items = scale.full_marks()
    items.update(bathing=1, stairs=0, memory=2, transport=1)
    result = scale.score(items)
    assert result.domain_scores == {"self_care": 29, "mobility": 12, "mental": 26, "perception_social": 13}
    assert result.total == 80
    assert result.preliminary_level == result.level == CapabilityLevel.MILD


def test_score_refuses_invalid_items() -> None:
    with pytest.raises(ValueError, match="invalid items"):
        scale.score({"eating": 4})


@pytest.mark.parametrize(
    ("preliminary", "adjustments", "final"),
    [
        (CapabilityLevel.INTACT, [LevelAdjustment.DEMENTIA], CapabilityLevel.MILD),
        (CapabilityLevel.MILD, [LevelAdjustment.CARE_RISK_EVENTS, LevelAdjustment.DEMENTIA], CapabilityLevel.MODERATE),
        (CapabilityLevel.SEVERE, [LevelAdjustment.MENTAL_DISORDER], CapabilityLevel.TOTAL),
        (CapabilityLevel.TOTAL, [LevelAdjustment.DEMENTIA], CapabilityLevel.TOTAL),
        (CapabilityLevel.INTACT, [LevelAdjustment.COMA], CapabilityLevel.TOTAL),
        (CapabilityLevel.MODERATE, [], CapabilityLevel.MODERATE),
    ],
)
def test_level_changes_raise_one_step_once_and_coma_means_total_loss(
    preliminary: CapabilityLevel, adjustments: list[LevelAdjustment], final: CapabilityLevel
) -> None:
    assert scale.adjusted_level(preliminary, adjustments) == final


def test_score_keeps_the_preliminary_level_beside_the_adjusted_one() -> None:
    result = scale.score(scale.full_marks(), [LevelAdjustment.CARE_RISK_EVENTS])
    assert (result.total, result.preliminary_level, result.level) == (90, CapabilityLevel.INTACT, CapabilityLevel.MILD)
    assert result.adjustments == (LevelAdjustment.CARE_RISK_EVENTS,)
