"""The routing engine on a generated community (or a synthetic district): PyVRP beside the greedy baseline, both
checked by `validate.violations` (docs/scheduling/engine.md, "Measured").

    python -m bench.routing.community --caregivers 20 --visits 250 --seconds 5 [--radius-km 2] [--seed 3]
        [--insertions N]   # then N urgent insertions into the PyVRP plan, timed (p50/p99)

Prints one JSON document: the problem, and per planner its `metrics.summarize` figures, its violations and the
solver's statistics. The problem comes from `routing.generate.community` (not from a database: the district
benchmark, `python -m bench.routing district`, builds the real one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from dataclasses import replace
from datetime import timedelta
from time import perf_counter

from eldercare_platform.routing.generate import community
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.metrics import summarize
from eldercare_platform.routing.problem import Plan, Planner, PlannerSettings, PlanningProblem
from eldercare_platform.routing.pyvrp_planner import PyVRPPlanner
from eldercare_platform.routing.validate import violations


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing.community", description=__doc__)
    parser.add_argument("--caregivers", type=int, default=20)
    parser.add_argument("--visits", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--radius-km", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--decompose-above", type=int, default=600)
    parser.add_argument("--part-visits", type=int, default=250)
    parser.add_argument("--insertions", type=int, default=0, help="then time N urgent insertions into the plan")
    args = parser.parse_args(argv)
    settings = PlannerSettings(seconds=args.seconds, seed=args.seed)
    problem = community(
        caregivers=args.caregivers, visits=args.visits, seed=args.seed, radius_km=args.radius_km, settings=settings
    )
    result: dict[str, object] = {
        "problem": problem.label,
        "radius_km": args.radius_km,
        "seconds": args.seconds,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    planners: list[Planner] = [
        GreedyPlanner(),
        PyVRPPlanner(decompose_above=args.decompose_above, part_visits=args.part_visits),
    ]
    for planner in planners:
        started = perf_counter()
        plan = planner.plan(problem)
        elapsed = perf_counter() - started
        result[planner.name] = {
            "wall_seconds": round(elapsed, 3),
            "violations": violations(problem, plan)[:10],
            "summary": summarize(problem, plan),
            "solves": plan.stats.get("solves"),
            **{
                key: plan.stats.get(key)
                for key in (
                    "matrix_seconds",
                    "reinserted",
                    "reinsert_seconds",
                    "dropped_after_solve",
                    "validate_seconds",
                )
            },
        }
        if args.insertions and isinstance(planner, PyVRPPlanner):
            result["insertion"] = time_insertions(problem, plan, planner, args.insertions, args.seed)
    greedy_km = float(plan_km(result, "greedy"))
    pyvrp_km = float(plan_km(result, "pyvrp"))
    result["travel_saving_vs_greedy"] = round(1 - pyvrp_km / greedy_km, 4) if greedy_km else None
    json.dump(result, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0


def time_insertions(
    problem: PlanningProblem, plan: Plan, planner: PyVRPPlanner, count: int, seed: int
) -> dict[str, object]:
    """`count` urgent visits (priority 1, a 2-hour window somewhere in the day), each inserted into `plan` on
    its own: the engine's share of the urgent-insertion latency (no database, no push)."""
    rng = random.Random(seed)
    took: list[float] = []
    placed = 0
    for i in range(count):
        template = rng.choice(list(problem.visits))
        opens = template.window_start.replace(minute=0) + timedelta(minutes=rng.randrange(0, 240, 15))
        urgent = replace(
            template,
            task_id=10_000_000 + i,
            priority=1,
            window_start=opens,
            window_end=opens + timedelta(hours=2),
            pickup=None,
            pinned_staff_id=None,
            pinned_start=None,
            served_by={},
            duration_minutes=30,
        )
        full = replace(problem, visits=[*problem.visits, urgent])
        started = perf_counter()
        after = planner.insert(full, plan, urgent)
        took.append(perf_counter() - started)
        placed += any(s.task_id == urgent.task_id for r in after.routes for s in r.stops)
    took.sort()
    return {
        "insertions": count,
        "placed": placed,
        "p50_seconds": round(took[len(took) // 2], 4),
        "p99_seconds": round(took[min(len(took) - 1, math.ceil(len(took) * 0.99) - 1)], 4),
        "max_seconds": round(took[-1], 4),
    }


def plan_km(result: dict[str, object], name: str) -> float:
    part = result[name]
    assert isinstance(part, dict)
    return float(part["summary"]["travel_km"])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
