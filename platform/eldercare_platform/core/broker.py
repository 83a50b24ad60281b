"""The platform's own MQTT connection: used for downlinks to devices and for the health check."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt

from eldercare_common.logging import get_logger
from eldercare_common.mqtt import make_client
from eldercare_common.settings import MqttSettingsMixin

log = get_logger(__name__)


class BrokerLink:
    """A paho client on its own network thread that reconnects by itself."""

    def __init__(self, settings: MqttSettingsMixin, *, client_id: str) -> None:
        self._settings = settings
        self._connected = threading.Event()
        self.client = make_client(settings, client_id=client_id, reconnect_delay_s=(1, 30))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker refused connection", reason=str(reason))
            return
        self._connected.set()
        log.info("connected to broker", host=self._settings.mqtt_host, port=self._settings.mqtt_port)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object
    ) -> None:
        self._connected.clear()
        log.warning("disconnected from broker", reason=str(reason))

    @property
    def connected(self) -> bool:
        """Whether the broker session is up right now."""
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; keeps retrying if the broker is down."""
        self.client.connect_async(self._settings.mqtt_host, self._settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or timeout."""
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
