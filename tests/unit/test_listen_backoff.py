"""The LISTEN helper's reconnect policy without a database: a connect that fails, then succeeds.

tests/integration/test_listen.py kills a real connection; this pins the backoff and the catch-up order.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_platform.core.listen import Backoff, Listener, queue_or_resync

FAST = Backoff(pause_s=0.01, initial_s=0.02, max_s=0.08)


class FakeConnection:
    """Records what was executed; yields its scripted notifications once, then stays quiet."""

    def __init__(self, log: list[str], payloads: list[str]) -> None:
        self.log = log
        self.payloads = payloads

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.log.append("closed")

    def execute(self, query: Any) -> None:
        self.log.append(query.as_string(None))

    def notifies(self, *, timeout: float) -> Iterator[Any]:
        while self.payloads:
            yield type("Notify", (), {"payload": self.payloads.pop(0)})()
        time.sleep(timeout)


def test_a_refused_connect_is_retried_with_growing_waits_then_listens_and_catches_up() -> None:
    attempts: list[float] = []
    log: list[str] = []

    def connect() -> FakeConnection:
        attempts.append(time.monotonic())
        if len(attempts) <= 4:
            raise psycopg.OperationalError("connection refused")
        return FakeConnection(log, ["7", "8"])

    connected = threading.Event()
    notified: list[str] = []

    def on_connect() -> None:
        log.append("catch-up")
        connected.set()

    listener = Listener(
        "postgresql://unused/db",
        [NotifyChannel.DEVICE_EVENT, NotifyChannel.DOWNLINK],
        name="unit",
        on_connect=on_connect,
        on_notify=notified.append,
        backoff=FAST,
        connect=connect,  # type: ignore[arg-type]
        tick_s=0.01,
    )
    listener.start()
    try:
        assert connected.wait(5)
        deadline = time.monotonic() + 5
        while notified != ["7", "8"] and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        listener.stop()
    assert len(attempts) == 5 and listener.connects == 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= 0.015 for gap in gaps), gaps  # never a tight loop
    assert max(gaps) < 1.0, gaps  # bounded by max_s (+ jitter; generous for a loaded machine)
    # LISTEN on every channel first, then the catch-up, then the notifications.
    assert log[:3] == ['LISTEN "device_event"', 'LISTEN "downlink"', "catch-up"]
    assert notified == ["7", "8"]
    assert log[-1] == "closed"


def test_a_callback_that_raises_does_not_stop_the_listener() -> None:
    log: list[str] = []
    seen: list[str] = []

    def on_notify(payload: str) -> None:
        seen.append(payload)
        if payload == "bad":
            raise ValueError(payload)

    listener = Listener(
        "postgresql://unused/db",
        [NotifyChannel.ALARM_CHANGED],
        name="unit-raises",
        on_notify=on_notify,
        connect=lambda: FakeConnection(log, ["bad", "good"]),  # type: ignore[arg-type,return-value]
        tick_s=0.01,
    )
    listener.start()
    try:
        deadline = time.monotonic() + 5
        while seen != ["bad", "good"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert listener.connected and listener.connects == 1
    finally:
        listener.stop()
    assert seen == ["bad", "good"]


def test_wait_is_woken_by_a_connect_and_times_out_when_quiet() -> None:
    listener = Listener(
        "postgresql://unused/db",
        [NotifyChannel.DOWNLINK],
        name="unit-wait",
        connect=lambda: FakeConnection([], []),  # type: ignore[arg-type,return-value]
        tick_s=0.01,
    )
    listener.start()
    try:
        assert listener.wait(5) is True  # the (first) connect wakes a worker: its catch-up
        assert listener.wait(0.05) is False  # nothing since
    finally:
        listener.stop()


def test_a_socket_too_far_behind_is_told_to_resync() -> None:
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(maxsize=2)
    assert queue_or_resync(queue, {"n": 1}) and queue_or_resync(queue, {"n": 2})
    assert not queue_or_resync(queue, {"n": 3})  # full: what it holds is dropped, the client starts over
    assert [queue.get_nowait() for _ in range(queue.qsize())] == [{"type": "resync"}]
