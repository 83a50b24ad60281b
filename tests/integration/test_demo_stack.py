"""`make demo` for real: everything comes up healthy, the printed spare unit can call, Ctrl-C (to the whole
terminal group, as a terminal sends it) stops everything dependents first and leaves no process, and a
second run reuses the data."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from eldercare_common.devstack import free_port
from eldercare_common.settings import DEMO_SPARE_DEVICE_SERIAL
from eldercare_platform.seed.generator import DEMO_PASSWORD
from scripts.run_demo import DEMO_START_JOBS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


def _pids_mentioning(marker: str) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                environ = (entry / "environ").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline or marker in environ:
                found.add(int(entry.name))
    found.discard(os.getpid())
    return found


def _start(data: Path, api_port: int, offset: int) -> tuple[subprocess.Popen[str], Path]:
    log = data.parent / f"demo-{time.monotonic_ns()}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "scripts/run_demo.py",
            "--residents",
            "1000",
            "--devices",
            "40",
            "--plan-seconds",
            "0.2",
            "--history-weeks",
            "1",  # the district's past (seed history), short: its own test covers four weeks
            "--data",
            str(data),
            "--api-port",
            str(api_port),
            "--port-offset",
            str(offset),
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "DEMO_MARKER": str(data)},
        start_new_session=True,  # a terminal of its own: Ctrl-C goes to this whole group
    )
    deadline = time.monotonic() + 240
    while "Eldercare demo is running" not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    return process, log


def _stop(process: subprocess.Popen[str], data: Path, log: Path) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group, the demo's included."""
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    time.sleep(0.5)
    assert _pids_mentioning(str(data)) == set(), "a process of the demo outlived Ctrl-C"
    output = log.read_text().split("stopping (dependents first)", 1)[1]
    assert "had already exited" not in output, output
    order = [line.split()[1] for line in output.splitlines() if line.startswith("  stopped ")]
    tier = {"simulators": 0, "caregivers": 0, "gateway": 1, "api": 1, "scheduler": 1, "mosquitto": 2, "postgresql": 3}
    assert sorted(order) == sorted(tier), output
    assert [tier[name] for name in order] == sorted(tier[name] for name in order), f"stopped in order {order}"
    # The gateway never lost its broker while it ran: it stopped before Mosquitto did.
    gateway_log = (data / "logs" / "gateway.log").read_text()
    last_run = gateway_log.rsplit("gateway starting", 1)[-1]
    assert "lane disconnected" not in last_run.split("gateway stopping", 1)[0], last_run[-2000:]


def _press_the_spare_unit(log: Path, api: str, headers: dict[str, str]) -> None:
    """Paste the printed mosquitto_pub into bash: the SOS reaches the platform as the spare unit's event."""
    deadline = time.monotonic() + 60  # printed after the demo users, by a process of its own
    while "mosquitto_pub " not in (output := log.read_text()):
        assert time.monotonic() < deadline, output[-3000:]
        time.sleep(0.5)
    assert f"serial / MQTT username  {DEMO_SPARE_DEVICE_SERIAL}" in output, output[-3000:]
    command = next(line.strip() for line in output.splitlines() if line.strip().startswith("mosquitto_pub "))
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 20
    while True:
        status, events = _get(f"{api}/api/device-events", headers)
        assert status == 200, events
        assert isinstance(events, list)
        if any(e["device_serial"] == DEMO_SPARE_DEVICE_SERIAL and e["event_type"] == "sos" for e in events):
            break
        assert time.monotonic() < deadline, "the spare unit's SOS did not arrive"
        time.sleep(0.5)
    status, devices = _get(f"{api}/api/devices?serial={DEMO_SPARE_DEVICE_SERIAL}", headers)
    assert status == 200 and [d["serial"] for d in devices] == [DEMO_SPARE_DEVICE_SERIAL], devices


def test_demo_comes_up_and_stops_cleanly() -> None:
    # Under the repository, not /tmp/pytest-of-root: the `postgres` user must be able to reach it.
    data = ROOT / "var" / "test" / f"demo-{os.getpid()}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    api_port = free_port()
    offset = free_port() % 1000 + 1000
    api = f"http://127.0.0.1:{api_port}"
    process, log = _start(data, api_port, offset)
    try:
        status, health = _get(f"{api}/health")
        assert status == 200, health
        assert health["checks"] == {"database": "ok", "broker": "ok"}
        for port in (9101, 9102, 9103):
            deadline = time.monotonic() + 30
            while _get(f"http://127.0.0.1:{port + offset}/health")[0] != 200:
                assert time.monotonic() < deadline, f"process on metrics port {port + offset} is not healthy"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{9101 + offset}/metrics", timeout=5) as response:
            assert b"gateway_messages_received_total" in response.read()
        output = log.read_text()
        assert "operator1" in output and DEMO_PASSWORD in output, "demo users are printed"
        assert "coordinator1" in output
        assert "History of 1 weeks up to" in output, output[-3000:]
        assert "• simulated caregivers: coordinator1 publishes today's routes" in output, output[-3000:]
        # Today's jobs ran once before the pages opened: each named job reports what became of it.
        step = output.split("today's shifts, tasks and meal orders", 1)[1].split("Eldercare demo is running", 1)[0]
        for job in DEMO_START_JOBS:
            assert any(line.split()[:1] == [job] for line in step.splitlines()), step
        assert " failed " not in step, step

        token_request = urllib.request.Request(
            f"{api}/api/auth/token", data=f"username=operator1&password={DEMO_PASSWORD}".encode(), method="POST"
        )
        with urllib.request.urlopen(token_request, timeout=10) as response:
            token = json.loads(response.read())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while True:
            status, body = _get(f"{api}/api/system/status", headers)
            counts = body["counts"]
            assert isinstance(counts, dict)
            if counts["devices_online"] > 0:
                break
            assert time.monotonic() < deadline, f"no simulated device came online: {body}"
            time.sleep(1)
        assert counts["residents"] == 1000
        _press_the_spare_unit(log, api, headers)
        # The simulated caregivers signed in and coordinator1 published (or found published) today's routes.
        caregivers_log = data / "logs" / "caregivers.log"
        deadline = time.monotonic() + 60
        while "published as coordinator1" not in (caregivers_log.read_text() if caregivers_log.exists() else ""):
            assert time.monotonic() < deadline, caregivers_log.read_text() if caregivers_log.exists() else "no log"
            time.sleep(0.5)
    finally:
        if process.poll() is None:
            _stop(process, data, log)

    process, log = _start(data, api_port, offset)
    try:
        assert "already seeded" in log.read_text()
        assert "no history written (--if-empty)" in log.read_text()
        _, body = _get(f"{api}/health")
        assert body["status"] == "ok"
    finally:
        _stop(process, data, log)
    shutil.rmtree(data, ignore_errors=True)
