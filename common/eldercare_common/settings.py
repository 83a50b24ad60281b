"""Settings shared by every process, read from the environment with pydantic-settings.

Each process has one settings class that mixes in what it needs (database, MQTT). Outside demo and
test mode, a missing or default secret, or a malformed URL, stops the process with a clear message
instead of running half-configured.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public, committed demo secrets. They are refused outside demo/test mode.
DEMO_JWT_SECRET = "demo-jwt-secret-change-me-0123456789abcdef"
DEMO_MQTT_PASSWORD = "demo-mqtt-password"
DEMO_DEVICE_SECRET = "demo-device-secret"
DEMO_SECRETS = {DEMO_JWT_SECRET, DEMO_MQTT_PASSWORD, DEMO_DEVICE_SECRET}
# A home alarm unit of the demo district that no simulator plays: the one a person presses by hand
# (docs/device-protocol.md's examples, the commands `make demo` prints). Its password is derived from
# DEMO_DEVICE_SECRET like every seeded device's.
DEMO_SPARE_DEVICE_SERIAL = "HA9000001"
MIN_SECRET_LENGTH = 16


# One config for every settings class: mixins are combined, and each must agree.
SETTINGS_CONFIG = SettingsConfigDict(env_prefix="ELDERCARE_", extra="ignore", populate_by_name=True)


class Environment(StrEnum):
    """Where a process runs; only production refuses demo defaults."""

    DEMO = "demo"
    TEST = "test"
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class BaseProcessSettings(BaseSettings):
    """Fields every process has."""

    model_config = SETTINGS_CONFIG

    environment: Environment = Field(
        default=Environment.PRODUCTION,
        validation_alias=AliasChoices("ELDERCARE_ENV", "ELDERCARE_ENVIRONMENT"),
    )
    log_level: str = "INFO"
    log_json: bool | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)

    @property
    def is_relaxed(self) -> bool:
        """Demo and test mode accept the committed demo secrets."""
        return self.environment in (Environment.DEMO, Environment.TEST)

    def require_secret(self, name: str, value: SecretStr | None) -> None:
        """Refuse a missing, short or demo secret outside demo/test mode."""
        if self.is_relaxed:
            return
        raw = value.get_secret_value() if value is not None else ""
        if not raw:
            raise ValueError(f"{name} must be set outside demo mode")
        if raw in DEMO_SECRETS:
            raise ValueError(f"{name} is the committed demo value; set a real secret outside demo mode")
        if len(raw) < MIN_SECRET_LENGTH:
            raise ValueError(f"{name} must be at least {MIN_SECRET_LENGTH} characters")


def _check_postgres_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"expected a postgresql:// URL, got scheme {parts.scheme!r}")
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError("the database URL has no host")
    if not parts.path.strip("/"):
        raise ValueError("the database URL names no database")
    return value


class DatabaseSettingsMixin(BaseSettings):
    """Connection to PostgreSQL/TimescaleDB; `DATABASE_URL` wins over the prefixed name."""

    model_config = SETTINGS_CONFIG

    database_url: str = Field(
        default="postgresql://eldercare:eldercare@127.0.0.1:55432/eldercare",
        validation_alias=AliasChoices("DATABASE_URL", "ELDERCARE_DATABASE_URL"),
    )

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        return _check_postgres_url(value)

    @property
    def libpq_url(self) -> str:
        """The URL as psycopg and libpq take it."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1).replace(
            "postgres://", "postgresql://", 1
        )

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with SQLAlchemy's psycopg 3 driver named."""
        return self.libpq_url.replace("postgresql://", "postgresql+psycopg://", 1)


class MqttSettingsMixin(BaseSettings):
    """Connection to the MQTT broker; `MQTT_URL` wins over the prefixed name."""

    model_config = SETTINGS_CONFIG

    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:51883",
        validation_alias=AliasChoices("MQTT_URL", "ELDERCARE_MQTT_URL"),
    )
    mqtt_username: str | None = Field(
        default=None, validation_alias=AliasChoices("MQTT_USERNAME", "ELDERCARE_MQTT_USERNAME")
    )
    mqtt_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MQTT_PASSWORD", "ELDERCARE_MQTT_PASSWORD")
    )

    @field_validator("mqtt_url")
    @classmethod
    def _valid_mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"expected an mqtt:// or mqtts:// URL, got scheme {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("the MQTT URL has no host")
        try:
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as exc:
            raise ValueError(f"the MQTT URL has a bad port: {exc}") from exc
        return value

    @property
    def mqtt_host(self) -> str:
        """Broker host name."""
        return urlsplit(self.mqtt_url).hostname or "127.0.0.1"

    @property
    def mqtt_port(self) -> int:
        """Broker port (1883, or 8883 for mqtts, when the URL names none)."""
        parts = urlsplit(self.mqtt_url)
        return parts.port or (8883 if parts.scheme in ("mqtts", "ssl") else 1883)

    @property
    def mqtt_tls(self) -> bool:
        """Whether the broker is reached over TLS."""
        return urlsplit(self.mqtt_url).scheme in ("mqtts", "ssl")

    def mqtt_credentials(self) -> tuple[str | None, str | None]:
        """Username and password, from the explicit settings or else the URL."""
        parts = urlsplit(self.mqtt_url)
        username = self.mqtt_username or (unquote(parts.username) if parts.username else None)
        if self.mqtt_password is not None:
            password: str | None = self.mqtt_password.get_secret_value()
        else:
            password = unquote(parts.password) if parts.password else None
        return username, password

    @model_validator(mode="after")
    def _mqtt_secret_outside_demo(self) -> Any:
        if isinstance(self, BaseProcessSettings):
            _, password = self.mqtt_credentials()
            self.require_secret("MQTT_PASSWORD", SecretStr(password) if password else None)
        return self


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(settings_class: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build settings, or stop the process with a readable list of what is wrong."""
    try:
        return settings_class(**overrides)
    except ValidationError as exc:
        lines = [f"Configuration error in {settings_class.__name__}:"]
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            lines.append(f"  - {where}: {error['msg']}")
        lines.append("Set the environment variables named above (see docs/configuration.md).")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
