"""Alarm storm: 5,000 SOS from distinct devices within 10 s. All committed and on the console, none lost,
none duplicated; how long until the queue is complete.

    .venv/bin/python -m bench.alarm_storm [--devices 5000] [--window 10]

The devices connect first (aiomqtt, one event loop), then each presses once at a random moment in
the window and keeps its event until the broker's PUBACK, as the protocol asks.
Baseline in the same run: one SOS on the idle system, publish → console.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime

import aiomqtt
import psycopg

from bench.harness import Report, percentiles, stack, wait_until
from bench.observers import ConsoleWatcher
from eldercare_common.contract.v1 import uplink_topic
from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.settings import DEMO_DEVICE_SECRET


async def storm(host: str, port: int, serials: list[str], window: float, seed: int) -> dict[str, float]:
    """Connect every device, then press once each within `window` seconds; returns publish times."""
    rng = random.Random(seed)
    ready = asyncio.Event()
    connected = 0
    sent: dict[str, float] = {}

    async def device(serial: str, connect_after: float, delay: float) -> None:
        nonlocal connected
        await asyncio.sleep(connect_after)  # connect at 500 a second, as a real fleet would be up already
        async with aiomqtt.Client(
            host,
            port,
            username=serial,
            identifier=f"storm-{serial}",
            timeout=60,
            password=demo_device_password(serial, DEMO_DEVICE_SECRET),
        ) as client:
            connected += 1
            await ready.wait()
            await asyncio.sleep(delay)
            body = json.dumps({"event_id": f"storm-{serial}", "type": "sos", "ts": datetime.now(UTC).isoformat()})
            sent[serial] = time.time()
            await client.publish(uplink_topic(serial, "event"), body.encode(), qos=1)

    tasks = [asyncio.create_task(device(s, i / 500, rng.uniform(0, window))) for i, s in enumerate(serials)]
    while connected < len(serials):
        await asyncio.sleep(0.2)
        if all(t.done() for t in tasks):
            break
    ready.set()
    await asyncio.gather(*tasks)
    return sent


def main() -> None:
    """Baseline, then the storm."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    report = Report("alarm_storm")
    # About 0.77 households (one alarm unit each) per resident in the demo district.
    with stack(residents=min(50_000, max(1000, int(args.devices / 0.75) + 500))) as bench:
        serials = bench.home_alarm_units(args.devices + 1)
        if len(serials) < args.devices + 1:
            raise SystemExit(f"only {len(serials)} home alarm units seeded")
        bench.start_gateway("storm")
        _, api = bench.start_api()
        time.sleep(2)
        console = ConsoleWatcher(api).start()
        baseline = asyncio.run(storm("127.0.0.1", bench.broker.port, serials[:1], 0.0, 1))
        wait_until(lambda: serials[0] in console.seen, timeout=30)
        baseline_ms = (console.seen[serials[0]] - baseline[serials[0]]) * 1000
        storm_devices = serials[1:]
        sent = asyncio.run(storm("127.0.0.1", bench.broker.port, storm_devices, args.window, 7))
        first = min(sent.values())

        def count(sql: str) -> int:
            with psycopg.connect(bench.url, autocommit=True) as conn:
                row = conn.execute(sql, ("storm-%",)).fetchone()
            return int(row[0]) if row else 0

        committed_at = wait_until(
            lambda: count("SELECT count(*) FROM device_event WHERE event_id LIKE %s") >= len(storm_devices),
            timeout=120,
            interval=0.1,
        )
        alarms_at = wait_until(
            lambda: (
                count(
                    "SELECT count(*) FROM alarm a JOIN alarm_event ae ON ae.alarm_id = a.id"
                    " JOIN device_event e ON e.id = ae.device_event_id"
                    " WHERE e.event_id LIKE %s"
                )
                >= len(storm_devices)
            ),
            timeout=120,
            interval=0.1,
        )
        try:
            console_at = wait_until(lambda: all(s in console.seen for s in storm_devices), timeout=120, interval=0.1)
        except TimeoutError:
            console_at = float("inf")
            missing = [s for s in storm_devices if s not in console.seen]
            with psycopg.connect(bench.url, autocommit=True) as conn:
                states = conn.execute(
                    "SELECT e.device_serial, e.id, ae.alarm_id, a.device_serial, a.source_key, a.event_count"
                    " FROM device_event e LEFT JOIN alarm_event ae ON ae.device_event_id = e.id"
                    " LEFT JOIN alarm a ON a.id = ae.alarm_id WHERE e.device_serial = ANY(%s) LIMIT 3",
                    (missing,),
                ).fetchall()
            report.add("NOT on the console after 120 s", f"{len(missing)} (e.g. {states})", "missing")
        console.stop()
        wall_first = first
        to_ms = [(console.seen[s] - sent[s]) * 1000 for s in storm_devices if s in console.seen]
        events = count("SELECT count(*) FROM device_event WHERE event_id LIKE %s")
        distinct = count("SELECT count(DISTINCT (device_serial, event_id)) FROM device_event WHERE event_id LIKE %s")
        mono_offset = time.monotonic() - time.time()
        report.add("devices pressing", len(storm_devices), "devices")
        report.add("press window (s)", args.window, "window_s")
        report.add("publishes spread over (s)", round(max(sent.values()) - first, 1), "spread_s")
        report.add("baseline: one SOS publish → console (ms)", round(baseline_ms, 1), "baseline_ms")
        report.add(
            "first press → all events committed (s)",
            round(committed_at - mono_offset - wall_first, 1),
            "all_committed_s",
        )
        report.add(
            "first press → all alarms opened (s)", round(alarms_at - mono_offset - wall_first, 1), "all_alarms_s"
        )
        report.add(
            "first press → queue complete on the console (s)",
            round(console_at - mono_offset - wall_first, 1),
            "console_complete_s",
        )
        report.add(
            "per press → console ms p50/p95/p99/max",
            " / ".join(str(v) for k, v in percentiles(to_ms).items() if k != "n"),
            "press_to_console_ms",
        )
        report.add("event rows / distinct (device, event_id)", f"{events} / {distinct}", "rows_distinct")
        report.add("console resyncs (fell behind; reconnected, reloaded the queue)", console.resyncs, "resyncs")
        report.add(
            "distinct alarms seen on the console",
            len({s for s in storm_devices if s in console.seen}),
            "console_alarms",
        )
        report.add(
            "target: complete within 30 s, none lost or duplicated",
            "met"
            if console_at - mono_offset - wall_first <= 30
            and events == distinct == len(storm_devices) + 1  # + the baseline press
            else "missed",
            "target",
        )
    report.finish()


if __name__ == "__main__":
    main()
