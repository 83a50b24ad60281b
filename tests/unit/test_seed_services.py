"""Pure tests of the services' part of the demo data: assessments, care plans, meal points, the roster's details."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from eldercare_platform.care_plans.schemas import MealPlanEntry, ServiceEntitlement
from eldercare_platform.core.clock import age_on
from eldercare_platform.roster.models import StaffRole
from eldercare_platform.seed.generator import DEMO_USERS, DemoData, Row, generate
from eldercare_platform.seed.plans import assessment_items, domain_scores
from eldercare_platform.seed.rules import ASSESSMENT_ITEMS, LEVEL_BANDS, MAX_TOTAL, add_months

START = date(2025, 6, 2)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(5_000, seed=21, start_date=START)


def _by_id(rows: list[Row]) -> dict[int, Row]:
    return {row["id"]: row for row in rows}


# --- assessments -------------------------------------------------------------------------------------------


def test_the_item_catalogue_has_26_items_and_90_points() -> None:
    items = [item for rows in ASSESSMENT_ITEMS.values() for item in rows]
    assert len(items) == 26
    assert [len(rows) for rows in ASSESSMENT_ITEMS.values()] == [8, 4, 9, 5]
    assert sum(maximum for _, _, maximum in items) == MAX_TOTAL == 90
    assert LEVEL_BANDS == {
        "intact": (90, 90),
        "mild": (66, 89),
        "moderate": (46, 65),
        "severe": (30, 45),
        "total": (0, 29),
    }


@pytest.mark.parametrize("total", [0, 1, 29, 45, 66, 89, 90])
def test_items_add_up_to_the_total(total: int) -> None:
    import random

    weights = dict.fromkeys(ASSESSMENT_ITEMS, 1.0)
    items = assessment_items(random.Random(total), total, weights)
    maxima = {code: maximum for rows in ASSESSMENT_ITEMS.values() for code, _, maximum in rows}
    assert set(items) == set(maxima)
    assert all(0 <= items[code] <= maxima[code] for code in items)
    assert sum(items.values()) == total == sum(domain_scores(items).values())


def test_every_resident_s_latest_assessment_is_in_the_band_of_their_level(data: DemoData) -> None:
    residents = _by_id(data.resident)
    staff = _by_id(data.staff)
    history: dict[int, list[Row]] = {}
    for assessment in data.assessment:
        history.setdefault(assessment["resident_id"], []).append(assessment)
        low, high = LEVEL_BANDS[assessment["level"]]
        assert low <= assessment["total_score"] <= high
        assert sum(assessment["items"].values()) == assessment["total_score"]
        assert assessment["domain_scores"] == domain_scores(assessment["items"])
        assert assessment["reason"] in ("initial", "periodic")
        assert assessment["assessor_staff_id"] is None or staff[assessment["assessor_staff_id"]]["role"] == "nurse"
    assert sorted(history) == sorted(residents)
    levels = list(LEVEL_BANDS)
    for rid, rows in history.items():
        resident = residents[rid]
        latest = rows[-1]
        assert [r["assessed_on"] for r in rows] == sorted(r["assessed_on"] for r in rows), "ids follow dates"
        assert latest["level"] == resident["capability_level"]
        assert latest["assessed_on"] == resident["capability_assessed_on"] < START
        assert resident["reassessment_due_on"] == add_months(latest["assessed_on"], 6)
        if len(rows) == 2:
            assert latest["reason"] == "periodic"
            assert levels.index(rows[0]["level"]) in (levels.index(latest["level"]) - 1, levels.index(latest["level"]))
    with_history = sum(len(rows) == 2 for rows in history.values())
    assert 0.5 <= with_history / len(residents) <= 0.95
    overdue = sum(r["reassessment_due_on"] < START for r in data.resident)
    assert 0.04 <= overdue / len(data.resident) <= 0.06


def test_dementia_costs_mental_state_points_first(data: DemoData) -> None:
    residents = _by_id(data.resident)
    lost: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    maxima = {domain: sum(m for _, _, m in rows) for domain, rows in ASSESSMENT_ITEMS.items()}
    for assessment in data.assessment:
        cats = residents[assessment["resident_id"]]["categories"]
        for domain, score in assessment["domain_scores"].items():
            lost["dementia" in cats][domain] += maxima[domain] - score
    assert lost[True]["mental"] > lost[True]["mobility"]
    assert lost[False]["self_care"] > lost[False]["mental"]


# --- care plans --------------------------------------------------------------------------------------------


def test_one_open_plan_per_resident_valid_before_the_start(data: DemoData) -> None:
    assessments = _by_id(data.assessment)
    newest: dict[int, date] = {}
    for assessment in data.assessment:
        rid = assessment["resident_id"]
        newest[rid] = max(assessment["assessed_on"], newest.get(rid, date.min))
    assert sorted(p["resident_id"] for p in data.care_plan) == sorted(r["id"] for r in data.resident)
    for plan in data.care_plan:
        assert plan["version"] == 1 and plan["valid_to"] is None
        assert plan["valid_from"] < START
        latest = assessments[plan["assessment_id"]]
        assert latest["resident_id"] == plan["resident_id"]
        assert latest["assessed_on"] == newest[plan["resident_id"]]
        assert plan["visit_tier"] == plan["proposed_tier"] or plan["override_reason"]


def test_meal_plans_for_a_quarter_of_residents_at_their_street_s_meal_points(data: DemoData) -> None:
    points = _by_id(data.meal_point)
    street = {a["id"]: a["parent_id"] for a in data.area}
    community = {h["id"]: h["area_id"] for h in data.household}
    residents = _by_id(data.resident)
    with_meals = [p for p in data.care_plan if p["meals"]]
    assert abs(len(with_meals) / len(data.care_plan) - 0.25) < 0.01
    modes: Counter[str] = Counter()
    meals: Counter[str] = Counter()
    booked: Counter[tuple[int, str]] = Counter()
    for plan in with_meals:
        home = community[residents[plan["resident_id"]]["household_id"]]
        for raw in plan["meals"]:
            entry = MealPlanEntry.model_validate(raw)
            point = points[entry.meal_point_id]
            assert street[point["area_id"]] == street[home], "a meal point of the resident's street"
            if entry.mode == "delivery":
                assert point["delivers"]
            if entry.mode == "dine_in":
                assert point["kind"] != "meal_truck"
            booked[(point["id"], entry.meal)] += 1
            meals[entry.meal] += 1
        modes[plan["meals"][0]["mode"]] += 1
    assert all(count <= points[point_id]["capacity_per_meal"] for (point_id, _), count in booked.items())
    shares = {mode: count / len(with_meals) for mode, count in modes.items()}
    assert 0.32 <= shares["dine_in"] <= 0.48 and 0.14 <= shares["pick_up"] <= 0.26
    assert 0.32 <= shares["delivery"] <= 0.48
    assert meals["lunch"] > 3 * meals["dinner"] > 0
    weekday_only = sum(p["meals"][0]["days"] == [1, 2, 3, 4, 5] for p in with_meals)
    assert weekday_only / len(with_meals) > 0.6
    diets = Counter(d for p in with_meals for d in p["meals"][0]["diet"])
    assert {"低盐", "低糖", "软食"} <= set(diets)


def test_meal_point_capacities(data: DemoData) -> None:
    for point in data.meal_point:
        low, high = {"canteen": (60, 150), "meal_point": (20, 60), "meal_truck": (40, 40)}[point["kind"]]
        assert low <= point["capacity_per_meal"] <= high, point["name"]
        assert point["daily_capacity"] >= point["capacity_per_meal"]
    assert len({p["name"] for p in data.meal_point}) == len(data.meal_point)


def test_purchased_services_for_18_percent_funded_by_category(data: DemoData) -> None:
    residents = _by_id(data.resident)
    with_services = [p for p in data.care_plan if p["services"]]
    home = [r for r in data.resident if r["status"] == "active"]
    assert abs(len(with_services) / len(home) - 0.18) < 0.005
    funders: Counter[str] = Counter()
    for plan in with_services:
        resident = residents[plan["resident_id"]]
        eligible = bool(set(resident["categories"]) & {"extreme_poverty", "minimum_income"}) or (
            age_on(resident["birth_date"], START) >= 80
        )
        entries = [ServiceEntitlement.model_validate(raw) for raw in plan["services"]]
        assert len({e.service for e in entries}) == len(entries)
        assert all(2 <= e.hours_per_month <= 12 for e in entries)
        if not eligible:
            assert all(e.funder == "self_paid" for e in entries)
        funders.update(e.funder for e in entries)
    assert funders["government"] > 0 and funders["self_paid"] > 0


def test_care_subsidy_only_for_extreme_poverty_by_level(data: DemoData) -> None:
    residents = _by_id(data.resident)
    full = {"total": 165_600, "severe": 165_600, "moderate": 82_800, "mild": 41_400, "intact": 20_700}
    subsidised = 0
    for plan in data.care_plan:
        resident = residents[plan["resident_id"]]
        if "extreme_poverty" in resident["categories"]:
            assert plan["subsidy_monthly_fen"] == full[resident["capability_level"]] // 2, "dispersed support: 50%"
            assert plan["subsidy_basis"]
            subsidised += 1
        else:
            assert plan["subsidy_monthly_fen"] == 0 and plan["subsidy_basis"] is None
    assert subsidised > 0


# --- the roster's details and the coordinator ---------------------------------------------------------------


def test_staff_home_bases_travel_modes_and_task_limits(data: DemoData) -> None:
    modes = Counter(s["travel_mode"] for s in data.staff)
    assert modes["ebike"] > modes["foot"] > modes["car"] > 0
    for staff in data.staff:
        assert 31.6 < staff["home_latitude"] < 31.95 and 119.8 < staff["home_longitude"] < 120.15
        if staff["role"] == StaffRole.CAREGIVER.value:
            assert 6 <= staff["max_tasks_per_shift"] <= 8
        assert 1 <= staff["max_tasks_per_shift"] <= 50


def test_a_few_certificates_expire_soon_and_one_or_two_have_expired(data: DemoData) -> None:
    expiry = [date.fromisoformat(c["expires_on"]) for c in data.staff_certification if c["expires_on"]]
    soon = [d for d in expiry if START <= d <= START + timedelta(days=30)]
    expired = [d for d in expiry if d < START]
    assert 3 <= len(soon) <= 8
    assert 1 <= len(expired) <= 2


def test_coordinator1_has_a_community_with_residents_and_caregivers(data: DemoData) -> None:
    assert ("coordinator1", "coordinator") in [(name, role) for name, role, _ in DEMO_USERS]
    user = next(u for u in data.app_user if u["username"] == "coordinator1")
    assert user["role"] == "coordinator" and user["scope_institution_id"] is None
    community = user["scope_area_id"]
    assert _by_id(data.area)[community]["level"] == "community"
    assert _by_id(data.staff)[user["staff_id"]]["home_area_id"] == community
    households = {h["id"] for h in data.household if h["area_id"] == community}
    assert sum(r["household_id"] in households for r in data.resident) > 50
    caregivers = [s for s in data.staff if s["role"] == "caregiver" and s["home_area_id"] == community]
    assert caregivers


def test_seeded_assessments_read_back_through_the_platform_s_own_scale(data: DemoData) -> None:
    """Every seeded item dict passes the API's validation and scores to the stored totals and level."""
    from eldercare_platform.care_plans.scale import score, validate_items

    for row in data.assessment[:500]:
        assert not validate_items(row["items"]), row["id"]
        result = score(row["items"])
        assert (result.total, str(result.level)) == (row["total_score"], row["level"]), row["id"]
        assert result.domain_scores == row["domain_scores"], row["id"]
