"""The roster's pure rules (no database): shift times from a pattern, which certificate a skill needs, a
certificate's status on a day, the straight-line distance for dispatch.

Shift times are civil times in Asia/Shanghai (`core.clock.LOCAL_TIMEZONE`), which has no daylight saving time:
a day is always 24 h and 08:00 local is always 00:00 UTC. A pattern whose end time is not after its start time
crosses midnight (an on-call night 20:00–08:00 ends the next morning).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.roster.models import CertificateStatus, Skill

CAREGIVER_CERTIFICATE = "养老护理员职业技能等级证书"  # elderly-care worker vocational skill level certificate
NURSE_CERTIFICATE = "护士执业证书"  # nurse's practising certificate

REQUIRED_CERTIFICATES: dict[str, frozenset[str]] = {
    Skill.NURSING: frozenset({CAREGIVER_CERTIFICATE, NURSE_CERTIFICATE}),
    Skill.BATHING: frozenset({CAREGIVER_CERTIFICATE, NURSE_CERTIFICATE}),
    Skill.REHABILITATION: frozenset({CAREGIVER_CERTIFICATE, NURSE_CERTIFICATE}),
}
"""Skill → the certificates any one of which (valid on the task's day) qualifies a person for it. A skill not
listed needs none. Nurses hold 护士执业证书, caregivers 养老护理员职业技能等级证书 (seed/generator.py); a health
certificate (健康证) for meal delivery is not required because no record of it is kept yet."""


@dataclass(frozen=True)
class PatternTimes:
    """What generation needs of a `shift_pattern` row."""

    id: int
    staff_id: int
    weekdays: tuple[int, ...]  # ISO: 1 Monday … 7 Sunday
    start_time: time
    end_time: time
    on_call: bool
    valid_from: date
    valid_to: date | None


def crosses_midnight(start: time, end: time) -> bool:
    """True when a shift from `start` to `end` ends on the next day (end <= start)."""
    return end <= start


def shift_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The UTC instants of a shift starting on local `day` at `start` and ending at `end` (next day if it crosses
    midnight)."""
    starts = datetime.combine(day, start, tzinfo=LOCAL_TIMEZONE)
    end_day = day + timedelta(days=1) if crosses_midnight(start, end) else day
    ends = datetime.combine(end_day, end, tzinfo=LOCAL_TIMEZONE)
    return starts.astimezone(UTC), ends.astimezone(UTC)


def pattern_days(pattern: PatternTimes, first: date, last: date) -> Iterator[date]:
    """The local days in [first, last] on which the pattern starts a shift."""
    day = max(first, pattern.valid_from)
    end = last if pattern.valid_to is None else min(last, pattern.valid_to)
    while day <= end:
        if day.isoweekday() in pattern.weekdays:
            yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class PlannedShift:
    """A shift a pattern calls for."""

    staff_id: int
    pattern_id: int
    starts_at: datetime
    ends_at: datetime
    on_call: bool


def planned_shifts(patterns: Iterable[PatternTimes], first: date, last: date) -> list[PlannedShift]:
    """Every shift the patterns call for, starting on a local day in [first, last]."""
    return [
        PlannedShift(p.staff_id, p.id, *shift_times(day, p.start_time, p.end_time), p.on_call)
        for p in patterns
        for day in pattern_days(p, first, last)
    ]


def required_certificates(skill: str | None) -> frozenset[str] | None:
    """The certificates any one of which a skill needs (None: it needs none)."""
    if skill is None:
        return None
    return REQUIRED_CERTIFICATES.get(skill)


def certificate_status(expires_on: date | None, *, today: date, warn_days: int) -> CertificateStatus:
    """Valid through its `expires_on` day; `expiring` within `warn_days` of it; no expiry date: valid."""
    if expires_on is None:
        return CertificateStatus.VALID
    if expires_on < today:
        return CertificateStatus.EXPIRED
    if expires_on <= today + timedelta(days=warn_days):
        return CertificateStatus.EXPIRING
    return CertificateStatus.VALID
