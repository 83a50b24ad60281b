"""Live alarm push: every API process LISTENs `alarm_changed` and forwards the changed rows to its consoles.

NOTIFY only wakes us up; we always read the alarm table (the source of truth). A console that
reconnects asks for everything after the last `version` it saw, so nothing is missed across a
dropped connection or a platform restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from fastapi import WebSocket
from sqlmodel import Session

from eldercare_common.logging import get_logger
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.alarms.models import AlarmOut
from eldercare_platform.alarms.service import NOTIFY_CHANNEL, alarms_by_ids
from eldercare_platform.core.db import engine_for

log = get_logger(__name__)


@dataclass(eq=False)
class Console:
    """One connected console and what it may see."""

    websocket: WebSocket
    scope: str | None  # area path prefix for a supervisor; None sees everything
    queue: asyncio.Queue[dict[str, object]] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))

    def may_see(self, alarm: AlarmOut) -> bool:
        """Scope filter."""
        return self.scope is None or (alarm.area_path or "").startswith(self.scope)


class AlarmHub:
    """Fans alarm changes out to the consoles connected to this process."""

    def __init__(self, database_url: str, sqlalchemy_url: str) -> None:
        self._url = database_url
        self._sqlalchemy_url = sqlalchemy_url
        self.consoles: set[Console] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start listening (call inside the running event loop)."""
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        """Stop listening."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    async for notice in conn.notifies():
                        ids = {int(notice.payload)}
                        # Gather a burst (a storm touches many alarms) into one read.
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(0.02):
                                async for more in conn.notifies():
                                    ids.add(int(more.payload))
                        await self.publish(sorted(ids))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alarm listener lost the database; retrying")
                await asyncio.sleep(1.0)

    async def publish(self, ids: list[int]) -> None:
        """Read the alarms and queue them for every console allowed to see them."""
        if not self.consoles:
            return
        rows = await asyncio.to_thread(self._read, ids)
        for console in list(self.consoles):
            for alarm in rows:
                if console.may_see(alarm):
                    try:
                        console.queue.put_nowait({"type": "alarm", "alarm": alarm.model_dump(mode="json")})
                    except asyncio.QueueFull:
                        console.queue.put_nowait({"type": "resync"})  # the console will refetch the queue

    def _read(self, ids: list[int]) -> list[AlarmOut]:
        with Session(engine_for(self._sqlalchemy_url)) as session:
            return alarms_by_ids(session, ids=ids, now=datetime.now(UTC))


class IntakeWorker:
    """Turns pending device events into alarms, woken by NOTIFY (and every second, to be safe)."""

    def __init__(self, database_url: str, sqlalchemy_url: str) -> None:
        self._url = database_url
        self._sqlalchemy_url = sqlalchemy_url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alarm-intake", daemon=True)

    def start(self) -> None:
        """Start in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        engine = engine_for(self._sqlalchemy_url)
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute("LISTEN device_event")
                    while not self._stop.is_set():
                        with Session(engine) as session:
                            touched = intake_pending(session, now=datetime.now(UTC))
                        if touched:
                            continue
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            pass
            except Exception:
                log.exception("alarm intake failed; retrying")
                self._stop.wait(1.0)
