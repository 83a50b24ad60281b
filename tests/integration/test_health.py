"""The API's /health with the real broker: ok for database and broker, 503 when the broker is gone."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from tests.integration.gateway_support import wait_for


def test_health_reports_database_and_broker(database_url: str, mosquitto: MosquittoInstance) -> None:
    settings = ApiSettings(
        environment="test",
        database_url=database_url,
        mqtt_url=mosquitto.url,
        mqtt_username="platform",
        mqtt_password=DEMO_MQTT_PASSWORD,
    )
    with TestClient(create_app(settings)) as client:
        body = wait_for(
            lambda: client.get("/health").json() if client.get("/health").status_code == 200 else None,
            timeout=10,
            what="a healthy API",
        )
        assert body == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "http_requests_total" in metrics.text


def test_health_is_503_when_the_broker_refuses(database_url: str, mosquitto: MosquittoInstance) -> None:
    settings = ApiSettings(
        environment="test",
        database_url=database_url,
        mqtt_url=mosquitto.url,
        mqtt_username="platform",
        mqtt_password="wrong-password",
    )
    with TestClient(create_app(settings)) as client:
        time.sleep(1.0)
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["checks"] == {"database": "ok", "broker": "error: not connected"}


def test_health_is_503_when_the_database_is_unreachable(mosquitto: MosquittoInstance) -> None:
    settings = ApiSettings(
        environment="test",
        database_url="postgresql://x:y@127.0.0.1:1/none",
        mqtt_url=mosquitto.url,
        mqtt_username="platform",
        mqtt_password=DEMO_MQTT_PASSWORD,
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["checks"]["database"].startswith("error:")
