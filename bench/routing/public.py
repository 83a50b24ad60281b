"""PyVRP beside Google OR-Tools on public Solomon VRPTW instances, at the same time limit per instance.

    .venv/bin/python -m bench.routing public --instances DIR --seconds 10

`DIR` is any directory of Solomon-format `NAME.txt` files with `NAME.sol` best-known solutions (its `Cost`
line is the BKS); by default the first `shared/data/vrptw/solomon` beside the repository or beside one of its
parent directories. Convention (DIMACS 2021 VRPTW, bench/routing/solomon.py): Euclidean distances truncated
to one decimal are both travel time and cost; the objective is the total distance; gap = (cost − bks) / bks.

Per instance, PyVRP runs, then OR-Tools (never both at once; each single-threaded), each for `--seconds`.
Neither solver's own verdict is used: the cost is recomputed from its routes on the convention and the routes
are checked (every customer once, capacity, windows, fleet size). An infeasible answer is reported as
infeasible, with no cost and no gap. Seeds are fixed (`--seed`), but a time limit makes the result depend on
the machine's speed and load: the load average is recorded at the start and the end.

Targets (issue 12): PyVRP's average gap ≤ 1 % at 10 s per instance, and PyVRP ahead of OR-Tools on every
class (C1, C2, R1, R2, RC1, RC2).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.harness import ROOT, Report, machine
from bench.routing.solomon import (
    CLASSES,
    SCALE,
    Instance,
    check_routes,
    instance_files,
    read_best_known,
    read_instance,
    route_cost,
)
from bench.routing.solvers import FIRST_SOLUTION, Run, solve_ortools, solve_pyvrp

SOLVERS = ("pyvrp", "ortools")
TARGET_AVERAGE_GAP = 0.01
TARGET_SECONDS = 10.0


def default_instances() -> Path | None:
    """`shared/data/vrptw/solomon` beside the repository or one of its parents (a worktree lives deeper)."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "data" / "vrptw" / "solomon"
        if candidate.is_dir():
            return candidate
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.routing public", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=Path, default=None, help="directory of NAME.txt + NAME.sol files")
    parser.add_argument("--seconds", type=float, default=TARGET_SECONDS, help="time limit per instance and solver")
    parser.add_argument("--seed", type=int, default=1, help="PyVRP's seed")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated subset of pyvrp,ortools")
    parser.add_argument("--only", default="", help="comma-separated instance names (default: all)")
    parser.add_argument(
        "--ortools-first-solution",
        choices=sorted(FIRST_SOLUTION),
        default="path_cheapest_arc",
        help="OR-Tools' first-solution strategy (its VRPTW guide's PATH_CHEAPEST_ARC by default)",
    )
    parser.add_argument("--results-dir", type=Path, default=None, help="where the JSON goes (default bench/results)")
    return parser.parse_args(argv)


def judged(instance: Instance, run: Run, bks: float) -> dict[str, Any]:
    """One solver's answer on the convention: cost, gap and feasibility recomputed here."""
    problems = [*([run.note] if run.note else []), *check_routes(instance, run.routes)]
    feasible = not problems
    cost = route_cost(instance, run.routes) / SCALE if feasible else None
    return {
        "cost": cost,
        "gap": round((cost - bks) / bks, 6) if cost is not None else None,
        "feasible": feasible,
        "vehicles": len([route for route in run.routes if route]),
        "seconds": round(run.seconds, 2),
        "routes": run.routes,
        "problems": problems[:5],
        **({"note": run.note} if run.note else {}),
        **run.extra,
    }


def group_figures(rows: list[dict[str, Any]], solver: str) -> dict[str, Any]:
    """Average and worst gap of a solver over some instances (the feasible ones), and its infeasible count."""
    gaps = [(row[solver]["gap"], row["name"]) for row in rows if row[solver]["feasible"]]
    worst = max(gaps, default=None)
    return {
        "instances": len(rows),
        "feasible": len(gaps),
        "infeasible": [row["name"] for row in rows if not row[solver]["feasible"]],
        "average_gap": round(sum(gap for gap, _ in gaps) / len(gaps), 6) if gaps else None,
        "worst_gap": worst[0] if worst else None,
        "worst_instance": worst[1] if worst else None,
    }


def versus(pyvrp: dict[str, Any], ortools: dict[str, Any]) -> str:
    """PyVRP against OR-Tools on a class: ahead, tied or behind.

    Ahead when PyVRP is feasible everywhere and OR-Tools is not, or both are and PyVRP's average gap is lower;
    tied when both are feasible everywhere with the same average; behind otherwise.
    """
    if pyvrp["infeasible"]:
        return "behind"
    if ortools["infeasible"]:
        return "ahead"
    if pyvrp["average_gap"] < ortools["average_gap"]:
        return "ahead"
    return "tied" if pyvrp["average_gap"] == ortools["average_gap"] else "behind"


def summarize(rows: list[dict[str, Any]], solvers: list[str], seconds: float) -> dict[str, Any]:
    """Overall and per-class figures per solver, and the targets."""
    classes = [name for name in CLASSES if any(row["class"] == name for row in rows)]
    classes += sorted({row["class"] for row in rows} - set(classes))
    summary: dict[str, Any] = {
        solver: {
            "all": group_figures(rows, solver),
            "classes": {name: group_figures([r for r in rows if r["class"] == name], solver) for name in classes},
        }
        for solver in solvers
    }
    targets: dict[str, Any] = {"seconds_per_instance": seconds, "at_target_time_limit": seconds == TARGET_SECONDS}
    if "pyvrp" in solvers:
        overall = summary["pyvrp"]["all"]
        targets["pyvrp_average_gap"] = overall["average_gap"]
        targets["pyvrp_average_gap_at_most_1pct"] = (
            not overall["infeasible"]
            and overall["average_gap"] is not None
            and overall["average_gap"] <= TARGET_AVERAGE_GAP
        )
    if set(SOLVERS) <= set(solvers):
        verdicts = {
            name: versus(summary["pyvrp"]["classes"][name], summary["ortools"]["classes"][name]) for name in classes
        }
        targets["pyvrp_vs_ortools_by_class"] = verdicts
        targets["pyvrp_ahead_on_every_class"] = all(v == "ahead" for v in verdicts.values())
        targets["pyvrp_behind_on_no_class"] = all(v != "behind" for v in verdicts.values())
    summary["targets"] = targets
    return summary


def percent(gap: float | None) -> str:
    """A gap as a percentage for the table."""
    return "-" if gap is None else f"{100 * gap:.2f}%"


def print_table(rows: list[dict[str, Any]], summary: dict[str, Any], solvers: list[str]) -> None:
    """Per instance, then per class and overall."""
    head = f"{'instance':<9} {'bks':>8}"
    for solver in solvers:
        head += f" | {solver:>8} {'gap':>7} {'veh':>3} {'s':>5}"
    print(head)
    for row in rows:
        line = f"{row['name']:<9} {row['bks']:>8.1f}"
        for solver in solvers:
            answer = row[solver]
            cost = f"{answer['cost']:.1f}" if answer["feasible"] else "infeas." if answer["routes"] else "none"
            line += f" | {cost:>8} {percent(answer['gap']):>7} {answer['vehicles']:>3} {answer['seconds']:>5.1f}"
        print(line)
    print()
    print(f"{'class':<9} " + " | ".join(f"{solver + ' avg':>12} {'worst':>7} {'infeas.':>7}" for solver in solvers))
    for name in [*summary[solvers[0]]["classes"], "all"]:
        cells = []
        for solver in solvers:
            figures = summary[solver]["all"] if name == "all" else summary[solver]["classes"][name]
            average, worst = percent(figures["average_gap"]), percent(figures["worst_gap"])
            cells.append(f"{average:>12} {worst:>7} {len(figures['infeasible']):>7}")
        print(f"{name:<9} " + " | ".join(cells))
    print()


def main(argv: list[str]) -> int:
    """Run, print, write bench/results/routing-public-<UTC stamp>.json; 0 when the run completed."""
    args = parse_args(argv)
    directory = args.instances or default_instances()
    if directory is None or not directory.is_dir():
        print("no instance directory: pass --instances DIR (Solomon .txt files with .sol beside them)")
        return 2
    solvers = [name for name in args.solvers.split(",") if name]
    if not solvers or any(name not in SOLVERS for name in solvers):
        print(f"--solvers: a comma-separated subset of {','.join(SOLVERS)}")
        return 2
    wanted = {name.upper() for name in args.only.split(",") if name}
    files = [(txt, sol) for txt, sol in instance_files(directory) if not wanted or txt.stem.upper() in wanted]
    if not files:
        print(f"no NAME.txt with NAME.sol in {directory}")
        return 2

    load_start = tuple(round(value, 2) for value in os.getloadavg())
    print(f"{len(files)} instances from {directory}, {args.seconds} s per instance and solver; load {load_start}")
    rows: list[dict[str, Any]] = []
    for txt, sol in files:
        instance = read_instance(txt)
        best = read_best_known(sol)
        row: dict[str, Any] = {"name": instance.name, "class": instance.family, "bks": best.cost}
        reference = route_cost(instance, best.routes) / SCALE
        row["bks_routes_on_convention"] = {"cost": reference, "feasible": not check_routes(instance, best.routes)}
        if "pyvrp" in solvers:
            row["pyvrp"] = judged(instance, solve_pyvrp(instance, seconds=args.seconds, seed=args.seed), best.cost)
        if "ortools" in solvers:
            run = solve_ortools(instance, seconds=args.seconds, first_solution=args.ortools_first_solution)
            row["ortools"] = judged(instance, run, best.cost)
        rows.append(row)
        figures = "  ".join(f"{s} {percent(row[s]['gap']) if row[s]['feasible'] else 'infeasible'}" for s in solvers)
        print(f"  {instance.name}: bks {best.cost}  {figures}", flush=True)
    load_end = tuple(round(value, 2) for value in os.getloadavg())

    summary = summarize(rows, solvers, args.seconds)
    print()
    print_table(rows, summary, solvers)
    report = Report("routing-public")
    report.add("instances", f"{len(rows)} from {directory}", "directory")
    report.add("seconds per instance and solver", args.seconds, "seconds")
    report.add("load average at start / end", f"{load_start} / {load_end}", "load")
    for solver in solvers:
        overall = summary[solver]["all"]
        report.add(
            f"{solver}: average / worst gap, infeasible",
            f"{percent(overall['average_gap'])} / {percent(overall['worst_gap'])} ({overall['worst_instance']}),"
            f" {len(overall['infeasible'])}",
            f"{solver}_overall",
        )
    for key, value in summary["targets"].items():
        report.add(f"target: {key}", value, f"target_{key}")
    report.data.update(
        {
            "command": "python -m bench.routing public " + " ".join(argv),
            "directory": str(directory),
            "seconds": args.seconds,
            "seed": args.seed,
            "ortools_first_solution": args.ortools_first_solution,
            "solvers": solvers,
            "versions": {name: metadata.version(name) for name in ("pyvrp", "ortools", "vrplib")},
            "convention": "DIMACS 2021 VRPTW: Euclidean distance truncated to one decimal = travel time = cost",
            "gap_unit": "fraction: (cost - bks) / bks, 0.01 = 1 %",
            "load_average_start": list(load_start),
            "load_average_end": list(load_end),
            "summary": summary,
            "instances": rows,
        }
    )
    if args.results_dir is None:
        report.finish()
        return 0
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"routing-public-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    payload = {
        "benchmark": report.name,
        "machine": machine(),
        "results": report.data,
        "at": datetime.now(UTC).isoformat(),
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    for label, value in report.rows:
        print(f"  {label:<48}  {value}")
    print(f"  results written to {path}")
    return 0
