"""Settings of the platform's processes: the API and the scheduler."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from eldercare_common.settings import (
    DEMO_JWT_SECRET,
    SETTINGS_CONFIG,
    BaseProcessSettings,
    DatabaseSettingsMixin,
    MqttSettingsMixin,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


class ServiceRulesMixin(BaseSettings):
    """The services' rules (docs/services.md), read by the API and the scheduler alike (`ELDERCARE_*`)."""

    model_config = SETTINGS_CONFIG

    task_window_days: int = Field(default=14, ge=1, le=62, description="Tasks exist as rows this many days ahead")
    roster_window_days: int = Field(default=14, ge=1, le=62, description="Shifts exist as rows this many days ahead")
    task_late_after_minutes: int = Field(
        default=15,
        ge=1,
        le=240,
        description="Not checked in this long after the planned start (else the window start; at the latest the"
        " window end): late",
    )
    task_missed_after_minutes: int = Field(
        default=30, ge=1, le=720, description="Not completed this long after the window closed: missed"
    )
    certification_warn_days: int = Field(default=30, ge=1, le=365, description="Alert this long before expiry")
    reassessment_months: int = Field(default=6, ge=1, le=24, description="MZ/T 039: reassess every 6 months")
    major_event_visit_hours: int = Field(
        default=24, ge=1, le=168, description="A visit within this long of a major event (discharge, fall)"
    )
    follow_up_within_hours: int = Field(
        default=24, ge=1, le=168, description="Follow-up visit after an alarm not reached or a problem found"
    )
    urgent_visit_within_minutes: int = Field(default=60, ge=5, le=720, description="An urgent visit's window")
    coverage_behind_ratio: float = Field(
        default=0.9, gt=0, le=1, description="A community whose done/due visits fall below this gets an alert"
    )
    meal_collect_grace_minutes: int = Field(
        default=30, ge=0, le=240, description="After a meal's window: not collected or delivered is a welfare call"
    )
    meal_delivery_limit_minutes: int = Field(default=45, ge=5, le=240, description="Hot food: pickup to door")
    # Meal windows (local time, Asia/Shanghai) and order cut-offs (docs/services/meals.md). A cut-off at or after
    # its window's start is on the day before (breakfast: 20:00 the evening before).
    meal_breakfast_start: time = Field(default=time(7, 0), description="Breakfast is served from")
    meal_breakfast_end: time = Field(default=time(8, 30), description="Breakfast is served until")
    meal_breakfast_cutoff: time = Field(default=time(20, 0), description="Order or cancel by (the day before)")
    meal_lunch_start: time = Field(default=time(11, 0), description="Lunch is served from")
    meal_lunch_end: time = Field(default=time(12, 30), description="Lunch is served until")
    meal_lunch_cutoff: time = Field(default=time(9, 30), description="Order or cancel lunch by (same day)")
    meal_dinner_start: time = Field(default=time(17, 0), description="Dinner is served from")
    meal_dinner_end: time = Field(default=time(18, 30), description="Dinner is served until")
    meal_dinner_cutoff: time = Field(default=time(15, 0), description="Order or cancel dinner by (same day)")
    # Planning and routing (docs/scheduling.md).
    plan_publish_at: time = Field(
        default=time(20, 0), description="Tomorrow's plan is made and published at this local time (the cut-off)"
    )
    planner_seconds: float = Field(default=10.0, gt=0, le=600, description="Time limit of one area's solve")
    planner_seed: int = Field(default=1, ge=0, description="The solver's random seed (plans are reproducible)")
    travel_circuity: float = Field(default=1.3, ge=1.0, le=3.0, description="Road distance / great-circle distance")
    travel_speed_foot_kmh: float = Field(default=4.5, gt=0, le=20, description="Door to door, on foot")
    travel_speed_ebike_kmh: float = Field(default=15.0, gt=0, le=60, description="Door to door, e-bike")
    travel_speed_car_kmh: float = Field(default=25.0, gt=0, le=120, description="Door to door, car, parking included")
    travel_matrix_url: str | None = Field(
        default=None, description="An OSRM-compatible /table service; unset: the great-circle estimate"
    )
    continuity_weeks: int = Field(default=4, ge=1, le=26, description="Who served a resident: look back this far")
    continuity_weight_km: float = Field(
        default=1.0, ge=0, le=50, description="A visit by someone other than the usual caregiver costs this (km)"
    )
    # The caregiver's app (docs/services/tasks-engine.md, "API for the app").
    checkin_verified_within_m: float = Field(
        default=200.0, gt=0, le=5000, description="A check-in or check-out farther from the home is flagged (metres)"
    )
    essentials_after_hours: int = Field(
        default=2, ge=0, le=48, description="A resident's essentials stay readable this long after their visit ended"
    )
    essentials_ahead_hours: int = Field(
        default=24, ge=1, le=168, description="A resident's essentials are readable for own tasks this far ahead"
    )
    photo_max_bytes: int = Field(
        default=2 * 1024 * 1024, ge=16 * 1024, le=20 * 1024 * 1024, description="The largest visit photo accepted"
    )
    urgent_ack_minutes: int = Field(
        default=3, ge=1, le=60, description="An urgent task not acknowledged this long after it was sent: an alert"
    )
    workload_slack: float = Field(
        default=0.25, ge=0, le=5, description="Nobody takes more than the fair share × (1 + slack) of the tasks"
    )

    @model_validator(mode="after")
    def _meal_windows_in_order(self) -> ServiceRulesMixin:
        for meal in ("breakfast", "lunch", "dinner"):
            if getattr(self, f"meal_{meal}_start") >= getattr(self, f"meal_{meal}_end"):
                raise ValueError(f"meal_{meal}_start must be before meal_{meal}_end")
        return self


class ApiSettings(BaseProcessSettings, DatabaseSettingsMixin, MqttSettingsMixin, ServiceRulesMixin):
    """Settings of the FastAPI service (`ELDERCARE_*`, plus `DATABASE_URL` and `MQTT_URL`)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: SecretStr | None = Field(default=None)
    jwt_algorithm: str = "HS256"
    access_token_minutes: int = Field(default=12 * 60, ge=5, le=24 * 60, description="One operator shift")
    dashboards_dir: Path = REPO_ROOT / "dashboards"
    web_vendor_dir: Path = Field(
        default=REPO_ROOT / "web" / "node_modules",
        description="npm packages served by the API (Swagger UI, ReDoc); installed by scripts/bootstrap.sh",
    )
    display_timezone: str = "Asia/Shanghai"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="uvicorn worker processes on one port; each has its own pool, intake and live hub",
    )

    @model_validator(mode="after")
    def _secrets(self) -> ApiSettings:
        self.require_secret("ELDERCARE_JWT_SECRET", self.jwt_secret)
        if self.jwt_secret is None:
            self.jwt_secret = SecretStr(DEMO_JWT_SECRET)
        return self


class SchedulerSettings(BaseProcessSettings, DatabaseSettingsMixin, ServiceRulesMixin):
    """Settings of the single scheduler process."""

    metrics_port: int = Field(default=9102, ge=0, le=65535)
    heartbeat_seconds: int = Field(default=30, ge=1, le=3600, description="How often the liveness job runs")
    misfire_grace_seconds: int = Field(default=60, ge=1)
    escalation_check_seconds: int = Field(default=5, ge=1, le=300)
    realert_after_seconds: int = Field(default=30, ge=5, description="Unacknowledged: re-alert every operator")
    supervisor_after_seconds: int = Field(default=90, ge=10, description="Unacknowledged: tell the supervisor")
    broker_auth_dir: Path | None = Field(default=None, description="Where Mosquitto's passwd and acl live")
    broker_pid_file: Path | None = Field(default=None, description="Mosquitto's pid file, to send it SIGHUP")
    broker_service_accounts: SecretStr | None = Field(default=None, description="gateway=…,platform=…")
    broker_sync_seconds: int = Field(default=5, ge=1, le=3600, description="How often broker credentials sync")
    telemetry_retention_seconds: int = Field(
        default=6 * 3600, ge=60, le=7 * 86_400, description="How often old telemetry, dead letters, job runs go"
    )
    substitute_cover_seconds: int = Field(default=60, ge=5, le=3600, description="How often silent devices are checked")
    # Every job can be switched off (declared beside its domain, `<domain>/jobs.py`; see scheduler/registry.py).
    heartbeat_enabled: bool = True
    telemetry_retention_enabled: bool = True
    alarm_escalation_enabled: bool = True
    substitute_cover_enabled: bool = True
    broker_credentials_sync_enabled: bool = Field(default=True, description="Runs only when broker_auth_dir is set")
    # The services' jobs (roster, tasks, alerts, meals): intervals and switches.
    shift_generation_seconds: int = Field(default=3600, ge=60, le=86_400, description="Shifts from patterns")
    shift_generation_enabled: bool = True
    task_generation_seconds: int = Field(default=900, ge=30, le=86_400, description="The rolling task window")
    task_generation_enabled: bool = True
    task_alerts_seconds: int = Field(default=60, ge=5, le=3600, description="Late and missed tasks")
    task_alerts_enabled: bool = True
    daily_alerts_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="Certifications, reassessments, visit coverage"
    )
    daily_alerts_enabled: bool = True
    meal_orders_seconds: int = Field(default=900, ge=30, le=86_400, description="Orders from meal plans")
    meal_orders_enabled: bool = True
    meal_watch_seconds: int = Field(default=60, ge=5, le=3600, description="Check-ins and meals not collected")
    meal_watch_enabled: bool = True
    nightly_plan_seconds: int = Field(
        default=300, ge=30, le=86_400, description="How often the nightly plan checks whether the cut-off passed"
    )
    nightly_plan_enabled: bool = True
    intraday_replan_seconds: int = Field(
        default=60, ge=5, le=3600, description="How often today's plans are re-made where something changed"
    )
    intraday_replan_enabled: bool = True
    supervision_rollups_seconds: int = Field(
        default=300, ge=30, le=86_400, description="How often the supervision rollups are brought up to date"
    )
    supervision_rollups_enabled: bool = True
