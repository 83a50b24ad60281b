"""Assessments and care plans of the demo residents (see `services.py` for the constants and the entry point)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from eldercare_platform.care_plans.models import AssessmentReason, Funder, Meal, MealMode, PurchasedService
from eldercare_platform.core.clock import LOCAL_TIMEZONE, age_on
from eldercare_platform.facilities.models import MealPointKind
from eldercare_platform.residents.models import CapabilityLevel, CareTier, ResidentCategory
from eldercare_platform.roster.models import StaffRole
from eldercare_platform.seed.rules import (
    ASSESSMENT_ITEMS,
    ASSESSMENT_STANDARD,
    CARE_SUBSIDY_FEN,
    DISPERSED_SHARE,
    EXTERNAL_ASSESSORS,
    LEVEL_BANDS,
    MAX_TOTAL,
    MEAL_PLAN_SHARE,
    MEAL_POINT_EXTRA_CAPACITY,
    MODE_WEIGHTS_AMBULANT,
    OVERDUE_SHARE,
    OVERRIDE_REASONS,
    OVERRIDE_SHARE,
    REASSESS_MONTHS,
    SERVICE_SHARE,
    Context,
    Row,
    add_months,
    proposed_tier,
    weighted_sample,
)

C = ResidentCategory
# Which domains lose points first, by what ails the resident.
_DOMAIN_WEIGHTS_PHYSICAL = {"self_care": 4.0, "mobility": 3.0, "mental": 0.6, "perception_social": 1.5}
_DOMAIN_WEIGHTS_COGNITIVE = {"self_care": 1.5, "mobility": 0.8, "mental": 4.0, "perception_social": 2.0}
_DOMAIN_WEIGHTS_AGEING = {"self_care": 1.5, "mobility": 2.0, "mental": 1.0, "perception_social": 2.0}


def assessment_items(rng: random.Random, total: int, weights: dict[str, float]) -> dict[str, int]:
    """Item scores (item code → score) that add up to `total`: the deficit is spread over items, domain-weighted."""
    items = [(code, maximum, weights[domain]) for domain, rows in ASSESSMENT_ITEMS.items() for code, _, maximum in rows]
    scores = {code: maximum for code, maximum, _ in items}
    deficit = MAX_TOTAL - total
    while deficit > 0:
        # A weighted random order of the items that can still lose points; each loses a random chunk.
        order = sorted(
            ((rng.random() ** (1 / w), code) for code, _, w in items if scores[code] > 0),
            reverse=True,
        )
        for _, code in order:
            if deficit == 0:
                break
            take = min(deficit, rng.randint(1, scores[code]))
            scores[code] -= take
            deficit -= take
    return scores


def domain_scores(items: dict[str, int]) -> dict[str, int]:
    """The four first-level indicators' scores."""
    return {domain: sum(items[code] for code, _, _ in rows) for domain, rows in ASSESSMENT_ITEMS.items()}


def add_assessments(ctx: Context) -> None:
    rng = ctx.rng
    data = ctx.builder.data
    start = ctx.start
    assessors = [s for s in data.staff if s["role"] == StaffRole.NURSE.value and s["care_center_id"] is not None]
    households = {h["id"]: h for h in data.household}
    # ≈5% are overdue: assessed more than six months ago (only residents enrolled long enough ago).
    enrolled_on = {
        r["id"]: households[r["household_id"]]["enrolled_at"].astimezone(LOCAL_TIMEZONE).date() for r in data.resident
    }
    long_enrolled = [r for r in data.resident if enrolled_on[r["id"]] <= start - timedelta(days=300)]
    overdue = {
        r["id"] for r in rng.sample(long_enrolled, min(len(long_enrolled), round(OVERDUE_SHARE * len(data.resident))))
    }
    levels = list(LEVEL_BANDS)  # intact … total
    for resident in data.resident:
        rid = resident["id"]
        if rid in overdue:
            assessed = start - timedelta(days=rng.randint(190, 280))
            resident["capability_assessed_on"] = assessed
        assessed = resident["capability_assessed_on"]
        level = resident["capability_level"]
        cats = set(resident["categories"])
        if C.DEMENTIA in cats:
            weights = _DOMAIN_WEIGHTS_COGNITIVE
        elif cats & {C.DISABLED, C.SEMI_DISABLED}:
            weights = _DOMAIN_WEIGHTS_PHYSICAL
        else:
            weights = _DOMAIN_WEIGHTS_AGEING
        # History: a periodic assessment follows an earlier one, six months before (the same level, or one
        # level better for a quarter of those who declined).
        previous = max(
            enrolled_on[rid] + timedelta(days=rng.randint(3, 30)),
            add_months(assessed, -REASSESS_MONTHS) - timedelta(days=rng.randint(0, 14)),
        )
        if assessed - enrolled_on[rid] > timedelta(days=45) and previous <= assessed - timedelta(days=60):
            earlier = levels[levels.index(level) - 1] if level != levels[0] and rng.random() < 0.25 else level
            _assessment(ctx, rid, previous, enrolled_on[rid], earlier, weights, assessors)
        _assessment(ctx, rid, assessed, enrolled_on[rid], level, weights, assessors)
        resident["reassessment_due_on"] = add_months(assessed, REASSESS_MONTHS)


def _assessment(
    ctx: Context,
    rid: int,
    assessed: date,
    enrolled: date,
    level: str,
    weights: dict[str, float],
    assessors: list[Row],
) -> None:
    rng = ctx.rng
    data = ctx.builder.data
    reason = AssessmentReason.INITIAL if assessed - enrolled <= timedelta(days=45) else AssessmentReason.PERIODIC
    low, high = LEVEL_BANDS[level]
    total = rng.randint(low, high)
    items = assessment_items(rng, total, weights)
    if assessors and rng.random() < 0.6:
        assessor = rng.choice(assessors)
        assessor_name, assessor_id = assessor["name"], assessor["id"]
    else:
        assessor_name, assessor_id = f"{rng.choice(EXTERNAL_ASSESSORS)}评估员", None
    recorded = datetime.combine(assessed, time(rng.randint(9, 16), rng.randrange(60)), tzinfo=LOCAL_TIMEZONE)
    data.assessment.append(
        {
            "id": len(data.assessment) + 1,
            "resident_id": rid,
            "assessed_on": assessed,
            "reason": reason.value,
            "standard": ASSESSMENT_STANDARD,
            "assessor_name": assessor_name,
            "assessor_staff_id": assessor_id,
            "items": items,
            "domain_scores": domain_scores(items),
            "total_score": total,
            "level": level,
            "notes": None,
            "recorded_at": recorded.astimezone(UTC),
            "recorded_by": None,
        }
    )


# --- care plans ------------------------------------------------------------------------------------------


def _meal_weight(resident: Row, age: int) -> float:
    cats = set(resident["categories"])
    weight = 1.0
    if age >= 80:
        weight *= 2.0
    if cats & {C.LIVING_ALONE, C.EMPTY_NEST}:
        weight *= 1.8
    if cats & {C.EXTREME_POVERTY, C.MINIMUM_INCOME}:
        weight *= 2.0
    if cats & {C.DISABLED, C.SEMI_DISABLED, C.DEMENTIA}:
        weight *= 1.5
    return weight


def _service_weight(resident: Row, age: int) -> float:
    cats = set(resident["categories"])
    weight = 1.0
    if cats & {C.EXTREME_POVERTY, C.MINIMUM_INCOME} or age >= 80:
        weight *= 3.0
    if cats & {C.DISABLED, C.SEMI_DISABLED}:
        weight *= 2.5
    if C.LIVING_ALONE in cats:
        weight *= 1.5
    return weight


def _diet(rng: random.Random, resident: Row, age: int) -> list[str]:
    conditions = set(resident["health_conditions"])
    diet = []
    if "高血压" in conditions and rng.random() < 0.7:
        diet.append("低盐")
    if "糖尿病" in conditions and rng.random() < 0.85:
        diet.append("低糖")
    if "慢性肾病" in conditions:
        diet.append("低蛋白")
    if age >= 85 or "脑卒中后遗症" in conditions or resident["capability_level"] in ("severe", "total"):
        diet.append("软食")
    if rng.random() < 0.02:
        diet.append("清真")
    return diet


class _MealPoints:
    """Meal points by community and street with their booked places per meal; opens a point when all are full."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.points = ctx.builder.data.meal_point
        self.street_of = {c["id"]: c["parent_id"] for c in ctx.builder.communities}
        self.communities = {c["id"]: c for c in ctx.builder.communities}
        self.booked: dict[tuple[int, str], int] = defaultdict(int)

    def choose(self, community_id: int, meal: str, mode: MealMode) -> int:
        street = self.street_of[community_id]
        own = [p for p in self.points if p["area_id"] == community_id]
        near = [p for p in self.points if self.street_of[p["area_id"]] == street and p["area_id"] != community_id]
        for point in own + near:
            if mode is MealMode.DELIVERY and not point["delivers"]:
                continue
            if mode is MealMode.DINE_IN and point["kind"] == MealPointKind.MEAL_TRUCK.value:
                continue
            if self.booked[(point["id"], meal)] < point["capacity_per_meal"]:
                self.booked[(point["id"], meal)] += 1
                return int(point["id"])
        point = self._open(community_id)
        self.booked[(point["id"], meal)] += 1
        return int(point["id"])

    def _open(self, community_id: int) -> Row:
        """A new 助餐点 in the community (with delivery), for demand the existing points cannot seat."""
        rng = self.ctx.rng
        community = self.communities[community_id]
        number = sum(p["area_id"] == community_id for p in self.points) + 1
        per_meal = rng.randrange(MEAL_POINT_EXTRA_CAPACITY[0], MEAL_POINT_EXTRA_CAPACITY[1] + 1, 5)
        template = self.points[0]
        road = rng.choice(self.ctx.builder.roads[community_id])
        row: Row = dict.fromkeys(template)
        row.update(
            id=len(self.points) + 1,
            name=f"{community['name']}第{number}助餐点",
            area_id=community_id,
            address=f"天宁区{community['_street']}{road}{rng.randint(1, 300)}号",
            phone=f"0519-8{rng.randrange(10_000_000):07d}",
            latitude=round(community["_lat"] + rng.uniform(-0.003, 0.003), 6),
            longitude=round(community["_lon"] + rng.uniform(-0.003, 0.003) * 1.15, 6),
            kind=MealPointKind.MEAL_POINT.value,
            daily_capacity=2 * per_meal,
            capacity_per_meal=per_meal,
            delivers=True,
        )
        self.points.append(row)
        return row


def _meal_plan(
    ctx: Context, points: _MealPoints, resident: Row, community_id: int, age: int
) -> list[dict[str, object]]:
    rng = ctx.rng
    if resident["capability_level"] in (CapabilityLevel.SEVERE, CapabilityLevel.TOTAL):
        mode = MealMode.DELIVERY
    else:
        mode = rng.choices([m for m, _ in MODE_WEIGHTS_AMBULANT], weights=[w for _, w in MODE_WEIGHTS_AMBULANT])[0]
    u = rng.random()
    days = [1, 2, 3, 4, 5] if u < 0.78 else list(range(1, 8)) if u < 0.93 else [1, 3, 5]
    diet = _diet(rng, resident, age)
    entries: list[dict[str, object]] = []
    meals = [Meal.LUNCH] if rng.random() < 0.8 else [Meal.LUNCH, Meal.DINNER] if rng.random() < 0.7 else [Meal.DINNER]
    for meal in meals:
        point = points.choose(community_id, meal.value, mode)
        entries.append({"days": days, "meal": meal.value, "mode": mode.value, "meal_point_id": point, "diet": diet})
    return entries


def _services(rng: random.Random, resident: Row, age: int) -> list[dict[str, object]]:
    cats = set(resident["categories"])
    funded = bool(cats & {C.EXTREME_POVERTY, C.MINIMUM_INCOME}) or age >= 80
    funder = Funder.GOVERNMENT if funded and rng.random() < 0.9 else Funder.SELF_PAID
    frail = resident["capability_level"] not in (CapabilityLevel.INTACT, CapabilityLevel.MILD)
    choices = [PurchasedService.CLEANING, PurchasedService.SHOPPING, PurchasedService.ERRANDS]
    choices.append(PurchasedService.MEDICAL_ESCORT)
    if frail or cats & {C.DISABLED, C.SEMI_DISABLED}:
        choices.append(PurchasedService.BATHING)
        first = PurchasedService.BATHING
    else:
        first = PurchasedService.CLEANING
    chosen = [first, *rng.sample([c for c in choices if c is not first], rng.choice((0, 1, 1, 2)))]
    hours_by = {
        PurchasedService.BATHING: (2, 8),
        PurchasedService.CLEANING: (4, 12),
        PurchasedService.MEDICAL_ESCORT: (2, 6),
        PurchasedService.SHOPPING: (2, 6),
        PurchasedService.ERRANDS: (2, 4),
    }
    return [
        {"service": service.value, "hours_per_month": float(rng.randint(*hours_by[service])), "funder": funder.value}
        for service in chosen
    ]


def add_care_plans(ctx: Context) -> None:
    rng = ctx.rng
    data = ctx.builder.data
    start = ctx.start
    households = {h["id"]: h for h in data.household}
    ages = {r["id"]: age_on(r["birth_date"], start) for r in data.resident}
    home = [r for r in data.resident if r["status"] == "active"]
    meal_residents = {
        r["id"]
        for r in weighted_sample(
            rng, home, [_meal_weight(r, ages[r["id"]]) for r in home], round(MEAL_PLAN_SHARE * len(data.resident))
        )
    }
    service_residents = {
        r["id"]
        for r in weighted_sample(
            rng, home, [_service_weight(r, ages[r["id"]]) for r in home], round(SERVICE_SHARE * len(home))
        )
    }
    assessments = {a["resident_id"]: a for a in data.assessment}  # the latest (appended last) per resident
    points = _MealPoints(ctx)
    tiers = (CareTier.HIGH_RISK.value, CareTier.KEY.value, CareTier.REGULAR.value)
    for resident in data.resident:
        rid = resident["id"]
        age = ages[rid]
        cats = set(resident["categories"])
        proposed, reasons = proposed_tier(cats, resident["capability_level"], age)
        tier, override = proposed.value, None
        if rng.random() < OVERRIDE_SHARE:
            options = [(chosen, reason) for (p, chosen), reason in OVERRIDE_REASONS.items() if p == proposed.value]
            if options:
                tier, override = rng.choice(options)
        assert tier in tiers
        resident["care_tier"] = tier
        assessment = assessments[rid]
        valid_from = min(assessment["assessed_on"] + timedelta(days=rng.randint(1, 10)), start - timedelta(days=1))
        community_id = households[resident["household_id"]]["area_id"]
        meals = _meal_plan(ctx, points, resident, community_id, age) if rid in meal_residents else []
        services = _services(rng, resident, age) if rid in service_residents else []
        subsidy, basis = 0, None
        if C.EXTREME_POVERTY in cats:
            full, label = CARE_SUBSIDY_FEN[resident["capability_level"]]
            subsidy = round(full * DISPERSED_SHARE)
            basis = f"特困人员照料护理补贴:{label} ¥{full // 100:,}/月,分散供养 {DISPERSED_SHARE:.0%}"
        created = datetime.combine(valid_from, time(10), tzinfo=LOCAL_TIMEZONE)
        data.care_plan.append(
            {
                "id": len(data.care_plan) + 1,
                "resident_id": rid,
                "version": 1,
                "valid_from": valid_from,
                "valid_to": None,
                "visit_tier": tier,
                "proposed_tier": proposed.value,
                "tier_reasons": [str(reason) for reason in reasons],
                "override_reason": override,
                "assessment_id": assessment["id"],
                "meals": meals,
                "services": services,
                "subsidy_monthly_fen": subsidy,
                "subsidy_basis": basis,
                "notes": None,
                "created_at": created.astimezone(UTC),
                "created_by": None,
            }
        )


__all__ = ["assessment_items", "domain_scores"]
