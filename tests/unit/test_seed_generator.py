"""Pure tests of the demo-data generator (no database): sizes, proportions, consistency, determinism."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine

from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.mqtt_auth import verify_password as verify_device_password
from eldercare_common.settings import DEMO_DEVICE_SECRET, DEMO_SPARE_DEVICE_SERIAL
from eldercare_platform.core.clock import FixedClock, age_on
from eldercare_platform.core.security import verify_password
from eldercare_platform.devices.models import DeviceKind
from eldercare_platform.facilities.models import CareCenterKind
from eldercare_platform.residents.models import CapabilityLevel, ResidentCategory
from eldercare_platform.roster.models import StaffRole
from eldercare_platform.seed.generator import (
    DEMO_PASSWORD,
    DEMO_USERS,
    TABLE_ORDER,
    DemoData,
    Row,
    generate,
    id_number_check_digit,
    is_valid_id_number,
    today_in_shanghai,
)

START = date(2025, 6, 2)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def small() -> DemoData:
    return generate(1_000, seed=11, start_date=START)


@pytest.fixture(scope="module")
def medium() -> DemoData:
    return generate(5_000, seed=12, start_date=START)


def _by_id(rows: list[Row]) -> dict[int, Row]:
    return {row["id"]: row for row in rows}


def _share(count: int, total: int) -> float:
    return count / total


# --- sizes and structure ---------------------------------------------------------------------------


def test_counts_for_1000_residents(small: DemoData) -> None:
    assert len(small.resident) == 1_000
    assert len(small.household) == round(1_000 / 1.3)
    sizes = Counter(Counter(r["household_id"] for r in small.resident).values())
    assert set(sizes) == {1, 2}
    assert sizes[1] + 2 * sizes[2] == 1_000
    assert len(small.care_center) == 3
    assert {c["kind"] for c in small.care_center} == {k.value for k in CareCenterKind}
    assert 2 <= len(small.institution) <= 3
    named = small.app_user[: len(DEMO_USERS)]
    assert [u["username"] for u in named] == [name for name, _, _ in DEMO_USERS]
    assert [u["role"] for u in named] == [role for _, role, _ in DEMO_USERS]
    assert small.counts() == {name: len(getattr(small, name)) for name in TABLE_ORDER}


def test_one_alarm_unit_per_household_owned_by_the_household(small: DemoData) -> None:
    first_resident: dict[int, int] = {}
    for resident in small.resident:
        first_resident.setdefault(resident["household_id"], resident["id"])
    alarm_units = [
        d
        for d in small.device
        if d["kind"] == DeviceKind.HOME_ALARM_UNIT.value and d["serial"] != DEMO_SPARE_DEVICE_SERIAL
    ]
    assert sorted(d["household_id"] for d in alarm_units) == sorted(h["id"] for h in small.household)
    for unit in alarm_units:
        assert unit["resident_id"] == first_resident[unit["household_id"]]
        assert unit["care_center_id"] is None and unit["institution_id"] is None


def test_one_spare_unit_on_the_first_care_centers_shelf(small: DemoData) -> None:
    """The unit a person presses by hand: last, owned by the first care center, no resident."""
    spares = [d for d in small.device if d["serial"] == DEMO_SPARE_DEVICE_SERIAL]
    assert spares == [small.device[-1]]
    (spare,) = spares
    assert spare["kind"] == DeviceKind.HOME_ALARM_UNIT.value and spare["state"] == "active"
    assert spare["care_center_id"] == small.care_center[0]["id"]
    assert spare["household_id"] is None and spare["resident_id"] is None
    (credential,) = [c for c in small.device_credential if c["device_id"] == spare["id"]]
    assert credential["username"] == DEMO_SPARE_DEVICE_SERIAL
    assert verify_device_password(
        demo_device_password(spare["serial"], DEMO_DEVICE_SECRET), credential["password_hash"]
    )


def test_care_center_terminals(small: DemoData) -> None:
    expected = {
        "vitals_monitor": 2,
        "smart_mattress": 2,
        "checkin_terminal": 1,
        "room_sensor": 2,
        "canteen_checkin": 1,
        "camera": 2,
    }
    for center in small.care_center:
        kinds = Counter(
            d["kind"]
            for d in small.device
            if d["care_center_id"] == center["id"] and d["serial"] != DEMO_SPARE_DEVICE_SERIAL
        )
        assert dict(kinds) == expected


def test_ids_start_at_one_and_are_consecutive(small: DemoData) -> None:
    for name, rows in small.tables():
        assert [row["id"] for row in rows] == list(range(1, len(rows) + 1)), name
        assert len({tuple(row) for row in rows}) == 1, f"{name}: every row has the same columns"


def test_foreign_keys_point_at_existing_rows(small: DemoData) -> None:
    areas = _by_id(small.area)
    communities = {a["id"] for a in small.area if a["level"] == "community"}
    households = _by_id(small.household)
    residents = _by_id(small.resident)
    staff = _by_id(small.staff)
    centers = _by_id(small.care_center)
    institutions = _by_id(small.institution)
    for table in (small.care_center, small.meal_point, small.institution, small.household):
        assert all(row["area_id"] in communities for row in table)
    assert all(r["household_id"] in households for r in small.resident)
    assert all(c["resident_id"] in residents for c in small.emergency_contact)
    for device in small.device:
        owners = [device["household_id"], device["care_center_id"], device["institution_id"]]
        assert sum(owner is not None for owner in owners) == 1
        assert device["household_id"] is None or device["household_id"] in households
        assert device["care_center_id"] is None or device["care_center_id"] in centers
        assert (
            device["resident_id"] is None or residents[device["resident_id"]]["household_id"] == device["household_id"]
        )
    assert all(s["home_area_id"] in areas for s in small.staff)
    assert all(s["care_center_id"] is None or s["care_center_id"] in centers for s in small.staff)
    assert all(s["institution_id"] is None or s["institution_id"] in institutions for s in small.staff)
    assert all(s["staff_id"] in staff for s in small.shift)
    patterns = _by_id(small.shift_pattern)
    assert all(p["staff_id"] in staff for p in small.shift_pattern)
    assert all(patterns[s["pattern_id"]]["staff_id"] == s["staff_id"] for s in small.shift)
    assessments = _by_id(small.assessment)
    assert all(a["resident_id"] in residents for a in small.assessment)
    assert all(a["assessor_staff_id"] is None or a["assessor_staff_id"] in staff for a in small.assessment)
    assert all(assessments[p["assessment_id"]]["resident_id"] == p["resident_id"] for p in small.care_plan)
    for user in small.app_user:
        assert user["scope_area_id"] is None or user["scope_area_id"] in areas
        assert user["staff_id"] is None or user["staff_id"] in staff
        if user["role"] == "supervisor":
            assert (user["scope_area_id"] is None) != (user["scope_institution_id"] is None)


def test_area_tree(small: DemoData) -> None:
    areas = _by_id(small.area)
    levels = Counter(a["level"] for a in small.area)
    assert levels["city"] == 1 and levels["district"] == 1
    assert 3 <= levels["street"] <= 12
    assert areas[1]["code"] == "3204" and areas[1]["name"] == "常州市"
    assert areas[2]["code"] == "320402" and areas[2]["name"] == "天宁区"
    for area in small.area:
        parent = areas.get(area["parent_id"]) if area["parent_id"] else None
        assert area["path"] == (parent["path"] if parent else "/") + f"{area['id']}/"
        if area["level"] == "community":
            assert re.fullmatch(r"320402\d{6}", area["code"])
            assert area["code"].startswith(areas[area["parent_id"]]["code"])
            assert area["name"].endswith("社区")
    per_street = Counter(a["parent_id"] for a in small.area if a["level"] == "community")
    assert all(4 <= n <= 8 for n in per_street.values())
    assert len({a["code"] for a in small.area}) == len(small.area)


def test_devices_serials_and_credentials(small: DemoData) -> None:
    prefixes = {
        "home_alarm_unit": "HA",
        "fall_detector": "FD",
        "smoke_sensor": "SM",
        "gas_sensor": "GS",
        "water_sensor": "WL",
        "door_contact": "DC",
        "vitals_monitor": "VM",
        "smart_mattress": "MT",
        "checkin_terminal": "CK",
        "room_sensor": "RS",
        "canteen_checkin": "CT",
        "camera": "CM",
    }
    for device in small.device:
        assert re.fullmatch(prefixes[device["kind"]] + r"\d{7}", device["serial"])
        assert device["credential_ref"] == f"mqtt:{device['serial']}"
        assert device["heartbeat_interval_s"] == 60
    assert len({d["serial"] for d in small.device}) == len(small.device)
    devices = _by_id(small.device)
    assert [c["device_id"] for c in small.device_credential] == [d["id"] for d in small.device]
    for credential in small.device_credential[:: max(1, len(small.device_credential) // 40)]:
        serial = devices[credential["device_id"]]["serial"]
        assert credential["username"] == serial
        assert verify_device_password(demo_device_password(serial, DEMO_DEVICE_SECRET), credential["password_hash"])
        assert not verify_device_password("wrong-password", credential["password_hash"])


def test_demo_users_log_in_with_the_demo_password(small: DemoData) -> None:
    admin = small.app_user[0]
    assert verify_password(DEMO_PASSWORD, admin["password_hash"])
    assert not verify_password("not-the-password", admin["password_hash"])
    named = small.app_user[: len(DEMO_USERS)]
    assert len({u["password_hash"] for u in named}) == len(named), "per-user salts"
    users = {u["username"]: u for u in small.app_user}
    first_caregiver = next(s for s in small.staff if s["role"] == StaffRole.CAREGIVER.value)
    assert users["caregiver1"]["staff_id"] == first_caregiver["id"]
    assert users["supervisor_district"]["scope_area_id"] == 2
    assert users["supervisor_home"]["scope_institution_id"] == small.institution[0]["id"]


def test_every_caregiver_has_an_account_in_staff_id_order(small: DemoData) -> None:
    caregivers = sorted(s["id"] for s in small.staff if s["role"] == StaffRole.CAREGIVER.value)
    accounts = {u["username"]: u for u in small.app_user if u["role"] == "caregiver"}
    assert [accounts[f"caregiver{n}"]["staff_id"] for n in range(1, len(caregivers) + 1)] == caregivers
    assert len(accounts) == len(caregivers)
    assert all(u["scope_area_id"] is None and u["scope_institution_id"] is None for u in accounts.values())
    team = [accounts[f"caregiver{n}"] for n in range(2, len(caregivers) + 1)]
    assert len({u["password_hash"] for u in team}) == 1, "the team shares one salt: one Argon2 hash for all"
    assert verify_password(DEMO_PASSWORD, team[-1]["password_hash"])
    ids = [u["id"] for u in small.app_user]
    assert ids == list(range(1, len(ids) + 1))


def test_staff_numbers(small: DemoData, medium: DemoData) -> None:
    for data in (small, medium):
        roles = Counter(s["role"] for s in data.staff)
        streets = sum(a["level"] == "street" for a in data.area)
        communities = sum(a["level"] == "community" for a in data.area)
        assert roles["caregiver"] == max(10, round(len(data.resident) / 100))
        assert roles["social_worker"] == 2 * streets
        assert roles["coordinator"] == communities
        assert roles["operator"] == 8
        assert roles["nurse"] > 0 and roles["volunteer"] > 0
    caregivers = [s for s in medium.staff if s["role"] == "caregiver"]
    holders = {c["staff_id"] for c in medium.staff_certification if c["name"] == "养老护理员职业技能等级证书"}
    certified = [s for s in caregivers if s["id"] in holders]
    assert 0.55 <= _share(len(certified), len(caregivers)) <= 0.85
    for certificate in (c for c in medium.staff_certification if c["staff_id"] == certified[0]["id"]):
        assert set(certificate) >= {"name", "level", "number", "expires_on"}
        assert date.fromisoformat(certificate["expires_on"]) > START
    assert all(s["home_area_id"] == 2 for s in medium.staff if s["role"] == "operator")


# --- proportions and consistency (5,000 residents) --------------------------------------------------


def test_age_distribution_and_advanced_age(medium: DemoData) -> None:
    ages = [age_on(r["birth_date"], START) for r in medium.resident]
    assert min(ages) >= 60 and max(ages) <= 100
    assert 0.25 <= _share(sum(a >= 80 for a in ages), len(ages)) <= 0.31
    for resident, age in zip(medium.resident, ages, strict=True):
        assert (ResidentCategory.ADVANCED_AGE.value in resident["categories"]) == (age >= 80)


def test_category_shares(medium: DemoData) -> None:
    total = len(medium.resident)
    counts = Counter(c for r in medium.resident for c in r["categories"])
    assert set(counts) <= {c.value for c in ResidentCategory}
    expected = {
        "living_alone": 0.25,
        "empty_nest": 0.40,
        "disabled": 0.08,
        "semi_disabled": 0.12,
        "dementia": 0.05,
        "minimum_income": 0.05,
        "left_behind": 0.05,
        "marginal_income": 0.03,
        "extreme_poverty": 0.02,
        "lost_only_child": 0.01,
    }
    for category, share in expected.items():
        tolerance = 5 * (share * (1 - share) / total) ** 0.5 + 0.003  # ≈5 standard errors
        assert abs(_share(counts[category], total) - share) <= tolerance, category
    for resident in medium.resident:
        cats = set(resident["categories"])
        assert not {"disabled", "semi_disabled"} <= cats
        assert len(cats & {"extreme_poverty", "minimum_income", "marginal_income"}) <= 1
        assert resident["categories"] == sorted(set(resident["categories"]), key=list(ResidentCategory).index)


def test_living_alone_only_in_single_person_households(medium: DemoData) -> None:
    sizes = Counter(r["household_id"] for r in medium.resident)
    alone = [r for r in medium.resident if "living_alone" in r["categories"]]
    assert alone
    assert all(sizes[r["household_id"]] == 1 for r in alone)


def test_capability_levels(medium: DemoData) -> None:
    total = len(medium.resident)
    levels = Counter(r["capability_level"] for r in medium.resident)
    assert set(levels) <= {level.value for level in CapabilityLevel}
    targets = {
        "intact": (0.55, 0.68),
        "mild": (0.16, 0.24),
        "moderate": (0.07, 0.13),
        "severe": (0.03, 0.08),
        "total": (0.015, 0.06),
    }
    for level, (low, high) in targets.items():
        assert low <= _share(levels[level], total) <= high, level
    for resident in medium.resident:
        cats, level = resident["categories"], resident["capability_level"]
        if "disabled" in cats:
            assert level in ("severe", "total")
        elif "semi_disabled" in cats:
            assert level in ("mild", "moderate")
        else:
            assert level not in ("severe", "total")
        assert START - timedelta(days=300) <= resident["capability_assessed_on"] < START
    recent = sum(r["capability_assessed_on"] >= START - timedelta(days=183) for r in medium.resident)
    assert 0.93 <= _share(recent, total) <= 0.97, "≈5% are overdue for their six-monthly reassessment"


def test_care_tier_rule(medium: DemoData) -> None:
    plans = {p["resident_id"]: p for p in medium.care_plan}
    tiers: Counter[str] = Counter()
    for resident in medium.resident:
        cats = set(resident["categories"])
        level = resident["capability_level"]
        alone = cats & {"living_alone", "extreme_poverty", "lost_only_child"}
        frail = cats & {"disabled", "semi_disabled", "dementia"} or level in ("moderate", "severe", "total")
        partner = "empty_nest" in cats and (cats & {"disabled", "dementia"} or level in ("severe", "total"))
        old = age_on(resident["birth_date"], START) >= 80
        if level in ("severe", "total") or (alone and frail) or partner:
            expected = "high_risk"  # the platform's rule (care_plans/rules.py), restated here
        elif (
            cats & {"extreme_poverty", "minimum_income", "marginal_income", "lost_only_child", "left_behind"}
            or cats & {"disabled", "semi_disabled", "dementia"}
            or (old and cats & {"living_alone", "empty_nest"})
            or level in ("moderate", "severe", "total")
        ):
            expected = "key"
        else:
            expected = "regular"
        plan = plans[resident["id"]]
        assert plan["proposed_tier"] == expected
        assert resident["care_tier"] == plan["visit_tier"], "the resident's tier is the plan's"
        assert (plan["visit_tier"] == expected) == (plan["override_reason"] is None)
        tiers[plan["visit_tier"]] += 1
    total = len(medium.resident)
    assert 0.10 <= _share(tiers["high_risk"], total) <= 0.16
    assert 0.30 <= _share(tiers["key"], total) <= 0.40
    overrides = sum(p["override_reason"] is not None for p in medium.care_plan)
    assert 0.01 <= _share(overrides, total) <= 0.05


def test_id_numbers_are_valid_and_match_birth_date_and_gender(medium: DemoData) -> None:
    assert id_number_check_digit("11010519491231002") == "X"  # GB 11643 example
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")
    numbers = [r["id_number"] for r in medium.resident]
    assert len(set(numbers)) == len(numbers)
    for resident in medium.resident:
        number = resident["id_number"]
        assert re.fullmatch(r"320402\d{11}[\dX]", number)
        assert is_valid_id_number(number)
        assert number[6:14] == resident["birth_date"].strftime("%Y%m%d")
        assert int(number[16]) % 2 == (1 if resident["gender"] == "male" else 0)


def test_health_conditions_and_consent(medium: DemoData) -> None:
    total = len(medium.resident)
    for resident in medium.resident:
        assert ("阿尔茨海默病" in resident["health_conditions"]) == ("dementia" in resident["categories"])
        assert len(set(resident["health_conditions"])) == len(resident["health_conditions"])
        assert resident["status"] == "active"
        assert resident["consent_recorded_at"] is not None and resident["consent_recorded_at"].tzinfo is not None
    hypertension = sum("高血压" in r["health_conditions"] for r in medium.resident)
    assert 0.4 <= _share(hypertension, total) <= 0.7
    assert _share(sum(r["consent_data_processing"] for r in medium.resident), total) > 0.9


def test_emergency_contacts_and_keyholders(medium: DemoData) -> None:
    per_resident = Counter(c["resident_id"] for c in medium.emergency_contact)
    assert set(per_resident) == {r["id"] for r in medium.resident}
    assert set(per_resident.values()) <= {1, 2, 3}
    by_resident: dict[int, list[Row]] = {}
    for contact in medium.emergency_contact:
        by_resident.setdefault(contact["resident_id"], []).append(contact)
    for contacts in by_resident.values():
        assert [c["priority"] for c in contacts] == list(range(1, len(contacts) + 1))
    relations = {c["relation"] for c in medium.emergency_contact}
    assert relations <= {"儿子", "女儿", "配偶", "侄子", "侄女", "邻居", "网格员"}
    residents = _by_id(medium.resident)
    for contact in medium.emergency_contact:
        if "lost_only_child" in residents[contact["resident_id"]]["categories"]:
            assert contact["relation"] not in ("儿子", "女儿")
    keyholder_households = {
        residents[c["resident_id"]]["household_id"] for c in medium.emergency_contact if c["is_keyholder"]
    }
    assert 0.55 <= _share(len(keyholder_households), len(medium.household)) <= 0.65


def test_home_sensors_and_fall_detectors(medium: DemoData) -> None:
    households = len(medium.household)
    kinds = Counter(d["kind"] for d in medium.device)
    shares = {
        "fall_detector": 0.10,
        "smoke_sensor": 0.20,
        "gas_sensor": 0.10,
        "water_sensor": 0.03,
        "door_contact": 0.05,
    }
    for kind, share in shares.items():
        assert abs(_share(kinds[kind], households) - share) <= 0.01, kind
    residents = _by_id(medium.resident)
    wearers = [residents[d["resident_id"]] for d in medium.device if d["kind"] == "fall_detector"]
    frail = sum(bool({"disabled", "advanced_age"} & set(r["categories"])) for r in wearers)
    assert _share(frail, len(wearers)) >= 0.8


def test_households_have_addresses_and_coordinates(medium: DemoData) -> None:
    addresses = [h["address"] for h in medium.household]
    assert len(set(addresses)) == len(addresses)
    assert all(a.startswith("天宁区") and "街道" in a and "社区" in a and a.endswith(("室", "号")) for a in addresses)
    assert all(31.6 < h["latitude"] < 31.95 and 119.8 < h["longitude"] < 120.15 for h in medium.household)
    assert 0.1 <= _share(sum(h["access_notes"] is not None for h in medium.household), len(addresses)) <= 0.35


# --- shifts ---------------------------------------------------------------------------------------


def test_operators_cover_every_hour_of_the_week_in_three_shifts(small: DemoData) -> None:
    operators = {s["id"] for s in small.staff if s["role"] == StaffRole.OPERATOR.value}
    shifts = [s for s in small.shift if s["staff_id"] in operators]
    for shift in shifts:
        assert shift["starts_at"].utcoffset() == timedelta(0)
        assert shift["ends_at"] - shift["starts_at"] == timedelta(hours=8)
        assert shift["starts_at"].astimezone(SHANGHAI).time() in (time(0), time(8), time(16))
    week_start = datetime.combine(START, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    for hour in range(7 * 24):
        begin = week_start + timedelta(hours=hour)
        on_duty = {
            s["staff_id"] for s in shifts if s["starts_at"] <= begin and s["ends_at"] >= begin + timedelta(hours=1)
        }
        minimum = 1 if (begin.astimezone(SHANGHAI).hour < 8) else 2  # two at night on three nights of seven
        assert len(on_duty) >= minimum, f"hour {hour} has {len(on_duty)} operators"
    for operator in operators:
        own = sorted((s["starts_at"], s["ends_at"]) for s in shifts if s["staff_id"] == operator)
        assert all(a[1] <= b[0] for a, b in pairwise(own)), "no overlapping shifts"
        assert len({start.astimezone(SHANGHAI).date() for start, _ in own if start >= week_start}) == 5


def test_shifts_are_the_patterns_own(small: DemoData) -> None:
    patterns = _by_id(small.shift_pattern)
    assert {s["staff_id"] for s in small.shift_pattern} == {s["id"] for s in small.staff}, "everyone has a pattern"
    assert len({(s["staff_id"], s["starts_at"]) for s in small.shift}) == len(small.shift), "unique per start"
    for shift in small.shift:
        pattern = patterns[shift["pattern_id"]]
        local_start, local_end = (shift[k].astimezone(SHANGHAI) for k in ("starts_at", "ends_at"))
        assert shift["staff_id"] == pattern["staff_id"]
        assert local_start.isoweekday() in pattern["weekdays"]
        assert (local_start.time(), local_end.time()) == (pattern["start_time"], pattern["end_time"])
        assert shift["on_call"] == pattern["on_call"]
        assert START - timedelta(days=1) <= local_start.date() < START + timedelta(days=7)
    for pattern in small.shift_pattern:
        assert set(pattern["weekdays"]) <= set(range(1, 8)) and pattern["weekdays"]
        assert pattern["valid_from"] < START and pattern["valid_to"] is None


def test_caregivers_cover_days_evenings_and_on_call_nights(small: DemoData) -> None:
    caregivers = {s["id"] for s in small.staff if s["role"] == StaffRole.CAREGIVER.value}
    patterns = [p for p in small.shift_pattern if p["staff_id"] in caregivers]
    hours = Counter((p["start_time"], p["end_time"], p["on_call"]) for p in patterns)
    assert set(hours) == {(time(8), time(17), False), (time(16), time(22), False), (time(20), time(8), True)}
    assert any(6 in p["weekdays"] and 7 in p["weekdays"] for p in patterns if p["start_time"] == time(8))
    for day in range(7):
        night = START + timedelta(days=day)
        on_call = [
            s
            for s in small.shift
            if s["staff_id"] in caregivers and s["on_call"] and s["starts_at"].astimezone(SHANGHAI).date() == night
        ]
        assert on_call, f"a caregiver on call the night of {night}"
        assert all(s["ends_at"] - s["starts_at"] == timedelta(hours=12) for s in on_call)
    volunteers = {s["id"] for s in small.staff if s["role"] == StaffRole.VOLUNTEER.value}
    part_time = [p for p in small.shift_pattern if p["staff_id"] in volunteers]
    assert part_time and all(2 <= len(p["weekdays"]) <= 3 for p in part_time)


# --- determinism and limits -------------------------------------------------------------------------


def test_same_seed_gives_identical_data(small: DemoData) -> None:
    again = generate(1_000, seed=11, start_date=START)
    assert again == small
    assert again.counts() == small.counts()


def test_different_seed_gives_different_data(small: DemoData) -> None:
    other = generate(1_000, seed=12, start_date=START)
    assert [r["name"] for r in other.resident] != [r["name"] for r in small.resident]
    assert [r["id_number"] for r in other.resident] != [r["id_number"] for r in small.resident]
    assert [d["password_hash"] for d in other.device_credential[:10]] != [
        d["password_hash"] for d in small.device_credential[:10]
    ]


@pytest.mark.time_sensitive
def test_default_start_date_is_today_in_shanghai() -> None:
    # 16:00 UTC on 7 March is already 8 March in Shanghai; the process clock is pinned there.
    with time_machine.travel(datetime(2030, 3, 7, 16, 0, tzinfo=UTC), tick=False):
        data = generate(1_000, seed=3)
    assert data.start_date == date(2030, 3, 8)
    assert today_in_shanghai(FixedClock(datetime(2030, 3, 7, 15, 59, tzinfo=UTC))) == date(2030, 3, 7)
    first_day = min(s["starts_at"] for s in data.shift if s["starts_at"].astimezone(SHANGHAI).hour == 8)
    assert first_day.astimezone(SHANGHAI).date() == data.start_date


@pytest.mark.parametrize("residents", [0, 999, 50_001, 1_000_000])
def test_size_limits(residents: int) -> None:
    with pytest.raises(ValueError, match="between 1,000 and 50,000"):
        generate(residents, seed=1, start_date=START)


def test_street_count_scales_with_size(small: DemoData, medium: DemoData) -> None:
    def streets(data: DemoData) -> int:
        return sum(a["level"] == "street" for a in data.area)

    assert streets(small) == 3
    assert streets(small) < streets(medium) <= 12
