"""What Mosquitto does with a device's SUBSCRIBE outside its own downlinks, as docs/device-protocol.md says.

Mosquitto 2.0's `acl_file` cannot refuse a subscription (its changelog: denying SUBSCRIBE is "for auth
plugins only"); it checks read access when it delivers each message. So the SUBACK grants the filter,
and nothing the device may not read ever arrives — not live messages, not retained ones. This test
pins both halves on the real broker, MQTT 3.1.1 and 5, so the doc cannot drift from the broker again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.mqtt_auth import hash_password
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from tests.conftest import private_broker

MINE, OTHER = "HA0000101", "HA0000102"
PASSWORD = "device-password-for-the-acl-test"
ROOT = "eldercare/v1/dev"
# Filters a curious or broken device might try, and the ones the doc says it may use.
FOREIGN = [f"{ROOT}/{OTHER}/down/#", f"{ROOT}/+/down/#", "#", f"{ROOT}/{OTHER}/up/event", "$SYS/#"]
OWN = [f"{ROOT}/{MINE}/down/#"]


@pytest.fixture(scope="module")
def broker() -> Iterator[MosquittoInstance]:
    hashes = [(MINE, hash_password(PASSWORD)), (OTHER, hash_password(PASSWORD))]
    with private_broker("mosquitto-acl", hashes) as instance:
        yield instance


class Device:
    """A paho client as the device MINE, recording SUBACK codes and received messages."""

    def __init__(self, broker: MosquittoInstance, protocol: MQTTProtocolVersion) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{MINE}-{protocol}", protocol=protocol)
        self.client.username_pw_set(MINE, PASSWORD)
        self.subacks: dict[int, list[ReasonCode]] = {}
        self.received: list[tuple[str, bytes, bool]] = []
        self.own_arrived = threading.Event()
        self._acked = threading.Condition()
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_subscribe(self, _c: object, _u: object, mid: int, codes: list[ReasonCode], _p: object) -> None:
        with self._acked:
            self.subacks[mid] = list(codes)
            self._acked.notify_all()

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        self.received.append((message.topic, bytes(message.payload), bool(message.retain)))
        if message.topic == f"{ROOT}/{MINE}/down/command":
            self.own_arrived.set()

    def subscribe(self, topic: str) -> ReasonCode:
        """SUBSCRIBE at QoS 1 and return the SUBACK's one result code."""
        result, mid = self.client.subscribe(topic, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS and mid is not None
        with self._acked:
            assert self._acked.wait_for(lambda: mid in self.subacks, timeout=5), f"no SUBACK for {topic}"
        (code,) = self.subacks[mid]
        return code

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_as(broker: MosquittoInstance, username: str, password: str, messages: list[tuple[str, bool]]) -> None:
    """Publish each (topic, retain) at QoS 1 as `username`, in order, waiting for every PUBACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-pub-{username}", protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for topic, retain in messages:
            client.publish(topic, b'{"from":"acl-test"}', qos=1, retain=retain).wait_for_publish(timeout=5)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["mqtt3.1.1", "mqtt5"])
def test_foreign_subscriptions_are_granted_but_deliver_nothing(
    broker: MosquittoInstance, protocol: MQTTProtocolVersion
) -> None:
    # Retained messages already on the broker for the other device: a downlink config and its status.
    publish_as(broker, "platform", DEMO_MQTT_PASSWORD, [(f"{ROOT}/{OTHER}/down/config", True)])
    publish_as(broker, OTHER, PASSWORD, [(f"{ROOT}/{OTHER}/up/status", True)])
    device = Device(broker, protocol)
    try:
        codes = {topic: device.subscribe(topic) for topic in FOREIGN + OWN}
        # The SUBACK grants every filter at the QoS asked for: 1 (neither 0x80 nor v5's 0x87 "not authorized").
        assert {topic: code.value for topic, code in codes.items()} == dict.fromkeys(FOREIGN + OWN, 1)
        # Live traffic the filters match: the other device's downlink and uplink, then one for this device.
        publish_as(broker, "platform", DEMO_MQTT_PASSWORD, [(f"{ROOT}/{OTHER}/down/command", False)])
        publish_as(broker, OTHER, PASSWORD, [(f"{ROOT}/{OTHER}/up/event", False)])
        publish_as(broker, "platform", DEMO_MQTT_PASSWORD, [(f"{ROOT}/{MINE}/down/command", False)])
        assert device.own_arrived.wait(timeout=5), "the device's own downlink did not arrive"
    finally:
        device.close()
    # Only its own downlink arrived (once per matching filter it holds: `#` and its own `down/#`).
    assert {topic for topic, _, _ in device.received} == {f"{ROOT}/{MINE}/down/command"}, device.received


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["mqtt3.1.1", "mqtt5"])
def test_foreign_publishes_are_dropped_and_mqtt5_hears_not_authorized(
    broker: MosquittoInstance, protocol: MQTTProtocolVersion
) -> None:
    heard: list[str] = []
    own_arrived = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="acl-listener", protocol=mqtt.MQTTv5)
    listener.username_pw_set("tester", DEMO_MQTT_PASSWORD)

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.retain:  # left by the other tests
            return
        heard.append(message.topic)
        if message.topic == f"{ROOT}/{MINE}/up/event":
            own_arrived.set()

    listener.on_message = on_message
    listener.connect("127.0.0.1", broker.port)
    listener.loop_start()
    acks: dict[int, int] = {}
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-pub-{MINE}-{protocol}", protocol=protocol)
    device.username_pw_set(MINE, PASSWORD)
    device.on_publish = lambda _c, _u, mid, code, _p: acks.__setitem__(mid, code.value)
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    try:
        subscribed = threading.Event()
        listener.on_subscribe = lambda *_args: subscribed.set()
        listener.subscribe("eldercare/v1/#", qos=1)
        assert subscribed.wait(5)
        foreign = device.publish(f"{ROOT}/{OTHER}/up/event", b"{}", qos=1)
        unknown = device.publish(f"{ROOT}/{MINE}/up/selfie", b"{}", qos=1)
        own = device.publish(f"{ROOT}/{MINE}/up/event", b"{}", qos=1)
        for info in (foreign, unknown, own):
            info.wait_for_publish(timeout=5)
        assert own_arrived.wait(5)
    finally:
        device.disconnect()
        device.loop_stop()
        listener.disconnect()
        listener.loop_stop()
    refused = 0x87 if protocol == mqtt.MQTTv5 else 0  # 3.1.1's PUBACK carries no reason code
    assert (acks[foreign.mid], acks[unknown.mid], acks[own.mid]) == (refused, refused, 0)
    assert heard == [f"{ROOT}/{MINE}/up/event"]


def test_the_protocol_doc_says_what_the_broker_does_with_foreign_subscriptions() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "device-protocol.md").read_text(encoding="utf-8")
    assert "<!-- broker-acl -->" in doc, "docs/device-protocol.md lost its table of what the broker does"
    table = doc.split("<!-- broker-acl -->", 1)[1].split("\n\n", 1)[0]
    foreign = next(line for line in table.splitlines() if line.startswith("| subscribes to anything else"))
    assert "granted" in foreign and "nothing is ever delivered" in foreign
    assert "refused" not in doc.split("## Topics", 1)[0], "the broker grants foreign subscriptions; it refuses none"
