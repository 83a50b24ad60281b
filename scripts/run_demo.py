"""`make demo`: the whole system on this machine, with a seeded district and a small simulated fleet.

Starts private PostgreSQL and Mosquitto under var/demo (unless DATABASE_URL / MQTT_URL point
elsewhere), migrates, seeds once, then runs the gateway, the API, the scheduler and the simulators
as child processes. Ctrl-C stops every process it started; running it again reuses the data.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from eldercare_common.devstack import MosquittoInstance, PostgresInstance
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.devices.broker_files import device_password_hashes
from eldercare_platform.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SERVICE_ACCOUNTS = {"gateway": DEMO_MQTT_PASSWORD, "platform": DEMO_MQTT_PASSWORD}


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

    def check(self) -> str | None:
        """The name of a child that died, if any."""
        for name, child in self.children:
            if child.poll() is not None:
                return name
        return None

    def stop_all(self) -> None:
        """SIGTERM each child's group, then SIGKILL what is left after 10 s."""
        for _, child in reversed(self.children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, child in reversed(self.children):
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop in time; killing it")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


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
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("ELDERCARE_PORT", "8000")))
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument(
        "--port-offset",
        type=int,
        default=int(os.environ.get("DEMO_PORT_OFFSET", "0")),
        help="Added to every port (PostgreSQL 55432, Mosquitto 51883, metrics 9101-9103)",
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
                str(ROOT / "simulators" / "scenarios" / "demo.yaml"),
                "--progress",
                "30",
                "--metrics-port",
                str(sim_port),
            ],
            base_env,
        )
        print(
            "\nEldercare demo is running (Ctrl-C stops everything):\n"
            f"  Console & dashboards  {api}/ui/\n"
            f"  API docs (OpenAPI)    {api}/api/docs\n"
            f"  API health            {api}/health\n"
            f"  Gateway health        http://127.0.0.1:{gateway_port}/health   (metrics: /metrics)\n"
            f"  Scheduler health      http://127.0.0.1:{scheduler_port}/health\n"
            f"  Simulators health     http://127.0.0.1:{sim_port}/health\n"
            f"  MQTT broker           {mqtt_url}\n"
            f"  Logs                  {logs}/\n"
        )
        subprocess.run([PYTHON, "-m", "eldercare_platform.seed", "--print-users"], env=base_env, check=False, cwd=ROOT)
        while not stop:
            dead = supervisor.check()
            if dead:
                print(f"! {dead} exited; see {logs}/{dead}.log — stopping the demo", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\nstopping…")
        supervisor.stop_all()
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()
        print("stopped: no process of the demo is left running")


if __name__ == "__main__":
    sys.exit(main())
