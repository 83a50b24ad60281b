"""`eldercare-sim`: run a fleet of simulated devices with a progress line and a closing summary;
`eldercare-sim caregivers --api URL …`: a simulated caregiver team working its routes through the API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import functools
import json
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client import Gauge
from pydantic import Field, SecretStr

from eldercare_common.ops_server import OpsServer
from eldercare_common.settings import (
    DEMO_DEVICE_SECRET,
    BaseProcessSettings,
    DatabaseSettingsMixin,
    MqttSettingsMixin,
    load_settings,
)
from eldercare_sim import caregivers
from eldercare_sim.fleet import ConnectGate, FleetStats, SimDevice, SimulatedDevice, Storm
from eldercare_sim.hostile import run_hostile
from eldercare_sim.scenario import Scenario
from eldercare_sim.sources import HOME_KINDS, TERMINAL_KINDS, devices_from_csv, devices_from_db


class SimulatorSettings(BaseProcessSettings, DatabaseSettingsMixin, MqttSettingsMixin):
    """Where the broker is and how demo devices derive their passwords."""

    device_secret: SecretStr = Field(default=SecretStr(DEMO_DEVICE_SECRET))


async def run_fleet(
    devices: list[SimDevice],
    hostile: list[SimDevice] | None = None,
    *,
    scenario: Scenario,
    seed: int,
    host: str,
    port: int,
    progress_s: float,
    stop: asyncio.Event,
    stats: FleetStats | None = None,
) -> FleetStats:
    """Run the devices until `stop` is set or the scenario's duration ends."""
    stats = stats if stats is not None else FleetStats()
    hostile = hostile or []
    gate = ConnectGate(scenario.max_connect_rate)
    storm = Storm()
    # One source address offers about 28,000 ephemeral ports towards one broker port; past 20,000
    # devices on loopback, spread the clients over 127.0.0.1, 127.0.0.2, … (all loopback).
    spread = host.startswith("127.") and len(devices) > 20_000
    sims = [
        SimulatedDevice(
            d,
            scenario=scenario,
            seed=seed,
            host=host,
            port=port,
            stats=stats,
            gate=gate,
            stop=stop,
            storm=storm,
            bind_address=f"127.0.0.{1 + index // 20_000}" if spread else "",
        )
        for index, d in enumerate(devices)
    ]
    started = time.monotonic()

    async def progress() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=progress_s)
            elapsed = time.monotonic() - started
            print(
                f"[{elapsed:7.1f}s] connected {stats.connected}/{len(devices)}  sent {dict(stats.sent)}  "
                f"acked {dict(stats.acked)}  feedback {dict(stats.feedback)}",
                file=sys.stderr,
                flush=True,
            )

    async def timer() -> None:
        if scenario.duration_s is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=scenario.duration_s)
            stop.set()

    async def storms() -> None:
        if scenario.reconnect_storm_every_s is None:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=scenario.reconnect_storm_every_s)
            if not stop.is_set():
                print("reconnect storm: every device drops now", file=sys.stderr, flush=True)
                await storm.blow()

    tasks = [asyncio.create_task(sim.run()) for sim in sims]
    victim = devices[0].serial
    tasks += [
        asyncio.create_task(
            run_hostile(
                d,
                victim=victim,
                host=host,
                port=port,
                seed=seed,
                stats=stats,
                stop=stop,
                rate=scenario.hostile_messages_per_s,
            )
        )
        for d in hostile
    ]
    helpers = [asyncio.create_task(progress()), asyncio.create_task(timer()), asyncio.create_task(storms())]
    await stop.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    for helper in helpers:
        helper.cancel()
    return stats


def fleet_health(stats: FleetStats) -> dict[str, str]:
    """Healthy while at least one simulated device holds a broker connection."""
    return {"broker": "ok" if stats.connected > 0 else "error: no device connected"}


def register_fleet_metrics(stats: FleetStats) -> None:
    """Expose the fleet's counters to Prometheus, read live from `stats`."""
    connected = Gauge("sim_devices_connected", "Simulated devices connected now")
    connected.set_function(lambda: stats.connected)
    sent = Gauge("sim_messages_sent", "Messages queued by simulated devices", ["channel"])
    acked = Gauge("sim_messages_acked", "QoS 1 messages acknowledged by the broker", ["channel"])
    for channel in ("event", "heartbeat", "telemetry", "status"):
        sent.labels(channel).set_function(functools.partial(stats.sent.__getitem__, channel))
        acked.labels(channel).set_function(functools.partial(stats.acked.__getitem__, channel))


def run_caregivers(argv: list[str]) -> None:
    """`eldercare-sim caregivers`: a simulated caregiver team working today's routes through the API, on the real
    clock, until Ctrl-C or --duration (simulators/eldercare_sim/caregivers.py)."""
    parser = argparse.ArgumentParser(prog="eldercare-sim caregivers", description=run_caregivers.__doc__)
    parser.add_argument("--api", required=True, help="The API's base URL, e.g. http://127.0.0.1:8000")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--users", default=None, help="Comma-separated caregiver usernames (caregiver2,caregiver3,…)")
    who.add_argument("--area-id", type=int, default=None, help="The caregivers based in this area (and under it)")
    who.add_argument("--coordinator", default=None, help="The caregivers of this coordinator's area (coordinator1)")
    parser.add_argument("--count", type=int, default=None, help="At most this many caregivers (staff id order)")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="First publish today's newest draft plan of each community of the area that has none published"
        " (as --coordinator, from the board: 发布路线)",
    )
    parser.add_argument("--password", default=caregivers.DEMO_PASSWORD, help="The accounts' password (demo default)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tick", type=float, default=5.0, help="Seconds between steps")
    parser.add_argument("--duration", type=float, default=None, help="Stop after this many seconds")
    parser.add_argument("--progress", type=float, default=60.0, help="Seconds between progress lines")
    parser.add_argument("--quiet", action="store_true", help="Only progress lines, not every step of every caregiver")
    args = parser.parse_args(argv)
    if args.publish and not args.coordinator:
        parser.error("--publish needs --coordinator (whose plans to publish)")
    settings = load_settings(SimulatorSettings)
    today = datetime.now(UTC).astimezone(caregivers.LOCAL_TIMEZONE).date()
    specs = caregivers.team_from_db(
        settings.libpq_url,
        usernames=args.users.split(",") if args.users else None,
        area_id=args.area_id,
        coordinator=args.coordinator,
        count=args.count,
        day=today,
    )
    if not specs:
        parser.error("no caregiver account matches (seed the database: every caregiver has one, caregiver1 …)")
    print(
        f"simulated caregivers: {len(specs)} against {args.api}: "
        + ", ".join(f"{s.username} ({s.name}, {s.travel_mode})" for s in specs),
        file=sys.stderr,
        flush=True,
    )

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    counters = caregivers.Counters()
    with httpx.Client(base_url=args.api, timeout=20) as http:
        if args.publish:
            area = caregivers.coordinator_area(settings.libpq_url, args.coordinator)
            if area is not None:
                try:
                    published = caregivers.publish_todays_plans(
                        http, coordinator=args.coordinator, area_id=area, day=today.isoformat(), password=args.password
                    )
                except (httpx.HTTPError, caregivers.UnreachableError) as exc:
                    published = []
                    print(f"could not publish today's plans as {args.coordinator}: {exc}", file=sys.stderr)
                print(
                    f"published as {args.coordinator}: plans {published or 'none (already published, or no draft)'}",
                    file=sys.stderr,
                    flush=True,
                )
        team = caregivers.make_team(
            specs,
            http,
            api_url=args.api,
            seed=args.seed,
            password=args.password,
            log=say,
            counters=counters,
            tolerant=True,
        )
        started = time.monotonic()
        last_progress = started
        try:
            while not stop.is_set():
                team.step(datetime.now(UTC))
                if time.monotonic() - last_progress >= args.progress:
                    last_progress = time.monotonic()
                    print(f"[caregivers] {dict(sorted(counters.counts.items()))}", file=sys.stderr, flush=True)
                if args.duration is not None and time.monotonic() - started >= args.duration:
                    break
                stop.wait(args.tick)
        finally:
            team.close()
    print(json.dumps({"caregivers": len(specs), **dict(sorted(counters.counts.items()))}, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, load devices, run the fleet, print the summary (`caregivers …`: the caregiver team)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["caregivers"]:
        run_caregivers(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="eldercare-sim", description=__doc__)
    parser.add_argument("--count", type=int, default=None, help="How many devices (default: all found)")
    parser.add_argument("--homes", type=int, default=None, help="Home devices to play (with --terminals)")
    parser.add_argument("--terminals", type=int, default=None, help="Care-center terminals to play")
    parser.add_argument("--hostile", type=int, default=0, help="Hostile clients (take the last registry devices)")
    parser.add_argument("--offset", type=int, default=0, help="Skip this many registry devices")
    parser.add_argument("--kinds", default=None, help="Comma-separated device kinds to play")
    parser.add_argument("--devices-csv", type=Path, default=None, help="serial,kind,password file instead of the DB")
    parser.add_argument("--scenario", type=Path, default=None, help="Scenario YAML (see simulators/scenarios/)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=float, default=None, help="Seconds; overrides the scenario")
    parser.add_argument("--progress", type=float, default=10.0, help="Seconds between progress lines")
    parser.add_argument("--metrics-port", type=int, default=None, help="Serve /health and /metrics here")
    parser.add_argument("--summary-json", type=Path, default=None, help="Write the closing summary here")
    args = parser.parse_args(argv)
    # `kill -USR1 <pid>` prints every thread's stack to stderr: what a stalled fleet is waiting on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    settings = load_settings(SimulatorSettings)
    scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    if args.duration is not None:
        scenario = scenario.model_copy(update={"duration_s": args.duration})
    hostile: list[SimDevice] = []
    secret = settings.device_secret.get_secret_value()
    if args.devices_csv:
        everything = devices_from_csv(args.devices_csv)
        devices = everything[args.offset :][: args.count]
        hostile = everything[len(everything) - args.hostile :] if args.hostile else []
    elif args.homes is not None or args.terminals is not None:
        devices = devices_from_db(
            settings.libpq_url,
            device_secret=secret,
            limit=args.homes or 0,
            kinds=sorted(HOME_KINDS),
            offset=args.offset,
        )
        devices += devices_from_db(
            settings.libpq_url, device_secret=secret, limit=args.terminals or 0, kinds=sorted(TERMINAL_KINDS)
        )
    else:
        devices = devices_from_db(
            settings.libpq_url,
            device_secret=secret,
            limit=args.count,
            offset=args.offset,
            kinds=args.kinds.split(",") if args.kinds else None,
        )
    if args.hostile and not args.devices_csv:
        hostile = devices_from_db(settings.libpq_url, device_secret=secret, limit=args.hostile, newest_first=True)
    if {d.serial for d in hostile} & {d.serial for d in devices}:
        parser.error("hostile clients must not share a device with the fleet (use --count or --offset)")
    if not devices:
        parser.error("no devices to simulate (seed the database or pass --devices-csv)")
    print(
        f"simulating {len(devices)} devices against {settings.mqtt_host}:{settings.mqtt_port} "
        f"(scenario {scenario.name}, seed {args.seed})",
        file=sys.stderr,
    )

    stats = FleetStats()
    if args.metrics_port is not None:
        ops = OpsServer(host=settings.metrics_host, port=args.metrics_port, health_check=lambda: fleet_health(stats))
        ops.start()
        register_fleet_metrics(stats)

    async def amain() -> FleetStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_fleet(
            devices,
            hostile,
            scenario=scenario,
            seed=args.seed,
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            progress_s=args.progress,
            stop=stop,
            stats=stats,
        )

    asyncio.run(amain())
    summary = {
        "devices": len(devices),
        "hostile_clients": len(hostile),
        "scenario": scenario.name,
        "seed": args.seed,
        **stats.as_dict(),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
