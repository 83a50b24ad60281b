"""A planning problem as PyVRP 0.14 `ProblemData`, built directly from numpy matrices, and its solutions mapped
back to route items (docs/scheduling/engine.md, "The PyVRP model").

- One vehicle type per caregiver shift: its own start and end depots (`position`/`start`, `end`; an unknown
  place is the "nowhere" location, 0 from and to everywhere), time window = from when they are free (never
  before `now`) to the shift's end, the travel mode's profile.
- Time in whole seconds from `origin`; distance in metres (the objective: travel metres, no cost on time).
  Durations are rounded up, so a PyVRP-feasible route is feasible for `schedule.time_route` too.
- Load dimensions (capacity 0 forbids a caregiver; every other capacity is `big`):
  0. `count`: one per visit, capped at min(max_tasks, ceil(fair share × (1 + workload_slack)));
  1. one per required skill: 0 for the unqualified;
  2. `code` dimensions: each caregiver whom a visit is pinned to (or who is a resident's usual caregiver) gets a
     constant-weight binary code; a visit for that caregiver only loads the code's dimensions, which only a
     caregiver with a superset code — the same code — can carry. 12 dimensions give 924 codes;
  3. `decline` dimensions: one per caregiver who declined a resident of the problem (0 for them); past
     `MAX_DECLINE_DIMENSIONS` caregivers share them (stricter than needed; the repair pass reinserts exactly).
- Visits are optional clients with a prize: priority 1–3 a large one (served whenever feasible), priority 4
  `flexible_prize_km`. A visit with a usual caregiver is two clients in a mutually exclusive group: one only
  for the usual caregiver (full prize), one for anyone (prize − `continuity_weight_km`): continuity as a cost.
- A meal delivery is a shipment: pickup at the meal point in [ready_at, ready_at + max_minutes], delivery in
  its window and by ready_at + max_minutes. Its `count` load is only carried from pickup to delivery, so the
  planner checks max_tasks again after solving.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from pyvrp import (
    Activity,
    ActivityType,
    Client,
    ClientGroup,
    Depot,
    Location,
    ProblemData,
    Shipment,
    Solution,
    VehicleType,
)
from pyvrp import (
    Route as PyVRPRoute,
)

from eldercare_platform.routing.metrics import usual_caregivers
from eldercare_platform.routing.problem import TRAVEL_MODES, Caregiver, Plan, PlannerSettings, Point, Visit
from eldercare_platform.routing.schedule import Pickup, RouteItem, departure, moment, seconds
from eldercare_platform.routing.table import TravelTable, caregiver_points, visit_points

MANDATORY_PRIZE_KM = 1000.0  # × (4 − priority): far above any detour, so a feasible mandatory visit is served
MAX_DECLINE_DIMENSIONS = 8
RESTRICTION_UNITS = 100
"""A visit loads this much in a restriction dimension (skill, code, decline): PyVRP's penalty per unit of excess
load is capped (100,000 by default), so one unit would let the search trade a broken restriction for a
mandatory visit's prize (1,000 km and more) and wander in infeasible space; 100 units outweigh any prize."""
Key = tuple[int, int]


@dataclass
class Model:
    """The ProblemData and how its indices map back to the problem."""

    data: ProblemData
    caregivers: list[Caregiver]  # vehicle type i ↔ caregivers[i]
    clients: list[Visit]  # client i ↔ the visit it serves (two clients per visit with a usual caregiver)
    client_for: list[int | None]  # client i is reserved for this staff id (pinned, or the usual copy)
    shipments: list[Visit]  # shipment i ↔ a meal delivery
    origin: float  # POSIX seconds of time 0
    dimensions: list[str] = field(default_factory=list)
    caps: dict[Key, int] = field(default_factory=dict)


def _codes(count: int) -> tuple[int, list[tuple[int, ...]]]:
    """`count` distinct constant-weight binary codes (as the tuple of their 1-positions), on as few bits as
    possible."""
    if count == 0:
        return 0, []
    bits = 2
    while math.comb(bits, bits // 2) < count:
        bits += 1
    return bits, [c for c, _ in zip(combinations(range(bits), bits // 2), range(count), strict=False)]


def fair_caps(caregivers: Sequence[Caregiver], visits: int, settings: PlannerSettings) -> dict[Key, int]:
    """The `count` capacity of each caregiver: min(max_tasks, ceil(fair share × (1 + workload_slack)))."""
    share = visits / max(len(caregivers), 1)
    fair = max(1, math.ceil(share * (1 + settings.workload_slack)))
    return {(c.staff_id, c.shift_id): min(c.max_tasks, fair) for c in caregivers}


def build(
    caregivers: Sequence[Caregiver],
    visits: Sequence[Visit],
    table: TravelTable,
    *,
    now: float,
    settings: PlannerSettings,
    caps: dict[Key, int],
) -> Model:
    """The PyVRP data for `visits` (each servable by somebody) and `caregivers` (see the module docstring)."""
    starts = [departure(c, moment(now))[1] for c in caregivers]
    origin = math.floor(min([now, *starts, *(seconds(v.window_start) for v in visits)]))

    def rel(value: float) -> int:
        return max(0, math.ceil(value - origin))

    modes = [m for m in TRAVEL_MODES if any(c.travel_mode == m for c in caregivers)] or ["ebike"]
    used: list[Point] = []  # only this model's places (a part of a district uses a slice of the table)
    for c in caregivers:
        used.extend(p for p in caregiver_points(c) if p is not None)
    for v in visits:
        used.extend(p for p in visit_points(v) if p is not None)
    used = list(dict.fromkeys(used))
    rows = np.array([table.index[p] for p in used], dtype=np.int64)
    n = len(used) + 1  # 0: nowhere
    distances: list[Any] = []  # PyVRP's stub types them as ndarray[int]
    durations: list[Any] = []
    for mode in modes:
        found = table.matrix(mode)
        dist = np.zeros((n, n), dtype=np.int64)
        dur = np.zeros((n, n), dtype=np.int64)
        dist[1:, 1:] = np.rint(found.km[np.ix_(rows, rows)] * 1000.0)
        dur[1:, 1:] = np.ceil(found.minutes[np.ix_(rows, rows)] * 60.0)
        distances.append(dist)
        durations.append(dur)
    place = {p: i + 1 for i, p in enumerate(used)}

    def loc(point: Point | None) -> int:
        return 0 if point is None else place[point]

    locations = [Location(0.0, 0.0, name="nowhere")]
    locations += [Location(p.longitude, p.latitude) for p in used]

    keys = [(c.staff_id, c.shift_id) for c in caregivers]
    skills = sorted({v.required_skill for v in visits if v.required_skill is not None})
    targets: list[int] = []  # staff ids that own a code
    for v in visits:
        for staff in _code_targets(v, settings):
            if staff not in targets:
                targets.append(staff)
    bits, codes = _codes(len(targets))
    code_of = dict(zip(targets, codes, strict=True))
    residents = {v.resident_id for v in visits if v.resident_id is not None}
    decliners = [c.staff_id for c in caregivers if c.declined_residents & residents]
    decline_dims = min(len(decliners), MAX_DECLINE_DIMENSIONS)
    decline_of = {staff: i % MAX_DECLINE_DIMENSIONS for i, staff in enumerate(decliners)}
    declined_dims: dict[int | None, set[int]] = {}
    for c in caregivers:
        for resident in c.declined_residents & residents:
            declined_dims.setdefault(resident, set()).add(decline_of[c.staff_id])
    dimensions = ["count", *(f"skill:{s}" for s in skills), *(f"code:{b}" for b in range(bits))]
    dimensions += [f"decline:{d}" for d in range(decline_dims)]
    width = len(dimensions)
    big = (len(visits) * 2 + 1) * RESTRICTION_UNITS
    code_base, decline_base = 1 + len(skills), 1 + len(skills) + bits

    def demand(v: Visit, for_staff: int | None) -> list[int]:
        load = [0] * width
        load[0] = 1
        if v.required_skill is not None:
            load[1 + skills.index(v.required_skill)] = RESTRICTION_UNITS
        if for_staff is not None:
            for b in code_of[for_staff]:
                load[code_base + b] = RESTRICTION_UNITS
        for d in declined_dims.get(v.resident_id, ()):
            load[decline_base + d] = RESTRICTION_UNITS
        return load

    depots: list[Depot] = []
    depot_of: dict[int, int] = {}

    def depot(location: int) -> int:
        if location not in depot_of:
            depot_of[location] = len(depots)
            depots.append(Depot(location=location))
        return depot_of[location]

    vehicle_types = []
    for c, key, leave in zip(caregivers, keys, starts, strict=True):
        capacity = [caps[key]]
        capacity += [big if s in c.skills else 0 for s in skills]
        own = code_of.get(c.staff_id, ())
        capacity += [big if b in own else 0 for b in range(bits)]
        mine = decline_of.get(c.staff_id)
        capacity += [0 if d == mine else big for d in range(decline_dims)]
        vehicle_types.append(
            VehicleType(
                num_available=1,
                capacity=capacity,
                start_depot=depot(loc(c.position if c.position is not None else c.start)),
                end_depot=depot(loc(c.end)),
                tw_early=rel(leave),
                tw_late=rel(seconds(c.shift_end)),
                profile=modes.index(c.travel_mode) if c.travel_mode in modes else 0,
                name=f"{key[0]}:{key[1]}",
            )
        )

    clients: list[Client] = []
    client_visits: list[Visit] = []
    client_for: list[int | None] = []
    groups: list[ClientGroup] = []
    shipments: list[Shipment] = []
    shipment_visits: list[Visit] = []
    for v in visits:
        prize = _prize(v, settings)
        if v.pinned_start is not None:
            early = late = rel(seconds(v.pinned_start))
        else:
            early, late = rel(seconds(v.window_start)), rel(seconds(v.window_end))
        if v.pickup is not None:
            ready = rel(seconds(v.pickup.ready_at))
            limit = rel(seconds(v.pickup.ready_at) + v.pickup.max_minutes * 60)
            shipments.append(
                Shipment(
                    pickup_location=loc(v.pickup.point),
                    delivery_location=loc(v.location),
                    pickup_tw_early=ready,
                    pickup_tw_late=limit,
                    delivery_tw_early=max(early, ready),
                    delivery_tw_late=min(late, limit),
                    delivery_service_duration=v.duration_minutes * 60,
                    amount=demand(v, v.pinned_staff_id),
                    prize=prize,
                    required=False,
                    name=str(v.task_id),
                )
            )
            shipment_visits.append(v)
            continue
        usual = _code_targets(v, settings) if v.pinned_staff_id is None else []
        copies: list[tuple[int | None, int]] = [(v.pinned_staff_id, prize)]
        if usual:
            penalty = round(settings.continuity_weight_km * 1000)
            copies = [(staff, prize) for staff in usual] + [(None, max(prize - penalty, 0))]
            groups.append(ClientGroup(list(range(len(clients), len(clients) + len(copies))), required=False))
        for reserved, worth in copies:
            clients.append(
                Client(
                    location=loc(v.location),
                    delivery=demand(v, reserved),
                    service_duration=v.duration_minutes * 60,
                    tw_early=early,
                    tw_late=late,
                    prize=worth,
                    required=False,
                    group=len(groups) - 1 if usual else None,
                    name=str(v.task_id),
                )
            )
            client_visits.append(v)
            client_for.append(reserved)
    data = ProblemData(locations, clients, depots, vehicle_types, distances, durations, groups, shipments)
    return Model(data, list(caregivers), client_visits, client_for, shipment_visits, origin, dimensions, dict(caps))


def _code_targets(v: Visit, settings: PlannerSettings) -> list[int]:
    """Whom a visit is reserved for: its pinned caregiver, else (when continuity weighs) its usual ones."""
    if v.pinned_staff_id is not None:
        return [v.pinned_staff_id]
    if settings.continuity_weight_km <= 0 or v.pickup is not None:
        return []
    return sorted(usual_caregivers(v))


def _prize(v: Visit, settings: PlannerSettings) -> int:
    if v.mandatory:
        return round(MANDATORY_PRIZE_KM * 1000 * (4 - min(v.priority, 3)))
    return round(settings.flexible_prize_km * 1000)


def route_items(model: Model, solution: Solution) -> dict[Key, list[RouteItem]]:
    """Each used caregiver's items in the solution's order."""
    found: dict[Key, list[RouteItem]] = {}
    for route in solution.routes():
        caregiver = model.caregivers[route.vehicle_type()]
        items: list[RouteItem] = []
        for activity in route.schedule():
            if activity.type == ActivityType.CLIENT:
                items.append(model.clients[activity.idx])
            elif activity.type == ActivityType.PICKUP:
                items.append(Pickup(model.shipments[activity.idx]))
            elif activity.type == ActivityType.DELIVERY:
                items.append(model.shipments[activity.idx])
        if items:
            found[(caregiver.staff_id, caregiver.shift_id)] = items
    return found


def warm_start(model: Model, plan: Plan) -> Solution | None:
    """A PyVRP solution with `plan`'s routes (the visits this model has), for a warm start; None if empty."""
    client_of: dict[tuple[int, int | None], int] = {}
    for index, (v, staff) in enumerate(zip(model.clients, model.client_for, strict=True)):
        client_of[(v.task_id, staff)] = index
    shipment_of = {v.task_id: i for i, v in enumerate(model.shipments)}
    vehicle_of = {(c.staff_id, c.shift_id): i for i, c in enumerate(model.caregivers)}
    routes = []
    for route in plan.routes:
        vehicle = vehicle_of.get((route.staff_id, route.shift_id))
        if vehicle is None:
            continue
        activities = []
        for stop in route.stops:
            if stop.task_id in shipment_of:
                index = shipment_of[stop.task_id]
                activities += [Activity(ActivityType.PICKUP, index), Activity(ActivityType.DELIVERY, index)]
            else:
                index = client_of.get((stop.task_id, route.staff_id), client_of.get((stop.task_id, None), -1))
                if index >= 0:
                    activities.append(Activity(ActivityType.CLIENT, index))
        if activities:
            routes.append(PyVRPRoute(model.data, activities, vehicle))
    return Solution(model.data, routes) if routes else None
