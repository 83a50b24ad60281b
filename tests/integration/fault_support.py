"""Fault-test tooling: gateways as real processes, and a fleet publisher that never gives up a QoS 1 message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.settings import DEMO_MQTT_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    """`python -m eldercare_gateway` as a child process, with its stderr in a file."""

    def __init__(
        self,
        *,
        database_url: str,
        broker: MosquittoInstance,
        instance: str,
        log_dir: Path,
        failpoints: str = "",
        extra_env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.instance = instance
        self.extra_env = extra_env
        self.log = log_dir / f"gateway-{instance}-{time.monotonic_ns()}.log"
        env = {
            **os.environ,
            "ELDERCARE_ENV": "test",
            "DATABASE_URL": database_url,
            "MQTT_URL": broker.url,
            "MQTT_USERNAME": "gateway",
            "MQTT_PASSWORD": DEMO_MQTT_PASSWORD,
            "ELDERCARE_INSTANCE": instance,
            "ELDERCARE_METRICS_PORT": "0",
            "ELDERCARE_LOG_JSON": "true",
            "ELDERCARE_FAILPOINTS": failpoints,
            "ELDERCARE_DEVICE_RATE_PER_MINUTE": "1000000",
            "ELDERCARE_DEVICE_RATE_BURST": "100000",
            "ELDERCARE_SILENT_CHECK_S": "3600",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eldercare_gateway", *(args or [])],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )

    def output(self) -> str:
        """What the process logged so far."""
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float) -> None:
        """Block until `text` appears in the log."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None or text in self.output(), self.output()[-3000:]
            assert time.monotonic() < deadline, f"{text!r} not logged: {self.output()[-3000:]}"
            time.sleep(0.05)

    def wait_connected(self, timeout: float = 20, lanes: int = 3) -> None:
        """Block until the lanes logged their connection."""
        deadline = time.monotonic() + timeout
        while self.output().count('"lane connected"') < lanes:
            assert self.process.poll() is None, self.output()[-3000:]
            assert time.monotonic() < deadline, self.output()[-3000:]
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, like a power cut."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def retire(self, *, database_url: str, broker: MosquittoInstance, log_dir: Path) -> None:
        """Take this instance name out of service: drain its sessions, then delete them."""
        retire([self], database_url=database_url, broker=broker, log_dir=log_dir)

    def stop(self) -> None:
        """SIGTERM and wait."""
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """SIGTERM, without waiting."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        """Wait for the process to end (SIGKILL after 20 s)."""
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def retire(processes: Sequence[GatewayProcess], *, database_url: str, broker: MosquittoInstance, log_dir: Path) -> None:
    """Take these instance names out of service: stop each process, drain its sessions, then delete them.

    The instances are independent (a name each), so they are stopped together and retired by processes run at
    the same time: each retirement is mostly waiting (start-up, then a second of silence that means drained).
    """
    for gateway in processes:
        gateway.terminate()
    for gateway in processes:
        gateway.wait_stopped()
    retiring = [
        GatewayProcess(
            database_url=database_url,
            broker=broker,
            instance=gateway.instance,
            log_dir=log_dir,
            args=["--retire", "--idle", "1"],
        )
        for gateway in processes
    ]
    for process in retiring:
        assert process.process.wait(timeout=60) == 0, process.output()[-2000:]
        assert '"sessions deleted"' in process.output()


_instances = iter(range(1, 1_000_000))


@contextmanager
def gateways(
    count: int, *, database_url: str, broker: MosquittoInstance, log_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[list[GatewayProcess]]:
    """`count` gateway processes on the same shared subscription, retired at the end (sessions deleted),
    so that the next test's messages are not routed to a session nobody will come back for."""
    started = [
        GatewayProcess(
            database_url=database_url,
            broker=broker,
            instance=f"gw{next(_instances)}-{os.getpid()}",
            log_dir=log_dir,
            extra_env=extra_env,
        )
        for _ in range(count)
    ]
    try:
        for gateway in started:
            gateway.wait_connected()
        yield started
    finally:
        retire(started, database_url=database_url, broker=broker, log_dir=log_dir)


class FleetPublisher:
    """One persistent paho session per device; QoS 1 messages are kept and resent until PUBACK."""

    def __init__(self, broker: MosquittoInstance, devices: list[str], password: str) -> None:
        self.clients: dict[str, mqtt.Client] = {}
        # (serial, mid) not yet acknowledged. Tracked through on_publish rather than MQTTMessageInfo,
        # whose is_published() raises for a message queued while disconnected (paho still sends it).
        self.pending: set[tuple[str, int]] = set()
        self.acknowledged: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        for serial in devices:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=f"pub-{serial}", clean_session=False, protocol=mqtt.MQTTv311
            )
            client.username_pw_set(serial, password)
            client.on_publish = self._on_publish
            client.user_data_set(serial)
            client.max_inflight_messages_set(100)
            client.max_queued_messages_set(0)  # unbounded: the test decides how much it sends
            client.reconnect_delay_set(1, 2)
            client.connect(broker_host(broker), broker.port, keepalive=30)
            client.loop_start()
            self.clients[serial] = client
        deadline = time.monotonic() + 10
        while not all(c.is_connected() for c in self.clients.values()):
            assert time.monotonic() < deadline, "publishers did not connect"
            time.sleep(0.05)

    def _on_publish(self, client: mqtt.Client, serial: str, mid: int, reason: object, properties: object) -> None:
        with self._lock:
            if (serial, mid) in self.pending:
                self.pending.discard((serial, mid))
            else:  # acknowledged before publish() returned its mid to us
                self.acknowledged.add((serial, mid))

    def publish(self, serial: str, topic: str, payload: bytes, qos: int = 1) -> None:
        """Queue a message (paho sends it now, or after a reconnect)."""
        # Not under self._lock: paho calls on_publish holding its own mutex, which publish() also takes.
        info = self.clients[serial].publish(topic, payload, qos=qos)
        assert info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN), info.rc
        with self._lock:
            key = (serial, info.mid)
            if key in self.acknowledged:
                self.acknowledged.discard(key)
            else:
                self.pending.add(key)

    def unacknowledged(self) -> int:
        """QoS 1 messages the broker has not acknowledged yet."""
        with self._lock:
            return len(self.pending)

    def wait_all_acknowledged(self, timeout: float) -> None:
        """Block until the broker acknowledged every message."""
        deadline = time.monotonic() + timeout
        while (left := self.unacknowledged()) > 0:
            assert time.monotonic() < deadline, f"{left} messages never acknowledged by the broker"
            time.sleep(0.1)

    def close(self) -> None:
        """Disconnect every client."""
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()


def broker_host(broker: MosquittoInstance) -> str:
    """Host of a private broker (always loopback)."""
    return "127.0.0.1"
