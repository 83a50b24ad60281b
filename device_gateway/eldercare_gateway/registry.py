"""The gateway's view of the device registry: which serials exist, refreshed in the background.

A message from a serial not in the registry is an unknown device: it goes to dead letters. A miss
is checked at once with a one-row, indexed query, so a device provisioned a moment ago is accepted
with its very first message (the broker only lets registered devices in, so misses are rare); a
serial found missing is not asked about again for a couple of seconds, so a flood of bogus serials
cannot hammer the database.
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
        self._misses: dict[str, float] = {}
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
        """The device from the cache, or looked up on a miss (negative answers cached briefly)."""
        device = self._devices.get(serial)
        if device is not None:
            if time.monotonic() - self._loaded_at > self._refresh_s:
                self._reload_quietly()
            return device
        missed_at = self._misses.get(serial)
        if missed_at is not None and time.monotonic() - missed_at < self._miss_reload_s:
            return None
        return self._lookup(serial)

    def _lookup(self, serial: str) -> KnownDevice | None:
        try:
            with psycopg.connect(self._url, autocommit=True, connect_timeout=3) as conn:
                row = conn.execute(
                    "SELECT id, serial, kind, heartbeat_interval_s FROM device"
                    " WHERE serial = %s AND state <> 'retired'",
                    (serial,),
                ).fetchone()
        except psycopg.Error:
            # The database is away. The broker authenticated this serial (its ACL ties the topic to the
            # username), so accept provisionally rather than dead-letter what may be a new unit's SOS.
            return KnownDevice(0, serial, "unverified", 60)
        if row is None:
            if len(self._misses) > 10_000:
                self._misses.clear()
            self._misses[serial] = time.monotonic()
            return None
        device = KnownDevice(row[0], row[1], row[2], row[3])
        with self._lock:
            self._devices = {**self._devices, serial: device}
            self._misses.pop(serial, None)
        return device

    def _reload_quietly(self) -> None:
        try:
            self.reload()
        except psycopg.Error:
            # Keep serving from the old cache while the database is away.
            with self._lock:
                self._loaded_at = time.monotonic()
