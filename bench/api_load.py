"""API under 100 concurrent clients: the operator queue and the resident card, beside /health.

    .venv/bin/python -m bench.api_load [--clients 100] [--seconds 15] [--workers 2]

`--workers` uvicorn worker processes (ELDERCARE_WORKERS); the load comes from wrk (installed on
first use). Baseline in the same run: GET /health, which touches the database once and the broker
state, no JSON of any size.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import time

import psycopg

from bench.harness import BENCH_VAR, ROOT, Report, stack
from bench.observers import operator_token

WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {["Authorization"] = "Bearer %(token)s"}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], headers)
end
"""


def wrk_binary() -> str:
    """wrk, installed on first use (`scripts/bootstrap.sh --bench`)."""
    if shutil.which("wrk") is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--bench"], check=True)
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed and could not be installed (see scripts/bootstrap.sh --bench)")
    return found


def hammer(base: str, paths: list[str], *, clients: int, seconds: float, token: str) -> dict[str, float]:
    """`clients` keep-alive connections from wrk (C, two threads) cycling through `paths` for `seconds`.

    wrk rather than a Python client: an asyncio client in one process topped out near 480 requests/s
    and its own scheduling entered every latency it reported.
    """
    script = BENCH_VAR / "api_load.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "token": token})
    result = subprocess.run(
        [
            wrk_binary(),
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(result)


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, latency percentiles (ms) and errors (non-2xx, socket errors) from wrk's report."""
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}

    def ms(text: str) -> float:
        number = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
        if number is None:
            raise ValueError(f"unexpected wrk latency: {text!r}")
        return round(float(number[1]) * units[number[2]], 1)

    percent = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    maximum = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if rps is None or maximum is None or "99" not in percent:
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = int(non_2xx[1]) if non_2xx else 0
    errors += sum(int(n) for n in socket.groups()) if socket else 0
    return {
        "requests_per_s": float(rps[1]),
        "errors": errors,
        "p50": ms(percent["50"]),
        "p99": ms(percent["99"]),
        "max": ms(maximum[1]),
    }


def main() -> None:
    """Three runs: /health (baseline), the queue, the resident card."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool-size", type=int, default=40, help="ELDERCARE_DB_POOL_SIZE per worker")
    args = parser.parse_args()
    report = Report("api_load")
    with stack(residents=5000) as bench:
        _, api = bench.start_api(ELDERCARE_DB_POOL_SIZE=str(args.pool_size), ELDERCARE_WORKERS=str(args.workers))
        time.sleep(2)
        with psycopg.connect(bench.url, autocommit=True) as conn:
            # A realistic queue: 40 open alarms from 40 households.
            for index, serial in enumerate(bench.home_alarm_units(40)):
                event = conn.execute(
                    "INSERT INTO device_event (device_serial, event_id, event_type, device_time) VALUES (%s, %s, 'sos',"
                    " now()) RETURNING id",
                    (serial, f"api-{index}"),
                ).fetchone()
                assert event is not None
                conn.execute(
                    "INSERT INTO outbox (topic, payload) VALUES ('device_event', %s)",
                    (json.dumps({"device_event_id": event[0]}),),
                )
            residents = [r[0] for r in conn.execute("SELECT id FROM resident ORDER BY id LIMIT 500").fetchall()]
        time.sleep(3)  # the API's intake worker opens the alarms
        token = operator_token(api)
        # Warm-up, not reported: every worker opens its pool and fills its caches before the clock runs.
        hammer(api, ["/health", "/api/alarms"], clients=args.clients, seconds=3, token=token)
        results = {
            "GET /health (baseline)": hammer(api, ["/health"], clients=args.clients, seconds=args.seconds, token=token),
            "GET /api/alarms (queue)": hammer(
                api, ["/api/alarms"], clients=args.clients, seconds=args.seconds, token=token
            ),
            "GET /api/residents/{id} (card, audited)": hammer(
                api,
                [f"/api/residents/{r}" for r in residents],
                clients=args.clients,
                seconds=args.seconds,
                token=token,
            ),
        }
    baseline = results["GET /health (baseline)"]["requests_per_s"]
    report.add("concurrent clients", args.clients, "clients")
    report.add("API worker processes", args.workers, "workers")
    report.add("database pool per worker", args.pool_size, "pool_size")
    for name, result in results.items():
        report.add(
            f"{name} req/s (vs baseline)",
            f"{result['requests_per_s']} ({result['requests_per_s'] / baseline:.0%})",
            f"{name}:rps",
        )
        report.add(
            f"{name} ms p50/p99/max (errors)",
            f"{result['p50']} / {result['p99']} / {result['max']} ({result['errors']})",
            f"{name}:latency",
        )
    report.finish()


if __name__ == "__main__":
    main()
