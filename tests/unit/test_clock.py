"""The platform's clock: aware UTC instants, a settable clock for tests, the residents' calendar, token times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import jwt
import pytest

from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock, FixedClock, SystemClock, as_utc, local_date
from eldercare_platform.core.security import create_access_token, decode_access_token

pytestmark = pytest.mark.time_sensitive

AT = datetime(2031, 7, 4, 12, 30, tzinfo=UTC)
SECRET = "unit-test-secret-unit-test-secret"


def test_a_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(AT)
    assert clock.now() == AT and clock.now() == AT
    assert clock.advance(timedelta(minutes=5)) == AT + timedelta(minutes=5) == clock.now()
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
    assert isinstance(clock, Clock) and isinstance(SYSTEM_CLOCK, Clock)


def test_clocks_speak_utc_and_refuse_naive_times() -> None:
    shanghai_noon = datetime(2031, 7, 4, 20, 30, tzinfo=timezone(timedelta(hours=8)))
    now = FixedClock(shanghai_noon).now()
    assert now == AT and now.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2031, 7, 4, 12, 30))
    with pytest.raises(ValueError, match="naive"):
        FixedClock(AT).set(datetime(2031, 7, 4))
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2031, 7, 4))
    assert as_utc(shanghai_noon).tzinfo is UTC


def test_the_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (datetime(2030, 3, 7, 15, 59, 59, tzinfo=UTC), date(2030, 3, 7)),  # 23:59:59 in Shanghai
        (datetime(2030, 3, 7, 16, 0, tzinfo=UTC), date(2030, 3, 8)),  # midnight in Shanghai, still the 7th in UTC
        (datetime(2030, 12, 31, 20, 0, tzinfo=UTC), date(2031, 1, 1)),
    ],
)
def test_today_is_counted_in_shanghai(instant: datetime, day: date) -> None:
    assert local_date(instant) == day


def test_a_token_lives_exactly_as_long_as_the_issuing_clock_says() -> None:
    token = create_access_token(subject="7", role="operator", secret=SECRET, algorithm="HS256", minutes=60, now=AT)
    claims = decode_access_token(token, secret=SECRET, algorithm="HS256", now=AT + timedelta(minutes=59, seconds=59))
    assert claims["sub"] == "7" and claims["exp"] == int((AT + timedelta(hours=1)).timestamp())
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_access_token(token, secret=SECRET, algorithm="HS256", now=AT + timedelta(hours=1))


def test_token_times_are_judged_by_the_given_now_not_the_process_clock() -> None:
    """A token issued at a chosen instant years away from today: its validity follows that instant only."""
    far = datetime(2045, 1, 1, tzinfo=UTC)
    token = create_access_token(subject="1", role="admin", secret=SECRET, algorithm="HS256", minutes=5, now=far)
    assert decode_access_token(token, secret=SECRET, algorithm="HS256", now=far)["role"] == "admin"
    with pytest.raises(jwt.ImmatureSignatureError):
        decode_access_token(token, secret=SECRET, algorithm="HS256", now=far - timedelta(minutes=1))
    old = create_access_token(subject="1", role="admin", secret=SECRET, algorithm="HS256", minutes=5, now=AT)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_access_token(old, secret=SECRET, algorithm="HS256", now=far)


@pytest.mark.parametrize("exp", ["soon", None, True, [1]])
def test_a_malformed_expiry_is_an_invalid_token(exp: object) -> None:
    token = jwt.encode({"sub": "1", "role": "admin", "exp": exp}, SECRET, algorithm="HS256")
    with pytest.raises(jwt.InvalidTokenError):
        decode_access_token(token, secret=SECRET, algorithm="HS256", now=AT)
