"""The roster's pure rules: pattern → shift instants (across midnight, Asia/Shanghai has no DST), which days a
pattern covers, certificate status thresholds, which certificate a skill needs, straight-line distance."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from eldercare_common.geo import haversine_km
from eldercare_platform.roster.models import CertificateStatus, Skill
from eldercare_platform.roster.rules import (
    CAREGIVER_CERTIFICATE,
    NURSE_CERTIFICATE,
    PatternTimes,
    certificate_status,
    pattern_days,
    planned_shifts,
    required_certificates,
    shift_times,
)


def test_a_day_shift_is_local_time_in_shanghai() -> None:
    starts, ends = shift_times(date(2026, 11, 23), time(8, 0), time(17, 0))
    assert starts == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert ends == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_an_on_call_night_ends_the_next_morning() -> None:
    starts, ends = shift_times(date(2026, 11, 23), time(20, 0), time(8, 0))
    assert starts == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert ends == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert ends - starts == timedelta(hours=12)


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)])
def test_no_daylight_saving_a_night_is_always_twelve_hours(day: date) -> None:
    # The days Europe and the US change their clocks: Shanghai does not.
    starts, ends = shift_times(day, time(20, 0), time(8, 0))
    assert ends - starts == timedelta(hours=12)
    assert starts.hour == 12  # 20:00 local is always 12:00 UTC


def test_a_shift_ending_at_midnight_ends_on_the_next_day() -> None:
    starts, ends = shift_times(date(2026, 11, 23), time(16, 0), time(0, 0))
    assert ends - starts == timedelta(hours=8)


def _pattern(**overrides: object) -> PatternTimes:
    fields: dict[str, object] = {
        "id": 1,
        "staff_id": 7,
        "weekdays": (1, 3, 5),
        "start_time": time(8),
        "end_time": time(17),
        "on_call": False,
        "valid_from": date(2026, 11, 1),
        "valid_to": None,
    }
    return PatternTimes(**(fields | overrides))  # type: ignore[arg-type]


def test_pattern_days_follow_iso_weekdays_and_validity() -> None:
    # 2026-11-23 is a Monday.
    days = list(pattern_days(_pattern(valid_to=date(2026, 11, 27)), date(2026, 11, 22), date(2026, 12, 6)))
    assert days == [date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 27)]
    assert [d.isoweekday() for d in days] == [1, 3, 5]
    assert list(pattern_days(_pattern(valid_from=date(2027, 1, 1)), date(2026, 11, 22), date(2026, 12, 6))) == []


def test_planned_shifts_carry_the_pattern_and_on_call() -> None:
    [shift] = planned_shifts(
        [_pattern(weekdays=(7,), start_time=time(20), end_time=time(8), on_call=True)],
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert (shift.staff_id, shift.pattern_id, shift.on_call) == (7, 1, True)
    assert shift.starts_at == datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_certificate_status_thresholds() -> None:
    today = date(2026, 11, 22)
    assert certificate_status(None, today=today, warn_days=30) is CertificateStatus.VALID
    assert certificate_status(today - timedelta(days=1), today=today, warn_days=30) is CertificateStatus.EXPIRED
    assert certificate_status(today, today=today, warn_days=30) is CertificateStatus.EXPIRING  # valid through today
    assert certificate_status(today + timedelta(days=30), today=today, warn_days=30) is CertificateStatus.EXPIRING
    assert certificate_status(today + timedelta(days=31), today=today, warn_days=30) is CertificateStatus.VALID


def test_which_skills_need_a_certificate() -> None:
    assert required_certificates(Skill.NURSING) == frozenset({CAREGIVER_CERTIFICATE, NURSE_CERTIFICATE})
    assert required_certificates(Skill.BATHING) == frozenset({CAREGIVER_CERTIFICATE, NURSE_CERTIFICATE})
    assert required_certificates(Skill.VISIT) is None
    assert required_certificates(None) is None


def test_haversine_distance() -> None:
    assert haversine_km(31.78, 119.95, 31.78, 119.95) == 0
    # One degree of latitude is about 111.2 km.
    assert haversine_km(31.0, 119.95, 32.0, 119.95) == pytest.approx(111.2, abs=0.2)
