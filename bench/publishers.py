"""Bench publishers: many devices' paho sessions in one process, pre-filling the broker fast."""

from __future__ import annotations

import gc
import json
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.settings import DEMO_DEVICE_SECRET


class DevicePublishers:
    """One paho client per device (the ACL lets a device publish only under its own serial)."""

    def __init__(self, host: str, port: int, serials: list[str]) -> None:
        self.clients: dict[str, mqtt.Client] = {}
        self.acked = 0
        self._lock = threading.Lock()
        for serial in serials:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{serial}", clean_session=True)
            client.username_pw_set(serial, demo_device_password(serial, DEMO_DEVICE_SECRET))
            client.max_inflight_messages_set(200)
            client.max_queued_messages_set(0)
            client.on_publish = self._on_publish
            client.connect(host, port, keepalive=60)
            client.loop_start()
            self.clients[serial] = client
        deadline = time.monotonic() + 30
        while not all(c.is_connected() for c in self.clients.values()):
            if time.monotonic() > deadline:
                raise TimeoutError("bench publishers did not connect")
            time.sleep(0.05)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, serial: str, topic: str, payload: bytes, qos: int = 1) -> None:
        """Queue one message."""
        self.clients[serial].publish(topic, payload, qos=qos)

    def wait_acked(self, count: int, timeout: float = 600) -> None:
        """Until the broker acknowledged `count` messages in all."""
        deadline = time.monotonic() + timeout
        while self.acked < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.acked}/{count} acknowledged")
            time.sleep(0.05)

    def close(self) -> None:
        """Disconnect all, and free their sockets now.

        paho waits in select(), which cannot watch a descriptor above 1,023; closed clients keep their
        wake-up socket pair until collected, so without the collection the next few hundred clients
        got descriptors past that limit and never connected.
        """
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()
        self.clients.clear()
        gc.collect()


def telemetry_payload(seq: int) -> bytes:
    """A vitals sample like a care-center monitor sends."""
    return json.dumps(
        {
            "seq": seq,
            "ts": datetime.now(UTC).isoformat(),
            "kind": "vitals",
            "data": {"heart_rate": 72, "spo2": 97, "systolic": 128, "diastolic": 81},
        }
    ).encode()
