"""Helpers for tests that run the gateway against the session's PostgreSQL and Mosquitto."""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.mqtt_auth import hash_password
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_gateway.config import GatewaySettings
from eldercare_gateway.service import Gateway
from eldercare_platform.devices.broker_files import device_password_hashes
from tests.conftest import psql

T = TypeVar("T")
_serials = itertools.count(1)


def register_devices(
    database_url: str, count: int, *, prefix: str = "GT", kind: str = "home_alarm_unit", password: str = "device-pass-1"
) -> list[str]:
    """Commit `count` devices (one household each, in one test community) with broker credentials."""
    community = psql(
        database_url,
        "INSERT INTO area (code, name, level, path) VALUES (%s, '测试社区', 'community', '/') RETURNING id",
        (f"GW{os.getpid()}{next(_serials):06d}",),
    )[0][0]
    password_hash = hash_password(password)
    serials = []
    for _ in range(count):
        serial = f"{prefix}{os.getpid() % 1000:03d}{next(_serials):06d}"
        household = psql(
            database_url,
            "INSERT INTO household (area_id, address, enrolled_at) VALUES (%s, '测试路1号', now()) RETURNING id",
            (community,),
        )[0][0]
        device = psql(
            database_url,
            "INSERT INTO device (serial, kind, model, household_id, heartbeat_interval_s, state,"
            " installed_at) VALUES (%s, %s, 'T-1', %s, 60, 'active', now()) RETURNING id",
            (serial, kind, household),
        )[0][0]
        psql(
            database_url,
            "INSERT INTO device_credential (device_id, username, password_hash, created_at) VALUES (%s, %s, %s, now())",
            (device, serial, password_hash),
        )
        serials.append(serial)
    return serials


def sync_broker(broker: MosquittoInstance, database_url: str) -> None:
    """Regenerate the broker's password file from the registry and make it reread it."""
    broker.device_hashes = device_password_hashes(database_url)
    broker.write_credentials()
    broker.reload()
    time.sleep(0.3)


def gateway_settings(database_url: str, broker: MosquittoInstance, **overrides: object) -> GatewaySettings:
    """Settings for an in-process gateway on the test services."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "mqtt_url": broker.url,
        "mqtt_username": "gateway",
        "mqtt_password": DEMO_MQTT_PASSWORD,
        "metrics_port": 0,
        "instance": f"t{os.getpid()}",
        "telemetry_batch_ms": 50,
        "silent_check_s": 3600,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


@contextmanager
def running_gateway(settings: GatewaySettings) -> Iterator[Gateway]:
    """A gateway running in this process until the block ends."""
    gateway = Gateway(settings)
    gateway.start()
    wait_for(lambda: all(lane.connected for lane in gateway.lanes), timeout=10, what="gateway lanes connected")
    try:
        yield gateway
    finally:
        gateway.stop_event.set()
        gateway.stop()


def wait_for(probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll until `probe()` is truthy; fail with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def mosquitto_pub(
    broker: MosquittoInstance,
    *,
    username: str,
    password: str,
    topic: str,
    message: str | bytes,
    qos: int = 1,
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Publish with the Eclipse `mosquitto_pub` client, exactly as a device integrator would."""
    payload = message.encode() if isinstance(message, str) else message
    return subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            str(broker.port),
            "-u",
            username,
            "-P",
            password,
            "-t",
            topic,
            "-q",
            str(qos),
            "-s",
            *(extra or []),
        ],
        input=payload,
        capture_output=True,
        timeout=20,
        check=False,
    )


def committed_user(database_url: str, *, username: str, role: str, password: str = "test-password-123") -> None:
    """Commit a user (for tests where other threads or processes must see it)."""
    from eldercare_platform.core.security import hash_password as user_hash

    psql(
        database_url,
        "INSERT INTO app_user (username, full_name, role, password_hash, locale, active, created_at)"
        " VALUES (%s, %s, %s, %s, 'zh-CN', true, now()) ON CONFLICT (username) DO NOTHING",
        (username, username, role, user_hash(password)),
    )
