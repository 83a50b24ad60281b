"""API under 100 concurrent clients: the operator queue and the resident card, beside /health.

    .venv/bin/python -m bench.api_load [--clients 100] [--seconds 15]

One uvicorn process (scale out with more behind a load balancer). Baseline in the same run: GET
/health, which touches the database once and the broker state, no JSON of any size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

import httpx
import psycopg

from bench.harness import Report, percentiles, stack
from bench.observers import operator_token


async def hammer(base: str, paths: list[str], *, clients: int, seconds: float, token: str) -> dict[str, float]:
    """`clients` concurrent loops, each requesting a random path of `paths` until time is up."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=10) as client:

        async def loop() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(rng.choice(paths))
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False  # a timeout counts as an error, and its full wait as its latency
                latencies.append((time.perf_counter() - started) * 1000)
                if not ok:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.monotonic() - started
    return {"requests_per_s": round(len(latencies) / elapsed, 1), "errors": errors, **percentiles(latencies)}


def main() -> None:
    """Three runs: /health (baseline), the queue, the resident card."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    report = Report("api_load")
    with stack(residents=5000) as bench:
        _, api = bench.start_api(ELDERCARE_DB_POOL_SIZE="20")
        time.sleep(2)
        with psycopg.connect(bench.url, autocommit=True) as conn:
            # A realistic queue: 40 open alarms from 40 households.
            rows = conn.execute(
                "SELECT serial FROM device WHERE kind = 'home_alarm_unit' ORDER BY id LIMIT 40"
            ).fetchall()
            for index, (serial,) in enumerate(rows):
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
        results = {
            "GET /health (baseline)": asyncio.run(
                hammer(api, ["/health"], clients=args.clients, seconds=args.seconds, token=token)
            ),
            "GET /api/alarms (queue)": asyncio.run(
                hammer(api, ["/api/alarms"], clients=args.clients, seconds=args.seconds, token=token)
            ),
            "GET /api/residents/{id} (card, audited)": asyncio.run(
                hammer(
                    api,
                    [f"/api/residents/{r}" for r in residents],
                    clients=args.clients,
                    seconds=args.seconds,
                    token=token,
                )
            ),
        }
    baseline = results["GET /health (baseline)"]["requests_per_s"]
    report.add("concurrent clients", args.clients, "clients")
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
