"""Simulated caregivers: a team that signs in to the platform's API and works through its routes like people do.

Each `CaregiverAgent` is one caregiver's phone. Its logic is a step function driven by a clock, `step(now)`: the
demo calls it on the real clock every few seconds, the tests on a `FixedClock` they advance. On each step the
agent reads what the live channel (`WS /api/me/tasks/live`) pushed, re-reads its day (`GET /api/me/tasks`) when
it is due, and moves its current task on when its time has come: on the way (`en-route`), travelling at its
travel mode's speed (great-circle distance × 1.3, the planner's model), at the door (`check-in`, with a little
GPS noise, sometimes from down the street), staying the task's duration, and out again (`complete` with findings
drawn with plausible frequencies), or nobody answers (`no-answer`). Sometimes it leaves late; now and then it
never goes (the task engine marks the task missed). Urgent tasks pushed on the live channel are acknowledged
and accepted at once; the engine has already put them in the route.

Every write carries an `Idempotency-Key` and the phone's time (`at`: when it happened, which may be a little
before the step that sends it); a write that fails on the network is sent again, with the same key, on the next
step, so the server applies it once. The random draws of a task are seeded by (seed, task id), so the same day
plays out the same way however the steps fall and whoever the plan gives each task to.

The agents use nothing of the platform but its HTTP API (import contract `simulators-alone`); who is on the team
(username, staff record, travel mode, home base) is read from the database by `team_from_db`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import queue
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import psycopg

from eldercare_common.geo import haversine_km

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
DEMO_PASSWORD = "eldercare-demo"  # the seed's demo password (public; demo and test only)
TRAVEL_CIRCUITY = 1.3  # roads are longer than the great circle: the planner's default (`travel_circuity`)
SPEEDS_KMH: Mapping[str, float] = {"foot": 4.5, "ebike": 15.0, "car": 25.0}  # the planner's defaults, door to door
OPEN = ("published", "en_route", "checked_in")
URGENT_KINDS = frozenset({"urgent_visit", "alarm_response"})
METRES_PER_DEGREE = 111_320.0
WS_UNAUTHENTICATED = 4401

CONDITIONS = (("good", 0.78), ("fair", 0.19), ("poor", 0.03))
PROBLEM_CATEGORIES = (
    ("health", 0.35),
    ("safety", 0.2),
    ("home_repair", 0.2),
    ("hygiene", 0.1),
    ("food", 0.06),
    ("social", 0.05),
    ("other", 0.04),
)
PROBLEM_WORDS = {
    "health": "老人自述头晕、血压偏高，建议社区医生随访",
    "safety": "燃气灶软管老化，有漏气风险",
    "home_repair": "卫生间水管漏水，需要维修",
    "hygiene": "家中卫生较差，需要助洁服务",
    "food": "冰箱里几乎没有食物，需要助餐",
    "social": "老人情绪低落，独居少与人交流",
    "other": "需要社工跟进的其他情况",
}
PROBLEM_GROUP = {"health": "wellbeing", "food": "wellbeing", "social": "wellbeing", "safety": "home_safety"}
PROBLEM_GROUP |= {"home_repair": "home_safety", "hygiene": "home_safety", "other": "service"}
PROBLEM_NEEDS = {"home_repair": ["repair"], "hygiene": ["cleaning"], "food": ["meal_delivery"]}
NOTES = ("老人精神状态良好", "已提醒按时服药", "聊天半小时，情绪稳定", "家中整洁", "已检查门窗燃气")
NO_ANSWER_NOTE = "敲门10分钟无人应答，电话未接"


# --- behaviour and the pure decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """How often things happen; the defaults are what a district sees on an ordinary day."""

    problem_rate: float = 0.05  # a problem found that needs a follow-up
    no_answer_rate: float = 0.02  # nobody opens the door
    skip_rate: float = 0.02  # the visit never happens (the engine marks it missed)
    late_rate: float = 0.10  # leaves late, by late_minutes
    late_minutes: tuple[int, int] = (10, 40)
    far_check_in_rate: float = 0.03  # checks in from down the street (flagged by the server)
    far_metres: tuple[int, int] = (300, 700)
    gps_noise_m: float = 15.0
    duration_spread: tuple[float, float] = (0.85, 1.25)  # time at the door × the task's duration
    left_with_neighbour_rate: float = 0.07  # a meal delivery left with a neighbour
    handover_minutes: tuple[float, float] = (3.0, 10.0)  # a meal at the door (its task's duration is the food limit)
    refresh_minutes: float = 5.0  # re-read the day this often (the live channel is the fast path)


@dataclass(frozen=True)
class Fate:
    """What will happen to one task (drawn once per task, reproducibly)."""

    skip: bool = False
    no_answer: bool = False
    late_minutes: int = 0
    far_metres: float = 0.0
    bearing: float = 0.0
    stay_factor: float = 1.0


def rng_for(seed: int, task_id: int, purpose: str) -> random.Random:
    """A generator of its own for one task and purpose: the draws depend neither on the order of the steps nor on
    which caregiver the plan gave the task to."""
    digest = hashlib.sha256(f"{seed}:{task_id}:{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def is_urgent(task: Mapping[str, Any]) -> bool:
    """Priority 1, or an urgent visit / alarm response (the server's `is_urgent` when it sends one)."""
    flag = task.get("is_urgent")
    if isinstance(flag, bool):
        return flag
    return task.get("priority") == 1 or task.get("kind") in URGENT_KINDS


def draw_fate(rng: random.Random, task: Mapping[str, Any], behaviour: Behaviour) -> Fate:
    """Skip, nobody home, late, far check-in, time at the door. Urgent tasks are never skipped nor left late."""
    urgent = is_urgent(task)
    u = rng.random()
    skip = not urgent and u < behaviour.skip_rate
    no_answer = not skip and behaviour.skip_rate <= u < behaviour.skip_rate + behaviour.no_answer_rate
    late = 0
    if not urgent and rng.random() < behaviour.late_rate:
        late = rng.randint(*behaviour.late_minutes)
    far = float(rng.uniform(*behaviour.far_metres)) if rng.random() < behaviour.far_check_in_rate else 0.0
    return Fate(
        skip=skip,
        no_answer=no_answer,
        late_minutes=late,
        far_metres=far,
        bearing=rng.uniform(0, 2 * math.pi),
        stay_factor=rng.uniform(*behaviour.duration_spread),
    )


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance in km between two (latitude, longitude) points."""
    return haversine_km(*a, *b)


def travel_time(a: tuple[float, float] | None, b: tuple[float, float] | None, mode: str) -> timedelta:
    """Door to door like the planner: great-circle × 1.3 at the mode's speed (e-bike if unknown); at least a minute
    (stairs, parking); 10 minutes when a place is unknown."""
    if a is None or b is None:
        return timedelta(minutes=10)
    km = great_circle_km(a, b) * TRAVEL_CIRCUITY
    return max(timedelta(minutes=1), timedelta(hours=km / SPEEDS_KMH.get(mode, SPEEDS_KMH["ebike"])))


def offset(point: tuple[float, float], metres: float, bearing: float) -> tuple[float, float]:
    """The point `metres` away in direction `bearing` (radians from north), rounded like a phone's fix."""
    lat, lon = point
    dlat = metres * math.cos(bearing) / METRES_PER_DEGREE
    dlon = metres * math.sin(bearing) / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def check_in_place(
    rng: random.Random, home: tuple[float, float], fate: Fate, behaviour: Behaviour
) -> tuple[float, float]:
    """Where the phone says it is at the door: the home with GPS noise, or `far_metres` away."""
    if fate.far_metres:
        return offset(home, fate.far_metres, fate.bearing)
    return offset(home, abs(rng.gauss(0, behaviour.gps_noise_m)), rng.uniform(0, 2 * math.pi))


def route_key(task: Mapping[str, Any]) -> tuple[str, int, str, int]:
    """Route order, as the app shows it: planned start, place in the route, window start (ISO strings sort)."""
    planned = task.get("planned_start") or task.get("window_start") or ""
    sequence = task.get("route_sequence")
    return (
        str(planned),
        sequence if isinstance(sequence, int) else 1_000_000,
        str(task.get("window_start") or ""),
        int(task["id"]),
    )


def next_task(tasks: Iterable[dict[str, Any]], *, passed: set[int]) -> dict[str, Any] | None:
    """The task to work on: one already under way first, else the first open one in route order not passed over."""
    open_tasks = [t for t in tasks if t.get("status") in OPEN and int(t["id"]) not in passed]
    under_way = [t for t in open_tasks if t["status"] in ("checked_in", "en_route")]
    if under_way:
        return min(under_way, key=route_key)
    return min(open_tasks, key=route_key) if open_tasks else None


def pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    """A value of (value, weight) pairs."""
    values, weights = zip(*weighted, strict=True)
    return str(rng.choices(values, weights=weights)[0])


def draw_findings(rng: random.Random, task: Mapping[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    """The visit record: the checklist (when the server has one for the task), condition, notes; ~5 % a problem
    with a category (which opens a follow-up); a meal delivery only its outcome. Returns the body's findings,
    problem_found and problem (`rich`: the server takes checklist, category and outcome)."""
    rich = "checklist" in task  # the server's MyTask carries the checklist once it takes the new fields
    if task.get("kind") == "meal_delivery":
        findings: dict[str, Any] = {"resident_condition": "good"}
        if rich:
            left = rng.random() < behaviour.left_with_neighbour_rate
            findings["meal_outcome"] = "left_with_neighbour" if left else "handed_over"
            if left:
                findings["notes"] = "老人不在，餐交给邻居代收"
        return {"findings": findings, "problem_found": False, "problem": None}
    problem = rng.random() < behaviour.problem_rate
    category = pick(rng, PROBLEM_CATEGORIES) if problem else None
    condition = pick(rng, (("fair", 0.6), ("poor", 0.4))) if problem else pick(rng, CONDITIONS)
    findings = {"resident_condition": condition}
    if rng.random() < 0.3:
        findings["notes"] = rng.choice(NOTES)
    if category:
        findings["needs"] = PROBLEM_NEEDS.get(category, [])
        findings["notes"] = PROBLEM_WORDS[category]
    if rich:
        items = [item for item in task.get("checklist") or [] if isinstance(item, Mapping) and "key" in item]
        marks = {str(item["key"]): "na" if rng.random() < 0.04 else "ok" for item in items}
        if category:
            group = [str(i["key"]) for i in items if i.get("group") == PROBLEM_GROUP[category]]
            if group:
                marks[rng.choice(group)] = "problem"
            findings["problem_category"] = category
        if marks:
            findings["checklist"] = marks
    return {"findings": findings, "problem_found": problem, "problem": PROBLEM_WORDS[category] if category else None}


def parse_time(value: Any) -> datetime | None:
    """An ISO timestamp of the API (None stays None)."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def home_of(task: Mapping[str, Any]) -> tuple[float, float] | None:
    lat, lon = task.get("home_latitude"), task.get("home_longitude")
    return (float(lat), float(lon)) if lat is not None and lon is not None else None


def pickup_of(task: Mapping[str, Any]) -> tuple[float, float] | None:
    """A meal delivery's meal point, when the server says where it is."""
    lat, lon = task.get("meal_point_latitude"), task.get("meal_point_longitude")
    return (float(lat), float(lon)) if lat is not None and lon is not None else None


# --- the API, as a phone uses it -------------------------------------------------------------------------------


class UnreachableError(Exception):
    """The network failed (or the server answered 5xx): the write is sent again later with the same key."""


@dataclass
class Answer:
    """A write's answer: its status and JSON body."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class CaregiverApi:
    """One caregiver's session with the API over an `httpx.Client` whose base URL is the API (a real server, or
    a test's in-process client). Signs in again when the token is refused."""

    def __init__(self, http: httpx.Client, username: str, password: str = DEMO_PASSWORD) -> None:
        self.http = http
        self.username = username
        self.password = password
        self.token: str | None = None

    def sign_in(self) -> str:
        try:
            response = self.http.post(
                "/api/auth/token", data={"username": self.username, "password": self.password}, timeout=20
            )
        except httpx.TransportError as exc:
            raise UnreachableError(str(exc)) from exc
        if response.status_code >= 500:
            raise UnreachableError(f"sign-in: HTTP {response.status_code}")
        response.raise_for_status()
        self.token = str(response.json()["access_token"])
        return self.token

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(2):
            if self.token is None:
                self.sign_in()
            headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
            try:
                response = self.http.request(method, path, headers=headers, timeout=20, **kwargs)
            except httpx.TransportError as exc:
                raise UnreachableError(f"{method} {path}: {exc}") from exc
            if response.status_code == 401 and attempt == 0:
                self.token = None
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
                continue
            if response.status_code >= 500:
                raise UnreachableError(f"{method} {path}: HTTP {response.status_code}")
            return response
        return response

    def my_tasks(self, day: str) -> list[dict[str, Any]]:
        response = self._send("GET", "/api/me/tasks", params={"date": day})
        response.raise_for_status()
        return list(response.json())

    def write(self, path: str, body: Mapping[str, Any], key: str) -> Answer:
        response = self._send("POST", path, json=dict(body), headers={"Idempotency-Key": key})
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return Answer(response.status_code, payload)


class LiveFeed(Protocol):
    """What the agent needs of the live channel."""

    def drain(self) -> list[dict[str, Any]]: ...

    @property
    def alive(self) -> bool: ...

    @property
    def close_code(self) -> int | None: ...

    def close(self) -> None: ...


class LiveChannel:
    """`WS /api/me/tasks/live` in a background thread: messages are queued for the agent's next step. When the
    socket closes, `alive` turns false and the agent opens a new one with the last version seen (nothing missed)."""

    def __init__(self, url: str, token: str, since: int) -> None:
        self.url = url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/api/me/tasks/live"
        self.token = token
        self.since = since
        self._close_code: int | None = None
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._socket: Any = None
        self._thread = threading.Thread(target=self._run, name="caregiver-live", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        try:
            with connect(self.url, open_timeout=10, close_timeout=2) as socket:
                self._socket = socket
                socket.send(json.dumps({"type": "auth", "token": self.token, "since": self.since}))
                while not self._stop.is_set():
                    try:
                        raw = socket.recv(timeout=1.0)
                    except TimeoutError:
                        continue
                    message = json.loads(raw)
                    if isinstance(message, dict):
                        self._queue.put(message)
        except ConnectionClosed as closed:
            self._close_code = closed.rcvd.code if closed.rcvd else None
        except (OSError, TimeoutError, ValueError):
            self._close_code = None
        finally:
            self._done.set()

    def drain(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        with contextlib.suppress(queue.Empty):
            while True:
                messages.append(self._queue.get_nowait())
        return messages

    @property
    def alive(self) -> bool:
        return not self._done.is_set()

    @property
    def close_code(self) -> int | None:
        return self._close_code

    def close(self) -> None:
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                self._socket.close()
        self._thread.join(timeout=5)


# --- the agent -----------------------------------------------------------------------------------------------


class Phase(StrEnum):
    IDLE = "idle"  # between tasks (waiting to leave for the next)
    TO_PICKUP = "to_pickup"  # a meal delivery: on the way to the meal point (not a step the server sees)
    TRAVELLING = "travelling"  # en route to the home
    ON_SITE = "on_site"  # checked in


@dataclass(frozen=True)
class CaregiverSpec:
    """A member of the team: account, staff record, travel mode, home base."""

    username: str
    staff_id: int
    name: str = ""
    travel_mode: str = "ebike"
    home: tuple[float, float] | None = None


@dataclass
class Pending:
    """A write the server has not confirmed yet (sent again with the same key until it answers)."""

    path: str
    body: dict[str, Any]
    key: str
    then: Callable[[Answer], None]
    attempts: int = 0


@dataclass
class Counters:
    """What a team did (printed by the demo, checked by the tests)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


class CaregiverAgent:
    """One simulated caregiver. `step(now)` does whatever is due at `now` and returns at once."""

    def __init__(
        self,
        spec: CaregiverSpec,
        api: CaregiverApi,
        *,
        seed: int = 42,
        behaviour: Behaviour | None = None,
        live: Callable[[str, int], LiveFeed] | None = None,
        log: Callable[[str], None] | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.spec = spec
        self.api = api
        self.seed = seed
        self.behaviour = behaviour or Behaviour()
        self.open_live = live
        self.log = log or (lambda _line: None)
        self.counters = counters or Counters()
        self.tasks: dict[int, dict[str, Any]] = {}
        self.day: str | None = None
        self.refresh_due: datetime | None = None
        self.position = spec.home
        self.phase = Phase.IDLE
        self.current: int | None = None
        self.until: datetime | None = None  # when the current phase's next step is due
        self.free_at: datetime | None = None  # since when it has been free for its next task
        self.passed: set[int] = set()  # skipped, refused or handed back: not worked on again
        self.acknowledged: dict[int, int] = {}  # task id → the version acknowledged
        self.pending: Pending | None = None
        self.feed: LiveFeed | None = None
        self.feed_version = 0
        self.feed_retry_at: datetime | None = None
        self.last_at: dict[int, datetime] = {}  # the time of each task's latest step (a step may not go before it)
        self.fates: dict[int, Fate] = {}

    # -- helpers

    def _say(self, now: datetime, text: str, at: datetime | None = None) -> None:
        """A line of the log, stamped with when it happened (local time), which may be before the step."""
        local = (at or now).astimezone(LOCAL_TIMEZONE).strftime("%H:%M")
        self.log(f"{local} {self.spec.username}: {text}")

    def _fate(self, task: Mapping[str, Any]) -> Fate:
        task_id = int(task["id"])
        if task_id not in self.fates:
            self.fates[task_id] = draw_fate(rng_for(self.seed, task_id, "fate"), task, self.behaviour)
        return self.fates[task_id]

    def _key(self, task_id: int, action: str) -> str:
        digest = hashlib.sha256(f"{self.seed}:{self.spec.username}:{task_id}:{action}".encode()).hexdigest()[:16]
        return f"sim:{self.spec.staff_id}:{task_id}:{action}:{digest}"

    def _at(self, task_id: int, moment: datetime, now: datetime) -> datetime:
        """When it happened on the phone: not after now, not before the task's previous step."""
        moment = min(moment, now)
        previous = self.last_at.get(task_id)
        return max(moment, previous) if previous else moment

    # -- reading the day and the live channel

    def _refresh(self, now: datetime) -> None:
        day = now.astimezone(LOCAL_TIMEZONE).date().isoformat()
        try:
            rows = self.api.my_tasks(day)
        except (UnreachableError, httpx.HTTPStatusError) as exc:
            self._say(now, f"could not read the day ({exc}); trying again")
            self.refresh_due = now + timedelta(minutes=1)
            return
        if day != self.day:
            self.day = day
        self.tasks = {int(t["id"]): t for t in rows}
        self.refresh_due = now + timedelta(minutes=self.behaviour.refresh_minutes)
        self.counters.add("reads")

    def _live(self, now: datetime) -> None:
        if self.open_live is None:
            return
        messages: list[dict[str, Any]] = []
        if self.feed is not None:
            messages = self.feed.drain()
            if not self.feed.alive:
                if self.feed.close_code == WS_UNAUTHENTICATED:
                    self.api.token = None  # the token expired: sign in again before reconnecting
                self.feed.close()
                self.feed = None
                self.feed_retry_at = now + timedelta(seconds=30)
        if self.feed is None and (self.feed_retry_at is None or now >= self.feed_retry_at):
            try:
                token = self.api.token or self.api.sign_in()
                self.feed = self.open_live(token, self.feed_version)
            except UnreachableError:
                self.feed_retry_at = now + timedelta(minutes=1)
        for message in messages:
            version = message.get("version")
            if isinstance(version, int):
                self.feed_version = max(self.feed_version, version)
            changes = message.get("missed", []) if message.get("type") == "hello" else [message]
            for change in changes:
                task = change.get("task") if isinstance(change, dict) else None
                if not isinstance(task, dict) or "id" not in task:
                    continue
                self.refresh_due = now  # a change of the day: read it again (route order, planned times)
                self.counters.add("pushed")
                if task.get("assignee_staff_id") == self.spec.staff_id:
                    self.tasks[int(task["id"])] = {**self.tasks.get(int(task["id"]), {}), **task}
                else:
                    self.tasks.pop(int(task["id"]), None)

    # -- writes

    def _send(self, now: datetime) -> bool:
        """Send the pending write; True when the agent may go on (nothing pending any more)."""
        pending = self.pending
        if pending is None:
            return True
        pending.attempts += 1
        try:
            answer = self.api.write(pending.path, pending.body, pending.key)
        except UnreachableError as exc:
            if pending.attempts in (1, 10) or pending.attempts % 50 == 0:
                self._say(now, f"not sent ({exc}); will send {pending.path} again")
            self.counters.add("retries")
            return False
        self.pending = None
        pending.then(answer)
        return True

    def _write(self, now: datetime, path: str, body: dict[str, Any], key: str, then: Callable[[Answer], None]) -> None:
        self.pending = Pending(path, body, key, then)
        self._send(now)

    def _refused(self, now: datetime, task_id: int, what: str, answer: Answer) -> None:
        code = answer.body.get("code") if isinstance(answer.body, dict) else None
        self._say(now, f"{what} of task {task_id} refused: HTTP {answer.status} {code}")
        self.counters.add(f"refused_{what}")
        self.passed.add(task_id)
        self._idle(now)

    def _idle(self, now: datetime, free_at: datetime | None = None) -> None:
        self.phase = Phase.IDLE
        self.current = None
        self.until = None
        self.free_at = free_at or now
        self.refresh_due = now

    def _stored(self, answer: Answer) -> None:
        body = answer.body
        task = body.get("task", body) if isinstance(body, dict) else None
        if isinstance(task, dict) and "id" in task:
            self.tasks[int(task["id"])] = {**self.tasks.get(int(task["id"]), {}), **task}

    # -- urgent tasks

    def _answer_urgent(self, now: datetime) -> None:
        """Acknowledge (when the server has the step) and accept an urgent task published to us."""
        for task_id, task in sorted(self.tasks.items()):
            if self.pending is not None:
                return
            if task.get("status") != "published" or not is_urgent(task) or task_id in self.passed:
                continue
            # Acknowledged once, when it first reaches us: acknowledging bumps the task's version (and the live
            # channel sends that change too, which needs no acknowledgement of its own).
            version = int(task.get("version") or 0)
            never = "acknowledged_version" in task and task.get("acknowledged_version") is None
            if never and task_id not in self.acknowledged:
                self._acknowledge(now, task_id, version)
                if self.pending is not None:
                    return
            if not task.get("accepted_at"):
                self._accept(now, task_id)

    def _acknowledge(self, now: datetime, task_id: int, version: int) -> None:
        def then(answer: Answer) -> None:
            self.acknowledged[task_id] = version
            if answer.ok:
                self._stored(answer)
                self._say(now, f"acknowledged urgent task {task_id} (version {version})")
                self.counters.add("acknowledged")
                self.tasks[task_id]["acknowledged_version"] = version
            else:
                self._say(now, f"acknowledge of task {task_id} refused: HTTP {answer.status}")

        body = {"version": version, "at": self._at(task_id, now, now).isoformat()}
        self._write(now, f"/api/tasks/{task_id}/acknowledge", body, self._key(task_id, f"ack{version}"), then)

    def _accept(self, now: datetime, task_id: int) -> None:
        def then(answer: Answer) -> None:
            if answer.ok:
                self._stored(answer)
                self.last_at[task_id] = now
                self._say(now, f"accepted urgent task {task_id}")
                self.counters.add("accepted")
            elif answer.status == 409:
                self.tasks[task_id]["accepted_at"] = self.tasks[task_id].get("accepted_at") or now.isoformat()
            else:
                self._refused(now, task_id, "accept", answer)

        self._write(now, f"/api/tasks/{task_id}/accept", {"at": now.isoformat()}, self._key(task_id, "accept"), then)

    # -- the day's work

    def step(self, now: datetime) -> None:
        """Do what is due at `now`: send what is pending, read pushes and the day, move the current task on."""
        if not self._send(now):
            return
        self._live(now)
        if self.refresh_due is None or now >= self.refresh_due:
            self._refresh(now)
        self._answer_urgent(now)
        for _ in range(4):  # a few steps may be due at once (the demo's ticks, a test's coarse clock)
            if self.pending is not None or not self._advance(now):
                break
            self._send(now)

    def _advance(self, now: datetime) -> bool:
        """Move the current task on by one step if it is due; True if something was done."""
        if self.current is not None:
            task = self.tasks.get(self.current)
            if task is None or task.get("status") not in OPEN:
                gone = self.current
                self._say(now, f"task {gone} is no longer mine (now {task.get('status') if task else 'gone'})")
                self.counters.add("taken_away")
                self.passed.add(gone)
                self._idle(now)
                return False
        if self.phase == Phase.IDLE:
            return self._choose(now)
        if self.until is None or now < self.until:
            return False
        assert self.current is not None
        task = self.tasks[self.current]
        if self.phase == Phase.TO_PICKUP:
            self._en_route(now, task, at=self.until)
        elif self.phase == Phase.TRAVELLING:
            self._arrive(now, task)
        elif self.phase == Phase.ON_SITE:
            self._complete(now, task)
        return True

    def _choose(self, now: datetime) -> bool:
        task = next_task(self.tasks.values(), passed=self.passed)
        if task is None:
            return False
        task_id = int(task["id"])
        home = home_of(task)
        if task["status"] == "checked_in":  # under way already (the agent was restarted): finish it
            checked_in = parse_time(task.get("checked_in_at")) or now
            self.current, self.phase = task_id, Phase.ON_SITE
            self.until = checked_in + timedelta(minutes=int(task.get("duration_minutes") or 30))
            self.last_at[task_id] = checked_in
            return True
        if task["status"] == "en_route":
            self.current, self.phase = task_id, Phase.TRAVELLING
            self.until = now + travel_time(self.position, home, self.spec.travel_mode)
            return True
        fate = self._fate(task)
        if fate.skip:
            self._say(now, f"will not get to task {task_id} today (the engine will mark it missed)")
            self.counters.add("skipped")
            self.passed.add(task_id)
            return True
        pickup = pickup_of(task) if task.get("kind") == "meal_delivery" else None
        first_leg = travel_time(self.position, pickup or home, self.spec.travel_mode)
        arrive_by = parse_time(task.get("planned_start")) or parse_time(task.get("window_start")) or now
        if pickup is not None:
            arrive_by -= travel_time(pickup, home, self.spec.travel_mode)
        if self.free_at is None:
            self.free_at = now
        leave_at = max(self.free_at, arrive_by - first_leg) + timedelta(minutes=fate.late_minutes)
        if now < leave_at:
            return False
        self.current = task_id
        if pickup is not None:  # the meal is ready when its window opens: picked up then at the earliest
            ready = parse_time(task.get("window_start")) or leave_at
            self.phase, self.until = Phase.TO_PICKUP, max(leave_at + first_leg, ready)
            self._say(now, f"off to the meal point for task {task_id}", leave_at)
            return True
        self._en_route(now, task, at=leave_at)
        return True

    def _en_route(self, now: datetime, task: dict[str, Any], *, at: datetime) -> None:
        task_id = int(task["id"])
        origin = pickup_of(task) if self.phase == Phase.TO_PICKUP else self.position
        moment = self._at(task_id, at, now)

        def then(answer: Answer) -> None:
            if not answer.ok:
                self._refused(now, task_id, "en_route", answer)
                return
            self._stored(answer)
            self.last_at[task_id] = moment
            self.phase = Phase.TRAVELLING
            self.until = moment + travel_time(origin, home_of(task), self.spec.travel_mode)
            late = self._fate(task).late_minutes
            self._say(now, f"on the way to task {task_id}" + (f" ({late} min late leaving)" if late else ""), moment)
            self.counters.add("en_route")

        self._write(
            now, f"/api/tasks/{task_id}/en-route", {"at": moment.isoformat()}, self._key(task_id, "en_route"), then
        )

    def _arrive(self, now: datetime, task: dict[str, Any]) -> None:
        task_id = int(task["id"])
        fate = self._fate(task)
        home = home_of(task) or self.position or (0.0, 0.0)
        rng = rng_for(self.seed, task_id, "place")
        arrived = self.until or now
        window_start = parse_time(task.get("window_start"))
        if window_start is not None and arrived < window_start:  # early: wait at the door until the window opens
            if now < window_start:
                self.until = window_start
                return
            arrived = window_start
        moment = self._at(task_id, arrived, now)
        place = check_in_place(rng, home, fate, self.behaviour)
        body: dict[str, Any] = {"latitude": place[0], "longitude": place[1], "at": moment.isoformat()}
        if fate.no_answer:
            body["note"] = NO_ANSWER_NOTE

            def nobody(answer: Answer) -> None:
                if not answer.ok:
                    self._refused(now, task_id, "no_answer", answer)
                    return
                self._stored(answer)
                self.position = home
                self._say(now, f"nobody answers at task {task_id}: reported (welfare call)", moment)
                self.counters.add("no_answer")
                self.passed.add(task_id)
                self._idle(now, moment)

            self._write(now, f"/api/tasks/{task_id}/no-answer", body, self._key(task_id, "no_answer"), nobody)
            return

        def checked_in(answer: Answer) -> None:
            if not answer.ok:
                self._refused(now, task_id, "check_in", answer)
                return
            self._stored(answer)
            self.position = home
            self.last_at[task_id] = moment
            self.phase = Phase.ON_SITE
            stay = int(task.get("duration_minutes") or 30) * fate.stay_factor
            if task.get("kind") == "meal_delivery":
                stay = rng.uniform(*self.behaviour.handover_minutes)
            self.until = moment + timedelta(minutes=stay)
            far = f" ({fate.far_metres:.0f} m away)" if fate.far_metres else ""
            self._say(now, f"checked in at task {task_id}{far}", moment)
            self.counters.add("checked_in")
            if fate.far_metres:
                self.counters.add("far_check_in")

        self._write(now, f"/api/tasks/{task_id}/check-in", body, self._key(task_id, "check_in"), checked_in)

    def _complete(self, now: datetime, task: dict[str, Any]) -> None:
        task_id = int(task["id"])
        rng = rng_for(self.seed, task_id, "findings")
        record = draw_findings(rng, task, self.behaviour)
        moment = self._at(task_id, self.until or now, now)
        home = home_of(task) or self.position or (0.0, 0.0)
        place = offset(home, abs(rng.gauss(0, self.behaviour.gps_noise_m)), rng.uniform(0, 2 * math.pi))
        body = {"latitude": place[0], "longitude": place[1], "at": moment.isoformat(), **record}

        def done(answer: Answer) -> None:
            if not answer.ok:
                self._refused(now, task_id, "complete", answer)
                return
            self._stored(answer)
            self.last_at[task_id] = moment
            problem = (
                f": problem found ({record['findings'].get('problem_category', '')})" if record["problem_found"] else ""
            )
            self._say(now, f"completed task {task_id}{problem}", moment)
            self.counters.add("completed")
            if record["problem_found"]:
                self.counters.add("problems")
            self.passed.add(task_id)
            self._idle(now, moment)

        self._write(now, f"/api/tasks/{task_id}/complete", body, self._key(task_id, "complete"), done)

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()
            self.feed = None


class Team:
    """The agents of a team, stepped together. A `tolerant` team (the demo's) logs an agent's unexpected error and
    goes on with the others; the tests' team lets it fail the test."""

    def __init__(self, agents: Sequence[CaregiverAgent], *, tolerant: bool = False) -> None:
        self.agents = list(agents)
        self.tolerant = tolerant

    def step(self, now: datetime) -> None:
        for agent in self.agents:
            try:
                agent.step(now)
            except Exception as exc:
                if not self.tolerant:
                    raise
                agent.pending = None
                agent.counters.add("errors")
                agent.log(f"{agent.spec.username}: step failed ({type(exc).__name__}: {exc}); going on")

    def close(self) -> None:
        for agent in self.agents:
            agent.close()


# --- who is on the team --------------------------------------------------------------------------------------

TEAM_SQL = """
SELECT u.username, s.id, s.name, s.travel_mode, s.home_latitude, s.home_longitude
FROM app_user u JOIN staff s ON s.id = u.staff_id
WHERE u.role = 'caregiver' AND u.active AND s.active
"""


def team_from_db(
    database_url: str,
    *,
    usernames: Sequence[str] | None = None,
    area_id: int | None = None,
    coordinator: str | None = None,
    count: int | None = None,
    day: date | None = None,
) -> list[CaregiverSpec]:
    """Caregivers with an account: the named ones, or those of an area (or of a coordinator's area) and the
    communities under it, in staff id order; at most `count`. Of an area: based there, or (with `day`, a local
    day) holding a task there that day, so a caregiver the plan lent from next door works the area's route too."""
    query = TEAM_SQL
    params: list[Any] = []
    if usernames:
        query += " AND u.username = ANY(%s)"
        params.append(list(usernames))
    if coordinator is not None or area_id is not None:
        if coordinator is not None:
            area = "(SELECT c.path FROM area c JOIN app_user cu ON cu.scope_area_id = c.id WHERE cu.username = %s)"
            params.append(coordinator)
        else:
            area = "(SELECT c.path FROM area c WHERE c.id = %s)"
            params.append(area_id)
        query += f" AND (s.home_area_id IN (SELECT a.id FROM area a WHERE a.path LIKE {area} || '%%')"
        if day is not None:
            start = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TIMEZONE)
            query += (
                f" OR s.id IN (SELECT t.assignee_staff_id FROM task t WHERE t.area_path LIKE {area} || '%%'"
                " AND t.window_start < %s AND t.window_end > %s)"
            )
            params += [params[-1], start + timedelta(days=1), start]
        query += ")"
    query += " ORDER BY s.id"
    if count is not None:
        query += " LIMIT %s"
        params.append(count)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(query, params).fetchall()
    return [
        CaregiverSpec(
            username=str(username),
            staff_id=int(staff_id),
            name=str(name),
            travel_mode=str(mode or "ebike"),
            home=(float(lat), float(lon)) if lat is not None and lon is not None else None,
        )
        for username, staff_id, name, mode, lat, lon in rows
    ]


def coordinator_area(database_url: str, coordinator: str) -> int | None:
    """The area a coordinator's account is scoped to."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT scope_area_id FROM app_user WHERE username = %s", (coordinator,)).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def publish_todays_plans(
    http: httpx.Client, *, coordinator: str, area_id: int, day: str, password: str = DEMO_PASSWORD
) -> list[int]:
    """As the coordinator would from the board: publish the day's newest draft plan of each community in the area
    that has no published plan of the day yet. Returns the plans published."""
    api = CaregiverApi(http, coordinator, password)
    plans = api._send("GET", "/api/plans", params={"area_id": area_id, "day": day, "limit": 200})
    plans.raise_for_status()
    by_area: dict[int, list[dict[str, Any]]] = {}
    for plan in plans.json():
        by_area.setdefault(int(plan["area_id"]), []).append(plan)
    published: list[int] = []
    for rows in by_area.values():
        if any(p["status"] == "published" for p in rows):
            continue
        drafts = sorted((p for p in rows if p["status"] == "draft"), key=lambda p: str(p["created_at"]))
        if drafts:
            response = api._send("POST", f"/api/plans/{drafts[-1]['id']}/publish")
            if response.is_success:
                published.append(int(drafts[-1]["id"]))
    return published


def make_team(
    specs: Sequence[CaregiverSpec],
    http: httpx.Client,
    *,
    api_url: str | None,
    seed: int = 42,
    behaviour: Behaviour | None = None,
    password: str = DEMO_PASSWORD,
    log: Callable[[str], None] | None = None,
    counters: Counters | None = None,
    tolerant: bool = False,
) -> Team:
    """Agents for `specs` on one HTTP client; with `api_url`, each opens the live channel there."""
    counters = counters or Counters()

    def live(token: str, since: int) -> LiveFeed:
        assert api_url is not None
        return LiveChannel(api_url, token, since)

    return Team(
        [
            CaregiverAgent(
                spec,
                CaregiverApi(http, spec.username, password),
                seed=seed,
                behaviour=behaviour,
                live=live if api_url else None,
                log=log,
                counters=counters,
            )
            for spec in specs
        ],
        tolerant=tolerant,
    )
