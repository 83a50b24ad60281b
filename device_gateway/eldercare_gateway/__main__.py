"""`python -m eldercare_gateway` / `eldercare-gateway`: run one gateway process until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading

from eldercare_common.logging import configure_logging, get_logger
from eldercare_common.ops_server import OpsServer
from eldercare_common.settings import load_settings
from eldercare_gateway.config import GatewaySettings
from eldercare_gateway.service import Gateway


def main() -> None:
    """Start the gateway and its health/metrics server; stop cleanly on a signal."""
    settings = load_settings(GatewaySettings)
    configure_logging(process=f"gateway-{settings.instance}", level=settings.log_level, json=settings.log_json)
    log = get_logger("eldercare_gateway")
    gateway = Gateway(settings)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()
        gateway.stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ops = OpsServer(host=settings.metrics_host, port=settings.metrics_port, health_check=gateway.health).start()
    log.info("gateway starting", metrics_port=ops.port, share_group=settings.share_group)
    gateway.start()
    stopping.wait()
    log.info("gateway stopping")
    gateway.stop()
    ops.stop()


if __name__ == "__main__":
    main()
