"""Settings of the gateway process."""

from __future__ import annotations

import re
import socket

from pydantic import Field

from eldercare_common.settings import BaseProcessSettings, DatabaseSettingsMixin, MqttSettingsMixin


class GatewaySettings(BaseProcessSettings, DatabaseSettingsMixin, MqttSettingsMixin):
    """Gateway settings (`ELDERCARE_GATEWAY_*` is not used: names are `ELDERCARE_<FIELD>`)."""

    metrics_port: int = Field(default=9101, ge=0, le=65535)
    instance: str = Field(
        default_factory=lambda: re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:32] or "gw1",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="Unique per process and stable across its restarts (it names the persistent MQTT sessions); "
        "defaults to the host name, which is what each replica of a container gets",
    )
    lanes: str = Field(
        default="alarm,status,telemetry",
        pattern=r"^(alarm|status|telemetry)(,(alarm|status|telemetry))*$",
        description="Lanes this process runs. Run the alarm lane in a process of its own in production: "
        "lanes in one process share one interpreter lock, so heavy telemetry slows alarms down.",
    )
    nice: int = Field(default=0, ge=0, le=19, description="Lower this process's CPU priority (telemetry-only)")
    share_group: str = Field(default="gateway", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    telemetry_batch_rows: int = Field(default=1000, ge=1, le=50_000)
    telemetry_batch_ms: int = Field(default=200, ge=5, le=10_000)
    telemetry_queue_max: int = Field(default=20_000, ge=100)
    telemetry_shared: bool = Field(
        default=False,
        description="Split telemetry between gateways with a shared subscription. Only on a broker that keeps "
        "shared subscriptions across its own restart (Mosquitto 2.0.11 does not: messages published before "
        "the gateway resubscribes would be dropped). Off: every gateway takes all telemetry; rows stay unique.",
    )
    registry_refresh_s: float = Field(default=30.0, ge=1.0)
    device_rate_per_minute: int = Field(
        default=240, ge=1, description="Per device, telemetry and status together (events are never limited)"
    )
    device_rate_burst: int = Field(default=60, ge=1)
    device_time_max_behind_s: int = Field(
        default=7 * 86_400,
        ge=0,
        description="An event's device time further behind the receive time is not stored (clock_suspect)",
    )
    device_time_max_ahead_s: int = Field(
        default=300, ge=0, description="An event's device time further ahead of the receive time is not stored"
    )
    low_battery_pct: int = Field(default=20, ge=1, le=99)
    silent_after_heartbeats: int = Field(default=3, ge=1, description="Missed heartbeats before 'silent'")
    silent_check_s: float = Field(default=15.0, ge=1.0)
