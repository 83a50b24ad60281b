"""The one MQTT client factory (eldercare_common.mqtt): what every gateway lane and the platform's link get.

paho keeps its configuration in private attributes; paho is pinned in requirements.lock, and these
tests are what notices if an upgrade renames them.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from eldercare_common.mqtt import make_client
from eldercare_common.settings import MqttSettingsMixin
from eldercare_gateway.config import GatewaySettings
from eldercare_gateway.lanes.alarm import AlarmLane
from eldercare_gateway.lanes.telemetry import TelemetryLane
from eldercare_gateway.mqtt_client import GatewayClient
from eldercare_gateway.ratelimit import DeviceRateLimiter
from eldercare_gateway.registry import DeviceRegistry
from eldercare_platform.core.broker import BrokerLink


def settings(url: str, **extra: str) -> MqttSettingsMixin:
    return MqttSettingsMixin.model_validate({"mqtt_url": url, **extra})


def test_defaults_clean_session_v311_version2_callbacks_and_bounded_reconnects() -> None:
    client = make_client(settings("mqtt://127.0.0.1:1883"), client_id="eldercare-test")
    assert type(client) is mqtt.Client
    assert client._client_id == b"eldercare-test"
    assert client._callback_api_version is CallbackAPIVersion.VERSION2
    assert client._protocol == mqtt.MQTTv311
    assert client._clean_session is True
    assert client._manual_ack is False
    assert (client._reconnect_min_delay, client._reconnect_max_delay) == (1, 30)
    assert client._username is None and client._password is None
    assert client._ssl is False


def test_credentials_from_the_url_or_the_explicit_settings() -> None:
    from_url = make_client(settings("mqtt://gateway:s%40cret@broker:1883"), client_id="a")
    assert (from_url._username, from_url._password) == (b"gateway", b"s@cret")
    explicit = make_client(
        settings("mqtt://gateway:old@broker:1883", mqtt_username="platform", mqtt_password="new"), client_id="b"
    )
    assert (explicit._username, explicit._password) == (b"platform", b"new")


def test_tls_for_mqtts_urls() -> None:
    client = make_client(settings("mqtts://broker"), client_id="tls")
    assert client._ssl is True and client._ssl_context is not None


def test_class_session_ack_and_windows_are_the_callers() -> None:
    client = make_client(
        settings("mqtt://broker"),
        client_id="lane",
        client_class=GatewayClient,
        clean_session=False,
        manual_ack=True,
        max_inflight=1000,
        max_queued=50,
        reconnect_delay_s=(1, 15),
    )
    assert isinstance(client, GatewayClient)
    assert client._clean_session is False and client._manual_ack is True
    assert (client._max_inflight_messages, client._max_queued_messages) == (1000, 50)
    assert (client._reconnect_min_delay, client._reconnect_max_delay) == (1, 15)


def test_no_reconnect_delay_leaves_pahos_own() -> None:
    stock = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="stock")
    client = make_client(settings("mqtt://broker"), client_id="once", reconnect_delay_s=None)
    assert (client._reconnect_min_delay, client._reconnect_max_delay) == (
        stock._reconnect_min_delay,
        stock._reconnect_max_delay,
    )


def test_gateway_lanes_and_the_platform_link_are_built_by_the_factory() -> None:
    gateway = GatewaySettings(environment="test", mqtt_url="mqtt://gateway:pw@broker:1883", instance="gw7")
    stop = threading.Event()  # nothing is started: building a lane connects to nothing
    registry = DeviceRegistry(gateway.libpq_url)
    limiter = DeviceRateLimiter(rate_per_minute=60, burst=10)
    alarm = AlarmLane(gateway, registry=registry, limiter=limiter, stop=stop)
    telemetry = TelemetryLane(gateway, registry=registry, limiter=limiter, stop=stop)
    for lane in (alarm, telemetry):
        assert isinstance(lane.client, GatewayClient)
        assert lane.client._client_id == f"eldercare-gw-gw7-{lane.name}".encode()
        assert lane.client._manual_ack is True and lane.client._max_inflight_messages == 1000
        assert (lane.client._reconnect_min_delay, lane.client._reconnect_max_delay) == (1, 15)
        assert lane.client._clean_session is (not lane.persistent)
        assert lane.client._username == b"gateway"

    link = BrokerLink(settings("mqtt://platform:pw@broker:1883"), client_id="eldercare-api-1")
    assert type(link.client) is mqtt.Client and link.client._clean_session is True
    assert (link.client._reconnect_min_delay, link.client._reconnect_max_delay) == (1, 30)
    assert link.client._username == b"platform"
