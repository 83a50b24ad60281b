"""PyVRP and Google OR-Tools on one Solomon instance, both fed the same integer matrix (tenths, DIMACS convention).

Each returns the routes in Solomon's customer numbers; neither solver's own cost or feasibility verdict is
trusted: bench.routing.public recomputes both with bench.routing.solomon.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]
from pyvrp import ActivityType, Client, Depot, Location, ProblemData, VehicleType, solve
from pyvrp.stop import MaxRuntime

from bench.routing.solomon import Instance

FIRST_SOLUTION = {
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "parallel_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "automatic": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
}
"""OR-Tools' first-solution strategies offered by `--ortools-first-solution`."""


@dataclass
class Run:
    """One solver's answer: its routes (empty when it found none), wall-clock seconds and a note."""

    routes: list[list[int]]
    seconds: float
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def problem_data(instance: Instance) -> ProblemData:
    """PyVRP's ProblemData for the instance: what `pyvrp.read(..., round_func="dimacs")` builds from VRPLIB.

    The depot's window is the vehicles' shift window (PyVRP keeps windows on vehicle types, as its reader
    does for the literature's depot windows); distance and duration are the same matrix.
    """
    matrix: Any = np.asarray(instance.distance, dtype=np.int64)  # PyVRP's stub spells it np.ndarray[int]
    return ProblemData(
        locations=[Location(x=x, y=y) for x, y in instance.coords],
        clients=[
            Client(
                location=index,
                delivery=[instance.demand[index]],
                service_duration=instance.service[index],
                tw_early=instance.ready[index],
                tw_late=instance.due[index],
            )
            for index in range(1, len(instance.coords))
        ],
        depots=[Depot(location=0)],
        vehicle_types=[
            VehicleType(
                num_available=instance.vehicles,
                capacity=[instance.capacity],
                tw_early=instance.ready[0],
                tw_late=instance.due[0],
            )
        ],
        distance_matrices=[matrix],
        duration_matrices=[matrix],
    )


def solve_pyvrp(instance: Instance, *, seconds: float, seed: int) -> Run:
    """PyVRP 0.14 (iterated local search, default parameters) for `seconds`, one thread."""
    started = time.perf_counter()
    data = problem_data(instance)
    result = solve(data, stop=MaxRuntime(seconds), seed=seed, collect_stats=False, display=False)
    routes = [
        [data.client(activity.idx).location for activity in route if activity.type == ActivityType.CLIENT]
        for route in result.best.routes()
    ]
    elapsed = time.perf_counter() - started
    note = "" if result.is_feasible() else "PyVRP's best solution is infeasible by its own account"
    return Run(routes=routes, seconds=elapsed, note=note, extra={"iterations": result.num_iterations})


def solve_ortools(instance: Instance, *, seconds: float, first_solution: str = "path_cheapest_arc") -> Run:
    """OR-Tools' routing library: a first solution (PATH_CHEAPEST_ARC, as its VRPTW guide), then guided local
    search until `seconds` have passed (the limit includes the first solution).

    Arc cost = the distance matrix; a time dimension whose transit is the origin's service plus the travel,
    with slack for waiting and every node's window as its cumul's range; a capacity dimension; the instance's
    fleet. The matrices are registered as matrices (no Python callback in the search loop).
    """
    started = time.perf_counter()
    size = len(instance.coords)
    manager = pywrapcp.RoutingIndexManager(size, instance.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    distance = routing.RegisterTransitMatrix(instance.distance)
    routing.SetArcCostEvaluatorOfAllVehicles(distance)
    transit = [
        [instance.service[a] + instance.distance[a][b] if a != b else 0 for b in range(size)] for a in range(size)
    ]
    horizon = instance.due[0]
    routing.AddDimension(routing.RegisterTransitMatrix(transit), horizon, horizon, False, "Time")
    clock = routing.GetDimensionOrDie("Time")
    for node in range(1, size):
        clock.CumulVar(manager.NodeToIndex(node)).SetRange(instance.ready[node], instance.due[node])
    for vehicle in range(instance.vehicles):
        clock.CumulVar(routing.Start(vehicle)).SetRange(instance.ready[0], instance.due[0])
        clock.CumulVar(routing.End(vehicle)).SetRange(instance.ready[0], instance.due[0])
    demand = routing.RegisterUnaryTransitVector(instance.demand)
    routing.AddDimension(demand, 0, instance.capacity, True, "Capacity")

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = FIRST_SOLUTION[first_solution]
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(int(seconds * 1000))
    assignment = routing.SolveWithParameters(parameters)
    routes: list[list[int]] = []
    if assignment is not None:
        for vehicle in range(instance.vehicles):
            index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
            route: list[int] = []
            while not routing.IsEnd(index):
                route.append(manager.IndexToNode(index))
                index = assignment.Value(routing.NextVar(index))
            if route:
                routes.append(route)
    elapsed = time.perf_counter() - started
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    note = "" if assignment is not None else f"no solution ({status})"
    return Run(routes=routes, seconds=elapsed, note=note)
