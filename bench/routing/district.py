"""Our district: a generated day of a 10,000-resident district, planned community by community with the product's
planner beside the greedy baseline (docs/scheduling/planning.md, "Benchmark").

    .venv/bin/python -m bench.routing district [--residents 10000] [--staff 300] [--seconds 60]

A fresh PostgreSQL (under var/bench/routing-district) is migrated and loaded with the demo district (seed 1) as
`bench.tasks` prepares it (every resident a care plan). The day planned is the first weekday after the clock's
local date, planned the evening before at the cut-off (20:00) like the nightly job: the roster's shifts for the
day come from the patterns, the task engine writes the day's tasks, the meal job its delivery orders (at 19:00,
before every cut-off). Caregivers on shift that day are topped up to `--staff` (skills, certificates, home bases
and shifts like the seed's), spread over the communities by their tasks.

Then, for every community with tasks: the problem is built from the database (`planning.service.build_problem`),
planned by the greedy baseline and by the product's planner (the district's `--seconds` shared among the
communities by their number of visits), both plans validated (`routing.validate`) and summarised
(`routing.metrics.summarize`). Last, the product's plans are recorded and applied to the tasks through
`planning.service.run_plan` (replayed, not solved again) to time the database side of a nightly run.

Figures: time to a first feasible plan (the greedy plans) and to the final plan (build + solve, whole district),
tasks served inside their window, travel per caregiver, continuity share, workload spread, unassigned with
reasons (100 % of mandatory tasks served or explained), travel against the baseline. JSON:
bench/results/routing-district-<stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from bench.harness import RESULTS, Report, machine, private_postgres
from bench.tasks import prepare
from eldercare_platform.core.clock import LOCAL_TIMEZONE, as_utc, local_date
from eldercare_platform.core.config import ApiSettings, ServiceRulesMixin
from eldercare_platform.meals.orders import orders_for_day
from eldercare_platform.planning import service as planning
from eldercare_platform.planning.models import PlanKind
from eldercare_platform.planning.solver import default_planner, planner_settings, travel_model
from eldercare_platform.roster import service as roster_service
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.metrics import summarize
from eldercare_platform.routing.problem import Plan, Planner, PlanningProblem, Visit
from eldercare_platform.routing.validate import violations
from eldercare_platform.tasks.generation import generate_tasks

SKILLS = (
    "visit",
    "meal_delivery",
    "cleaning",
    "bathing",
    "shopping",
    "errands",
    "nursing",
    "rehabilitation",
    "psychological_comfort",
    "medical_escort",
)
CERTIFICATE = "养老护理员职业技能等级证书"
MIN_SECONDS = 0.5
"""The least a community's solve gets, however few its visits."""
SOLVE_SHARE = 0.85
"""Of `--seconds`, what the solves get: the rest is for building the problems (measured: a few seconds)."""


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, datetime.min.time().replace(hour=hour, minute=minute), tzinfo=LOCAL_TIMEZONE))


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


ON_SHIFT = """
SELECT a.id AS area_id, count(DISTINCT s.id) AS staff
FROM staff s JOIN area a ON a.id = s.home_area_id JOIN shift sh ON sh.staff_id = s.id
WHERE s.active AND s.role <> 'operator' AND a.level = 'community' AND sh.starts_at < :end AND sh.ends_at > :start
GROUP BY a.id
"""

TASKS_BY_COMMUNITY = """
SELECT a.id AS area_id, count(t.id) AS tasks,
       avg(h.latitude) AS latitude, avg(h.longitude) AS longitude
FROM area a JOIN task t ON t.area_path LIKE a.path || '%' JOIN household h ON h.id = t.household_id
WHERE a.level = 'community' AND t.window_start >= :start AND t.window_start < :end AND t.status = 'planned'
GROUP BY a.id ORDER BY a.id
"""


def top_up(session: Session, *, day: date, staff: int, seed: int = 1) -> dict[str, int]:
    """Caregivers on shift on `day` brought up to `staff`: the missing ones are added to the communities whose
    tasks per caregiver on shift are highest, with the seed's mix (skills, 70 % certified, e-bike/foot/car,
    6–8 tasks a shift) and a shift 08:00–17:00 (a quarter 11:00–20:00, for lunch and dinner)."""
    rng = random.Random(f"{seed}:district")
    start, end = local(day, 0), local(day + timedelta(days=1), 0)
    have = {int(r.area_id): int(r.staff) for r in session.execute(text(ON_SHIFT), {"start": start, "end": end})}
    load = {int(r.area_id): r for r in session.execute(text(TASKS_BY_COMMUNITY), {"start": start, "end": end})}
    missing = max(0, staff - sum(have.values()))
    added: Counter[int] = Counter()
    for _ in range(missing):
        area = max(load, key=lambda a: (load[a].tasks / (have.get(a, 0) + added[a] + 1), -a))
        added[area] += 1
    for area, count in sorted(added.items()):
        for _ in range(count):
            skills = ["visit", "meal_delivery", *rng.sample(SKILLS[2:], rng.randint(2, 5))]
            u = rng.random()
            mode = "ebike" if u < 0.75 else "foot" if u < 0.92 else "car"
            lat = float(load[area].latitude) + rng.uniform(-0.006, 0.006)
            lon = float(load[area].longitude) + rng.uniform(-0.007, 0.007)
            staff_id = session.execute(
                text(
                    "INSERT INTO staff (name, phone, role, skills, home_area_id, active, max_tasks_per_shift,"
                    " home_latitude, home_longitude, travel_mode) VALUES (:name, '13900000000', 'caregiver',"
                    " :skills, :area, true, :cap, :lat, :lon, :mode) RETURNING id"
                ),
                {
                    "name": f"测评护理员{area}-{rng.randrange(10**6)}",
                    "skills": skills,
                    "area": area,
                    "cap": rng.randint(6, 8),
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "mode": mode,
                },
            ).scalar_one()
            if rng.random() < 0.7:
                session.execute(
                    text(
                        "INSERT INTO staff_certification (staff_id, name, level, expires_on)"
                        " VALUES (:s, :n, '四级', :e)"
                    ),
                    {"s": staff_id, "n": CERTIFICATE, "e": day + timedelta(days=700)},
                )
            hours = (11, 20) if rng.random() < 0.25 else (8, 17)
            session.execute(
                text("INSERT INTO shift (staff_id, starts_at, ends_at, on_call) VALUES (:s, :a, :b, false)"),
                {"s": staff_id, "a": local(day, hours[0]), "b": local(day, hours[1])},
            )
    return {"on_shift_before": sum(have.values()), "added": missing, "communities": len(load)}


HISTORY_RESIDENTS = """
SELECT DISTINCT ON (t.resident_id) t.resident_id, t.household_id, t.area_id, t.area_path, t.required_skill,
       a2.id AS community_id
FROM task t JOIN area a2 ON t.area_path LIKE a2.path || '%' AND a2.level = 'community'
WHERE t.window_start >= :start AND t.window_start < :end AND t.status = 'planned' AND t.resident_id IS NOT NULL
ORDER BY t.resident_id, t.window_start
"""

STAFF_ON_SHIFT = """
SELECT DISTINCT s.id, s.home_area_id, s.skills FROM staff s JOIN shift sh ON sh.staff_id = s.id
WHERE s.active AND s.role <> 'operator' AND sh.starts_at < :end AND sh.ends_at > :start
"""

INSERT_HISTORY = """
INSERT INTO task (kind, status, source, resident_id, household_id, area_id, area_path, assignee_staff_id, service,
                  window_start, window_end, duration_minutes, priority, required_skill, created_at, assigned_at,
                  published_at, checked_in_at, completed_at, updated_at)
SELECT 'visit', 'completed', 'manual', r, h, a, p, s, 'visit', w, w + interval '2 hours', 30, 3, 'visit', w, w, w,
       w + interval '10 minutes', w + interval '40 minutes', w + interval '40 minutes'
FROM unnest(CAST(:residents AS integer[]), CAST(:households AS integer[]), CAST(:areas AS integer[]),
            CAST(:paths AS text[]), CAST(:staff AS integer[]), CAST(:at AS timestamptz[])) AS v(r, h, a, p, s, w)
"""


def history(session: Session, *, day: date, weeks: int, seed: int = 1) -> dict[str, int]:
    """Who served whom lately: for 70 % of the residents with a task on `day`, 1–3 completed visits over the
    continuity window by one caregiver of their community on shift that day (their usual caregiver), so the
    continuity share measures something."""
    rng = random.Random(f"{seed}:history")
    start, end = local(day, 0), local(day + timedelta(days=1), 0)
    staff: dict[int, list[tuple[int, list[str]]]] = {}
    for row in session.execute(text(STAFF_ON_SHIFT), {"start": start, "end": end}):
        staff.setdefault(int(row.home_area_id), []).append((int(row.id), list(row.skills or [])))
    rows: dict[str, list[Any]] = {k: [] for k in ("residents", "households", "areas", "paths", "staff", "at")}
    for r in session.execute(text(HISTORY_RESIDENTS), {"start": start, "end": end}):
        candidates = [sid for sid, skills in staff.get(int(r.community_id), []) if r.required_skill in (None, *skills)]
        if not candidates or rng.random() >= 0.7:
            continue
        usual = rng.choice(candidates)
        for _ in range(rng.randint(1, 3)):
            at = start - timedelta(days=rng.randint(1, weeks * 7 - 1), hours=rng.randint(-6, 2))
            for key, value in zip(
                rows, (r.resident_id, r.household_id, r.area_id, r.area_path, usual, at), strict=True
            ):
                rows[key].append(value)
    if rows["residents"]:
        session.execute(text(INSERT_HISTORY), rows)
    return {"visits": len(rows["residents"]), "residents": len(set(rows["residents"]))}


@dataclass
class Community:
    """One community's figures: the problem's size, each planner's plan, times and checks."""

    area_id: int
    visits: int
    caregivers: int
    build_s: float
    budget_s: float
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)


def solve(name: str, planner: Planner, problem: PlanningProblem, travel: Any) -> tuple[Plan, dict[str, Any]]:
    started = time.perf_counter()
    plan = planner.plan(problem)
    seconds = time.perf_counter() - started
    broken = violations(problem, plan, travel)
    figures = summarize(problem, plan) | {
        "wall_s": round(seconds, 3),
        "violations": broken[:5],
        "violation_count": len(broken),
        "stats": dict(plan.stats),
    }
    figures["route_km"] = [r.travel_km for r in plan.routes if r.stops]
    figures["route_tasks"] = [len(r.stops) for r in plan.routes if r.stops]
    figures["continuity"] = _continuity(problem, plan)
    kinds = {v.task_id: v.kind for v in problem.visits}
    figures["unassigned_by_kind"] = dict(Counter(f"{kinds[u.task_id]}:{u.reason}" for u in plan.unassigned))
    figures["visits_by_kind"] = dict(Counter(kinds.values()))
    return plan, figures


def _continuity(problem: PlanningProblem, plan: Plan) -> tuple[int, int]:
    """(visits with history served by their usual caregiver, visits with history served)."""
    visits: dict[int, Visit] = {v.task_id: v for v in problem.visits}
    kept = total = 0
    for route in plan.routes:
        for stop in route.stops:
            served = visits[stop.task_id].served_by
            if served:
                total += 1
                best = max(served.values())
                kept += served.get(route.staff_id, 0) == best
    return kept, total


class Replay:
    """A planner that answers the plans already found (to time recording and applying them, not solving again)."""

    def __init__(self, plans: dict[str, Plan], name: str) -> None:
        self.plans, self.name = plans, name

    def plan(self, problem: PlanningProblem) -> Plan:
        return self.plans[problem.label]

    def insert(self, problem: PlanningProblem, current: Plan, visit: Visit) -> Plan:
        raise NotImplementedError


def spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "mean": round(statistics.fmean(values), 3),
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "stdev": round(statistics.pstdev(values), 3),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def district_figures(communities: list[Community], name: str) -> dict[str, Any]:
    """The whole district's figures for one planner."""
    plans = [c.plans[name] for c in communities]
    served = sum(p["served"] for p in plans)
    inside = sum(round(p["inside_window_share"] * p["served"]) for p in plans)
    kept = sum(p["continuity"][0] for p in plans)
    with_history = sum(p["continuity"][1] for p in plans)
    reasons: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    visits_by_kind: Counter[str] = Counter()
    for p in plans:
        reasons.update(p["unassigned_by_reason"])
        by_kind.update(p.get("unassigned_by_kind", {}))
        visits_by_kind.update(p.get("visits_by_kind", {}))
    km = [k for p in plans for k in p["route_km"]]
    tasks = [float(n) for p in plans for n in p["route_tasks"]]
    mandatory = sum(p["mandatory"] for p in plans)
    return {
        "solve_s": round(sum(p["wall_s"] for p in plans), 2),
        "final_plan_s": round(sum(p["wall_s"] + c.build_s for p, c in zip(plans, communities, strict=True)), 2),
        "visits": sum(p["visits"] for p in plans),
        "served": served,
        "inside_window_share": round(inside / served, 4) if served else 1.0,
        "mandatory": mandatory,
        "mandatory_served": sum(p["mandatory_served"] for p in plans),
        "mandatory_served_or_explained_share": _share(
            sum(p["mandatory_served_or_explained"] for p in plans), mandatory
        ),
        "unassigned_by_reason": dict(reasons),
        "unassigned_by_kind": dict(sorted(by_kind.items())),
        "visits_by_kind": dict(visits_by_kind),
        "travel_km": round(sum(km), 1),
        "travel_km_per_served_task": round(sum(km) / served, 3) if served else 0.0,
        "travel_km_per_caregiver": spread(km),
        "caregivers_used": len(km),
        "tasks_per_caregiver": spread(tasks),
        "continuity_share": round(kept / with_history, 4) if with_history else None,
        "violations": sum(p["violation_count"] for p in plans),
        "infeasible_plans": sum(1 for p in plans if not p["feasible"]),
    }


def run(url: str, args: argparse.Namespace, now: datetime, report: Report) -> None:
    """Prepare the district and the day, plan every community with both planners, apply the product's plans."""
    day = next_weekday(local_date(now))
    evening = local(day - timedelta(days=1), 19)
    cut_off = local(day - timedelta(days=1), 20)
    started = time.perf_counter()
    district = prepare(url, residents=args.residents, staff=0, now=evening)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    settings = ApiSettings(environment="test", database_url=url, planner_seconds=args.seconds)
    with Session(engine) as session:
        shifts = roster_service.generate_shifts(session, today=day, days=1, now=evening)
        generated = generate_tasks(session, now=evening, window_days=3)
        meals = orders_for_day(session, settings=settings, day=day, now=evening)
        staffing = top_up(session, day=day, staff=args.staff)
        served = history(session, day=day, weeks=settings.continuity_weeks)
        session.commit()
        session.execute(text("ANALYZE"))
    report.add("day planned (local), at", f"{day.isoformat()} at {cut_off.astimezone(LOCAL_TIMEZONE):%H:%M}", "day")
    report.add("district: residents with a plan / staff", f"{district['residents']} / {district['staff']}", "district")
    report.add(
        "caregivers on shift (seeded + added)", f"{staffing['on_shift_before']} + {staffing['added']}", "staffing"
    )
    report.data["preparation"] = {"shifts": shifts, "tasks": generated.summary(), "meals": meals, "history": served}
    report.add("district build (s)", round(time.perf_counter() - started, 1), "build_s")
    try:
        communities, plans, problems = plan_district(engine, day=day, now=cut_off, settings=settings, args=args)
        report_district(report, communities, args)
        if args.streets:
            streets = by_street(engine, problems, settings, args)
            figures = district_figures(streets, "street")
            report.data["by_street"] = figures | {"streets": [s.__dict__ for s in streets]}
            report.add(
                "by street instead (served / travel km / mandatory explained / solve s / violations)",
                f"{figures['served']}/{figures['visits']} / {figures['travel_km']} /"
                f" {figures['mandatory_served_or_explained_share']} / {figures['solve_s']} /"
                f" {figures['violations']}",
                "by_street_summary",
            )
        apply_s = apply_plans(engine, communities, plans, day=day, now=cut_off, settings=settings)
        final = report.data["product"]["final_plan_s"]
        report.add("nightly run: record + apply the product's plans (s)", round(apply_s, 2), "apply_s")
        report.add("nightly run end to end: build + solve + record/apply (s)", round(final + apply_s, 2), "nightly_s")
    finally:
        engine.dispose()


def product_planner(settings: ServiceRulesMixin, name: str) -> Planner:
    travel = travel_model(settings)
    return GreedyPlanner(travel) if name == "greedy" else default_planner(settings, travel)


def plan_district(
    engine: Any, *, day: date, now: datetime, settings: ApiSettings, args: argparse.Namespace
) -> tuple[list[Community], dict[str, Plan], list[tuple[Community, PlanningProblem]]]:
    travel = travel_model(settings)
    communities: list[Community] = []
    problems: list[tuple[Community, PlanningProblem]] = []
    with Session(engine) as session:
        start, end = local(day, 0), local(day + timedelta(days=1), 0)
        areas = [int(r.area_id) for r in session.execute(text(TASKS_BY_COMMUNITY), {"start": start, "end": end})]
        for area_id in areas:
            mark = time.perf_counter()
            problem, _ = planning.build_problem(session, area_id=area_id, day=day, now=now, settings=settings)
            build_s = time.perf_counter() - mark
            community = Community(area_id, len(problem.visits), len(problem.caregivers), round(build_s, 3), 0.0)
            communities.append(community)
            problems.append((community, problem))
        session.rollback()
    total_visits = sum(c.visits for c in communities) or 1
    budget = max(0.0, args.seconds * SOLVE_SHARE - MIN_SECONDS * len(communities))
    plans: dict[str, Plan] = {}
    baseline = GreedyPlanner(travel)
    for community, problem in problems:
        community.budget_s = round(MIN_SECONDS + budget * community.visits / total_visits, 3)
        sized = PlanningProblem(
            caregivers=problem.caregivers,
            visits=problem.visits,
            now=problem.now,
            settings=planner_settings(settings, seconds=community.budget_s),
            label=problem.label,
        )
        greedy, community.plans["baseline"] = solve("baseline", baseline, sized, travel)
        plan, figures = solve("product", product_planner(settings, args.planner), sized, travel)
        community.plans["solver"] = figures
        if figures["violation_count"] or not figures["feasible"]:  # as run_plan does: refused, the baseline's instead
            spent = figures["wall_s"] + community.plans["baseline"]["wall_s"]
            plan, figures = greedy, community.plans["baseline"] | {"fallback": True, "wall_s": spent}
        community.plans["product"] = figures
        plans[problem.label] = plan
        if args.dump is not None and community.plans["solver"]["violation_count"]:
            args.dump.mkdir(parents=True, exist_ok=True)
            (args.dump / f"community-{community.area_id}.pickle").write_bytes(pickle.dumps(sized))
        print(
            f"  community {community.area_id}: {community.visits} visits, {community.caregivers} caregivers,"
            f" budget {community.budget_s} s: baseline {community.plans['baseline']['travel_km']} km,"
            f" product {community.plans['product']['travel_km']} km"
            f" ({community.plans['product']['wall_s']} s)",
            flush=True,
        )
    return communities, plans, problems


def by_street(
    engine: Any, problems: list[tuple[Community, PlanningProblem]], settings: ApiSettings, args: argparse.Namespace
) -> list[Community]:
    """The other composition, measured to decide: one problem per street (its communities' caregivers may serve
    any of its communities), the street's solve given the sum of its communities' budgets."""
    travel = travel_model(settings)
    with Session(engine) as session:
        parent = dict(session.execute(text("SELECT id, parent_id FROM area WHERE level = 'community'")).all())
    streets: dict[int, list[tuple[Community, PlanningProblem]]] = {}
    for community, problem in problems:
        streets.setdefault(int(parent[community.area_id]), []).append((community, problem))
    result = []
    for street_id, members in sorted(streets.items()):
        first = members[0][1]
        budget = sum(c.budget_s for c, _ in members)
        merged = PlanningProblem(
            caregivers=[c for _, p in members for c in p.caregivers],
            visits=[v for _, p in members for v in p.visits],
            now=first.now,
            settings=planner_settings(settings, seconds=budget),
            label=f"street {street_id}",
        )
        street = Community(
            street_id,
            len(merged.visits),
            len(merged.caregivers),
            round(sum(c.build_s for c, _ in members), 3),
            round(budget, 3),
        )
        _, street.plans["street"] = solve("street", product_planner(settings, args.planner), merged, travel)
        print(
            f"  street {street_id}: {street.visits} visits, {street.caregivers} caregivers, budget {street.budget_s}"
            f" s: {street.plans['street']['served']} served, {street.plans['street']['travel_km']} km",
            flush=True,
        )
        result.append(street)
    return result


def report_district(report: Report, communities: list[Community], args: argparse.Namespace) -> None:
    product, baseline = district_figures(communities, "product"), district_figures(communities, "baseline")
    report.data["product"], report.data["baseline"] = product, baseline
    report.data["communities"] = [c.__dict__ for c in communities]
    saved = 1 - product["travel_km"] / baseline["travel_km"] if baseline["travel_km"] else 0.0
    per_task = (
        1 - product["travel_km_per_served_task"] / baseline["travel_km_per_served_task"]
        if baseline["travel_km_per_served_task"]
        else 0.0
    )
    report.add(
        "communities planned / visits / caregivers",
        f"{len(communities)} / {product['visits']} / {sum(c.caregivers for c in communities)}",
        "size",
    )
    report.add("product planner", product_name(communities), "planner")
    refused = [c.area_id for c in communities if c.plans["product"].get("fallback")]
    report.add(
        "communities whose solver plan broke a rule (greedy applied instead)", f"{len(refused)} {refused}", "fallbacks"
    )
    report.data["solver"] = district_figures(communities, "solver")
    report.add(
        "time to a first feasible plan: greedy, whole district (s)",
        round(baseline["final_plan_s"], 2),
        "first_feasible_s",
    )
    report.add(
        f"time to the final plan, whole district (s; budget {args.seconds})", product["final_plan_s"], "final_plan_s"
    )
    for label, key in [
        ("served / visits", "served"),
        ("inside window share", "inside_window_share"),
        ("mandatory served or explained", "mandatory_served_or_explained_share"),
        ("travel km", "travel_km"),
        ("travel km per served task", "travel_km_per_served_task"),
        ("continuity share", "continuity_share"),
        ("violations", "violations"),
    ]:
        value_p, value_b = product[key], baseline[key]
        if key == "served":
            value_p, value_b = f"{product['served']}/{product['visits']}", f"{baseline['served']}/{baseline['visits']}"
        report.add(f"{label}: product | baseline", f"{value_p} | {value_b}", f"cmp_{key}")
    report.add(
        "travel km per caregiver (mean/median/max): product",
        _triple(product["travel_km_per_caregiver"]),
        "km_per_caregiver",
    )
    report.add("tasks per caregiver (mean/stdev/max): product", _tasks(product["tasks_per_caregiver"]), "workload")
    report.add("unassigned by reason: product", json.dumps(product["unassigned_by_reason"]), "unassigned")
    report.add("visits by kind", json.dumps(product["visits_by_kind"]), "visits_by_kind")
    report.add("unassigned by kind:reason: product", json.dumps(product["unassigned_by_kind"]), "unassigned_by_kind")
    report.add("travel saved vs baseline (total | per served task)", f"{saved:.1%} | {per_task:.1%}", "saved")


def product_name(communities: list[Community]) -> str:
    return str(next((c.plans["solver"]["solver"] for c in communities), "-"))


def _triple(figures: dict[str, float]) -> str:
    return "/".join(str(figures.get(k, "-")) for k in ("mean", "median", "max"))


def _tasks(figures: dict[str, float]) -> str:
    return "/".join(str(figures.get(k, "-")) for k in ("mean", "stdev", "max"))


def apply_plans(
    engine: Any, communities: list[Community], plans: dict[str, Plan], *, day: date, now: datetime, settings: Any
) -> float:
    """The product's plans recorded, applied and published as the nightly job does (replayed): seconds."""
    replay = Replay(plans, name=product_name(communities))
    started = time.perf_counter()
    with Session(engine) as session:
        for community in communities:
            plan_id = planning.run_plan(
                session,
                area_id=community.area_id,
                day=day,
                kind=PlanKind.NIGHTLY,
                now=now,
                settings=settings,
                planner=replay,
                trigger={"bench": "district"},
            )
            status = session.execute(text("SELECT status FROM plan WHERE id = :id"), {"id": plan_id}).scalar_one()
            community.plans["product"]["recorded_status"] = status
            session.commit()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--staff", type=int, default=300, help="caregivers on shift on the day (topped up)")
    parser.add_argument("--seconds", type=float, default=60.0, help="the district's time budget for its solves")
    parser.add_argument("--planner", choices=("product", "greedy"), default="product", help="greedy: a dry run")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="the clock's instant (ISO, aware)")
    parser.add_argument("--url", default=None, help="an existing migrated, empty database instead of a fresh one")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--streets", action="store_true", help="also plan one problem per street, to compare")
    parser.add_argument("--dump", type=Path, default=None, help="pickle the problems whose plan broke a rule here")
    args = parser.parse_args(argv)
    now = (args.now or datetime.now(UTC)).astimezone(UTC)
    report = Report("routing-district")
    report.add("clock", now.isoformat(), "now")
    if args.url:
        run(args.url, args, now, report)
    else:
        with private_postgres("routing-district", "bench_district") as (_, postgres):
            run(postgres.url, args, now, report)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"routing-district-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    payload = {
        "benchmark": "routing-district",
        "machine": machine(),
        "results": report.data,
        "at": datetime.now(UTC).isoformat(),
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    for label, value in report.rows:
        print(f"  {label:<64}  {value}")
    print(f"  results written to {path}")
    return 0
