"""The gateway process: registry, rate limiter, the three lanes, and health."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import psycopg

from eldercare_common.logging import get_logger
from eldercare_gateway.config import GatewaySettings
from eldercare_gateway.lanes.alarm import AlarmLane
from eldercare_gateway.lanes.base import Lane, utc_now
from eldercare_gateway.lanes.status import StatusLane
from eldercare_gateway.lanes.telemetry import TelemetryLane
from eldercare_gateway.ratelimit import DeviceRateLimiter
from eldercare_gateway.registry import DeviceRegistry

log = get_logger(__name__)


class Gateway:
    """Owns the lanes; `start()` returns once the registry is loaded and the lanes are connecting."""

    def __init__(self, settings: GatewaySettings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.stop_event = threading.Event()
        self.registry = DeviceRegistry(settings.libpq_url, refresh_s=settings.registry_refresh_s)
        self.limiter = DeviceRateLimiter(
            rate_per_minute=settings.device_rate_per_minute, burst=settings.device_rate_burst
        )
        wanted = set(settings.lanes.split(","))
        self.lanes: list[Lane] = [
            lane(settings, registry=self.registry, limiter=self.limiter, stop=self.stop_event, clock=clock)
            for lane in (AlarmLane, StatusLane, TelemetryLane)
            if lane.name in wanted
        ]

    def start(self) -> None:
        """Load the registry (waiting for the database), then start every lane."""
        delay = 0.5
        while not self.stop_event.is_set():
            try:
                count = self.registry.reload()
                log.info("device registry loaded", devices=count)
                break
            except psycopg.OperationalError as exc:
                log.warning("database not reachable yet", error=str(exc)[:200])
                time.sleep(delay)
                delay = min(delay * 2, 10)
        for lane in self.lanes:
            lane.start()

    def health(self) -> dict[str, str]:
        """Per-lane broker session and database reachability."""
        checks = {f"broker_{lane.name}": "ok" if lane.connected else "error: not connected" for lane in self.lanes}
        try:
            with psycopg.connect(self.settings.libpq_url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            checks["database"] = "ok"
        except psycopg.Error as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        return checks

    def idle_for(self) -> float:
        """Seconds since any lane last received a message (and every writer queue is empty)."""
        if any(lane.writer.depth() for lane in self.lanes):
            return 0.0
        return time.monotonic() - max(lane.last_message_at for lane in self.lanes)

    def stop(self) -> None:
        """Stop reading, drain the writers, close connections."""
        self.stop_event.set()
        for lane in self.lanes:
            lane.shutdown()
