"""The API's /health with the real broker (ok, or 503 when a component is gone), and the API run with two workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from fastapi.testclient import TestClient

from eldercare_common.devstack import MosquittoInstance, free_port
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.main import create_app
from tests.conftest import platform_settings
from tests.integration.gateway_support import wait_for


def test_health_reports_database_and_broker(database_url: str, mosquitto: MosquittoInstance) -> None:
    settings = platform_settings(database_url, mosquitto)
    with TestClient(create_app(settings)) as client:
        body = wait_for(
            lambda: client.get("/health").json() if client.get("/health").status_code == 200 else None,
            timeout=10,
            what="a healthy API",
        )
        assert body == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "http_requests_total" in metrics.text


def test_health_is_503_when_the_broker_refuses(database_url: str, mosquitto: MosquittoInstance) -> None:
    settings = platform_settings(database_url, mosquitto, mqtt_password="wrong-password")
    with TestClient(create_app(settings)) as client:
        time.sleep(1.0)
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["checks"] == {"database": "ok", "broker": "error: not connected"}


def test_health_is_503_when_the_database_is_unreachable(mosquitto: MosquittoInstance) -> None:
    settings = platform_settings("postgresql://x:y@127.0.0.1:1/none", mosquitto)
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["checks"]["database"].startswith("error:")


def test_two_worker_processes_serve_one_port_and_metrics_cover_both(
    database_url: str, mosquitto: MosquittoInstance, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ELDERCARE_ENV": "test",
        "DATABASE_URL": database_url,
        "MQTT_URL": mosquitto.url,
        "MQTT_USERNAME": "platform",
        "MQTT_PASSWORD": DEMO_MQTT_PASSWORD,
        "ELDERCARE_PORT": str(port),
        "ELDERCARE_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    log = tmp_path / "api.log"
    with log.open("wb") as sink:
        api = subprocess.Popen([sys.executable, "-m", "eldercare_platform.cli"], env=env, stderr=sink)
    try:
        base = f"http://127.0.0.1:{port}"
        # Generous: two interpreters importing the app on a machine the rest of the suite keeps busy.
        try:
            wait_for(lambda: _status(f"{base}/health") == 200, timeout=120, what="a healthy API with two workers")
        except AssertionError as exc:
            health = _body(f"{base}/health")
            raise AssertionError(f"{exc}; /health says {health}; log tail: {log.read_text()[-3000:]}") from exc
        assert len(_workers(api.pid)) == 2
        # Each worker writes its own metrics file when it first serves a counted request; ask until
        # both have (each request is a new connection, which the kernel hands to either worker). On
        # a loaded machine the second worker may start listening well after the first answers
        # /health, so the bound is time (generous), not a request count.
        made = 0
        deadline = time.monotonic() + 90
        while len(list(tmp_path.glob("counter_*.db"))) < 2 and time.monotonic() < deadline:
            assert _status(f"{base}/api/alarms") == 401
            made += 1
            if made % 50 == 0:
                time.sleep(0.2)
        assert len(list(tmp_path.glob("counter_*.db"))) == 2, f"one worker served all {made} requests"
        # /metrics, from whichever worker answers, adds both files up: every request is counted once.
        wait_for(lambda: _unauthorized_served(base) == made, timeout=10, what=f"{made} requests in /metrics")
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)


def _unauthorized_served(base: str) -> float:
    """The 4xx responses counted in /metrics (summed over workers in multiprocess mode)."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    return sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("http_requests_total{") and 'status="4xx"' in line
    )


def _body(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode())
    except OSError as exc:
        return repr(exc)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under `pid` (children started by multiprocessing's spawn), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if parent == pid and "spawn_main" in command:
            found.append(int(entry.name))
    return found
