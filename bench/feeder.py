"""A telemetry load generator in a process of its own, so that its threads never delay a measurement.

    .venv/bin/python -m bench.feeder --port 1883 --rate 9000 --serials CC-1,CC-2,...

Publishes vitals at `--rate` messages/s, spread over the devices given, until SIGTERM or SIGINT;
then prints one JSON line: {"sent": n, "acked": n, "seconds": s}.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time

from bench.publishers import DevicePublishers, telemetry_payload
from eldercare_common.contract.v1 import uplink_topic


def main() -> None:
    """Publish at the asked rate until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--serials", required=True, help="comma-separated device serials")
    args = parser.parse_args()
    serials = args.serials.split(",")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    publishers = DevicePublishers("127.0.0.1", args.port, serials)
    topics = [uplink_topic(serial, "telemetry") for serial in serials]
    sent = 0
    start = time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - start) * args.rate)
        while sent < due:
            index = sent % len(serials)
            publishers.publish(serials[index], topics[index], telemetry_payload(sent))
            sent += 1
        time.sleep(0.005)
    seconds = time.monotonic() - start
    publishers.close()
    print(json.dumps({"sent": sent, "acked": publishers.acked, "seconds": round(seconds, 2)}), flush=True)


if __name__ == "__main__":
    main()
