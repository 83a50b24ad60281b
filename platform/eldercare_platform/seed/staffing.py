"""Meal points' capacity per meal and the roster of the demo district: home bases, travel modes, maximum tasks,
certificates about to expire, shift patterns and the first week's shifts (see `services.py`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.roster.models import StaffRole, TravelMode
from eldercare_platform.seed.rules import (
    DAY,
    EVENING,
    EXPIRED_CERTIFICATES,
    EXPIRING_CERTIFICATES,
    MAX_TASKS,
    NIGHT,
    OPERATOR_SHIFTS,
    PART_TIME,
    WEEKDAYS,
    WITH_WEEKEND,
    Context,
    Row,
)

# --- meal points ---------------------------------------------------------------------------------------------


def meal_point_capacity(ctx: Context) -> None:
    """Seats (or portions) per meal: half the daily capacity (lunch and dinner)."""
    for point in ctx.builder.data.meal_point:
        point["capacity_per_meal"] = point["daily_capacity"] // 2


# --- staff ---------------------------------------------------------------------------------------------------


def staff_details(ctx: Context) -> None:
    rng = ctx.rng
    data = ctx.builder.data
    areas = {a["id"]: a for a in ctx.builder.communities + ctx.builder.streets}
    centers = {c["id"]: c for c in data.care_center}
    institutions = {i["id"]: i for i in data.institution}
    district = ctx.builder.streets
    for staff in data.staff:
        if staff["care_center_id"] is not None:
            base = centers[staff["care_center_id"]]
            lat, lon, spread = base["latitude"], base["longitude"], 0.008
        elif staff["institution_id"] is not None:
            base = institutions[staff["institution_id"]]
            lat, lon, spread = base["latitude"], base["longitude"], 0.008
        else:
            area = areas.get(staff["home_area_id"]) or rng.choice(district)
            lat, lon, spread = area["_lat"], area["_lon"], 0.006
        staff["home_latitude"] = round(lat + rng.uniform(-spread, spread), 6)
        staff["home_longitude"] = round(lon + rng.uniform(-spread, spread) * 1.15, 6)
        u = rng.random()
        if staff["role"] == StaffRole.NURSE.value:
            mode = TravelMode.CAR if u < 0.3 else TravelMode.EBIKE
        elif staff["role"] == StaffRole.VOLUNTEER.value:
            mode = TravelMode.FOOT if u < 0.6 else TravelMode.EBIKE
        else:
            mode = TravelMode.EBIKE if u < 0.75 else TravelMode.FOOT if u < 0.92 else TravelMode.CAR
        staff["travel_mode"] = mode.value
        low, high = MAX_TASKS[staff["role"]]
        staff["max_tasks_per_shift"] = rng.randint(low, high)


def certificate_alerts(ctx: Context) -> None:
    """A few certificates expire within 30 days and one or two have expired (the roster's alerts show them)."""
    rng = ctx.rng
    data = ctx.builder.data
    caregivers = {s["id"] for s in data.staff if s["role"] == StaffRole.CAREGIVER.value}
    certificates = [c for c in data.staff_certification if c["staff_id"] in caregivers]
    chosen = rng.sample(certificates, min(len(certificates), EXPIRING_CERTIFICATES + EXPIRED_CERTIFICATES))
    for index, certificate in enumerate(chosen):
        if index < EXPIRING_CERTIFICATES:
            expires = ctx.start + timedelta(days=rng.randint(3, 28))
        else:
            expires = ctx.start - timedelta(days=rng.randint(2, 40))
        certificate["expires_on"] = expires.isoformat()
        certificate["issued_on"] = expires.replace(year=expires.year - 5).isoformat()


def shift_patterns(ctx: Context) -> None:
    """Patterns for every active staff member, then the first week's shifts from them (with `pattern_id`)."""
    rng = ctx.rng
    data = ctx.builder.data
    valid_from = ctx.start - timedelta(days=90)
    patterns: list[Row] = data.shift_pattern

    def pattern(staff_id: int, label: str, days: list[int], hours: tuple[time, time], on_call: bool = False) -> None:
        patterns.append(
            {
                "id": len(patterns) + 1,
                "staff_id": staff_id,
                "label": label,
                "weekdays": days,
                "start_time": hours[0],
                "end_time": hours[1],
                "on_call": on_call,
                "valid_from": valid_from,
                "valid_to": None,
            }
        )

    by_role: dict[str, list[Row]] = defaultdict(list)
    for staff in data.staff:
        by_role[staff["role"]].append(staff)
    # Operators: three 8-hour shifts, five days each; day and evening teams of three, a night team of two
    # (two rest days each, staggered so every shift is covered every day).
    operators = by_role[StaffRole.OPERATOR.value]
    teams = (operators[0:3], operators[3:6], operators[6:])
    labels = ("早班 day", "中班 evening", "夜班 night")
    rests = ((6, 7), (1, 2), (3, 4))
    for team, hours, label in zip(teams, OPERATOR_SHIFTS, labels, strict=True):
        for member, rest in zip(team, rests, strict=False):
            pattern(member["id"], label, [d for d in range(1, 8) if d not in rest], hours)
    # Caregivers: days Monday–Friday for most, a weekend-inclusive week for a quarter, evenings for some;
    # on-call nights in a rota (two per street and at least two, alternating nights).
    caregivers = by_role[StaffRole.CAREGIVER.value]
    for caregiver in caregivers:
        u = rng.random()
        if u < 0.15:
            pattern(caregiver["id"], "晚班 evening", rng.choice((WEEKDAYS, *WITH_WEEKEND)), EVENING)
        elif u < 0.40:
            pattern(caregiver["id"], "白班(含周末) day", rng.choice(WITH_WEEKEND), DAY)
        else:
            pattern(caregiver["id"], "白班 day", WEEKDAYS, DAY)
    rota = rng.sample(caregivers, min(len(caregivers), max(2, 2 * len(ctx.builder.streets))))
    for index, caregiver in enumerate(rota):
        nights = [1, 3, 5, 7] if index % 2 == 0 else [2, 4, 6]
        pattern(caregiver["id"], "夜间备班 on call", nights, NIGHT, on_call=True)
    # Nurses: days, one in two with the weekend; an on-call night a week.
    for index, nurse in enumerate(by_role[StaffRole.NURSE.value]):
        pattern(nurse["id"], "白班 day", WEEKDAYS if index % 2 == 0 else WITH_WEEKEND[0], DAY)
        pattern(nurse["id"], "夜间备班 on call", [index % 7 + 1], NIGHT, on_call=True)
    for staff in by_role[StaffRole.SOCIAL_WORKER.value] + by_role[StaffRole.COORDINATOR.value]:
        pattern(staff["id"], "白班 day", WEEKDAYS, DAY)
    for volunteer in by_role[StaffRole.VOLUNTEER.value]:
        days = sorted(rng.sample(range(1, 8), rng.randint(2, 3)))
        pattern(volunteer["id"], "志愿服务 part-time", days, PART_TIME)
    _shifts_from_patterns(ctx)


def _shifts_from_patterns(ctx: Context) -> None:
    """The shifts of the start date's week (and the night before), exactly as the patterns say."""
    data = ctx.builder.data
    rows: list[Row] = []
    for day_index in range(-1, 7):
        day = ctx.start + timedelta(days=day_index)
        for pattern in data.shift_pattern:
            if day.isoweekday() not in pattern["weekdays"]:
                continue
            overnight = pattern["end_time"] <= pattern["start_time"]
            if day_index < 0 and not overnight:
                continue  # the night before only matters for shifts that reach into the first day
            starts = datetime.combine(day, pattern["start_time"], tzinfo=LOCAL_TIMEZONE)
            ends = datetime.combine(day + timedelta(days=overnight), pattern["end_time"], tzinfo=LOCAL_TIMEZONE)
            rows.append(
                {
                    "staff_id": pattern["staff_id"],
                    "starts_at": starts.astimezone(UTC),
                    "ends_at": ends.astimezone(UTC),
                    "on_call": pattern["on_call"],
                    "pattern_id": pattern["id"],
                }
            )
    rows.sort(key=lambda row: (row["starts_at"], row["staff_id"]))
    data.shift[:] = [{"id": index, **row} for index, row in enumerate(rows, start=1)]
