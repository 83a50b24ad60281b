"""The caregiver's live channel: every API process LISTENs `task_changed` and pushes a caregiver's task changes
to that caregiver's sockets (`/api/me/tasks/live`), within a second of the commit.

NOTIFY only wakes the hub (payload: the staff id; migration 0012's trigger sends it for every change of a task
that concerns a staff member); the hub then reads `task_staff_feed` and the task table, the truth. Each socket
remembers the version of every task it was sent: after a notification for its caregiver, or on the sweep every
couple of seconds (a notification lost with a dropped listener connection), anything newer is sent — so a change
committed late with an older version is sent too. A socket that reconnects says the last version it saw and
gets every change after it first. The scope rule: a socket hears only of its own staff member's tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from fastapi import WebSocket
from sqlmodel import Session

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_common.logging import get_logger
from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.listen import DEFAULT_BACKOFF, Backoff, LiveHub, queue_or_resync
from eldercare_platform.tasks.push import TaskChange, staff_changes
from eldercare_platform.tasks.reads import VERIFIED_WITHIN_M

log = get_logger(__name__)


@dataclass(eq=False)
class CaregiverSocket:
    """One connected caregiver app: whose tasks it hears of, from which version, and what it was sent."""

    websocket: WebSocket
    staff_id: int
    since: int
    sent: dict[int, int] = field(default_factory=dict)  # task id → the version sent
    queue: asyncio.Queue[dict[str, object]] = field(default_factory=lambda: asyncio.Queue(maxsize=2_000))

    def offer(self, changes: list[TaskChange]) -> None:
        """Queue the changes of its own staff member it was not sent yet (the scope rule is here)."""
        for change in changes:
            if change.staff_id != self.staff_id or self.sent.get(change.task_id, 0) >= change.version:
                continue
            self.sent[change.task_id] = change.version
            if not queue_or_resync(self.queue, change.message()):
                return  # this far behind, the app starts over: it reconnects and catches up from its last version


class TaskHub(LiveHub):
    """Fans task changes out to the caregiver sockets connected to this process."""

    def __init__(
        self,
        database_url: str,
        sqlalchemy_url: str,
        *,
        sweep_s: float = 2.0,
        clock: Clock = SYSTEM_CLOCK,
        backoff: Backoff = DEFAULT_BACKOFF,
        verified_within_m: float = VERIFIED_WITHIN_M,
    ) -> None:
        self._sqlalchemy_url = sqlalchemy_url
        self._verified_within_m = verified_within_m
        self._clock = clock
        self._sweep_s = sweep_s
        self.sockets: set[CaregiverSocket] = set()
        self._pending: set[int] = set()
        self._everyone = False
        self._wake = asyncio.Event()
        super().__init__(database_url, NotifyChannel.TASK_CHANGED, name="task-hub", backoff=backoff)

    def catch_up(self, socket: CaregiverSocket) -> list[TaskChange]:
        """Everything of the socket's staff member after its `since`, marked as sent (blocking: run in a thread;
        add the socket to `sockets` first, so nothing committed meanwhile falls between the two)."""
        with Session(engine_for(self._sqlalchemy_url)) as session:
            changes = staff_changes(
                session,
                staff_ids=[socket.staff_id],
                since=socket.since,
                now=self._clock.now(),
                verified_within_m=self._verified_within_m,
            )
        missed = []
        for change in changes:
            if socket.sent.get(change.task_id, 0) < change.version:
                socket.sent[change.task_id] = change.version
                missed.append(change)
        return missed

    # The listener's thread hands over to the event loop.
    def _notified(self, payload: str) -> None:
        with contextlib.suppress(ValueError):
            staff_id = int(payload)
            self._in_loop(self._note, staff_id)

    def _reconnected(self) -> None:
        self._in_loop(self._note, None)  # (re)connected: read everyone's, once

    def _note(self, staff_id: int | None) -> None:
        if staff_id is None:
            self._everyone = True
        else:
            self._pending.add(staff_id)
        self._wake.set()

    async def _publish_loop(self) -> None:
        while True:
            swept = False
            try:  # asyncio.timeout, not wait_for: on 3.11 wait_for can lose the stop's cancel (gh-86296)
                async with asyncio.timeout(self._sweep_s):
                    await self._wake.wait()
            except TimeoutError:
                swept = True
            self._wake.clear()
            await asyncio.sleep(0.002)  # let a burst (a plan applied to a whole community) gather into one read
            connected = {socket.staff_id for socket in self.sockets}
            wanted = connected if swept or self._everyone else self._pending & connected
            self._pending, self._everyone = set(), False
            if not wanted:
                continue
            try:
                await self.publish(wanted)
            except Exception:
                log.exception("task push failed; the sweep will retry")

    async def publish(self, staff_ids: set[int]) -> None:
        """Read these staff members' changes and queue them for their sockets."""
        sockets = [socket for socket in list(self.sockets) if socket.staff_id in staff_ids]
        if not sockets:
            return
        since = min(socket.since for socket in sockets)
        changes = await asyncio.to_thread(self._read, sorted(staff_ids), since)
        for socket in sockets:
            socket.offer(changes)

    def _read(self, staff_ids: list[int], since: int) -> list[TaskChange]:
        with Session(engine_for(self._sqlalchemy_url)) as session:
            return staff_changes(
                session,
                staff_ids=staff_ids,
                since=since,
                now=self._clock.now(),
                verified_within_m=self._verified_within_m,
            )
