"""Scenario files (YAML): how a simulated fleet behaves."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

# How often real people press: Lanzhou's virtual nursing home (兰州市虚拟养老院) had 88,000 members who
# made 472,100 calls in a year, most of them not emergencies (housekeeping, meals, repairs, a chat).
# Every call starts as a press of the home unit's button, so that is the rate of SOS presses per unit.
LANZHOU_CALLS_PER_YEAR = 472_100
LANZHOU_MEMBERS = 88_000
DAYS_PER_YEAR = 365


def calls_per_member_per_day(
    calls_per_year: float = LANZHOU_CALLS_PER_YEAR, members: float = LANZHOU_MEMBERS, days: float = DAYS_PER_YEAR
) -> float:
    """Calls a member makes a day on average: 472,100 / 88,000 / 365 ≈ 0.0147 (5.4 a year)."""
    if calls_per_year < 0 or members <= 0 or days <= 0:
        raise ValueError("calls must be ≥ 0, members and days > 0")
    return calls_per_year / members / days


REAL_SOS_PER_DEVICE_PER_DAY = round(calls_per_member_per_day(), 4)
"""0.0147: the press rate of one home unit; 300 units make ≈ 4.4 calls a day, one every ≈ 5.4 hours."""


def expected_calls_per_day(units: int, rate_per_unit_per_day: float = REAL_SOS_PER_DEVICE_PER_DAY) -> float:
    """How many SOS presses `units` home alarm units make in a day at this rate."""
    return units * rate_per_unit_per_day


class Scenario(BaseModel):
    """Rates and rhythms of a fleet; every field has a realistic default."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    duration_s: float | None = Field(default=None, gt=0, description="Stop after this long; None runs forever")
    heartbeat_interval_s: float = Field(default=60.0, gt=0)
    heartbeat_jitter: float = Field(default=0.1, ge=0, le=0.5, description="± share of the interval")
    telemetry_interval_s: float = Field(default=30.0, gt=0, description="Care-center terminals")
    resident_refs: int = Field(
        default=1000,
        ge=1,
        le=999_999,
        description="Check-in terminals name residents R000001 … R<this> (the demo seed's resident ids)",
    )
    home_telemetry: bool = Field(default=False, description="Home units send no telemetry by default")
    sos_per_device_per_day: float = Field(
        default=REAL_SOS_PER_DEVICE_PER_DAY, ge=0, description="Home alarm units only; Lanzhou's figure by default"
    )
    fall_per_device_per_day: float = Field(default=0.005, ge=0)
    smoke_per_device_per_day: float = Field(default=0.001, ge=0)
    low_battery_share: float = Field(default=0.01, ge=0, le=1, description="Devices whose battery runs low")
    offline_per_device_per_day: float = Field(default=0.01, ge=0, description="Drops that reconnect later")
    offline_duration_s: float = Field(default=300.0, gt=0)
    connect_spread_s: float = Field(default=5.0, ge=0, description="Spread initial connects over this time")
    max_connect_rate: float = Field(default=500.0, gt=0, description="New connections per second")
    reconnect_storm_every_s: float | None = Field(
        default=None, gt=0, description="Drop every device at once this often, as a broker restart would"
    )
    hostile_messages_per_s: float = Field(default=1.0, gt=0, description="Rate of each hostile client")

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """Read a scenario YAML file."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls.model_validate(data)
