"""`make demo` for real: everything comes up healthy, Ctrl-C leaves no process, a second run reuses the data."""

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

import pytest

from eldercare_common.devstack import free_port
from eldercare_platform.seed.generator import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
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
    )
    deadline = time.monotonic() + 240
    while "Eldercare demo is running" not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    return process, log


def _stop(process: subprocess.Popen[str], data: Path) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    assert _pids_mentioning(str(data)) == set(), "a process of the demo outlived Ctrl-C"


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
    finally:
        if process.poll() is None:
            _stop(process, data)

    process, log = _start(data, api_port, offset)
    try:
        assert "already seeded" in log.read_text()
        _, body = _get(f"{api}/health")
        assert body["status"] == "ok"
    finally:
        _stop(process, data)
    shutil.rmtree(data, ignore_errors=True)
