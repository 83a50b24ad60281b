"""The gateway's view of the device registry: which serials exist, refreshed in the background.

A message from a serial not in the registry is an unknown device: it goes to dead letters. A miss
triggers at most one reload per few seconds so a newly provisioned device is accepted quickly
without letting a flood of bogus serials hammer the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """What the gateway needs to know about a device."""

    id: int
    serial: str
    kind: str
    heartbeat_interval_s: int


class DeviceRegistry:
    """Thread-safe cache of active devices keyed by serial."""

    def __init__(self, database_url: str, *, refresh_s: float = 30.0, miss_reload_s: float = 2.0) -> None:
        self._url = database_url
        self._refresh_s = refresh_s
        self._miss_reload_s = miss_reload_s
        self._devices: dict[str, KnownDevice] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def reload(self) -> int:
        """Read every non-retired device; returns how many."""
        with psycopg.connect(self._url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT id, serial, kind, heartbeat_interval_s FROM device WHERE state <> 'retired'"
            ).fetchall()
        devices = {row[1]: KnownDevice(row[0], row[1], row[2], row[3]) for row in rows}
        with self._lock:
            self._devices = devices
            self._loaded_at = time.monotonic()
        return len(devices)

    def get(self, serial: str) -> KnownDevice | None:
        """The device, reloading on a miss when the cache is older than a couple of seconds."""
        device = self._devices.get(serial)
        if device is not None:
            if time.monotonic() - self._loaded_at > self._refresh_s:
                self._reload_quietly()
            return device
        if time.monotonic() - self._loaded_at > self._miss_reload_s:
            self._reload_quietly()
            return self._devices.get(serial)
        return None

    def all(self) -> list[KnownDevice]:
        """Every known device."""
        return list(self._devices.values())

    def _reload_quietly(self) -> None:
        try:
            self.reload()
        except psycopg.Error:
            # Keep serving from the old cache while the database is away.
            with self._lock:
                self._loaded_at = time.monotonic()
