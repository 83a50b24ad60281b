"""Fleet size: how many simulated devices stay connected with 60 s heartbeats, and what it costs.

    .venv/bin/python -m bench.fleet_size [--steps 10000,25000,50000] [--hold 90]

For each step the simulator connects that many devices (at 500 a second), holds them for `--hold`
seconds, and we record the devices connected, the heartbeats the gateway stored, and the resident
memory of the broker, the gateway and the simulator. Baseline in the same run: the same
processes' memory with no device connected. Goal: 50,000 devices (the seeds' city scale).
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import time

import psycopg

from bench.harness import Report, gauge, raise_fd_limit, rss_mib, stack, wait_until


def connected_at_least(port: int, count: int) -> bool:
    """Whether the simulator on `port` reports `count` devices connected."""
    return gauge(port, "sim_devices_connected") >= count


def main() -> None:
    """Step up the fleet and report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="10000,25000,50000")
    parser.add_argument("--hold", type=float, default=90.0)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    report = Report("fleet_size")
    with stack(residents=min(50_000, max(1000, int(max(steps) / 1.14) + 500)), max_queued=1000) as bench:
        with psycopg.connect(bench.url) as conn:
            available = conn.execute("SELECT count(*) FROM device").fetchone()
        gateway = bench.start_gateway("fleet")
        assert bench.broker.process is not None
        broker_pid = bench.broker.process.pid
        time.sleep(2)
        report.add("devices registered", available[0] if available else 0, "registered")
        report.add("open-file limit of this process tree", raise_fd_limit(), "fd_limit")
        report.add(
            "baseline RSS broker / gateway (MiB)", f"{rss_mib(broker_pid)} / {rss_mib(gateway.pid)}", "baseline_rss"
        )
        for count in steps:
            sim = bench.start_fleet(count, progress_s=600)
            port: int = sim.metrics_port  # type: ignore[attr-defined]
            started = time.monotonic()
            try:
                wait_until(functools.partial(connected_at_least, port, count), timeout=count / 200 + 120, interval=1.0)
                ramp = time.monotonic() - started
                time.sleep(args.hold)
                held = gauge(port, "sim_devices_connected")
                with psycopg.connect(bench.url, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM device_status WHERE online"
                        " AND last_heartbeat_at > now() - interval '2 minutes'"
                    ).fetchone()
                online = int(row[0]) if row else 0
                report.add(
                    f"{count}: connected after ramp / after {args.hold:.0f} s hold",
                    f"{count} in {ramp:.0f} s / {int(held)}",
                    f"{count}:connected",
                )
                report.add(f"{count}: devices with a heartbeat stored in the last 2 min", online, f"{count}:online")
                report.add(
                    f"{count}: RSS broker / gateway / simulator (MiB)",
                    f"{rss_mib(broker_pid)} / {rss_mib(gateway.pid)} / {rss_mib(sim.pid)}",
                    f"{count}:rss",
                )
            except TimeoutError:
                report.add(
                    f"{count}: connected", f"only {int(gauge(port, 'sim_devices_connected'))}", f"{count}:connected"
                )
            finally:
                sim.terminate()
                try:
                    sim.wait(60)
                except subprocess.TimeoutExpired:
                    sim.kill()  # devices stuck in reconnect back-off do not stop promptly
                    sim.wait()
                time.sleep(5)
    report.finish()


if __name__ == "__main__":
    main()
