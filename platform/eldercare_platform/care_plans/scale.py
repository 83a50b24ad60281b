"""The GB/T 42195-2022 (老年人能力评估规范) capability scale as data, and the pure functions that score it.

Four first-level indicators (一级指标), 26 items (二级指标, Annex B tables B.1–B.4), total 0–90:

* 自理能力 self-care: 8 items, 0–4 each (32)
* 基础运动能力 basic mobility: 4 items, 0–4 except stairs 0–3 (15)
* 精神状态 mental state: 9 items, six 0–4, aggression and depression 0–1, consciousness 0–2 (28)
* 感知觉与社会参与 perception and social participation: 5 items, vision and hearing 0–2, daily affairs 0–4,
  transport 0–3, social interaction 0–4 (15)

Preliminary level by total score: 90 能力完好, 66–89 轻度受损, 46–65 中度受损, 30–45 重度受损, 0–29 完全丧失.
Level changes (能力等级变更依据): a resident in a coma is rated 能力完全丧失 directly; otherwise any one of
dementia (F00–F03), another psychiatric diagnosis (F04–F99), or two or more care-risk events (fall, choking,
suicide attempt, self-harm, wandering off) in the last 30 days raises the preliminary level by one step.
Sources and doubts: docs/services/care-plans.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from eldercare_platform.residents.models import CapabilityLevel

STANDARD = "GB/T 42195-2022"
TOTAL_MAX = 90


@dataclass(frozen=True)
class Item:
    """One second-level indicator: its code, the standard's clause, its score range and labels."""

    code: str
    ref: str
    max_score: int
    zh: str
    en: str
    min_score: int = 0


@dataclass(frozen=True)
class Domain:
    """One first-level indicator and its items."""

    code: str
    ref: str
    zh: str
    en: str
    items: tuple[Item, ...]

    @property
    def max_score(self) -> int:
        """The domain's highest score (the sum of its items' maxima)."""
        return sum(item.max_score for item in self.items)


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "self_care",
        "B.1",
        "自理能力",
        "Self-care",
        (
            Item("eating", "B.1.1", 4, "进食", "Eating"),
            Item("grooming", "B.1.2", 4, "修饰", "Grooming"),
            Item("bathing", "B.1.3", 4, "洗澡", "Bathing"),
            Item("dressing_upper", "B.1.4", 4, "穿/脱上衣", "Dressing (upper body)"),
            Item("dressing_lower", "B.1.5", 4, "穿/脱裤子和鞋袜", "Dressing (trousers, shoes, socks)"),
            Item("urination", "B.1.6", 4, "小便控制", "Bladder control"),
            Item("defecation", "B.1.7", 4, "大便控制", "Bowel control"),
            Item("toileting", "B.1.8", 4, "如厕", "Toileting"),
        ),
    ),
    Domain(
        "mobility",
        "B.2",
        "基础运动能力",
        "Basic mobility",
        (
            Item("bed_mobility", "B.2.1", 4, "床上体位转移", "Turning and sitting up in bed"),
            Item("bed_chair_transfer", "B.2.2", 4, "床椅转移", "Bed–chair transfer"),
            Item("walking", "B.2.3", 4, "平地行走", "Walking on level ground"),
            Item("stairs", "B.2.4", 3, "上下楼梯", "Stairs"),
        ),
    ),
    Domain(
        "mental",
        "B.3",
        "精神状态",
        "Mental state",
        (
            Item("time_orientation", "B.3.1", 4, "时间定向", "Orientation in time"),
            Item("place_orientation", "B.3.2", 4, "空间定向", "Orientation in space"),
            Item("person_orientation", "B.3.3", 4, "人物定向", "Orientation to people"),
            Item("memory", "B.3.4", 4, "记忆", "Memory"),
            Item("comprehension", "B.3.5", 4, "理解能力", "Understanding others"),
            Item("expression", "B.3.6", 4, "表达能力", "Expressing oneself"),
            Item("aggression", "B.3.7", 1, "攻击行为", "Aggressive behaviour (1 = none in the last month)"),
            Item("depression", "B.3.8", 1, "抑郁症状", "Depressive symptoms (1 = none in the last month)"),
            Item("consciousness", "B.3.9", 2, "意识水平", "Level of consciousness"),
        ),
    ),
    Domain(
        "perception_social",
        "B.4",
        "感知觉与社会参与",
        "Perception and social participation",
        (
            Item("vision", "B.4.1", 2, "视力", "Vision"),
            Item("hearing", "B.4.2", 2, "听力", "Hearing"),
            Item("daily_affairs", "B.4.3", 4, "执行日常事务", "Managing daily affairs"),
            Item("transport", "B.4.4", 3, "使用交通工具外出", "Going out by transport"),
            Item("social_interaction", "B.4.5", 4, "社会交往能力", "Social interaction"),
        ),
    ),
)
ITEMS: dict[str, Item] = {item.code: item for domain in DOMAINS for item in domain.items}
ITEM_DOMAIN: dict[str, str] = {item.code: domain.code for domain in DOMAINS for item in domain.items}

# (lowest total of the band, level), best level first: 90 / 66–89 / 46–65 / 30–45 / 0–29.
LEVEL_BANDS: tuple[tuple[int, CapabilityLevel], ...] = (
    (90, CapabilityLevel.INTACT),
    (66, CapabilityLevel.MILD),
    (46, CapabilityLevel.MODERATE),
    (30, CapabilityLevel.SEVERE),
    (0, CapabilityLevel.TOTAL),
)
LEVEL_ORDER: tuple[CapabilityLevel, ...] = tuple(level for _, level in LEVEL_BANDS)
LEVEL_LABELS: dict[CapabilityLevel, tuple[str, str]] = {
    CapabilityLevel.INTACT: ("能力完好", "Intact"),
    CapabilityLevel.MILD: ("能力轻度受损(轻度失能)", "Mildly impaired"),
    CapabilityLevel.MODERATE: ("能力中度受损(中度失能)", "Moderately impaired"),
    CapabilityLevel.SEVERE: ("能力重度受损(重度失能)", "Severely impaired"),
    CapabilityLevel.TOTAL: ("能力完全丧失(完全失能)", "Capability lost"),
}


class LevelAdjustment(StrEnum):
    """The standard's reasons to change the preliminary level (能力等级变更依据)."""

    COMA = "coma"  # 处于昏迷状态: rated 能力完全丧失 directly
    DEMENTIA = "dementia"  # 确诊为痴呆 (ICD-10 F00–F03): one level worse
    MENTAL_DISORDER = "mental_disorder"  # 精神科专科医生诊断的其他精神和行为障碍 (F04–F99): one level worse
    CARE_RISK_EVENTS = "care_risk_events"  # 近30天内2次及以上照护风险事件 (跌倒、噎食、自杀、自伤、走失): one worse


ONE_LEVEL_WORSE = frozenset(
    {LevelAdjustment.DEMENTIA, LevelAdjustment.MENTAL_DISORDER, LevelAdjustment.CARE_RISK_EVENTS}
)


@dataclass(frozen=True)
class ItemProblems:
    """What is wrong with an item dict: codes missing, codes the scale does not have, scores out of range."""

    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    out_of_range: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.unknown or self.out_of_range)


@dataclass(frozen=True)
class Result:
    """A scored assessment."""

    domain_scores: dict[str, int]
    total: int
    preliminary_level: CapabilityLevel
    level: CapabilityLevel
    adjustments: tuple[LevelAdjustment, ...]


def validate_items(items: Mapping[str, object]) -> ItemProblems:
    """Every item of the scale present, no other key, each score an integer in its item's range."""
    missing = tuple(code for code in ITEMS if code not in items)
    unknown = tuple(sorted(code for code in items if code not in ITEMS))
    out_of_range = tuple(
        code
        for code, item in ITEMS.items()
        if code in items
        and (
            isinstance(items[code], bool)
            or not isinstance(items[code], int)
            or not item.min_score <= items[code] <= item.max_score  # type: ignore[operator]
        )
    )
    return ItemProblems(missing=missing, unknown=unknown, out_of_range=out_of_range)


def domain_scores(items: Mapping[str, int]) -> dict[str, int]:
    """The sum of each first-level indicator's items (items must be valid)."""
    return {domain.code: sum(items[item.code] for item in domain.items) for domain in DOMAINS}


def level_for_total(total: int) -> CapabilityLevel:
    """The preliminary level of a total score (0–90)."""
    if not 0 <= total <= TOTAL_MAX:
        raise ValueError(f"a total score is 0–{TOTAL_MAX}, not {total}")
    for lowest, level in LEVEL_BANDS:
        if total >= lowest:
            return level
    raise AssertionError("unreachable: the last band starts at 0")


def adjusted_level(preliminary: CapabilityLevel, adjustments: Iterable[LevelAdjustment]) -> CapabilityLevel:
    """The final level: coma → total loss; any other reason → one level worse (once, however many apply)."""
    given = set(adjustments)
    if LevelAdjustment.COMA in given:
        return CapabilityLevel.TOTAL
    if given & ONE_LEVEL_WORSE:
        return LEVEL_ORDER[min(LEVEL_ORDER.index(preliminary) + 1, len(LEVEL_ORDER) - 1)]
    return preliminary


def score(items: Mapping[str, int], adjustments: Iterable[LevelAdjustment] = ()) -> Result:
    """Score a valid item dict: domain scores, total, preliminary and final level. `ValueError` if invalid."""
    problems = validate_items(items)
    if problems:
        raise ValueError(f"invalid items: {problems}")
    domains = domain_scores(items)
    total = sum(domains.values())
    preliminary = level_for_total(total)
    given = tuple(sorted(set(adjustments)))
    return Result(
        domain_scores=domains,
        total=total,
        preliminary_level=preliminary,
        level=adjusted_level(preliminary, given),
        adjustments=given,
    )


def full_marks() -> dict[str, int]:
    """Every item at its maximum (能力完好: 90): a starting point for tests and forms."""
    return {code: item.max_score for code, item in ITEMS.items()}
