"""Alarm latency: device publish → committed row, and → the operator's WebSocket, under load.

    .venv/bin/python -m bench.alarm_latency [--fleet 10000] [--telemetry-rate 2000] [--probes 200]

While `--fleet` simulated devices stay connected (60 s heartbeats) and telemetry flows at
`--telemetry-rate` messages/s (use half the ingest benchmark's gateway figure), `--probes` SOS are
sent from distinct devices at 5 a second. Baseline in the same run: the same probes with no fleet
and no telemetry. Targets: commit p99 ≤ 50 ms, WebSocket p99 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import psycopg

from bench.harness import ROOT, Report, Stack, gauge, percentiles, rss_mib, stack, wait_until
from bench.observers import CommitWatcher, ConsoleWatcher
from bench.publishers import DevicePublishers, telemetry_payload
from eldercare_common.devstack import free_port
from eldercare_gateway.protocol import uplink_topic


def fleet_connected(port: int) -> int:
    """The simulator's own gauge of connected devices."""
    return int(gauge(port, "sim_devices_connected"))


def probe(bench: Stack, api: str, serials: list[str], label: str) -> dict[str, dict[str, float]]:
    """Send one SOS per device at 5/s; return commit and WebSocket latency percentiles (ms)."""
    commits = CommitWatcher(bench.url).start()
    console = ConsoleWatcher(api).start()
    publishers = DevicePublishers("127.0.0.1", bench.broker.port, serials)
    sent: dict[str, tuple[str, float]] = {}
    for index, serial in enumerate(serials):
        event_id = f"{label}-{index}"
        body = json.dumps({"event_id": event_id, "type": "sos", "ts": datetime.now(UTC).isoformat()}).encode()
        sent[serial] = (event_id, time.time())
        publishers.publish(serial, uplink_topic(serial, "event"), body)
        time.sleep(0.2)
    wait_until(lambda: all(s in console.seen for s in serials), timeout=60)
    commits.stop()
    console.stop()
    publishers.close()
    commit_ms = [(commits.committed[(s, e)] - t) * 1000 for s, (e, t) in sent.items() if (s, e) in commits.committed]
    socket_ms = [(console.seen[s] - t) * 1000 for s, (_, t) in sent.items()]
    return {"commit": percentiles(commit_ms), "websocket": percentiles(socket_ms)}


def main() -> None:
    """Baseline probes, then the same under fleet and telemetry load."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fleet", type=int, default=10_000)
    parser.add_argument("--telemetry-rate", type=float, default=2000.0)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    # The demo district has about 1.14 devices per resident.
    residents = min(50_000, max(1000, int((args.fleet + 2 * args.probes + 50) / 1.1) + 500))
    report = Report("alarm_latency")
    with stack(residents=residents) as bench:
        with psycopg.connect(bench.url) as conn:
            # Probes press on home alarm units, one per household, so that each opens its own alarm.
            units = [
                r[0]
                for r in conn.execute(
                    "SELECT serial FROM device WHERE kind = 'home_alarm_unit' ORDER BY id DESC LIMIT %s",
                    (2 * args.probes,),
                ).fetchall()
            ]
            others = [
                r[0]
                for r in conn.execute(
                    "SELECT serial FROM device WHERE NOT (serial = ANY(%s)) ORDER BY id", (units,)
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
        baseline = probe(bench, api, baseline_probes, "base")

        sim_port = free_port()
        sim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eldercare_sim",
                "--count",
                str(args.fleet),
                "--scenario",
                str(ROOT / "bench" / "scenarios" / "quiet.yaml"),
                "--metrics-port",
                str(sim_port),
                "--progress",
                "60",
            ],
            env=bench.env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bench.processes.append(sim)
        wait_until(lambda: fleet_connected(sim_port) >= args.fleet, timeout=600, interval=1.0)
        stop = threading.Event()
        sent_telemetry = 0

        def telemetry() -> None:
            nonlocal sent_telemetry
            publishers = DevicePublishers("127.0.0.1", bench.broker.port, telemetry_devices)
            start = time.monotonic()
            while not stop.is_set():
                due = int((time.monotonic() - start) * args.telemetry_rate)
                while sent_telemetry < due:
                    serial = telemetry_devices[sent_telemetry % len(telemetry_devices)]
                    publishers.publish(serial, uplink_topic(serial, "telemetry"), telemetry_payload(sent_telemetry))
                    sent_telemetry += 1
                time.sleep(0.005)
            publishers.close()

        feeder = threading.Thread(target=telemetry, daemon=True)
        feeder.start()
        time.sleep(5)
        loaded = probe(bench, api, loaded_probes, "load")
        stop.set()
        feeder.join(10)
        elapsed_rate = sent_telemetry
        report.add("simulated devices connected", fleet_connected(sim_port), "fleet_connected")
        report.add("telemetry rate asked (msg/s)", args.telemetry_rate, "telemetry_rate")
        report.add("telemetry messages sent during the run", elapsed_rate, "telemetry_sent")
        for name, result in (("baseline (idle)", baseline), ("under load", loaded)):
            for kind in ("commit", "websocket"):
                p = result[kind]
                report.add(
                    f"{name}: publish → {kind} ms p50/p95/p99/max",
                    f"{p['p50']} / {p['p95']} / {p['p99']} / {p['max']} (n={p['n']})",
                    f"{name}:{kind}",
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
