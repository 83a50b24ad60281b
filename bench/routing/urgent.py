"""Urgent insertion under a live day plan (issue 12, benchmark 3): `python -m bench.routing urgent`.

    .venv/bin/python -m bench.routing urgent [--communities 30] [--caregivers 10] [--residents 120] [--urgent 200]
                                             [--no-push] [--seed 1] [--results-dir DIR]

A fresh PostgreSQL and Mosquitto (under var/bench/routing-urgent) hold a live day (bench/routing/live_day.py):
`--communities` × `--caregivers` caregivers on shift (300 by default), each out on a published route of 8–12
visits, the ones before now done. Then `--urgent` urgent visits, for residents picked at random across the
district, are created one after another through the real path — `tasks.service.create_urgent_task`, in this
process, as the console's dispatch and a welfare call's call-back call it (the HTTP request around it is measured
by the API benchmarks, not here) — each committed before the next. For each one:

- **readable**: from the call until a separate connection reads the chosen caregiver's updated route (their open
  tasks in route order, the urgent one with its place and planned start);
- **pushed**: until that caregiver's live channel (`/api/me/tasks/live`, served by a real API process with its
  task hub; one WebSocket per caregiver, 300 sockets) delivers the task.

Baseline, measured in the same run on the same residents: the old path (the task to the nearest available staff
member, `tasks.service.nearest_staff`, assigned and published: no route, no plan), each baseline task deleted again
before the insertion of the same resident, so both start from the same day. Target: insertion p99 ≤ 2 s.
The clock is the machine's (the API process reads it too): the day is built around the moment the run starts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import eldercare_platform.planning  # noqa: F401 - registers the plan recorder of urgent insertions, as the API does
from bench.harness import BENCH_VAR, SERVICE_ACCOUNTS, Report, machine, percentiles, private_postgres
from bench.routing import live_day
from eldercare_common.devstack import MosquittoInstance, free_port, wait_for_port
from eldercare_common.settings import DEMO_JWT_SECRET, DEMO_MQTT_PASSWORD
from eldercare_platform.core.security import create_access_token
from eldercare_platform.migrate import upgrade
from eldercare_platform.roster import service as roster
from eldercare_platform.tasks import live_routes, urgent
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import URGENT, TaskAction, TaskKind, TaskSource, TaskStatus

WITHIN = timedelta(minutes=30)
ROUTE = """
SELECT id, route_sequence, planned_start FROM task
WHERE assignee_staff_id = %s AND status IN ('assigned', 'published', 'en_route', 'checked_in')
ORDER BY coalesce(planned_start, window_start), route_sequence NULLS LAST, id
"""


class PushWatcher:
    """One live channel per caregiver on the real API; records when each task first arrives (perf_counter)."""

    def __init__(self, base: str, tokens: dict[int, str]) -> None:
        self.url = base.replace("http://", "ws://") + "/api/me/tasks/live"
        self.tokens = tokens
        self.arrivals: dict[int, float] = {}
        self.connected = 0
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._all()), daemon=True)

    def start(self, timeout: float = 120.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.connected < len(self.tokens):
                if not self._changed.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"{self.connected} of {len(self.tokens)} sockets connected")

    async def _all(self) -> None:
        await asyncio.gather(*(self._one(token) for token in self.tokens.values()))

    async def _one(self, token: str) -> None:
        async with connect(self.url, open_timeout=60, max_queue=None) as socket:
            await socket.send(json.dumps({"type": "auth", "token": token}))
            json.loads(await socket.recv())  # hello
            with self._changed:
                self.connected += 1
                self._changed.notify_all()
            with contextlib.suppress(ConnectionClosed):  # the API stops at the end of the run
                async for raw in socket:
                    message = json.loads(raw)
                    if message.get("type") == "task" and message.get("task") is not None:
                        with self._changed:
                            self.arrivals.setdefault(int(message["task_id"]), time.perf_counter())
                            self._changed.notify_all()

    def wait(self, task_id: int, timeout: float = 10.0) -> float | None:
        """When the task arrived (perf_counter), or None if it did not within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while task_id not in self.arrivals:
                if not self._changed.wait(timeout=max(0.0, deadline - time.monotonic())):
                    return None
            return self.arrivals[task_id]


def nearest_path(session: Session, *, resident_id: int, now: datetime, slot: str) -> int | None:
    """The old urgent path (before issue 12): the nearest available staff member, assigned and published."""
    task_id = tasks.create_task(
        session,
        kind=TaskKind.URGENT_VISIT,
        source=TaskSource.WELFARE,
        now=now,
        window_start=now,
        window_end=now + WITHIN,
        resident_id=resident_id,
        service="urgent_visit",
        slot=slot,
        priority=URGENT,
    )
    if task_id is None:
        return None
    staff_id, km, _ = tasks.nearest_staff(session, task_id=task_id, now=now)
    if staff_id is not None:
        detail = {"chosen_by": "nearest_available", "distance_km": km}
        tasks.assign_to(session, task_id=task_id, staff_id=staff_id, now=now, user_id=None, detail=detail)
        tasks.move(
            session,
            task_id=task_id,
            action=TaskAction.PUBLISHED,
            to_status=TaskStatus.PUBLISHED,
            allowed_from={TaskStatus.ASSIGNED},
            now=now,
            set_sql="published_at = :now",
        )
    return task_id


def old_choice_quality(engine: Any, *, task_id: int, staff_id: int, now: datetime) -> dict[str, Any]:
    """What the nearest assigner's choice means for the chosen caregiver (not timed): their live route with the
    urgent task in it (tasks/live_routes.py times it from where they are now), how late the urgent visit starts
    after its window, and how many of their later visits it pushes past their windows."""
    with Session(engine) as session:
        staff = [s for s in roster.available_staff(session, start=now, end=now + WITHIN) if s.id == staff_id]
        if not staff:
            return {"urgent_late_minutes": None, "later_out_of_window": None}
        [live] = live_routes.live_routes(session, staff=staff, now=now, travel=urgent.TRAVEL[0])
        ends = dict(
            session.execute(
                text("SELECT id, window_end FROM task WHERE id = ANY(:ids)"), {"ids": [v.task_id for v in live.visits]}
            ).all()
        )
    starts = [(stop.task_id, stop.start) for stop in live.route.stops]
    index = next((i for i, (tid, _) in enumerate(starts) if tid == task_id), None)
    if index is None:
        return {"urgent_late_minutes": None, "later_out_of_window": None}
    late = max(0.0, (starts[index][1] - ends[task_id]).total_seconds() / 60)
    pushed_out = sum(1 for tid, start in starts[index + 1 :] if start > ends[tid])
    return {"urgent_late_minutes": round(late, 1), "later_out_of_window": pushed_out}


def measure(
    engine: Any, reader: psycopg.Connection[Any], watcher: PushWatcher | None, *, resident_id: int, slot: str, old: bool
) -> dict[str, Any]:
    """One urgent task through one path: the times (ms) and what was decided."""
    with Session(engine) as session:
        started = time.perf_counter()
        now = datetime.now(UTC)
        if old:
            task_id = nearest_path(session, resident_id=resident_id, now=now, slot=slot)
        else:
            task_id = tasks.create_urgent_task(
                session,
                kind=TaskKind.URGENT_VISIT,
                source=TaskSource.WELFARE,
                now=now,
                within=WITHIN,
                resident_id=resident_id,
                service="urgent_visit",
                slot=slot,
            )
        session.commit()
        committed = time.perf_counter()
    assert task_id is not None
    row = reader.execute(
        "SELECT t.assignee_staff_id, t.route_sequence, t.plan_id, p.runtime_ms, p.cost FROM task t"
        " LEFT JOIN plan p ON p.id = t.plan_id WHERE t.id = %s",
        (task_id,),
    ).fetchone()
    assert row is not None
    staff_id, sequence, plan_id, runtime_ms, cost = row
    route = reader.execute(ROUTE, (staff_id,)).fetchall() if staff_id is not None else []
    readable = time.perf_counter()
    why = None
    if staff_id is None:
        found = reader.execute("SELECT detail->>'reason' FROM alert WHERE task_id = %s", (task_id,)).fetchone()
        why = found[0] if found else None
    assert staff_id is None or any(r[0] == task_id for r in route)
    pushed = watcher.wait(task_id) if watcher is not None and staff_id is not None else None
    quality = (
        old_choice_quality(engine, task_id=task_id, staff_id=staff_id, now=now) if old and staff_id is not None else {}
    )
    return quality | {
        "task_id": task_id,
        "staff_id": staff_id,
        "sequence": sequence,
        "plan_id": plan_id,
        "commit_ms": (committed - started) * 1000,
        "readable_ms": (readable - started) * 1000,
        "pushed_ms": None if pushed is None else (pushed - started) * 1000,
        "decision_ms": runtime_ms,
        "added_km": (cost or {}).get("added_km"),
        "delay_minutes_total": (cost or {}).get("delay_minutes_total"),
        "distance_km": (cost or {}).get("distance_km"),
        "unassigned_reason": why,
    }


def forget(url: str, task_id: int) -> None:
    """Delete a baseline task again (its trace, any alert; its feed rows go with it)."""
    with psycopg.connect(url) as conn:
        for table, column in (("alert", "task_id"), ("task_event", "task_id"), ("task", "id")):
            conn.execute(f"DELETE FROM {table} WHERE {column} = %s", (task_id,))


def summary(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    return percentiles([row[key] for row in rows if row.get(key) is not None])


def run(url: str, args: argparse.Namespace, report: Report, broker: MosquittoInstance | None) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    upgrade(url)
    day = live_day.build(
        url,
        now=now,
        communities=args.communities,
        caregivers_per=args.caregivers,
        residents_per=args.residents,
        seed=args.seed,
    )
    report.add("live day (built around now)", json.dumps(day.summary(), ensure_ascii=False), "day")
    report.add("day build (s)", round(time.perf_counter() - started, 1), "build_s")
    watcher: PushWatcher | None = None
    api: Any = None
    if broker is not None:
        port = free_port()
        env = {
            "ELDERCARE_ENV": "test",
            "DATABASE_URL": url,
            "MQTT_URL": broker.url,
            "MQTT_USERNAME": "platform",
            "MQTT_PASSWORD": DEMO_MQTT_PASSWORD,
            "ELDERCARE_PORT": str(port),
            "ELDERCARE_LOG_LEVEL": "WARNING",
        }
        log = (BENCH_VAR / "routing-urgent" / "api.log").open("w")
        api = subprocess.Popen([sys.executable, "-m", "eldercare_platform.cli"], env={**os.environ, **env}, stderr=log)
        wait_for_port("127.0.0.1", port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/openapi.json", timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        tokens = {
            staff: create_access_token(
                subject=str(user),
                role="caregiver",
                secret=DEMO_JWT_SECRET,
                algorithm="HS256",
                minutes=12 * 60,
                now=datetime.now(UTC),
            )
            for staff, user in day.users.items()
        }
        watcher = PushWatcher(base, tokens)
        watcher.start()
        report.add("live channels connected", watcher.connected, "sockets")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    picked = random.Random(args.seed + 1).sample(day.residents, args.urgent)
    inserted: list[dict[str, Any]] = []
    nearest: list[dict[str, Any]] = []
    try:
        with psycopg.connect(url, autocommit=True) as reader:
            for i, resident in enumerate(picked):
                old = measure(engine, reader, watcher, resident_id=resident, slot=f"bench:old:{i}", old=True)
                forget(url, old["task_id"])
                nearest.append(old)
                inserted.append(measure(engine, reader, watcher, resident_id=resident, slot=f"bench:{i}", old=False))
    finally:
        engine.dispose()
        if api is not None:
            api.terminate()
            api.wait(timeout=30)
    for name, rows in (("insertion", inserted), ("nearest (baseline)", nearest)):
        key = "insertion" if name == "insertion" else "baseline"
        served = [row for row in rows if row["staff_id"] is not None]
        report.add(f"{name}: urgent tasks / assigned", f"{len(rows)} / {len(served)}", f"{key}_assigned")
        reasons: dict[str, int] = {}
        for row in rows:
            if row["staff_id"] is None:
                reasons[str(row["unassigned_reason"])] = reasons.get(str(row["unassigned_reason"]), 0) + 1
        report.add(f"{name}: nobody could take it, by reason", json.dumps(reasons), f"{key}_unassigned")
        for stage in ("commit_ms", "readable_ms", "pushed_ms"):
            figures = summary(rows, stage)
            report.add(
                f"{name}: {stage[:-3]} p50 / p99 / max (ms)",
                f"{figures.get('p50')} / {figures.get('p99')} / {figures.get('max')}",
                f"{key}_{stage}",
            )
            report.data[f"{key}_{stage}_percentiles"] = figures
    report.add(
        "insertion: decision (route_urgent) p50 / p99 (ms)",
        "{p50} / {p99}".format(**summary(inserted, "decision_ms")),
        "insertion_decision_ms",
    )
    report.add("insertion: added km p50 / max", "{p50} / {max}".format(**summary(inserted, "added_km")), "added_km")
    report.add(
        "insertion: later visits delayed, minutes in all p50 / max",
        "{p50} / {max}".format(**summary(inserted, "delay_minutes_total")),
        "delay_minutes",
    )
    chosen = [row for row in nearest if row.get("urgent_late_minutes") is not None]
    report.add(
        "baseline: urgent visit late past its window / later visits pushed out (tasks)",
        f"{sum(1 for r in chosen if r['urgent_late_minutes'] > 0)} / {sum(r['later_out_of_window'] for r in chosen)}",
        "baseline_breaks",
    )
    report.data["insertion_rows"] = inserted
    report.data["baseline_rows"] = nearest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communities", type=int, default=30)
    parser.add_argument("--caregivers", type=int, default=10, help="caregivers on shift per community")
    parser.add_argument("--residents", type=int, default=120, help="residents per community")
    parser.add_argument("--urgent", type=int, default=200, help="urgent tasks, one after another")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-push", action="store_true", help="no API process, no live channels")
    parser.add_argument("--results-dir", type=Path, default=None, help="where the JSON goes (default bench/results)")
    args = parser.parse_args(argv)
    report = Report("routing-urgent")
    with private_postgres("routing-urgent", "bench_urgent") as (data_dir, postgres):
        broker = None
        try:
            if not args.no_push:
                broker = MosquittoInstance(data_dir / "mosquitto", free_port(), service_accounts=dict(SERVICE_ACCOUNTS))
                broker.write_config()
                broker.start()
            run(postgres.url, args, report, broker)
        finally:
            if broker is not None:
                broker.stop()
    if args.results_dir is None:
        report.finish()
        return 0
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"routing-urgent-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    payload = {"benchmark": "routing-urgent", "machine": machine(), "results": report.data}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    for label, value in report.rows:
        print(f"  {label:<64}  {value}")
    print(f"  results written to {path}")
    return 0
