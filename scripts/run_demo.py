"""`make demo`: the whole system on this machine, with a seeded district and a small simulated fleet.

Starts private PostgreSQL and Mosquitto under var/demo (unless DATABASE_URL / MQTT_URL point
elsewhere), migrates, seeds once, writes the district's past weeks once (`python -m eldercare_platform.seed
history`: alarms, visits, services, meals, faults, terminal telemetry, so the supervisors' dashboards open on
figures; `--no-history` / DEMO_HISTORY=0), runs the scheduler's shift, task, meal-order and alert jobs once (so
today's board is there when the pages open), then runs the gateway, the API, the scheduler and the
simulators (devices, caregivers) as child processes. Ctrl-C stops every process it started, dependents first
(simulators; gateway, API and scheduler; Mosquitto; PostgreSQL); running it again reuses the data. It prints the
credentials of the district's spare home alarm unit, which no simulator plays, with commands to press its button.
The simulated caregivers of coordinator1's community work today's published routes through the API
(`--no-caregivers`).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import psycopg

from eldercare_common.contract.v1 import device_topic_prefix
from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.settings import DEMO_DEVICE_SECRET, DEMO_MQTT_PASSWORD, DEMO_SPARE_DEVICE_SERIAL
from eldercare_platform.devices.broker_files import device_password_hashes
from eldercare_platform.migrate import upgrade
from eldercare_sim.caregivers import LOCAL_TIMEZONE, team_from_db

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEMO_START_JOBS = (
    "shift_generation",
    "task_generation",
    "meal_orders",
    "certification_alerts",
    "reassessments",
    "coverage_alerts",
)
"""Run once before the pages open (in this order): today's shifts, tasks and meal orders, and the day's alerts.
Names no domain declares are skipped (`python -m eldercare_platform.scheduler --once` says which ran)."""
DEMO_PLAN_SECONDS = 1.0
"""Then today's plan, a manual plan (a draft) per community (`python -m eldercare_platform.planning`), so the board
shows routes at once; each community's solve gets this long (the scheduler's own plans use planner_seconds)."""
DEMO_TEAM_COORDINATOR = "coordinator1"
"""The simulated caregivers are the team of this coordinator's community: the board they see is the one at work."""
SERVICE_ACCOUNTS = {"gateway": DEMO_MQTT_PASSWORD, "platform": DEMO_MQTT_PASSWORD}
# What each part needs: stopping goes from the top down, so nothing loses what it depends on while it
# still runs (the gateway acknowledges its last batch to a live broker after committing it to a live
# database). Parts of one tier stop together.
STOP_TIERS: dict[str, int] = {
    "simulators": 0,  # play devices against the broker
    "caregivers": 0,  # play caregivers against the API
    "gateway": 1,  # broker → database
    "api": 1,  # database, broker (downlinks)
    "scheduler": 1,  # database, broker credentials
    "mosquitto": 2,
    "postgresql": 3,
}


def stop_order(started: Sequence[str]) -> list[tuple[str, ...]]:
    """The parts that were started, grouped by tier in the order to stop them (dependents first).

    Within a tier, the reverse of the start order. An unknown part is refused rather than guessed.
    """
    unknown = [name for name in started if name not in STOP_TIERS]
    if unknown:
        raise ValueError(f"no stop tier for {unknown}; add them to STOP_TIERS")
    tiers: dict[int, list[str]] = {}
    for name in reversed(started):
        tiers.setdefault(STOP_TIERS[name], []).append(name)
    return [tuple(tiers[tier]) for tier in sorted(tiers)]


def spare_device_text(*, host: str, port: int, serial: str = DEMO_SPARE_DEVICE_SERIAL) -> str:
    """How to be the district's spare home alarm unit by hand: its credentials and two commands to paste."""
    password = demo_device_password(serial, DEMO_DEVICE_SECRET)
    prefix = device_topic_prefix(serial)
    connect = f"-h {host} -p {port} -u {serial} -P {shlex.quote(password)} -q 1"
    # A fresh event_id per press (the platform stores an event once per device and event_id), a real offset.
    sos = """{"event_id":"try-'"$(date +%s)"'","type":"sos","ts":"'"$(date -Iseconds)"'"}"""
    return (
        "Spare home alarm unit (no simulator plays it; docs/device-protocol.md uses it):\n"
        f"  serial / MQTT username  {serial}\n"
        f"  MQTT password           {password}\n"
        "  listen for the platform's answers:\n"
        f"    mosquitto_sub {connect} -t '{prefix}/down/#' -v\n"
        "  press its SOS button (then answer the call at the console as operator1):\n"
        f"    mosquitto_pub {connect} -t {prefix}/up/event -m '{sos}'\n"
    )


def has_spare_device(database_url: str, serial: str = DEMO_SPARE_DEVICE_SERIAL) -> bool:
    """Whether the database has the spare unit, active (a district seeded before it existed has not)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT 1 FROM device WHERE serial = %s AND state = 'active'", (serial,)).fetchone()
    return row is not None


class Supervisor:
    """Children in their own process groups, stopped in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a child with its output in var/demo/logs/<name>.log."""
        log = (self.log_dir / f"{name}.log").open("ab")
        child = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        self.children.append((name, child))
        return child

    @property
    def names(self) -> set[str]:
        """The children started so far."""
        return {name for name, _ in self.children}

    def check(self) -> str | None:
        """The name of a child that died, if any."""
        for name, child in self.children:
            if child.poll() is not None:
                return name
        return None

    def stop(self, names: Sequence[str]) -> None:
        """SIGTERM these children's groups together, then SIGKILL what is left after 10 s; say what happened."""
        chosen = [(name, child) for name, child in self.children if name in names]
        for _, child in chosen:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, child in chosen:
            try:
                code = child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop in time; killing it", flush=True)
                os.killpg(child.pid, signal.SIGKILL)
                code = child.wait()
            # uvicorn re-raises the SIGTERM it handled, so -15 is a clean stop too.
            note = "" if code in (0, -signal.SIGTERM) else f" (exit status {code})"
            print(f"  stopped {name}{note}", flush=True)


def stop_broker(broker: MosquittoInstance) -> None:
    """Stop our Mosquitto, saying so if it had gone already (it must outlive everything that uses it)."""
    process = broker.process
    if process is not None and process.poll() is not None:
        print(f"  mosquitto had already exited (exit status {process.returncode})", flush=True)
    broker.stop()
    print("  stopped mosquitto", flush=True)


def broker_address(mqtt_url: str) -> tuple[str, int]:
    """Host and port of an mqtt:// URL, as a device would connect."""
    parts = urlsplit(mqtt_url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


def wait_healthy(url: str, timeout: float) -> bool:
    """Poll a health URL until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def start_caregivers(supervisor: Supervisor, *, api: str, database_url: str, env: dict[str, str], logs: Path) -> None:
    """The simulated caregivers of coordinator1's community: coordinator1 publishes today's draft plan (as from the
    board), then each caregiver signs in and works the route through the API on the real clock
    (`python -m eldercare_sim caregivers`); say who they are and where their steps are logged."""
    try:
        today = datetime.now(UTC).astimezone(LOCAL_TIMEZONE).date()
        team = team_from_db(database_url, coordinator=DEMO_TEAM_COORDINATOR, day=today)
    except psycopg.Error as exc:
        print(f"• simulated caregivers: not started ({exc})", flush=True)
        return
    if not team:
        print(
            f"• simulated caregivers: none ({DEMO_TEAM_COORDINATOR}'s community has no caregiver account; a district"
            " seeded before every caregiver had one: `make clean && make demo` reseeds it)",
            flush=True,
        )
        return
    supervisor.start(
        "caregivers",
        [
            PYTHON,
            "-m",
            "eldercare_sim",
            "caregivers",
            "--api",
            api,
            "--coordinator",
            DEMO_TEAM_COORDINATOR,
            "--publish",
            "--progress",
            "300",
        ],
        env,
    )
    names = ", ".join(f"{member.username} ({member.name})" for member in team)
    print(
        f"• simulated caregivers: {DEMO_TEAM_COORDINATOR} publishes today's routes of its community, then {names}"
        f" work them through the API (en route, check-in, visit record, check-out; urgent tasks acknowledged);"
        f" each step in {logs}/caregivers.log (--no-caregivers / DEMO_CAREGIVERS=0 turns them off)",
        flush=True,
    )


def main() -> int:
    """Run the demo until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=int(os.environ.get("DEMO_RESIDENTS", "5000")))
    parser.add_argument(
        "--devices",
        type=int,
        default=int(os.environ.get("DEMO_DEVICES", "300")),
        help="How many registry devices the simulator plays",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        default=Path(os.environ.get("DEMO_SCENARIO", ROOT / "simulators" / "scenarios" / "demo.yaml")),
        help="The simulated fleet's behaviour (default: demo.yaml, real-world call rates)",
    )
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("ELDERCARE_PORT", "8000")))
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument(
        "--port-offset",
        type=int,
        default=int(os.environ.get("DEMO_PORT_OFFSET", "0")),
        help="Added to every port (PostgreSQL 55432, Mosquitto 51883, metrics 9101-9103)",
    )
    parser.add_argument(
        "--plan-seconds",
        type=float,
        default=float(os.environ.get("DEMO_PLAN_SECONDS", DEMO_PLAN_SECONDS)),
        help="The planner's time limit per community for today's draft routes at start-up",
    )
    parser.add_argument(
        "--no-caregivers",
        dest="caregivers",
        action="store_false",
        default=os.environ.get("DEMO_CAREGIVERS", "1") not in ("0", "false", "no", "off"),
        help="Do not run the simulated caregiver team (also DEMO_CAREGIVERS=0)",
    )
    parser.add_argument(
        "--history-weeks",
        type=int,
        default=int(os.environ.get("DEMO_HISTORY_WEEKS", "4")),
        help="Weeks of past records written once after seeding (1-13, default 4; DEMO_HISTORY_WEEKS)",
    )
    parser.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        default=os.environ.get("DEMO_HISTORY", "1") not in ("0", "false", "no", "off"),
        help="Do not write the district's past weeks (also DEMO_HISTORY=0)",
    )
    args = parser.parse_args()

    data = args.data
    offset = args.port_offset
    pg_port, mqtt_port = 55432 + offset, 51883 + offset
    gateway_port, scheduler_port, sim_port = 9101 + offset, 9102 + offset, 9103 + offset
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    postgres: PostgresInstance | None = None
    broker: MosquittoInstance | None = None
    supervisor = Supervisor(logs)
    stop = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            postgres = PostgresInstance(data / "pgdata", pg_port)
            print(f"• PostgreSQL (private) on 127.0.0.1:{pg_port}, data in {postgres.data_dir}")
            postgres.start()
            database_url = postgres.url
        print("• migrating the database")
        upgrade(database_url)
        print(f"• seeding the demo district ({args.residents} residents) if the database is empty")
        subprocess.run(
            [PYTHON, "-m", "eldercare_platform.seed", "--residents", str(args.residents), "--if-empty"],
            env={**os.environ, "DATABASE_URL": database_url},
            check=True,
            cwd=ROOT,
        )
        if args.history:
            print(
                f"• the district's past {args.history_weeks} weeks (alarms, visits, services, meals, device faults,"
                " terminal telemetry) if it has none (--no-history / DEMO_HISTORY=0 leaves it out)",
                flush=True,
            )
            history = subprocess.run(
                [PYTHON, "-m", "eldercare_platform.seed", "history", "--weeks", str(args.history_weeks), "--if-empty"],
                env={**os.environ, "DATABASE_URL": database_url},
                check=False,  # the demo runs without a past too; the error is on the screen
                cwd=ROOT,
            )
            if history.returncode != 0:
                print("! the district's history was not written; the dashboards start from today", file=sys.stderr)
        else:
            print("• the district's history: off (--no-history / DEMO_HISTORY=0)", flush=True)

        mqtt_url = os.environ.get("MQTT_URL")
        if not mqtt_url:
            broker = MosquittoInstance(
                data / "mosquitto",
                mqtt_port,
                service_accounts=SERVICE_ACCOUNTS,
                device_hashes=device_password_hashes(database_url),
            )
            broker.write_config()
            print(f"• Mosquitto (private) on 127.0.0.1:{mqtt_port}, {len(broker.device_hashes)} device accounts")
            broker.start(log_path=logs / "mosquitto.log")
            mqtt_url = broker.url

        base_env = {
            **os.environ,
            "ELDERCARE_ENV": os.environ.get("ELDERCARE_ENV", "demo"),
            "DATABASE_URL": database_url,
            "MQTT_URL": mqtt_url,
            "PYTHONUNBUFFERED": "1",
        }
        # The scheduler keeps the private broker's credentials in step with devices registered later.
        broker_sync_env = (
            {
                "ELDERCARE_BROKER_AUTH_DIR": str(broker.directory),
                "ELDERCARE_BROKER_PID_FILE": str(broker.pid_file),
                "ELDERCARE_BROKER_SERVICE_ACCOUNTS": ",".join(f"{k}={v}" for k, v in SERVICE_ACCOUNTS.items()),
            }
            if broker
            else {}
        )
        print("• today's shifts, tasks and meal orders (the scheduler's jobs, once)")
        subprocess.run(
            [PYTHON, "-m", "eldercare_platform.scheduler", "--once", *DEMO_START_JOBS],
            env={**base_env, **broker_sync_env},
            check=False,  # a failed job is reported; the scheduler retries it in its next slot
            cwd=ROOT,
        )
        print("• today's plan: a manual plan (draft) per community, so the board shows routes")
        subprocess.run(
            [PYTHON, "-m", "eldercare_platform.planning", "--seconds", str(args.plan_seconds)],
            env=base_env,
            check=False,  # a community that fails is reported; the coordinator can plan it from the board
            cwd=ROOT,
        )
        service_env = {**base_env, "MQTT_PASSWORD": os.environ.get("MQTT_PASSWORD", DEMO_MQTT_PASSWORD)}
        supervisor.start(
            "gateway",
            [PYTHON, "-m", "eldercare_gateway"],
            {**service_env, "MQTT_USERNAME": "gateway", "ELDERCARE_METRICS_PORT": str(gateway_port)},
        )
        supervisor.start(
            "api",
            [PYTHON, "-m", "eldercare_platform.cli"],
            {**service_env, "MQTT_USERNAME": "platform", "ELDERCARE_PORT": str(args.api_port)},
        )
        supervisor.start(
            "scheduler",
            [PYTHON, "-m", "eldercare_platform.scheduler"],
            {**base_env, "ELDERCARE_METRICS_PORT": str(scheduler_port), **broker_sync_env},
        )
        api = f"http://127.0.0.1:{args.api_port}"
        if not wait_healthy(f"{api}/health", 60):
            print(f"! the API did not become healthy; see {logs}/api.log", file=sys.stderr)
            return 1
        supervisor.start(
            "simulators",
            [
                PYTHON,
                "-m",
                "eldercare_sim",
                "--count",
                str(args.devices),
                "--scenario",
                str(args.scenario),
                "--progress",
                "30",
                "--metrics-port",
                str(sim_port),
            ],
            base_env,
        )
        if args.caregivers:
            start_caregivers(supervisor, api=api, database_url=database_url, env=base_env, logs=logs)
        else:
            print("• simulated caregivers: off (--no-caregivers / DEMO_CAREGIVERS=0)", flush=True)
        print(
            "\nEldercare demo is running (Ctrl-C stops everything):\n"
            f"  Console & dashboards  {api}/ui/\n"
            f"  API docs (OpenAPI)    {api}/api/docs   (ReDoc: {api}/api/redoc)\n"
            f"  API health            {api}/health\n"
            f"  Gateway health        http://127.0.0.1:{gateway_port}/health   (metrics: /metrics)\n"
            f"  Scheduler health      http://127.0.0.1:{scheduler_port}/health\n"
            f"  Simulators health     http://127.0.0.1:{sim_port}/health\n"
            f"  MQTT broker           {mqtt_url}\n"
            f"  Logs                  {logs}/\n",
            flush=True,
        )
        subprocess.run([PYTHON, "-m", "eldercare_platform.seed", "--print-users"], env=base_env, check=False, cwd=ROOT)
        mqtt_host, mqtt_port_now = broker_address(mqtt_url)
        if has_spare_device(database_url):
            print("\n" + spare_device_text(host=mqtt_host, port=mqtt_port_now), flush=True)
        else:
            print(
                f"\n(This district was seeded before it had the spare unit {DEMO_SPARE_DEVICE_SERIAL}: "
                f"`make clean && make demo` reseeds it; or provision a device with POST /api/devices.)",
                flush=True,
            )
        while not stop:
            dead = supervisor.check()
            if dead:
                print(f"! {dead} exited; see {logs}/{dead}.log — stopping the demo", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\nstopping (dependents first)…", flush=True)
        started = [name for name, _ in supervisor.children]
        started += ["mosquitto"] if broker else []
        started += ["postgresql"] if postgres else []
        for tier in stop_order(started):
            supervisor.stop([name for name in tier if name in supervisor.names])
            if broker and "mosquitto" in tier:
                stop_broker(broker)
            if postgres and "postgresql" in tier:
                postgres.stop()
                print("  stopped postgresql", flush=True)
        print("stopped: no process of the demo is left running", flush=True)


if __name__ == "__main__":
    sys.exit(main())
