"""The caregiver socket's own rules (tasks/live.py): only its staff member's changes, each version once, a change
committed late with an older version still sent, and a socket too far behind told to resync."""

from __future__ import annotations

import asyncio

from eldercare_platform.tasks.live import CaregiverSocket
from eldercare_platform.tasks.push import TaskChange


def change(staff_id: int, task_id: int, version: int, what: str = "published") -> TaskChange:
    return TaskChange(staff_id=staff_id, task_id=task_id, version=version, change=what, task=None, route=None)


def drained(socket: CaregiverSocket) -> list[dict[str, object]]:
    out = []
    while not socket.queue.empty():
        out.append(socket.queue.get_nowait())
    return out


def test_a_socket_gets_its_own_staff_members_changes_once_each() -> None:
    socket = CaregiverSocket(websocket=None, staff_id=7, since=100)  # type: ignore[arg-type]
    socket.offer([change(7, 1, 101), change(8, 2, 102), change(7, 3, 103)])
    assert [(m["task_id"], m["version"]) for m in drained(socket)] == [(1, 101), (3, 103)]
    socket.offer([change(7, 1, 101), change(7, 3, 103)])  # the sweep reads them again: nothing new
    assert drained(socket) == []
    socket.offer([change(7, 1, 105, "moved"), change(7, 4, 102)])  # newer; and one committed late, older version
    assert [(m["task_id"], m["version"], m["change"]) for m in drained(socket)] == [
        (1, 105, "moved"),
        (4, 102, "published"),
    ]


def test_a_socket_too_far_behind_is_told_to_resync() -> None:
    socket = CaregiverSocket(websocket=None, staff_id=7, since=0)  # type: ignore[arg-type]
    socket.queue = asyncio.Queue(maxsize=3)
    socket.offer([change(7, task, 10 + task) for task in range(1, 6)])
    assert drained(socket) == [{"type": "resync"}]
