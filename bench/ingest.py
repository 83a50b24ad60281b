"""Telemetry ingest: gateway messages/s into the database, beside the two ceilings measured in the same run.

    .venv/bin/python -m bench.ingest [--messages 100000] [--devices 100]

Method: each consumer's persistent session is created first, then the broker is pre-filled with N
telemetry messages while the consumer is away, then the consumer is started and timed while it
drains them, so the publishers' speed does not enter any figure.
- broker ceiling: a paho subscriber that discards (the most any consumer could get from Mosquitto);
- database ceiling: raw psycopg COPY of the same rows into `telemetry`, committing every 1,000 rows;
- gateway: `eldercare-gateway` from first committed row to the last. Target: ≥ 80 % of the lower ceiling.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.types.json import Jsonb

from bench.harness import Report, Stack, stack, wait_until
from bench.publishers import DevicePublishers, telemetry_payload
from eldercare_common.contract.v1 import uplink_topic
from eldercare_common.settings import DEMO_MQTT_PASSWORD


def prefill(bench: Stack, serials: list[str], total: int, first_seq: int) -> None:
    """Publish `total` telemetry messages spread over the devices; returns when the broker acked all."""
    publishers = DevicePublishers("127.0.0.1", bench.broker.port, serials)
    for index in range(total):
        serial = serials[index % len(serials)]
        publishers.publish(serial, uplink_topic(serial, "telemetry"), telemetry_payload(first_seq + index))
    publishers.wait_acked(total)
    publishers.close()


def broker_ceiling(bench: Stack, serials: list[str], total: int) -> float:
    """Messages/s a discarding paho subscriber drains from a pre-filled persistent session."""
    received = 0
    times: list[float] = []

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received in (1, total):
            times.append(time.monotonic())

    def client(clean: bool) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-drain", clean_session=clean)
        c.username_pw_set("bench", DEMO_MQTT_PASSWORD)
        c.max_inflight_messages_set(1000)
        return c

    first = client(False)
    first.connect("127.0.0.1", bench.broker.port)
    first.subscribe("eldercare/v1/dev/+/up/telemetry", qos=1)
    first.loop(1.0)
    first.disconnect()
    prefill(bench, serials, total, 0)
    drain = client(False)
    drain.on_message = on_message
    drain.connect("127.0.0.1", bench.broker.port)
    drain.loop_start()
    wait_until(lambda: received >= total, timeout=600)
    drain.disconnect()
    drain.loop_stop()
    gone = client(True)  # delete the session so it stops collecting messages
    gone.connect("127.0.0.1", bench.broker.port)
    gone.disconnect()
    return total / (times[1] - times[0])


def copy_ceiling(bench: Stack, serials: list[str], total: int) -> float:
    """Rows/s of raw COPY into telemetry, one commit per 1,000 rows (the gateway's batch size)."""
    now = datetime.now(UTC)
    rows = [
        (
            now,
            serials[i % len(serials)],
            10_000_000 + i,
            now,
            "vitals",
            Jsonb({"heart_rate": 72, "spo2": 97, "systolic": 128, "diastolic": 81}),
        )
        for i in range(total)
    ]
    started = time.monotonic()
    with psycopg.connect(bench.url) as conn:
        for start in range(0, total, 1000):
            with (
                conn.cursor() as cur,
                cur.copy("COPY telemetry (time, device_serial, seq, device_time, kind, data) FROM STDIN") as copy,
            ):
                for row in rows[start : start + 1000]:
                    copy.write_row(row)
            conn.commit()
    elapsed = time.monotonic() - started
    with psycopg.connect(bench.url, autocommit=True) as conn:
        conn.execute("DELETE FROM telemetry WHERE seq >= 10000000")
    return total / elapsed


def gateway_rate(bench: Stack, serials: list[str], total: int) -> float:
    """Messages/s the gateway drains from its pre-filled persistent telemetry session into the database."""
    gateway = bench.start_gateway("ingest")
    time.sleep(2.0)  # sessions exist
    bench.stop(gateway)
    prefill(bench, serials, total, 1_000_000)

    def stored() -> int:
        with psycopg.connect(bench.url, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM telemetry WHERE seq >= 1000000 AND seq < 10000000").fetchone()
        return int(row[0]) if row else 0

    bench.start_gateway("ingest")
    first_at = wait_until(lambda: stored() > 0, timeout=60, interval=0.01)
    first = stored()
    last_at = wait_until(lambda: stored() >= total, timeout=900, interval=0.05)
    return (total - first) / max(last_at - first_at, 1e-6)


def main() -> None:
    """Run the three measurements and report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=100)
    args = parser.parse_args()
    with stack(residents=1000) as bench:
        with psycopg.connect(bench.url) as conn:
            serials = [
                r[0]
                for r in conn.execute(
                    "SELECT serial FROM device WHERE kind = 'home_alarm_unit' ORDER BY id LIMIT %s", (args.devices,)
                )
            ]
        broker = broker_ceiling(bench, serials, args.messages)
        database = copy_ceiling(bench, serials, args.messages)
        gateway = gateway_rate(bench, serials, args.messages)
    ceiling = min(broker, database)
    report = Report("ingest")
    report.add("messages per measurement", args.messages, "messages")
    report.add("publishing devices", len(serials), "devices")
    report.add("broker → discarding subscriber (msg/s)", round(broker), "broker_ceiling_per_s")
    report.add("raw COPY into telemetry (rows/s)", round(database), "copy_ceiling_per_s")
    report.add("gateway → committed rows (msg/s)", round(gateway), "gateway_per_s")
    report.add("gateway / lower ceiling", f"{gateway / ceiling:.0%}", "ratio")
    report.add("target (≥ 80 %)", "met" if gateway / ceiling >= 0.8 else "missed", "target")
    report.finish()


if __name__ == "__main__":
    main()
