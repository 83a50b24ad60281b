"""Shared benchmark plumbing: private services, a seeded district, gateway/API processes, results.

Every benchmark prints a table with the machine's figures and component versions and writes JSON
under bench/results/. Numbers are only compared with a baseline measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform as stdlib_platform
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from eldercare_common.devstack import MosquittoInstance, PostgresInstance, free_port, wait_for_port
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.devices.broker_files import device_password_hashes
from eldercare_platform.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
BENCH_VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
SERVICE_ACCOUNTS = {"gateway": DEMO_MQTT_PASSWORD, "platform": DEMO_MQTT_PASSWORD, "bench": DEMO_MQTT_PASSWORD}


def raise_fd_limit(wanted: int = 200_000) -> int:
    """Allow many sockets (root may raise the hard limit too); returns the soft limit in force."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if os.geteuid() == 0 else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def outside_load() -> None:
    """`preexec_fn` for load generators: run them at SCHED_IDLE, on whatever CPU our processes leave.

    Simulated devices stand in for hardware that is not on the platform's machines; at normal priority
    they took 1.3 of this machine's 2 cores from the system they were meant to load.
    """
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def machine() -> dict[str, Any]:
    """CPU, memory and versions, printed with every result."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    mosquitto = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": stdlib_platform.release(),
        "python": sys.version.split()[0],
        "mosquitto": mosquitto.replace("mosquitto version ", "").strip(),
        "paho-mqtt": metadata.version("paho-mqtt"),
        "psycopg": metadata.version("psycopg"),
        "fastapi": metadata.version("fastapi"),
        "aiomqtt": metadata.version("aiomqtt"),
    }


def rss_mib(pid: int) -> float:
    """Resident memory of a process (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def gauge(port: int, name: str) -> float:
    """A Prometheus gauge from a process's /metrics (0 while the process is not answering)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def histogram_quantile(port: int, name: str, label: str, q: float) -> float:
    """The upper bound (ms) of the bucket holding quantile `q` of a Prometheus histogram in /metrics."""
    buckets: list[tuple[float, float]] = []
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(f"{name}_bucket{{") and label in line:
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.split()[-1])))
    total = buckets[-1][1] if buckets else 0.0
    for bound, count in buckets:
        if total and count >= q * total:
            return bound * 1000
    return float("nan")


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of a list of numbers (ms)."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"n": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 1)}


@dataclass
class Report:
    """A benchmark's rows, printed as a table and saved as JSON."""

    name: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, label: str, value: Any, key: str | None = None) -> None:
        """One line of the table (and a key in the JSON)."""
        self.rows.append((label, str(value)))
        self.data[key or label] = value

    def finish(self) -> Path:
        """Print and write bench/results/<name>-<time>.json."""
        info = machine()
        width = max(len(label) for label, _ in [*self.rows, *((k, "") for k in info)])
        print(f"\n== {self.name} ==")
        for key, value in info.items():
            print(f"  {key:<{width}}  {value}")
        print("  " + "-" * (width + 20))
        for label, value in self.rows:
            print(f"  {label:<{width}}  {value}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        path.write_text(
            json.dumps(
                {"benchmark": self.name, "machine": info, "results": self.data, "at": datetime.now(UTC).isoformat()},
                indent=2,
                ensure_ascii=False,
            )
        )
        print(f"  results written to {path.relative_to(ROOT)}")
        return path


@dataclass
class Stack:
    """Private PostgreSQL and Mosquitto for one benchmark run, plus the processes it starts."""

    postgres: PostgresInstance
    broker: MosquittoInstance
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Database URL."""
        return self.postgres.url

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a child process of ours."""
        return {
            **os.environ,
            "ELDERCARE_ENV": "test",
            "DATABASE_URL": self.url,
            "MQTT_URL": self.broker.url,
            "MQTT_PASSWORD": DEMO_MQTT_PASSWORD,
            "ELDERCARE_LOG_LEVEL": "WARNING",
            **extra,
        }

    def home_alarm_units(self, count: int, *, newest_first: bool = False) -> list[str]:
        """Serials of up to `count` home alarm units the broker lets in (retired devices have no account).

        One per household, so each press opens an alarm of its own: a household's other devices belong
        to the same resident, and their presses are rightly grouped into that resident's open alarm.
        """
        order = "DESC" if newest_first else "ASC"
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT serial FROM device WHERE kind = 'home_alarm_unit' AND state <> 'retired'"
                " AND household_id IS NOT NULL"  # not the demo's spare unit on a care center's shelf
                f" ORDER BY id {order} LIMIT %s",
                (count,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def start_gateway(self, instance: str = "bench1", **extra: str) -> subprocess.Popen[bytes]:
        """A gateway process with metrics on a free port (returned in .metrics_port)."""
        port = free_port()
        env = self.env(
            MQTT_USERNAME="gateway",
            ELDERCARE_INSTANCE=instance,
            ELDERCARE_METRICS_PORT=str(port),
            ELDERCARE_DEVICE_RATE_PER_MINUTE="100000000",
            ELDERCARE_DEVICE_RATE_BURST="100000000",
            **extra,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "eldercare_gateway"],
            env=env,
            cwd=ROOT,
            stderr=(BENCH_VAR / f"gateway-{instance}.log").open("w"),
        )
        process.metrics_port = port  # type: ignore[attr-defined]
        wait_for_port("127.0.0.1", port, timeout=30)
        self.processes.append(process)
        return process

    def start_fleet(
        self, count: int, *, progress_s: int, preexec_fn: Callable[[], None] | None = None
    ) -> subprocess.Popen[bytes]:
        """The simulator keeping `count` devices connected with 60 s heartbeats (bench/scenarios/quiet.yaml).

        Its metrics port is in `.metrics_port`. It is not added to `processes`: a caller that keeps it to
        the end appends it, one that stops it itself does not.
        """
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eldercare_sim",
                "--count",
                str(count),
                "--scenario",
                str(ROOT / "bench" / "scenarios" / "quiet.yaml"),
                "--metrics-port",
                str(port),
                "--progress",
                str(progress_s),
            ],
            env=self.env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=preexec_fn,
        )
        process.metrics_port = port  # type: ignore[attr-defined]
        return process

    def start_api(self, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
        """An API process; returns it and its base URL."""
        port = free_port()
        env = self.env(MQTT_USERNAME="platform", ELDERCARE_PORT=str(port), **extra)
        process = subprocess.Popen(
            [sys.executable, "-m", "eldercare_platform.cli"],
            env=env,
            cwd=ROOT,
            stderr=(BENCH_VAR / "api.log").open("w"),
        )
        wait_for_port("127.0.0.1", port, timeout=60)
        self.processes.append(process)
        return process, f"http://127.0.0.1:{port}"

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM a process and wait."""
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process in self.processes:
            self.processes.remove(process)


@contextmanager
def private_postgres(name: str, database: str) -> Iterator[tuple[Path, PostgresInstance]]:
    """A fresh PostgreSQL of its own under var/bench/<name> (its folder, the server), stopped and removed after."""
    data_dir = BENCH_VAR / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    postgres = PostgresInstance(data_dir / "pgdata", free_port(), database=database)
    postgres.start()
    try:
        yield data_dir, postgres
    finally:
        postgres.stop(mode="immediate")
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def stack(
    *, residents: int = 1000, max_queued: int = 1_000_000, postgres_settings: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Fresh services with the demo district seeded (devices with demo passwords).

    `postgres_settings` are extra server settings for experiments (ALTER SYSTEM, before the restart).
    """
    from datetime import date

    from eldercare_platform.seed.generator import generate
    from eldercare_platform.seed.loader import load

    raise_fd_limit()
    shutil.rmtree(BENCH_VAR, ignore_errors=True)
    BENCH_VAR.mkdir(parents=True)
    postgres = PostgresInstance(BENCH_VAR / "pgdata", free_port(), database="bench")
    postgres.start()
    with psycopg.connect(postgres.url_for("postgres"), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET max_connections = 300")
        # Commit times straight from PostgreSQL, so no benchmark thread's scheduling enters a latency.
        conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
        conn.execute("ALTER SYSTEM SET log_min_duration_statement = 100")  # slow statements, to explain tails
        for name, value in (postgres_settings or {}).items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
    postgres.stop()  # both settings take effect only at a start
    postgres.start()
    upgrade(postgres.url)
    load(postgres.url, generate(residents, seed=1, start_date=date.today()))
    broker = MosquittoInstance(
        BENCH_VAR / "mosquitto",
        free_port(),
        service_accounts=dict(SERVICE_ACCOUNTS),
        device_hashes=device_password_hashes(postgres.url),
        max_queued_messages=max_queued,
    )
    broker.write_config()
    broker.start()
    bench = Stack(postgres, broker)
    try:
        yield bench
    finally:
        for process in list(bench.processes):
            bench.stop(process)
        broker.stop()
        postgres.stop(mode="immediate")


def wait_until(probe: Any, *, timeout: float, interval: float = 0.05) -> float:
    """Poll until `probe()` is truthy; returns the monotonic time it became so."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached in time")
        time.sleep(interval)
    return time.monotonic()
