"""Settings validation: bad URLs and missing or demo secrets outside demo mode stop a process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from eldercare_common.settings import DEMO_JWT_SECRET, DEMO_MQTT_PASSWORD
from eldercare_gateway.config import GatewaySettings
from eldercare_platform.core.config import ApiSettings

GOOD_SECRET = "x" * 40


def test_demo_mode_accepts_committed_defaults() -> None:
    settings = ApiSettings(environment="demo")
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == DEMO_JWT_SECRET
    assert settings.sqlalchemy_url.startswith("postgresql+psycopg://")


def test_production_refuses_missing_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="ELDERCARE_JWT_SECRET must be set"):
        ApiSettings(environment="production", mqtt_password=GOOD_SECRET)


def test_production_refuses_demo_secrets() -> None:
    with pytest.raises(ValidationError, match="committed demo value"):
        ApiSettings(environment="production", jwt_secret=DEMO_JWT_SECRET, mqtt_password=GOOD_SECRET)
    with pytest.raises(ValidationError, match="MQTT_PASSWORD is the committed demo value"):
        GatewaySettings(environment="production", mqtt_password=DEMO_MQTT_PASSWORD)


def test_production_refuses_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        ApiSettings(environment="production", jwt_secret="short", mqtt_password=GOOD_SECRET)


def test_production_accepts_real_secrets() -> None:
    settings = ApiSettings(environment="production", jwt_secret=GOOD_SECRET, mqtt_password=GOOD_SECRET)
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == GOOD_SECRET


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "expected a postgresql:// URL"),
        ("postgresql:///db", "no host"),
        ("postgresql://u:p@host", "names no database"),
    ],
)
def test_bad_database_url(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ApiSettings(environment="demo", database_url=url)


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://broker:1883", "expected an mqtt://"), ("mqtt://:1883", "no host"), ("mqtt://h:notaport", "bad port")],
)
def test_bad_mqtt_url(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        GatewaySettings(environment="demo", mqtt_url=url)


def test_environment_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://a:b@db.example:5433/city")
    monkeypatch.setenv("MQTT_URL", "mqtts://gw:pw@broker.example")
    monkeypatch.setenv("ELDERCARE_ENV", "demo")
    settings = GatewaySettings()
    assert settings.libpq_url == "postgresql://a:b@db.example:5433/city"
    assert (settings.mqtt_host, settings.mqtt_port, settings.mqtt_tls) == ("broker.example", 8883, True)
    assert settings.mqtt_credentials() == ("gw", "pw")


@pytest.mark.parametrize("module", ["eldercare_gateway", "eldercare_platform.cli", "eldercare_platform.scheduler"])
def test_process_stops_with_a_clear_message(module: str) -> None:
    """Each process, started in production mode without secrets, exits 2 and names what is missing."""
    env = {"PATH": "/usr/bin:/bin", "ELDERCARE_ENV": "production", "DATABASE_URL": "mysql://nope/db"}
    result = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Configuration error" in result.stderr
    assert "database_url" in result.stderr or "DATABASE_URL" in result.stderr
