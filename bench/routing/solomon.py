"""Solomon VRPTW instances on the DIMACS 2021 convention, and a feasibility check independent of any solver.

Convention (/work/shared/data/vrptw/README.md, DIMACS 2021 VRPTW): the Euclidean distance between two
customers, truncated to one decimal, is both the travel time and the cost; service times and windows as given;
one vehicle type with the instance's capacity and fleet size; the objective is the total distance.

Everything is kept in integer tenths: a distance of 18.68… is 186, a ready time of 912 is 9120. With integer
coordinates `isqrt(100 · (dx² + dy²))` is exactly ⌊10 · d⌋, so no floating-point rounding decides a tie.
Route lists use Solomon's customer numbers (1 … n; 0 is the depot) and never include the depot.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import vrplib  # type: ignore[import-untyped]

SCALE = 10
"""Integer units per unit of distance and time (tenths)."""

CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


@dataclass(frozen=True)
class Instance:
    """One Solomon instance, times and distances in tenths; index 0 is the depot."""

    name: str
    vehicles: int
    capacity: int
    coords: list[tuple[int, int]]
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]
    distance: list[list[int]]

    @property
    def customers(self) -> int:
        """Number of customers (the depot excluded)."""
        return len(self.coords) - 1

    @property
    def family(self) -> str:
        """Solomon's class: C1, C2, R1, R2, RC1, RC2 (from the name; '?' when it does not say)."""
        match = re.match(r"(RC|R|C)(\d)", self.name.upper())
        return f"{match.group(1)}{match.group(2)}" if match else "?"


def tenths_distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    """The Euclidean distance between integer coordinates truncated to one decimal, in tenths (exact)."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    return math.isqrt(SCALE * SCALE * (dx * dx + dy * dy))


def read_instance(path: Path) -> Instance:
    """Parse a Solomon-format `.txt` file (vrplib's parser) into the convention's integers."""
    raw = vrplib.read_instance(str(path), instance_format="solomon", compute_edge_weights=False)
    coords = [(int(x), int(y)) for x, y in raw["node_coord"]]
    return Instance(
        name=str(raw["name"]).strip() or path.stem,
        vehicles=int(raw["vehicles"]),
        capacity=int(raw["capacity"]),
        coords=coords,
        demand=[int(value) for value in raw["demand"]],
        ready=[SCALE * int(value) for value in raw["time_window"][:, 0]],
        due=[SCALE * int(value) for value in raw["time_window"][:, 1]],
        service=[SCALE * int(value) for value in raw["service_time"]],
        distance=[[tenths_distance(a, b) for b in coords] for a in coords],
    )


@dataclass(frozen=True)
class BestKnown:
    """A `.sol` file: its routes and its `Cost` line."""

    cost: float
    routes: list[list[int]]


def read_best_known(path: Path) -> BestKnown:
    """Parse a `.sol` file (vrplib's parser)."""
    raw = vrplib.read_solution(str(path))
    return BestKnown(cost=float(raw["cost"]), routes=[[int(c) for c in route] for route in raw["routes"]])


def route_cost(instance: Instance, routes: list[list[int]]) -> int:
    """Total distance of the routes (depot → customers → depot), in tenths."""
    total = 0
    for route in routes:
        if not route:
            continue
        path = [0, *route, 0]
        total += sum(instance.distance[a][b] for a, b in pairwise(path))
    return total


def check_routes(instance: Instance, routes: list[list[int]]) -> list[str]:
    """What makes the routes infeasible (empty when feasible).

    Every customer exactly once; at most the instance's fleet; each route's load within the capacity; each
    service starting inside its customer's window (waiting when early: arrival = previous start + its service
    + travel; start = max(arrival, ready) ≤ due); back at the depot by its due time.
    """
    problems: list[str] = []
    used = [route for route in routes if route]
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} routes for a fleet of {instance.vehicles}")
    seen: dict[int, int] = {}
    for route in used:
        for customer in route:
            seen[customer] = seen.get(customer, 0) + 1
    outside = sorted(c for c in seen if not 1 <= c <= instance.customers)
    if outside:
        problems.append(f"not customers of the instance: {outside[:10]}")
    twice = sorted(c for c, n in seen.items() if n > 1)
    if twice:
        problems.append(f"served more than once: {twice[:10]}")
    missing = [c for c in range(1, instance.customers + 1) if c not in seen]
    if missing:
        problems.append(f"not served: {missing[:10]}{' …' if len(missing) > 10 else ''}")
    if outside:
        return problems
    for number, route in enumerate(used, 1):
        load = sum(instance.demand[c] for c in route)
        if load > instance.capacity:
            problems.append(f"route {number}: load {load} > capacity {instance.capacity}")
        time, here = instance.ready[0], 0
        for customer in route:
            arrival = time + instance.service[here] + instance.distance[here][customer]
            start = max(arrival, instance.ready[customer])
            if start > instance.due[customer]:
                problems.append(
                    f"route {number}: customer {customer} starts at {start / SCALE} after its due time"
                    f" {instance.due[customer] / SCALE}"
                )
            time, here = start, customer
        back = time + instance.service[here] + instance.distance[here][0]
        if back > instance.due[0]:
            problems.append(f"route {number}: back at the depot at {back / SCALE} after {instance.due[0] / SCALE}")
    return problems


def instance_files(directory: Path) -> list[tuple[Path, Path]]:
    """The `.txt` instances of a directory that have a `.sol` beside them, by name."""
    return [
        (txt, txt.with_suffix(".sol")) for txt in sorted(directory.glob("*.txt")) if txt.with_suffix(".sol").exists()
    ]
