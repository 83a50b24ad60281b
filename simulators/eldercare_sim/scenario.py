"""Scenario files (YAML): how a simulated fleet behaves."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Scenario(BaseModel):
    """Rates and rhythms of a fleet; every field has a realistic default."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    duration_s: float | None = Field(default=None, gt=0, description="Stop after this long; None runs forever")
    heartbeat_interval_s: float = Field(default=60.0, gt=0)
    heartbeat_jitter: float = Field(default=0.1, ge=0, le=0.5, description="± share of the interval")
    telemetry_interval_s: float = Field(default=30.0, gt=0, description="Care-center terminals")
    home_telemetry: bool = Field(default=False, description="Home units send no telemetry by default")
    sos_per_device_per_day: float = Field(default=0.02, ge=0)
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
