"""`python -m eldercare_gateway` / `eldercare-gateway`: run one gateway process until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import threading

from eldercare_common.logging import configure_logging, get_logger
from eldercare_common.ops_server import OpsServer
from eldercare_common.settings import load_settings
from eldercare_gateway.config import GatewaySettings
from eldercare_gateway.service import Gateway


def main() -> None:
    """Start the gateway and its health/metrics server; stop cleanly on a signal.

    `--retire` is for taking an instance name out of service for good: the gateway drains what the
    broker queued for its persistent sessions, stops once every lane has been idle `--idle` seconds,
    then deletes those sessions so the broker stops routing a share of messages to them.
    """
    parser = argparse.ArgumentParser(prog="eldercare-gateway", description=main.__doc__)
    parser.add_argument("--retire", action="store_true", help="drain, then delete this instance's sessions")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of silence that mean drained")
    args = parser.parse_args()
    settings = load_settings(GatewaySettings)
    configure_logging(process=f"gateway-{settings.instance}", level=settings.log_level, json=settings.log_json)
    log = get_logger("eldercare_gateway")
    if settings.nice:
        os.nice(settings.nice)  # a telemetry-only gateway yields the CPU to alarms when the machine is busy
    gateway = Gateway(settings)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()
        gateway.stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack to the log
    ops = OpsServer(host=settings.metrics_host, port=settings.metrics_port, health_check=gateway.health).start()
    log.info("gateway starting", metrics_port=ops.port, share_group=settings.share_group)
    gateway.start()
    if args.retire:
        while not stopping.wait(0.5):
            if gateway.idle_for() >= args.idle:
                log.info("drained; retiring this instance", instance=settings.instance)
                break
    else:
        stopping.wait()
    log.info("gateway stopping")
    gateway.stop()
    if args.retire:
        for lane in gateway.lanes:
            lane.forget_session()
        log.info("sessions deleted", instance=settings.instance)
    ops.stop()


if __name__ == "__main__":
    main()
