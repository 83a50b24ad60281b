"""Alarm latency: device publish → committed row, and → the operator's WebSocket, under load.

    .venv/bin/python -m bench.alarm_latency [--fleet 10000] [--telemetry-rate 13750] [--probes 300]

While `--fleet` simulated devices stay connected (60 s heartbeats) and telemetry flows at
`--telemetry-rate` messages/s (half the ingest benchmark's gateway figure: 27,495 → 13,750), `--probes`
SOS are sent from distinct devices at 5 a second. Baseline in the same run: the same probes with no
fleet and no telemetry. The simulated fleet and the telemetry feeder run at SCHED_IDLE (`--generators`):
they stand in for hardware that is not on the platform's machine. Each latency is split into stages:
broker → gateway (the row's `received_at`), gateway → commit and commit → alarm (PostgreSQL's own
commit timestamps), alarm → WebSocket. Targets: commit p99 ≤ 50 ms, WebSocket p99 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg

from bench.harness import (
    ROOT,
    Report,
    Stack,
    gauge,
    histogram_quantile,
    outside_load,
    percentiles,
    rss_mib,
    stack,
    wait_until,
)
from bench.observers import ConsoleWatcher
from bench.publishers import DevicePublishers
from eldercare_common.contract.v1 import uplink_topic


def fleet_connected(port: int) -> int:
    """The simulator's own gauge of connected devices."""
    return int(gauge(port, "sim_devices_connected"))


def probe(bench: Stack, api: str, publishers: DevicePublishers, label: str) -> dict[str, dict[str, float]]:
    """Send one SOS per device at 5/s; return latency percentiles (ms) of the whole path and its stages.

    Commit times are PostgreSQL's own (`track_commit_timestamp`), the gateway's receipt is the row's
    `received_at`, the alarm's commit that of its `alarm_event` link, and the console's time is taken
    when this process reads the WebSocket message. All clocks are this machine's.
    """
    console = ConsoleWatcher(api).start()
    serials = list(publishers.clients)
    sent: dict[str, float] = {}
    for index, serial in enumerate(serials):
        body = json.dumps({"event_id": f"{label}-{index}", "type": "sos", "ts": datetime.now(UTC).isoformat()})
        sent[serial] = time.time()
        publishers.publish(serial, uplink_topic(serial, "event"), body.encode())
        time.sleep(0.2)
    wait_until(lambda: all(s in console.seen for s in serials), timeout=60)
    console.stop()
    publishers.close()
    with psycopg.connect(bench.url) as conn:
        rows = conn.execute(
            "SELECT e.device_serial, extract(epoch FROM e.received_at),"
            " extract(epoch FROM pg_xact_commit_timestamp(e.xmin)),"
            " extract(epoch FROM pg_xact_commit_timestamp(ae.xmin))"
            " FROM device_event e JOIN alarm_event ae ON ae.device_event_id = e.id"
            " WHERE e.event_id LIKE %s",
            (f"{label}-%",),
        ).fetchall()
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    for serial, received, committed, alarm_committed in rows:
        published, seen = sent[serial], console.seen[serial]
        for name, later, earlier in (
            ("commit", committed, published),
            ("websocket", seen, published),
            ("broker → gateway", received, published),
            ("gateway → commit", committed, received),
            ("commit → alarm", alarm_committed, committed),
            ("alarm → websocket", seen, alarm_committed),
        ):
            stages[name].append((float(later) - float(earlier)) * 1000)
    return {name: percentiles(values) for name, values in stages.items()}


ALARM_LANE = 'lane="alarm"'
STAGES = ("commit", "websocket", "broker → gateway", "gateway → commit", "commit → alarm", "alarm → websocket")


def main() -> None:
    """Baseline probes, then the same under fleet and telemetry load."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fleet", type=int, default=10_000)
    parser.add_argument("--telemetry-rate", type=float, default=13750.0)
    parser.add_argument(
        "--probes",
        type=int,
        default=300,
        help="SOS per phase, one paho client each: at most about 300 (paho's select() sees descriptors below 1,024)",
    )
    parser.add_argument(
        "--generators",
        choices=("idle", "normal"),
        default="idle",
        help="CPU priority of the simulated fleet and the telemetry feeder (idle: SCHED_IDLE, see docs/benchmarks.md)",
    )
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for an experiment, e.g. synchronous_commit=off (printed in the report)",
    )
    args = parser.parse_args()
    pg_settings = dict(item.split("=", 1) for item in args.pg_setting)
    # The demo district has about 1.14 devices per resident.
    residents = min(50_000, max(1000, int((args.fleet + 2 * args.probes + 50) / 1.1) + 500))
    report = Report("alarm_latency")
    with stack(residents=residents, postgres_settings=pg_settings) as bench:
        units = bench.home_alarm_units(2 * args.probes, newest_first=True)
        with psycopg.connect(bench.url) as conn:
            others = [
                r[0]
                for r in conn.execute(
                    "SELECT serial FROM device WHERE state <> 'retired' AND NOT (serial = ANY(%s)) ORDER BY id",
                    (units,),
                ).fetchall()
            ]
        if len(units) < 2 * args.probes or len(others) < args.fleet + 50:
            raise SystemExit(f"not enough devices seeded: {len(units)} units, {len(others)} others")
        baseline_probes, loaded_probes = units[: args.probes], units[args.probes :]
        telemetry_devices = others[args.fleet : args.fleet + 50]
        # The production layout: alarms in a process of their own, telemetry and status in a niced one.
        gateway = bench.start_gateway("latency-alarm", ELDERCARE_LANES="alarm")
        bulk = bench.start_gateway("latency-bulk", ELDERCARE_LANES="status,telemetry", ELDERCARE_NICE="10")
        api_process, api = bench.start_api()
        time.sleep(2)
        baseline = probe(bench, api, DevicePublishers("127.0.0.1", bench.broker.port, baseline_probes), "base")
        # Connected now: under load the broker's single thread takes many seconds to let 300 clients in.
        loaded_publishers = DevicePublishers("127.0.0.1", bench.broker.port, loaded_probes)

        generators = outside_load if args.generators == "idle" else None
        sim = bench.start_fleet(args.fleet, progress_s=60, preexec_fn=generators)
        sim_port: int = sim.metrics_port  # type: ignore[attr-defined]
        bench.processes.append(sim)
        wait_until(lambda: fleet_connected(sim_port) >= args.fleet, timeout=600, interval=1.0)
        feeder = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.feeder",
                "--port",
                str(bench.broker.port),
                "--rate",
                str(args.telemetry_rate),
                "--serials",
                ",".join(telemetry_devices),
            ],
            env=bench.env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            preexec_fn=generators,
        )
        time.sleep(5)
        loaded = probe(bench, api, loaded_publishers, "load")
        feeder.send_signal(signal.SIGTERM)
        fed = json.loads(feeder.communicate(timeout=60)[0].decode().strip().splitlines()[-1])
        report.add("simulated devices connected", fleet_connected(sim_port), "fleet_connected")
        report.add("load generators' CPU priority", args.generators, "generators")
        report.add("PostgreSQL settings changed for this run", pg_settings or "none", "postgres_settings")
        report.add("telemetry rate asked (msg/s)", args.telemetry_rate, "telemetry_rate")
        report.add("telemetry rate reached (msg/s)", round(fed["sent"] / fed["seconds"]), "telemetry_rate_reached")
        for name, result in (("baseline (idle)", baseline), ("under load", loaded)):
            for stage in STAGES:
                p = result[stage]
                report.add(
                    f"{name}: {'publish → ' if stage in ('commit', 'websocket') else ''}{stage} ms p50/p95/p99/max",
                    f"{p['p50']} / {p['p95']} / {p['p99']} / {p['max']} (n={p['n']})",
                    f"{name}:{stage}",
                )
        report.add(
            "alarm gateway: transaction ms p50/p99 (bucket bounds)",
            " / ".join(
                f"{histogram_quantile(gateway.metrics_port, 'gateway_batch_seconds', ALARM_LANE, q):g}"  # type: ignore[attr-defined]
                for q in (0.5, 0.99)
            ),
            "alarm_transaction_ms",
        )
        report.add("commit p99 target ≤ 50 ms", "met" if loaded["commit"]["p99"] <= 50 else "missed", "commit_target")
        report.add(
            "websocket p99 target ≤ 250 ms",
            "met" if loaded["websocket"]["p99"] <= 250 else "missed",
            "websocket_target",
        )
        report.add("gateway RSS alarm / bulk (MiB)", f"{rss_mib(gateway.pid)} / {rss_mib(bulk.pid)}", "gateway_rss_mib")
        report.add("API RSS (MiB)", rss_mib(api_process.pid), "api_rss_mib")
        report.add(
            "broker RSS (MiB)", rss_mib(bench.broker.process.pid) if bench.broker.process else 0, "broker_rss_mib"
        )
    report.finish()


if __name__ == "__main__":
    main()
