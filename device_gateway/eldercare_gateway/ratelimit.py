"""Per-device token buckets, so that one broken device cannot starve the others."""

from __future__ import annotations

import threading
import time


class DeviceRateLimiter:
    """`rate_per_minute` messages per device with bursts up to `burst`."""

    def __init__(self, *, rate_per_minute: int, burst: int) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, serial: str, now: float | None = None) -> bool:
        """Take one token for the device; False when its bucket is empty."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(serial, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._buckets[serial] = (tokens, now)
                return False
            self._buckets[serial] = (tokens - 1.0, now)
            return True
