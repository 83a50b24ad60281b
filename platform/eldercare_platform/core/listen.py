"""The one way the platform LISTENs: a connection kept on some NOTIFY channels, reconnected and caught up.

Used by the live hubs (`LiveHub`: the console's alarms on `alarm_changed`, the caregiver's tasks on
`task_changed`), the alarm intake worker (`device_event`) and the downlink publisher (`downlink`); the
channels are named by the contract (`eldercare_common.contract.outbox.NotifyChannel`).

A NOTIFY only wakes a reader: the tables stay the truth, and a notification sent while the listener
was away is lost for good. So after every connect, the first one and each reconnect, once its LISTENs
are in place, the listener calls `on_connect` (the catch-up: read whatever is pending) and wakes
`wait()`. Anything committed during an outage is then read by the catch-up; anything committed later
is notified. A lost connection is reopened at once, then with exponential backoff and jitter
(tenacity) while the database stays away.

Two ways to run it. The live hub, which must hear every notification as it comes, gives the listener
a thread of its own (`start()`). A worker that only needs waking between batches (intake, downlink
publisher: `ListeningWorker`) calls `poll()` on its own thread instead: under an alarm storm
thousands of NOTIFYs a second would otherwise each wake a second Python thread to contend for the
interpreter lock with the worker doing the intake (measured: the storm's press-to-console p50 went
from about 100 ms to 275–440 ms with a listener thread per worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_common.logging import get_logger

log = get_logger(__name__)

Connect = Callable[[], psycopg.Connection[Any]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait between attempts to reach the database again."""

    pause_s: float = 0.2  # after a lost connection, before the first attempt (no tight loop on a flapping server)
    initial_s: float = 0.5  # then exponential from here, with up to `initial_s` of jitter
    max_s: float = 10.0


DEFAULT_BACKOFF = Backoff()


class Listener:
    """LISTEN on `channels` in a daemon thread; reconnects by itself and catches up after every connect.

    `on_notify(payload)` runs for every notification and `on_connect()` after every (re)connect, both
    on the listener's thread (a callback that raises is logged, the listener goes on). `wait(timeout)`
    returns when either happened since the last `wait`, for workers that only need waking.
    """

    def __init__(
        self,
        database_url: str,
        channels: Sequence[NotifyChannel],
        *,
        name: str,
        on_notify: Callable[[str], None] | None = None,
        on_connect: Callable[[], None] | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        connect: Connect | None = None,
        tick_s: float = 0.5,
    ) -> None:
        self.name = name
        self.channels = tuple(NotifyChannel(channel) for channel in channels)
        self.application_name = f"eldercare-listen-{name}"  # how it shows in pg_stat_activity
        self._url = database_url
        self._on_notify = on_notify
        self._on_connect = on_connect
        self._backoff = backoff
        self._connect = connect or self._default_connect
        self._tick_s = tick_s  # how often a quiet listener checks whether it should stop
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._connected = threading.Event()
        self.connects = 0  # successful (re)connects so far
        self._conn: psycopg.Connection[Any] | None = None  # `poll()`'s connection (inline mode)
        self._lost = False  # `poll()` lost its connection: pause before reconnecting
        self._thread = threading.Thread(target=self._run, name=f"listen-{name}", daemon=True)

    # --- for the owner ---
    def start(self) -> None:
        """Connect and listen in the background."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    @property
    def connected(self) -> bool:
        """Whether the LISTENs are in place right now."""
        return self._connected.is_set()

    def wait(self, timeout: float) -> bool:
        """Block until a notification or a (re)connect (or `stop`), at most `timeout` s; True if woken."""
        woken = self._wake.wait(timeout)
        self._wake.clear()
        return woken

    def poll(self, timeout: float) -> bool:
        """Inline mode, on the caller's thread (never with `start()`): connect if needed, then wait up to
        `timeout` s for a notification. True when one came or a (re)connect happened (then `on_connect`
        ran: the caller's next batch is its catch-up); False on a quiet timeout or once stopping."""
        if self._stop.is_set():
            return False
        if self._conn is None:
            if self._lost:
                self._stop.wait(self._backoff.pause_s)
            try:
                conn = self._reconnect()  # raises only once stopping
            except Exception:
                return False
            try:
                self._subscribe(conn)
            except Exception as exc:
                self._drop(conn, exc)
                return True
            self._conn = conn
            return True
        deadline = time.monotonic() + timeout
        try:
            while not self._stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                for notice in self._conn.notifies(timeout=min(remaining, self._tick_s), stop_after=1):
                    self._call(self._on_notify, notice.payload)
                    return True
            return False
        except Exception as exc:
            self._drop(self._conn, exc)
            return True

    def close(self) -> None:
        """Inline mode: close `poll()`'s connection (the owner's thread, once its loop ended)."""
        self._stop.set()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self._connected.clear()

    def _drop(self, conn: psycopg.Connection[Any], exc: Exception) -> None:
        if not self._stop.is_set():
            log.warning("listener lost the database; reconnecting", listener=self.name, error=str(exc)[:200])
        with contextlib.suppress(Exception):
            conn.close()
        self._conn = None
        self._lost = True
        self._connected.clear()

    # --- the thread ---
    def _default_connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._url, autocommit=True, application_name=self.application_name, connect_timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._reconnect()  # raises only once stopping
            except Exception:
                return
            try:
                with conn:
                    self._listen(conn)
            except Exception as exc:
                if not self._stop.is_set():
                    log.warning("listener lost the database; reconnecting", listener=self.name, error=str(exc)[:200])
            finally:
                self._connected.clear()
            self._stop.wait(self._backoff.pause_s)

    def _reconnect(self) -> psycopg.Connection[Any]:
        retrying = Retrying(
            retry=retry_if_exception_type(Exception),  # a database restarting refuses in many ways
            wait=wait_exponential_jitter(
                multiplier=self._backoff.initial_s, max=self._backoff.max_s, jitter=self._backoff.initial_s
            ),
            stop=lambda _state: self._stop.is_set(),
            sleep=self._sleep,  # a stop cuts the wait short
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._connect)

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "listener cannot reach the database",
            listener=self.name,
            attempt=state.attempt_number,
            retry_in_s=round(wait, 2),
            error=str(error)[:200],
        )

    def _subscribe(self, conn: psycopg.Connection[Any]) -> None:
        """LISTEN on every channel, then the catch-up: `on_connect`, and wake `wait()`."""
        for channel in self.channels:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel.value)))
        self.connects += 1
        self._connected.set()
        if self.connects > 1:
            log.info("listener reconnected; catching up", listener=self.name, connects=self.connects)
        self._call(self._on_connect)
        self._wake.set()

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        self._subscribe(conn)
        while not self._stop.is_set():
            for notice in conn.notifies(timeout=self._tick_s):
                if self._on_notify is not None:
                    self._call(self._on_notify, notice.payload)
                self._wake.set()
                if self._stop.is_set():
                    break

    def _call(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("listener callback failed", listener=self.name)


class ListeningWorker:
    """A background thread that a `Listener` wakes (a NOTIFY, or a reconnect: catch-up), else every `poll_s`.

    The intake worker and the downlink publisher are such workers; a subclass implements `_run`, a loop
    that ends when `_stop` is set and waits with `self._wait()` between batches. The listener runs
    inline (`Listener.poll` on the worker's own thread): no second thread to wake per notification.
    """

    def __init__(
        self,
        database_url: str,
        channels: Sequence[NotifyChannel],
        *,
        name: str,
        poll_s: float = 1.0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._poll_s = poll_s
        self._stop = threading.Event()
        self.listener = Listener(database_url, channels, name=name, backoff=backoff)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start listening and working in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch (a wait ends within the listener's tick)."""
        self._stop.set()
        self.listener.stop()  # ends a `poll` within its tick
        self._thread.join(timeout=10)

    def _wait(self) -> None:
        """Between batches: until a notification or a (re)connect, at most `poll_s`."""
        self.listener.poll(self._poll_s)

    def _run(self) -> None:
        try:
            self._work()
        finally:
            self.listener.close()

    def _work(self) -> None:
        raise NotImplementedError


class LiveHub:
    """What the live hubs (the console's alarms, the caregiver's tasks) share: a `Listener` on its own thread that
    wakes a publish loop in the API's event loop. A subclass defines `_notified(payload)` and `_reconnected()`
    (called on the listener's thread: hand over to the loop with `_in_loop`) and `_publish_loop()`."""

    def __init__(self, database_url: str, channel: NotifyChannel, *, name: str, backoff: Backoff) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.listener = Listener(
            database_url,
            [channel],
            name=name,
            on_notify=self._notified,
            on_connect=self._reconnected,
            backoff=backoff,
        )

    def start(self) -> None:
        """Start listening and publishing (call inside the running event loop)."""
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._publish_loop())]
        self.listener.start()

    async def stop(self) -> None:
        """Stop."""
        await asyncio.to_thread(self.listener.stop)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _in_loop(self, callback: Callable[..., object], *args: object) -> None:
        """Run `callback(*args)` on the event loop (from the listener's thread)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(callback, *args)

    def _notified(self, payload: str) -> None:
        raise NotImplementedError

    def _reconnected(self) -> None:
        raise NotImplementedError

    async def _publish_loop(self) -> None:
        raise NotImplementedError


def queue_or_resync(queue: asyncio.Queue[dict[str, object]], message: dict[str, object]) -> bool:
    """Queue a live message for a socket; a socket this far behind starts over instead: its queue is emptied and
    holds one `resync` (the client reconnects and catches up by version). False when it was told to resync."""
    try:
        queue.put_nowait(message)
        return True
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait({"type": "resync"})
        return False
