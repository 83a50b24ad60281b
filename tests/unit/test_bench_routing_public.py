"""The public-instance benchmark: Solomon parsing, the DIMACS distance convention, the feasibility check, both
solvers on a 10-customer instance whose optimum is found here by exhaustive search, and the class verdicts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bench.routing.public import main, summarize
from bench.routing.solomon import Instance, check_routes, read_best_known, read_instance, route_cost

TINY = """TINY1

VEHICLE
NUMBER     CAPACITY
   4          40

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      50         50          0          0        400          0
    1      60         55         10          0        100         10
    2      70         60         10         50        150         10
    3      65         75         10        100        200         10
    4      50         80         10         20        120         10
    5      35         70         10        120        220         10
    6      30         55         10          0        300         10
    7      25         40         10         60        160         10
    8      40         25         10        150        250         10
    9      55         30         10         30        130         10
   10      70         35         10        200        300         10
"""
"""Capacity 40 with demands of 10: at most four customers a route."""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "TINY1.txt"
    path.write_text(TINY)
    return path


def optimum(instance: Instance) -> tuple[int, list[list[int]]]:
    """The cheapest feasible solution (tenths) by exhaustive search, written apart from check_routes.

    Every route that keeps the capacity and the windows (starting each service as early as allowed), the
    cheapest per set of customers; then the cheapest cover of all customers by at most the fleet's routes.
    """
    d, n = instance.distance, instance.customers
    route: dict[int, tuple[int, list[int]]] = {}

    def extend(seq: list[int], mask: int, time: int, here: int, load: int, cost: int) -> None:
        for c in range(1, n + 1):
            if mask >> c & 1 or load + instance.demand[c] > instance.capacity:
                continue
            start = max(time + instance.service[here] + d[here][c], instance.ready[c])
            if start > instance.due[c]:
                continue
            closed = cost + d[here][c] + d[c][0]
            home = start + instance.service[c] + d[c][0] <= instance.due[0]
            if home and closed < route.get(mask | 1 << c, (closed + 1, []))[0]:
                route[mask | 1 << c] = (closed, [*seq, c])
            extend([*seq, c], mask | 1 << c, start, c, load + instance.demand[c], cost + d[here][c])

    extend([], 0, instance.ready[0], 0, 0, 0)
    covers: list[dict[int, tuple[int, list[list[int]]]]] = [{0: (0, [])}]
    for _ in range(instance.vehicles):
        wider: dict[int, tuple[int, list[list[int]]]] = {}
        for mask, (cost, routes) in covers[-1].items():
            for served, (extra, seq) in route.items():
                if served & mask == 0 and cost + extra < wider.get(mask | served, (cost + extra + 1, []))[0]:
                    wider[mask | served] = (cost + extra, [*routes, seq])
        covers.append(wider)
    everyone = sum(1 << c for c in range(1, n + 1))
    return min(cover[everyone] for cover in covers if everyone in cover)


def test_a_solomon_file_is_read_in_tenths_on_the_dimacs_convention(tiny: Path) -> None:
    instance = read_instance(tiny)
    assert (instance.name, instance.vehicles, instance.capacity, instance.customers) == ("TINY1", 4, 40, 10)
    assert instance.demand[3] == 10 and instance.ready[2] == 500 and instance.due[2] == 1500
    assert instance.service[1] == 100 and instance.service[0] == 0 and instance.due[0] == 4000
    # (50,50)→(60,55): √125 = 11.18… → 11.1; (50,50)→(55,30): √425 = 20.61… → 20.6; (50,50)→(50,80): 30.0 exactly
    assert instance.distance[0][1] == 111 and instance.distance[1][0] == 111
    assert instance.distance[0][9] == 206
    assert instance.distance[0][4] == 300
    assert route_cost(instance, [[1], [4]]) == 2 * 111 + 2 * 300
    assert instance.family == "?" and dataclasses.replace(instance, name="RC105").family == "RC1"


def test_the_check_refuses_a_broken_window_and_takes_the_due_time_inclusively(tiny: Path) -> None:
    instance = read_instance(tiny)
    cost, routes = optimum(instance)
    assert cost == 2684 and route_cost(instance, routes) == cost
    assert check_routes(instance, routes) == []
    # Customer 10 first (ready 200), then customer 1 (due 100): 200 + service 10 + √500 = 22.36… → 22.3, at 232.3
    broken = [[10, 1], *[[c for c in r if c not in (1, 10)] for r in routes]]
    problems = check_routes(instance, broken)
    assert problems == ["route 1: customer 1 starts at 232.3 after its due time 100.0"]
    # Reaching customer 4 at 30.0 with a due time of exactly 30.0 is on time; 29.9 is late.
    alone = [[4], *[[c for c in r if c != 4] for r in routes]]
    assert check_routes(dataclasses.replace(instance, due=[*instance.due[:4], 300, *instance.due[5:]]), alone) == []
    late = dataclasses.replace(instance, due=[*instance.due[:4], 299, *instance.due[5:]])
    assert check_routes(late, alone) == ["route 1: customer 4 starts at 30.0 after its due time 29.9"]
    assert any("load 50 > capacity 40" in p for p in check_routes(instance, [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]))
    twice = check_routes(instance, [[1, 2], [2, 3]])
    assert twice[:2] == ["served more than once: [2]", "not served: [4, 5, 6, 7, 8, 9, 10]"]
    assert check_routes(instance, [[c] for c in range(1, 11)])[0] == "10 routes for a fleet of 4"


def test_both_solvers_reach_a_feasible_cost_no_better_than_the_optimum(tiny: Path, tmp_path: Path) -> None:
    instance = read_instance(tiny)
    cost, routes = optimum(instance)
    lines = [f"Route #{n}: {' '.join(map(str, r))}" for n, r in enumerate(routes, 1)]
    tiny.with_suffix(".sol").write_text("\n".join([*lines, f"Cost {cost / 10}", ""]))
    assert read_best_known(tiny.with_suffix(".sol")).cost == 268.4

    out = tmp_path / "results"
    assert main(["--instances", str(tiny.parent), "--seconds", "0.5", "--results-dir", str(out)]) == 0
    (written,) = out.glob("routing-public-*.json")
    results = json.loads(written.read_text())["results"]
    (row,) = results["instances"]
    assert row["name"] == "TINY1" and row["bks"] == 268.4
    assert row["bks_routes_on_convention"] == {"cost": 268.4, "feasible": True}
    for solver in ("pyvrp", "ortools"):
        answer = row[solver]
        assert answer["feasible"], answer["problems"]
        assert answer["cost"] >= 268.4 and answer["gap"] >= 0
        assert check_routes(instance, answer["routes"]) == []
        assert route_cost(instance, answer["routes"]) / 10 == answer["cost"]
    assert len(results["load_average_start"]) == 3 and "targets" in results["summary"]


def verdict_row(name: str, family: str, pyvrp: float | None, ortools: float | None) -> dict[str, object]:
    def answer(gap: float | None) -> dict[str, object]:
        return {"feasible": gap is not None, "gap": gap}

    return {"name": name, "class": family, "pyvrp": answer(pyvrp), "ortools": answer(ortools)}


def test_class_verdicts_count_an_infeasible_answer_against_its_solver() -> None:
    rows = [
        verdict_row("C101", "C1", 0.0, 0.0),
        verdict_row("R101", "R1", 0.002, None),
        verdict_row("R201", "R2", 0.004, 0.01),
        verdict_row("R205", "R2", 0.006, 0.002),
        verdict_row("RC101", "RC1", None, 0.05),
    ]
    summary = summarize(rows, ["pyvrp", "ortools"], 10.0)
    targets = summary["targets"]
    assert targets["pyvrp_vs_ortools_by_class"] == {"C1": "tied", "R1": "ahead", "R2": "ahead", "RC1": "behind"}
    assert targets["pyvrp_ahead_on_every_class"] is False and targets["pyvrp_behind_on_no_class"] is False
    assert targets["pyvrp_average_gap_at_most_1pct"] is False  # RC101 has no feasible answer
    assert summary["pyvrp"]["all"]["average_gap"] == 0.003 and summary["pyvrp"]["all"]["worst_instance"] == "R205"
    assert summary["ortools"]["classes"]["R1"]["infeasible"] == ["R101"]
