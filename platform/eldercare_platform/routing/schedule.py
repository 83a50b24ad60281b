"""The timing of one route: when each stop starts and ends, the legs between them, and whether the route keeps
every rule (docs/scheduling/engine.md, "Route timing").

A route is a caregiver and an ordered list of items: visits, and (for meal deliveries fetched ahead of their
delivery, several in one trip to the meal point) explicit `Pickup`s. A delivery with no `Pickup` before it is
picked up on the way, just before it. The rules:

- the caregiver leaves `position` (else `start`) at `available_from` (else `shift_start`), never before `now`;
- a stop starts at max(arrival, window start) and must start by its window end (the latest start);
- a pinned start is kept as it is; it must be reachable unless it is already past (`now`): then it is a fact;
- a meal is picked up no earlier than `ready_at` and delivered no later than `ready_at + max_minutes` (a
  conservative, exact bound on the hot-food limit, whatever the pickup time);
- the caregiver is back at `end` (or done with the last stop when `end` is None) by `shift_end`;
- a visit with no location cannot be routed (`no_location`).

Times are POSIX seconds (floats) inside, aware datetimes (UTC) in the `Stop`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eldercare_platform.routing.problem import Caregiver, Point, Route, Stop, Visit
from eldercare_platform.routing.table import TravelTable

EPSILON_SECONDS = 1.0
"""Tolerance of every time comparison (float rounding, whole seconds in PyVRP)."""

BREACHES = (
    "no_location",  # the visit has no coordinates
    "window_missed",  # the stop cannot start by its window end
    "pinned_start_unreachable",  # the caregiver cannot be there at the pinned start
    "hot_food_limit",  # a meal delivered later than ready_at + max_minutes
    "pickup_after_delivery",  # an explicit Pickup placed after its delivery, or without one
    "shift_end_passed",  # back at the end place after the shift's end
)


@dataclass(frozen=True)
class Pickup:
    """A meal delivery's pickup at its meal point, as an explicit item of a route (before the delivery)."""

    visit: Visit


RouteItem = Visit | Pickup


@dataclass(frozen=True)
class Breach:
    """Why a route is infeasible: one of `BREACHES`, and the task it concerns (None: the route as a whole)."""

    code: str
    task_id: int | None = None

    def __str__(self) -> str:
        return self.code if self.task_id is None else f"{self.code} (task {self.task_id})"


@dataclass(frozen=True)
class RouteTiming:
    """A timed route: its `Route`, whether it keeps every rule, and the breaches if not."""

    route: Route
    breaches: tuple[Breach, ...]
    departure: datetime
    back_at: datetime  # at the end place (or the end of the last stop when there is none)

    @property
    def feasible(self) -> bool:
        return not self.breaches


def seconds(moment: datetime) -> float:
    return moment.timestamp()


def moment(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def departure(caregiver: Caregiver, now: datetime) -> tuple[Point | None, float]:
    """Where and when the caregiver sets off: `position`/`available_from` if set, else `start`/`shift_start`, never
    before `now`."""
    place = caregiver.position if caregiver.position is not None else caregiver.start
    when = caregiver.available_from if caregiver.available_from is not None else caregiver.shift_start
    return place, max(seconds(when), seconds(now))


@dataclass
class Walk:
    """The state of a route being timed: where and when the caregiver is, the stops so far, what went wrong."""

    place: Point | None
    clock: float
    sequence: int = 1  # of the next stop
    stops: list[Stop] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    km: float = 0.0  # the whole walk so far
    minutes: float = 0.0
    picked: dict[int, float] = field(default_factory=dict)  # task id → pickup time
    pending_km: float = 0.0  # travel since the last stop (through pickups)
    pending_minutes: float = 0.0
    pending_pickups: list[int] = field(default_factory=list)
    implicit: int | None = None  # the pending pickup made on the way to its own delivery
    pickup_before: dict[int, int] = field(default_factory=dict)


def _travel(walk: Walk, to: Point | None, table: TravelTable, mode: str) -> float:
    """Moves the caregiver to `to`; answers the arrival time."""
    km, minutes = table.leg(walk.place, to, mode)
    walk.km += km
    walk.minutes += minutes
    walk.pending_km += km
    walk.pending_minutes += minutes
    walk.place = to if to is not None else walk.place
    return walk.clock + minutes * 60.0


def _pick_up(walk: Walk, visit: Visit, table: TravelTable, mode: str) -> None:
    assert visit.pickup is not None
    arrival = _travel(walk, visit.pickup.point, table, mode)
    walk.clock = max(arrival, seconds(visit.pickup.ready_at))
    walk.picked[visit.task_id] = walk.clock
    walk.pending_pickups.append(visit.task_id)


def step(
    walk: Walk,
    caregiver: Caregiver,
    item: RouteItem,
    table: TravelTable,
    *,
    now: float,
    not_before: Mapping[int, float] | None = None,
) -> None:
    """Advances `walk` by one item (a pickup or a visit)."""
    mode = caregiver.travel_mode
    if isinstance(item, Pickup):
        if item.visit.pickup is None or item.visit.task_id in walk.picked:
            walk.breaches.append(Breach("pickup_after_delivery", item.visit.task_id))
            return
        _pick_up(walk, item.visit, table, mode)
        return
    visit = item
    if visit.location is None:
        walk.breaches.append(Breach("no_location", visit.task_id))
    if visit.pickup is not None and visit.task_id not in walk.picked:
        _pick_up(walk, visit, table, mode)
        walk.implicit = visit.task_id
    arrival = _travel(walk, visit.location, table, mode)
    if visit.pinned_start is not None:
        start = seconds(visit.pinned_start)
        if start >= now and arrival > start + EPSILON_SECONDS:
            walk.breaches.append(Breach("pinned_start_unreachable", visit.task_id))
    else:
        start = max(arrival, seconds(visit.window_start), (not_before or {}).get(visit.task_id, arrival))
        if start > seconds(visit.window_end) + EPSILON_SECONDS:
            walk.breaches.append(Breach("window_missed", visit.task_id))
    pickup_at = walk.picked.get(visit.task_id)
    if visit.pickup is not None:
        limit = seconds(visit.pickup.ready_at) + visit.pickup.max_minutes * 60.0
        if start > limit + EPSILON_SECONDS:
            walk.breaches.append(Breach("hot_food_limit", visit.task_id))
    for task_id in walk.pending_pickups:
        if task_id != walk.implicit:
            walk.pickup_before[task_id] = walk.sequence
    end = start + visit.duration_minutes * 60.0
    walk.stops.append(
        Stop(
            task_id=visit.task_id,
            sequence=walk.sequence,
            start=moment(start),
            end=moment(end),
            travel_km=walk.pending_km,
            travel_minutes=walk.pending_minutes,
            pinned=visit.pinned_staff_id is not None or visit.pinned_start is not None,
            pickup_at=None if pickup_at is None else moment(pickup_at),
            pickup_before=walk.pickup_before.get(visit.task_id),
        )
    )
    walk.sequence += 1
    walk.pending_km = walk.pending_minutes = 0.0
    walk.pending_pickups = []
    walk.implicit = None
    walk.clock = max(walk.clock, end)


def finish(walk: Walk, caregiver: Caregiver, table: TravelTable, *, departure_at: float) -> RouteTiming:
    """The way back to the end place, the shift-end check, and the timed route."""
    if walk.pending_pickups:  # fetched meals never delivered
        walk.breaches.extend(Breach("pickup_after_delivery", task_id) for task_id in walk.pending_pickups)
    back = _travel(walk, caregiver.end, table, caregiver.travel_mode) if caregiver.end is not None else walk.clock
    if back > seconds(caregiver.shift_end) + EPSILON_SECONDS:
        walk.breaches.append(Breach("shift_end_passed"))
    route = Route(
        staff_id=caregiver.staff_id,
        shift_id=caregiver.shift_id,
        stops=tuple(walk.stops),
        travel_km=walk.km,
        travel_minutes=walk.minutes,
    )
    return RouteTiming(route=route, breaches=tuple(walk.breaches), departure=moment(departure_at), back_at=moment(back))


def time_route(
    caregiver: Caregiver,
    items: Sequence[RouteItem],
    table: TravelTable,
    *,
    now: datetime,
    not_before: Mapping[int, float] | None = None,
) -> RouteTiming:
    """Times `items` in order for `caregiver`: every stop as early as the rules allow (and no earlier than
    `not_before[task_id]`, POSIX seconds, when given: insertion keeps promised times from moving earlier)."""
    place, leave = departure(caregiver, now)
    walk = Walk(place=place, clock=leave)
    now_s = seconds(now)
    for item in items:
        step(walk, caregiver, item, table, now=now_s, not_before=not_before)
    return finish(walk, caregiver, table, departure_at=leave)


def route_items(route: Route, visits: Mapping[int, Visit]) -> list[RouteItem]:
    """The items of a planned route, explicit pickups included (the inverse of `time_route` for its stops)."""
    ahead: dict[int, list[Stop]] = {}
    for stop in route.stops:
        if stop.pickup_before is not None:
            ahead.setdefault(stop.pickup_before, []).append(stop)
    items: list[RouteItem] = []
    for stop in route.stops:
        for early in sorted(ahead.get(stop.sequence, []), key=lambda s: (s.pickup_at or s.start, s.sequence)):
            items.append(Pickup(visits[early.task_id]))
        items.append(visits[stop.task_id])
    return items
