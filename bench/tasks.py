"""Task generation: the rolling 14-day window for a district, a rerun that changes nothing, a 1 % plan change.

    .venv/bin/python -m bench.tasks [--residents 10000] [--staff 300] [--window-days 14] [--changed 0.01]

A fresh PostgreSQL (under var/bench/tasks) is migrated and loaded with the demo district (seed 1), topped up to
`--staff` caregivers, and every active resident without a care plan gets one in plausible proportions (the
resident's visit tier; 18 % with purchased services, Zhenjiang's target). Then, on one clock instant:

1. the window is generated (target: ≤ 10 s for 10,000 residents);
2. the generator runs again with nothing changed (target: 0 rows written, 0 trace lines, no version bump);
3. `--changed` of the residents get a new plan version from tomorrow (tier moved, services' hours changed or
   removed) and the generator runs again (rows created, rescheduled, cancelled).

Baseline, measured in the same run: the per-row path (`tasks.service.create_task`, one INSERT and one trace
line per task) over a sample of the same wanted tasks, rolled back, scaled up to the whole window.
`--url` uses an existing, migrated, empty database instead (the smoke test).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from bench.harness import Report, machine, private_postgres
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.migrate import upgrade
from eldercare_platform.tasks.generation import generate_tasks, wanted_tasks
from eldercare_platform.tasks.models import TaskKind, TaskSource
from eldercare_platform.tasks.service import create_task

PLANS = """
INSERT INTO care_plan (resident_id, version, valid_from, visit_tier, proposed_tier, services, created_at)
SELECT r.id, 1, CAST(:today AS date) - 90, r.care_tier, r.care_tier,
       CASE WHEN r.id % 100 >= 18 THEN '[]'::jsonb
            WHEN r.id % 5 = 0 THEN '[{"service": "cleaning", "hours_per_month": 8, "funder": "government"},
                                     {"service": "bathing", "hours_per_month": 4, "funder": "government"}]'::jsonb
            WHEN r.id % 5 = 1 THEN '[{"service": "nursing", "hours_per_month": 12, "funder": "government"}]'::jsonb
            WHEN r.id % 5 = 2 THEN '[{"service": "shopping", "hours_per_month": 4, "funder": "self_paid"},
                                     {"service": "errands", "hours_per_month": 2, "funder": "government"}]'::jsonb
            WHEN r.id % 5 = 3 THEN '[{"service": "rehabilitation", "hours_per_month": 6, "funder": "government"},
                                     {"service": "psychological_comfort", "hours_per_month": 2,
                                      "funder": "government"}]'::jsonb
            ELSE '[{"service": "medical_escort", "hours_per_month": 6, "funder": "government"},
                   {"service": "cleaning", "hours_per_month": 4, "funder": "self_paid"}]'::jsonb END,
       :now
FROM resident r
WHERE r.status = 'active' AND NOT EXISTS (SELECT 1 FROM care_plan p WHERE p.resident_id = r.id)
  AND r.id IN (SELECT id FROM resident WHERE status = 'active' ORDER BY id LIMIT :residents)
"""

STAFF = """
INSERT INTO staff (name, phone, role, skills, home_area_id, active, max_tasks_per_shift, travel_mode)
SELECT '护理员' || n, '139' || lpad(n::text, 8, '0'), 'caregiver',
       ARRAY['visit', 'cleaning', 'bathing', 'shopping', 'errands', 'nursing'],
       (SELECT id FROM area WHERE level = 'community' ORDER BY id OFFSET (n % greatest(1,
           (SELECT count(*) FROM area WHERE level = 'community'))) LIMIT 1),
       true, 8, 'ebike'
FROM generate_series(1, :missing) n
"""

CHANGE = """
INSERT INTO care_plan (resident_id, version, valid_from, visit_tier, proposed_tier, services, created_at)
SELECT resident_id, version + 1, CAST(:today AS date) + 1, tier, tier,
       CASE WHEN jsonb_array_length(services) = 0 THEN
                '[{"service": "cleaning", "hours_per_month": 6, "funder": "self_paid"}]'::jsonb
            ELSE (SELECT coalesce(jsonb_agg(jsonb_set(e, '{hours_per_month}',
                      to_jsonb(round((e->>'hours_per_month')::numeric * 1.5, 1)))), '[]'::jsonb)
                  FROM jsonb_array_elements(services) WITH ORDINALITY AS s(e, i) WHERE i = 1) END,
       :now
FROM (SELECT p.resident_id, p.version, p.services,
             CASE p.visit_tier WHEN 'high_risk' THEN 'key' WHEN 'key' THEN 'regular' ELSE 'high_risk' END AS tier
      FROM care_plan p WHERE p.valid_to = :today AND p.resident_id % :every = 0) changed
"""
"""1 in `every` residents: the tier moves, the first service's hours go up by half, any second service is removed
(a resident with none gets 6 h of cleaning)."""


def counts(session: Session) -> dict[str, int]:
    """Rows in task and task_event, and the highest task version."""
    row = session.execute(
        text(
            "SELECT (SELECT count(*) FROM task), (SELECT count(*) FROM task_event),"
            " (SELECT coalesce(max(version), 0) FROM task)"
        )
    ).one()
    return {"task": int(row[0]), "task_event": int(row[1]), "max_version": int(row[2])}


def timed_generation(engine: Any, now: datetime, window_days: int) -> tuple[float, dict[str, Any], dict[str, int]]:
    """One generator run committed; its seconds, its counts and the table counts after it."""
    with Session(engine) as session:
        started = time.perf_counter()
        result = generate_tasks(session, now=now, window_days=window_days)
        session.commit()
        seconds = time.perf_counter() - started
        figures = {
            "created": result.created,
            "rescheduled": result.rescheduled,
            "cancelled": result.cancelled,
            "unchanged": result.unchanged,
            "wanted": result.wanted,
            "residents": result.residents,
            "phases_s": result.extra,
        }
        return seconds, figures, counts(session)


def baseline(engine: Any, now: datetime, window_days: int, sample: int) -> tuple[float, int, int]:
    """The per-row path over `sample` wanted tasks (rolled back): seconds, rows written, tasks wanted."""
    today = now.astimezone(LOCAL_TIMEZONE).date()
    days = [today + timedelta(days=n) for n in range(window_days)]
    with Session(engine) as session:
        wanted, _, _ = wanted_tasks(session, days=days)
        picked = wanted[:: max(1, len(wanted) // sample)][:sample]
        started = time.perf_counter()
        written = 0
        for task in picked:
            window_start, window_end = task.window()
            written += (
                create_task(
                    session,
                    kind=TaskKind(task.kind),
                    source=TaskSource.PLAN,
                    now=now,
                    window_start=window_start,
                    window_end=window_end,
                    resident_id=task.resident_id,
                    service=task.service,
                    slot=f"{task.slot}:baseline",
                    care_plan_id=task.care_plan_id,
                    duration_minutes=task.duration_minutes,
                    priority=task.priority,
                    required_skill=task.required_skill,
                )
                is not None
            )
        session.flush()
        seconds = time.perf_counter() - started
        session.rollback()
    return seconds, written, len(wanted)


def prepare(url: str, *, residents: int, staff: int, now: datetime) -> dict[str, int]:
    """Migrate, load the demo district, top up the staff, give every resident a care plan."""
    from eldercare_platform.seed.generator import MIN_RESIDENTS, generate
    from eldercare_platform.seed.loader import load

    upgrade(url)
    today = now.astimezone(LOCAL_TIMEZONE).date()
    # The generator makes 1,000 residents at least: a smaller run gives care plans to the first `residents`.
    load(url, generate(max(MIN_RESIDENTS, residents), seed=1, start_date=today - timedelta(days=today.weekday())))
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM staff").fetchone()
        missing = max(0, staff - int(have[0] if have else 0))
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    with Session(engine) as session:
        if missing:
            session.execute(text(STAFF), {"missing": missing})
        session.execute(text(PLANS), {"today": today, "now": now, "residents": residents})
        session.commit()
        session.execute(text("ANALYZE"))  # a district in service has its statistics
        row = session.execute(
            text(
                "SELECT (SELECT count(DISTINCT resident_id) FROM care_plan), (SELECT count(*) FROM staff),"
                " (SELECT count(*) FROM care_plan), (SELECT count(*) FROM care_plan WHERE services <> '[]'::jsonb)"
            )
        ).one()
    engine.dispose()
    return {"residents": int(row[0]), "staff": int(row[1]), "care_plans": int(row[2]), "with_services": int(row[3])}


def run(url: str, args: argparse.Namespace, now: datetime, report: Report) -> None:
    """The measurements, on a prepared database."""
    started = time.perf_counter()
    district = prepare(url, residents=args.residents, staff=args.staff, now=now)
    report.add(
        "district: residents with a plan / staff / care plans / with services",
        " / ".join(str(district[key]) for key in ("residents", "staff", "care_plans", "with_services")),
        "district",
    )
    report.add("district build (s)", round(time.perf_counter() - started, 1), "build_s")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    try:
        seconds, figures, after = timed_generation(engine, now, args.window_days)
        report.add(f"window of {args.window_days} days: seconds", round(seconds, 2), "generate_s")
        report.add("window: tasks created / trace lines", f"{figures['created']} / {after['task_event']}",
                   "generate_rows")  # fmt: skip
        report.data["generate"] = figures | {"tables": after}

        with Session(engine) as session:
            before = counts(session)
        seconds, figures, after = timed_generation(engine, now, args.window_days)
        written = {key: after[key] - before[key] for key in ("task", "task_event")}
        report.add("rerun, nothing changed: seconds", round(seconds, 2), "rerun_s")
        report.add("rerun: rows written task / task_event / version bump",
                   f"{written['task']} / {written['task_event']} / {after['max_version'] - before['max_version']}",
                   "rerun_written")  # fmt: skip
        report.data["rerun"] = figures | {
            "written": written,
            "version_bump": after["max_version"] - before["max_version"],
        }

        every = max(1, round(1 / args.changed))
        with Session(engine) as session:
            today = now.astimezone(LOCAL_TIMEZONE).date()
            session.execute(
                text("UPDATE care_plan SET valid_to = :today WHERE valid_to IS NULL AND resident_id % :every = 0"),
                {"every": every, "today": today},
            )
            changed = int(
                getattr(session.execute(text(CHANGE), {"every": every, "today": today, "now": now}), "rowcount", 0)
            )
            session.commit()
            before = counts(session)
        seconds, figures, after = timed_generation(engine, now, args.window_days)
        report.add(f"plan change of {changed} residents: seconds", round(seconds, 2), "change_s")
        report.add("plan change: created / rescheduled / cancelled / trace lines",
                   f"{figures['created']} / {figures['rescheduled']} / {figures['cancelled']} /"
                   f" {after['task_event'] - before['task_event']}", "change_rows")  # fmt: skip
        report.data["change"] = figures | {"residents_changed": changed}

        seconds, written_rows, wanted = baseline(engine, now, args.window_days, args.baseline_sample)
        per_row_ms = seconds / max(1, written_rows) * 1000
        report.add("baseline: per-row create_task (ms a task)", round(per_row_ms, 3), "baseline_ms_per_task")
        report.add(f"baseline scaled to the window's {wanted} tasks (s)", round(per_row_ms * wanted / 1000, 2),
                   "baseline_window_s")  # fmt: skip
        report.data["baseline"] = {"sample": written_rows, "seconds": round(seconds, 3), "wanted": wanted}
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> Path:
    """Build the district, measure, write the JSON; returns its path."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--staff", type=int, default=300)
    parser.add_argument("--window-days", type=int, default=14)
    parser.add_argument("--changed", type=float, default=0.01, help="share of residents whose plan changes")
    parser.add_argument("--baseline-sample", type=int, default=1000, help="tasks written one by one for the baseline")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="the clock's instant (ISO, aware)")
    parser.add_argument("--url", default=None, help="an existing migrated, empty database instead of a fresh one")
    parser.add_argument("--results-dir", type=Path, default=None, help="where the JSON goes (default bench/results)")
    args = parser.parse_args(argv)
    now = (args.now or datetime.now(UTC)).astimezone(UTC)
    report = Report("tasks")
    report.add("clock", now.isoformat(), "now")
    if args.url:
        run(args.url, args, now, report)
    else:
        with private_postgres("tasks", "bench_tasks") as (_, postgres):
            run(postgres.url, args, now, report)
    if args.results_dir is None:
        return report.finish()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path: Path = args.results_dir / f"tasks-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    payload = {"benchmark": "tasks", "machine": machine(), "results": report.data, "at": datetime.now(UTC).isoformat()}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    for label, value in report.rows:
        print(f"  {label:<64}  {value}")
    print(f"  results written to {path}")
    return path


if __name__ == "__main__":
    main()
