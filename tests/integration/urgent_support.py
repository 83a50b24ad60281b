"""A live day for urgent insertions: one community, three caregivers on shift around TEST_NOW (14:00 in Shanghai),
each with a published route of three visits in their own corner, and a resident in the west corner, between the
stops of 甲's route, who will need someone urgently.

    丙 (north, ~5.5 km away)
    甲 (west: home base, route and the urgent resident within ~1 km)      乙 (east, ~4.7 km away)

甲's route absorbs the urgent visit cheapest: a few hundred metres of detour before their first stop, which then
starts a few minutes later, still inside its window. 乙's second task is only assigned (not yet published): it is
still part of their live route.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlmodel import Session
from websockets.sync.client import connect as ws_connect

from eldercare_common.devstack import free_port, wait_for_port
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import Clock, local_date
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import TEST_NOW
from tests.factories import PASSWORD
from tests.integration.lifecycle_support import caregiver_for, staff

WEST = (32.2000, 119.4500)
EAST = (32.2000, 119.5000)
NORTH = (32.2500, 119.4500)
URGENT_HOME = (32.2035, 119.4515)  # ~410 m from 甲's home base, on the way to 甲's first stop
OFFSETS = ((0.005, 0.005), (0.008, 0.010), (0.002, 0.012))  # each route's three stops around its home base
STARTS = (timedelta(minutes=30), timedelta(minutes=90), timedelta(minutes=150))  # planned starts from TEST_NOW
WINDOW = timedelta(minutes=60)


@dataclass
class UrgentWorld:
    community: Any
    resident: Any  # the urgent one
    staff: dict[str, int]  # 甲 乙 丙 → staff id
    caregivers: dict[str, User]
    operator: User
    coordinator: User
    routes: dict[str, list[int]] = field(default_factory=dict)  # staff name → task ids in route order
    alarm_id: int | None = None  # a welfare call about the urgent resident, when the test opened one


def locate(db: Session, resident: Any, at: tuple[float, float]) -> None:
    db.execute(
        text("UPDATE household SET latitude = :lat, longitude = :lon WHERE id = :h"),
        {"lat": at[0], "lon": at[1], "h": resident.household_id},
    )


def routed_task(
    db: Session,
    *,
    resident: Any,
    staff_id: int,
    start: datetime,
    sequence: int,
    publish: bool = True,
    now: datetime = TEST_NOW,
) -> int:
    """A visit of a published plan: assigned to `staff_id`, with its place in their route, published."""
    task_id = tasks.create_task(
        db,
        kind=TaskKind.VISIT,
        source=TaskSource.PLAN,
        now=now - timedelta(hours=8),
        window_start=start,
        window_end=start + WINDOW,
        resident_id=resident.id,
        service="visit",
        staff_id=staff_id,
    )
    assert task_id is not None
    db.execute(
        text("UPDATE task SET route_sequence = :seq, planned_start = :start WHERE id = :id"),
        {"seq": sequence, "start": start, "id": task_id},
    )
    if publish:
        tasks.move(
            db,
            task_id=task_id,
            action=TaskAction.PUBLISHED,
            to_status=TaskStatus.PUBLISHED,
            allowed_from={TaskStatus.ASSIGNED},
            now=now - timedelta(hours=8),
            set_sql="published_at = :now",
        )
    return task_id


def build_urgent_world(db: Session, *, now: datetime = TEST_NOW) -> UrgentWorld:
    district = f.area(db, name="润州区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="宝塔路街道", level=AreaLevel.STREET, parent=district)
    community = f.area(db, name="金山社区", level=AreaLevel.COMMUNITY, parent=street)
    assert community.id is not None
    resident = f.resident(db, community=community, name="吴桂英")
    locate(db, resident, URGENT_HOME)
    bases = {"甲": WEST, "乙": EAST, "丙": NORTH}
    ids = {
        name: staff(db, name=f"{name}护理员", area_id=community.id, at=at, skills=["visit"], shift=True)
        for name, at in bases.items()
    }
    world = UrgentWorld(
        community=community,
        resident=resident,
        staff=ids,
        caregivers={name: caregiver_for(db, staff_id) for name, staff_id in ids.items()},
        operator=f.user(db, role=Role.OPERATOR),
        coordinator=f.user(db, role=Role.COORDINATOR, scope_area=community),
    )
    for name, base in bases.items():
        route = []
        for sequence, ((dlat, dlon), start) in enumerate(zip(OFFSETS, STARTS, strict=True), start=1):
            home = f.resident(db, community=community, name=f"{name}的老人{sequence}")
            locate(db, home, (base[0] + dlat, base[1] + dlon))
            publish = not (name == "乙" and sequence == 2)
            route.append(
                routed_task(
                    db,
                    resident=home,
                    staff_id=ids[name],
                    start=now + start,
                    sequence=sequence,
                    publish=publish,
                    now=now,
                )
            )
        world.routes[name] = route
    db.flush()
    return world


def snapshot(db: Session, task_ids: list[int]) -> list[tuple[Any, ...]]:
    """What must not change for a caregiver who was not chosen."""
    return [
        tuple(row)
        for row in db.execute(
            text(
                "SELECT id, status, assignee_staff_id, route_sequence, planned_start, plan_id, version"
                " FROM task WHERE id = ANY(:ids) ORDER BY id"
            ),
            {"ids": task_ids},
        )
    ]


class ServedApi:
    """The real API under uvicorn in a thread (its broker link, intake worker and live hubs running), on the
    test's fixed clock; `stop()` closes every socket."""

    def __init__(self, settings: ApiSettings, clock: Clock) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, clock=clock), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for_port("127.0.0.1", self.port)

    def token(self, username: str) -> str:
        body = f"username={username}&password={PASSWORD}".encode()
        with urllib.request.urlopen(f"{self.url}/api/auth/token", data=body, timeout=10) as response:
            return str(json.loads(response.read())["access_token"])

    def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    @contextmanager
    def socket(self, path: str, token: str, since: int | None = None) -> Iterator[tuple[Any, dict[str, Any]]]:
        """An authenticated socket and its hello."""
        with ws_connect(self.url.replace("http://", "ws://") + path, open_timeout=10) as socket:
            socket.send(json.dumps({"type": "auth", "token": token} | ({} if since is None else {"since": since})))
            yield socket, json.loads(socket.recv(timeout=10))

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def messages_until(socket: Any, done: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> list[dict[str, Any]]:
    """Every JSON message up to and including the first for which `done` is true."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"not received in {timeout} s: {seen}"
        message = json.loads(socket.recv(timeout=remaining))
        seen.append(message)
        if done(message):
            return seen


def published_plan(db: Session, w: UrgentWorld, *, now: datetime = TEST_NOW) -> int:
    """The day's nightly plan as the planner would have published it: every route's stops, the tasks on it."""
    plan_id = int(
        db.execute(
            text(
                "INSERT INTO plan (area_id, area_path, day, kind, status, solver, cost, created_at, published_at)"
                " VALUES (:a, :p, :d, 'nightly', 'published', 'pyvrp', '{\"travel_km\": 12.5}', :t, :t) RETURNING id"
            ),
            {"a": w.community.id, "p": w.community.path, "d": local_date(now), "t": now - timedelta(hours=20)},
        ).scalar_one()
    )
    for name, route in w.routes.items():
        for sequence, (task_id, start) in enumerate(zip(route, STARTS, strict=True), start=1):
            db.execute(
                text(
                    "INSERT INTO plan_stop (plan_id, task_id, staff_id, sequence, planned_start, planned_end)"
                    " VALUES (:p, :t, :s, :n, :a, :b)"
                ),
                {"p": plan_id, "t": task_id, "s": w.staff[name], "n": sequence, "a": now + start,
                 "b": now + start + timedelta(minutes=30)},
            )  # fmt: skip
    every = [task_id for route in w.routes.values() for task_id in route]
    db.execute(text("UPDATE task SET plan_id = :p WHERE id = ANY(:ids)"), {"p": plan_id, "ids": every})
    return plan_id
