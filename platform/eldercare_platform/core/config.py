"""Settings of the platform's processes: the API and the scheduler."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from eldercare_common.settings import (
    DEMO_JWT_SECRET,
    BaseProcessSettings,
    DatabaseSettingsMixin,
    MqttSettingsMixin,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


class ApiSettings(BaseProcessSettings, DatabaseSettingsMixin, MqttSettingsMixin):
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


class SchedulerSettings(BaseProcessSettings, DatabaseSettingsMixin):
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
