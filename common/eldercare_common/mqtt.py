"""The one MQTT client factory: every paho client of the gateway and the platform is built here.

A client gets its broker credentials and TLS from the process settings (`MqttSettingsMixin`), speaks
MQTT 3.1.1 with paho's version-2 callbacks, and reconnects by itself with a bounded delay. What differs
between users is said by keyword: the gateway's lanes pass their `GatewayClient` class, a persistent
session, manual acknowledgement and a large in-flight window; the platform's `BrokerLink` a clean
session. Devices (simulators, tests, benchmarks) connect with their own credentials, not through this.
"""

from __future__ import annotations

from typing import TypeVar, overload

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from eldercare_common.settings import MqttSettingsMixin

PROTOCOL = mqtt.MQTTv311
DEFAULT_RECONNECT_DELAY_S = (1, 30)

ClientT = TypeVar("ClientT", bound=mqtt.Client)


@overload
def make_client(
    settings: MqttSettingsMixin,
    *,
    client_id: str,
    client_class: None = None,
    clean_session: bool = True,
    manual_ack: bool = False,
    max_inflight: int | None = None,
    max_queued: int | None = None,
    reconnect_delay_s: tuple[int, int] | None = DEFAULT_RECONNECT_DELAY_S,
) -> mqtt.Client: ...


@overload
def make_client(
    settings: MqttSettingsMixin,
    *,
    client_id: str,
    client_class: type[ClientT],
    clean_session: bool = True,
    manual_ack: bool = False,
    max_inflight: int | None = None,
    max_queued: int | None = None,
    reconnect_delay_s: tuple[int, int] | None = DEFAULT_RECONNECT_DELAY_S,
) -> ClientT: ...


def make_client(
    settings: MqttSettingsMixin,
    *,
    client_id: str,
    client_class: type[ClientT] | None = None,
    clean_session: bool = True,
    manual_ack: bool = False,
    max_inflight: int | None = None,
    max_queued: int | None = None,
    reconnect_delay_s: tuple[int, int] | None = DEFAULT_RECONNECT_DELAY_S,
) -> ClientT | mqtt.Client:
    """A configured, not yet connected paho client (of `client_class`, a subclass of paho's, if given).

    `max_inflight` / `max_queued` (paho's defaults, 20 and unbounded, when None) bound the QoS 1/2
    messages on the wire and queued behind them; `reconnect_delay_s` is (min, max) seconds between
    paho's own reconnect attempts, or None for a client that never reconnects (a one-off session).
    """
    client = (client_class or mqtt.Client)(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=PROTOCOL,
        manual_ack=manual_ack,
    )
    username, password = settings.mqtt_credentials()
    if username:
        client.username_pw_set(username, password)
    if settings.mqtt_tls:
        client.tls_set()
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)
    if max_queued is not None:
        client.max_queued_messages_set(max_queued)
    if reconnect_delay_s is not None:
        client.reconnect_delay_set(min_delay=reconnect_delay_s[0], max_delay=reconnect_delay_s[1])
    return client
