"""Live alarm push: every API process LISTENs `alarm_changed` and forwards the changed rows to its consoles.

NOTIFY only wakes us up; we always read the alarm table (the source of truth). A console that
reconnects asks for everything after the last `version` it saw, so nothing is missed across a
dropped connection or a platform restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from fastapi import WebSocket
from sqlmodel import Session

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_common.logging import get_logger
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.alarms.schemas import AlarmOut
from eldercare_platform.alarms.service import alarms_by_ids, changed_ids, latest_version
from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.listen import DEFAULT_BACKOFF, Backoff, ListeningWorker, LiveHub, queue_or_resync
from eldercare_platform.core.scope import Scope

log = get_logger(__name__)


@dataclass(eq=False)
class Console:
    """One connected console and what it may see."""

    websocket: WebSocket
    scope: Scope  # the user's scope (core/scope.py)
    queue: asyncio.Queue[dict[str, object]] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))

    def may_see(self, alarm: AlarmOut) -> bool:
        """The scope rule, applied to every alarm before it is pushed."""
        return self.scope.sees(area_path=alarm.area_path, institution_id=alarm.institution_id)


class AlarmHub(LiveHub):
    """Fans alarm changes out to the consoles connected to this process.

    NOTIFY makes it fast; a sweep of `version > last seen` every couple of seconds makes it complete,
    so a notification lost to a dropped listener connection delays an update, never loses it.
    """

    def __init__(
        self,
        database_url: str,
        sqlalchemy_url: str,
        *,
        sweep_s: float = 2.0,
        clock: Clock = SYSTEM_CLOCK,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._sqlalchemy_url = sqlalchemy_url
        self._clock = clock
        self._sweep_s = sweep_s
        self.consoles: set[Console] = set()
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._last_version = 0
        self._pushed: dict[int, int] = {}
        super().__init__(database_url, NotifyChannel.ALARM_CHANGED, name="alarm-hub", backoff=backoff)

    # The listener's thread hands over to the event loop.
    def _notified(self, payload: str) -> None:
        self._in_loop(self._note, int(payload))

    def _reconnected(self) -> None:
        self._in_loop(self._wake.set)  # (re)connected: sweep once for whatever changed meanwhile

    def _note(self, alarm_id: int) -> None:
        self._pending.add(alarm_id)
        self._wake.set()

    async def _publish_loop(self) -> None:
        while self._last_version == 0:
            try:
                self._last_version = await asyncio.to_thread(self._max_version) or -1
            except Exception:
                log.warning("alarm hub waiting for the database")
                await asyncio.sleep(1.0)
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose the stop's cancel (gh-86296)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep_s):
                    await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0.002)  # let a burst (a storm touches many alarms) gather into one read
            ids, self._pending = self._pending, set()
            try:
                await self.publish(sorted(ids))
            except Exception:
                log.exception("alarm push failed; the sweep will retry")

    async def publish(self, ids: list[int]) -> None:
        """Read the notified alarms plus any change the sweep finds, and queue them for allowed consoles."""
        rows = [
            alarm for alarm in await asyncio.to_thread(self._read, ids) if alarm.version > self._pushed.get(alarm.id, 0)
        ]  # the sweep and NOTIFY may both bring it
        for alarm in rows:
            self._last_version = max(self._last_version, alarm.version)
            self._pushed[alarm.id] = alarm.version
        if len(self._pushed) > 100_000:
            self._pushed.clear()  # only an optimisation: a repeated push is harmless (consoles keep the newest)
        if not self.consoles:
            return
        for console in list(self.consoles):
            for alarm in rows:
                if console.may_see(alarm) and not queue_or_resync(
                    console.queue, {"type": "alarm", "alarm": alarm.model_dump(mode="json")}
                ):
                    break  # a console this far behind starts over: it reconnects and catches up by version

    def _max_version(self) -> int:
        with Session(engine_for(self._sqlalchemy_url)) as session:
            return latest_version(session)

    def _read(self, ids: list[int]) -> list[AlarmOut]:
        now = self._clock.now()
        with Session(engine_for(self._sqlalchemy_url)) as session:
            swept = changed_ids(session, after=self._last_version)
            wanted = sorted(set(ids) | set(swept))
            return alarms_by_ids(session, ids=wanted, now=now) if wanted else []


class IntakeWorker(ListeningWorker):
    """Turns pending device events into alarms, woken by NOTIFY (and every second, to be safe)."""

    def __init__(
        self,
        database_url: str,
        sqlalchemy_url: str,
        *,
        clock: Clock = SYSTEM_CLOCK,
        poll_s: float = 1.0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__(
            database_url, [NotifyChannel.DEVICE_EVENT], name="alarm-intake", poll_s=poll_s, backoff=backoff
        )
        # A reconnect wakes the worker like a NOTIFY does: what the gateway stored meanwhile is taken then.
        self._sqlalchemy_url = sqlalchemy_url
        self._clock = clock

    def _work(self) -> None:
        engine = engine_for(self._sqlalchemy_url)
        while not self._stop.is_set():
            try:
                with Session(engine) as session:
                    touched = intake_pending(session, now=self._clock.now())
                if touched:
                    continue
                self._wait()
            except Exception:
                log.exception("alarm intake failed; retrying")
                self._stop.wait(1.0)
