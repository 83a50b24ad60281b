"""The gateway on real Mosquitto and PostgreSQL under faults: kills, restarts, floods, bad input, two replicas.

These tests have their own PostgreSQL cluster and broker, because they stop and restart them.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eldercare_common.contract.v1 import uplink_topic
from eldercare_common.devstack import MosquittoInstance, PostgresInstance, free_port
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.migrate import upgrade
from tests.conftest import TEST_VAR, private_broker, private_postgres, psql
from tests.integration.fault_support import FleetPublisher, GatewayProcess, gateways, retire
from tests.integration.gateway_support import mosquitto_pub, register_devices, sync_broker, wait_for

pytestmark = pytest.mark.slow
PASSWORD = "fault-device-pw"


@pytest.fixture(scope="module")
def fault_pg() -> Iterator[PostgresInstance]:
    with private_postgres("pg-faults", "faults") as instance:
        upgrade(instance.url)
        yield instance


@pytest.fixture(scope="module")
def fault_broker() -> Iterator[MosquittoInstance]:
    with private_broker("mosquitto-faults") as broker:
        yield broker


@pytest.fixture
def devices(fault_pg: PostgresInstance, fault_broker: MosquittoInstance, request: pytest.FixtureRequest) -> list[str]:
    """Fresh devices for each test (counts are per device, so tests never see each other's rows)."""
    count = getattr(request, "param", 10)
    serials = register_devices(fault_pg.url, count, prefix="FT", password=PASSWORD)
    sync_broker(fault_broker, fault_pg.url)
    return serials


@pytest.fixture
def log_dir() -> Path:
    path = TEST_VAR / "gateway-logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def event(event_id: str, kind: str = "sos") -> bytes:
    return json.dumps({"event_id": event_id, "type": kind, "ts": datetime.now(UTC).isoformat()}).encode()


def telemetry(seq: int, at: datetime | None = None) -> bytes:
    return json.dumps(
        {
            "seq": seq,
            "ts": (at or datetime.now(UTC)).isoformat(),
            "kind": "room",
            "data": {"temperature": 21.5, "humidity": 50},
        }
    ).encode()


def row_count(url: str, table: str, devices: list[str]) -> int:
    """Rows of `table` for these devices."""
    return int(psql(url, f"SELECT count(*) FROM {table} WHERE device_serial = ANY(%s)", (devices,))[0][0])


def wait_for_rows(url: str, table: str, devices: list[str], *, at_least: int, timeout: float, what: str) -> None:
    """Wait until `table` holds at least `at_least` rows for these devices."""
    wait_for(lambda: row_count(url, table, devices) >= at_least, timeout=timeout, what=what)


def telemetry_seqs(url: str, serial: str) -> list[int]:
    return [row[0] for row in psql(url, "SELECT seq FROM telemetry WHERE device_serial = %s ORDER BY seq", (serial,))]


def test_sigkill_between_receive_and_commit_still_stores_the_alarm_exactly_once(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    serial = devices[0]
    instance = f"kill-{os.getpid()}"
    first = GatewayProcess(
        database_url=fault_pg.url,
        broker=fault_broker,
        instance=instance,
        log_dir=log_dir,
        failpoints="alarm.before_commit=pause",
    )
    try:
        first.wait_connected()
        result = mosquitto_pub(
            fault_broker,
            username=serial,
            password=PASSWORD,
            topic=uplink_topic(serial, "event"),
            message=event("kill-1"),
        )
        assert result.returncode == 0, result.stderr
        first.wait_for_output("FAILPOINT alarm.before_commit", timeout=10)
        assert psql(fault_pg.url, "SELECT count(*) FROM device_event WHERE event_id = 'kill-1'")[0][0] == 0
    finally:
        first.kill()
    second = GatewayProcess(database_url=fault_pg.url, broker=fault_broker, instance=instance, log_dir=log_dir)
    try:
        second.wait_connected()
        wait_for(
            lambda: psql(fault_pg.url, "SELECT 1 FROM device_event WHERE event_id = 'kill-1'"),
            timeout=15,
            what="the redelivered alarm",
        )
        time.sleep(1.0)
        assert (
            psql(
                fault_pg.url,
                "SELECT count(*) FROM device_event WHERE device_serial = %s AND event_id = 'kill-1'",
                (serial,),
            )[0][0]
            == 1
        )
        assert (
            psql(fault_pg.url, "SELECT count(*) FROM outbox WHERE payload->>'device_serial' = %s", (serial,))[0][0] == 1
        ), "one announcement per alarm"
    finally:
        second.retire(database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir)


@pytest.mark.parametrize("devices", [20], indirect=True)
def test_ten_thousand_mixed_messages_with_one_percent_malformed(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    rng = random.Random(10_000)
    expected_telemetry: dict[str, list[int]] = {serial: [] for serial in devices}
    expected_events: set[tuple[str, str]] = set()
    malformed = 0
    publisher = FleetPublisher(fault_broker, devices, PASSWORD)
    with gateways(1, database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir):
        for index in range(10_000):
            serial = devices[index % len(devices)]
            roll = rng.random()
            if index % 100 == 7:  # exactly 1%: bad JSON, wrong schema, not an object, by turns
                malformed += 1
                bad = [b"{broken", b'{"seq": "x", "kind": "room"}', b"[]"][malformed % 3]
                publisher.publish(serial, uplink_topic(serial, "telemetry"), bad)
            elif roll < 0.85:
                seq = len(expected_telemetry[serial])
                expected_telemetry[serial].append(seq)
                publisher.publish(serial, uplink_topic(serial, "telemetry"), telemetry(seq))
            elif roll < 0.95:
                event_id = f"mix-{index}"
                expected_events.add((serial, event_id))
                publisher.publish(serial, uplink_topic(serial, "event"), event(event_id, "fall"))
            else:
                heartbeat = json.dumps({"ts": datetime.now(UTC).isoformat(), "battery": 90}).encode()
                publisher.publish(serial, uplink_topic(serial, "heartbeat"), heartbeat)
        publisher.wait_all_acknowledged(timeout=120)
        total_telemetry = sum(len(v) for v in expected_telemetry.values())
        wait_for_rows(fault_pg.url, "telemetry", devices, at_least=total_telemetry, timeout=120, what="all telemetry")
        wait_for_rows(fault_pg.url, "dead_letter", devices, at_least=malformed, timeout=60, what="all dead letters")
        wait_for_rows(
            fault_pg.url, "device_event", devices, at_least=len(expected_events), timeout=60, what="all events"
        )
    publisher.close()
    for serial, seqs in expected_telemetry.items():
        assert telemetry_seqs(fault_pg.url, serial) == seqs, serial
    stored_events = {
        (r[0], r[1])
        for r in psql(
            fault_pg.url, "SELECT device_serial, event_id FROM device_event WHERE device_serial = ANY(%s)", (devices,)
        )
    }
    assert stored_events == expected_events
    reasons = psql(
        fault_pg.url,
        "SELECT split_part(reason, ':', 1), count(*) FROM dead_letter"
        " WHERE device_serial = ANY(%s) GROUP BY 1 ORDER BY 1",
        (devices,),
    )
    assert sum(count for _, count in reasons) == malformed == 100
    assert {reason for reason, _ in reasons} == {"json", "schema"}
    online = psql(
        fault_pg.url, "SELECT count(*) FROM device_status WHERE device_serial = ANY(%s) AND online", (devices,)
    )[0][0]
    assert online > 0


def test_broker_restart_and_database_restart_mid_stream_lose_nothing(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    per_device = 400
    publisher = FleetPublisher(fault_broker, devices, PASSWORD)
    with gateways(1, database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir):
        for seq in range(per_device):
            for serial in devices:
                publisher.publish(serial, uplink_topic(serial, "telemetry"), telemetry(seq))
                if seq % 100 == 50:
                    publisher.publish(serial, uplink_topic(serial, "event"), event(f"restart-{seq}"))
            if seq == 100:
                fault_broker.stop()  # SIGTERM: Mosquitto saves its persistence file
                time.sleep(1.0)
                fault_broker.start()
            if seq == 250:
                fault_pg.stop(mode="fast")
                time.sleep(5.0)
                fault_pg.start()
            time.sleep(0.01)
        publisher.wait_all_acknowledged(timeout=120)
        expected = len(devices) * per_device
        wait_for_rows(fault_pg.url, "telemetry", devices, at_least=expected, timeout=120, what="every telemetry sample")
        wait_for_rows(fault_pg.url, "device_event", devices, at_least=4 * len(devices), timeout=60, what="every event")
    publisher.close()
    for serial in devices:
        assert telemetry_seqs(fault_pg.url, serial) == list(range(per_device)), f"gap or duplicate for {serial}"
        events = psql(fault_pg.url, "SELECT event_id FROM device_event WHERE device_serial = %s ORDER BY 1", (serial,))
        assert [e[0] for e in events] == ["restart-150", "restart-250", "restart-350", "restart-50"]


def _committed(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("gateway_messages_committed_total{")
    )


@pytest.mark.parametrize("telemetry_shared", [False, True], ids=["telemetry-fan-out", "telemetry-shared"])
def test_two_gateways_store_each_message_once(
    fault_pg: PostgresInstance,
    fault_broker: MosquittoInstance,
    devices: list[str],
    log_dir: Path,
    telemetry_shared: bool,
) -> None:
    """Alarms go to every gateway (fan-out), status is shared, telemetry either: never a duplicate row."""
    ports = [free_port(), free_port()]
    mode = {"ELDERCARE_TELEMETRY_SHARED": str(telemetry_shared).lower()}
    publisher = FleetPublisher(fault_broker, devices, PASSWORD)
    first = GatewayProcess(
        database_url=fault_pg.url,
        broker=fault_broker,
        instance=f"a{os.getpid()}",
        log_dir=log_dir,
        extra_env={"ELDERCARE_METRICS_PORT": str(ports[0]), **mode},
    )
    second = GatewayProcess(
        database_url=fault_pg.url,
        broker=fault_broker,
        instance=f"b{os.getpid()}",
        log_dir=log_dir,
        extra_env={"ELDERCARE_METRICS_PORT": str(ports[1]), **mode},
    )
    try:
        first.wait_connected()
        second.wait_connected()
        for seq in range(200):
            for serial in devices:
                publisher.publish(serial, uplink_topic(serial, "telemetry"), telemetry(seq))
            if seq % 20 == 0:
                for serial in devices:
                    publisher.publish(serial, uplink_topic(serial, "event"), event(f"pair-{seq}"))
        publisher.wait_all_acknowledged(timeout=60)
        wait_for_rows(fault_pg.url, "telemetry", devices, at_least=200 * len(devices), timeout=60, what="all telemetry")
        wait_for_rows(fault_pg.url, "device_event", devices, at_least=10 * len(devices), timeout=60, what="all events")
        share = [_committed(port) for port in ports]
    finally:
        retire([first, second], database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir)
        publisher.close()
    assert all(count > 0 for count in share), f"both gateways must take part: {share}"
    for serial in devices:
        assert telemetry_seqs(fault_pg.url, serial) == list(range(200))
    duplicates = psql(
        fault_pg.url,
        "SELECT device_serial, event_id, count(*) FROM device_event"
        " WHERE device_serial = ANY(%s) GROUP BY 1, 2 HAVING count(*) > 1",
        (devices,),
    )
    assert duplicates == []


@pytest.mark.parametrize("devices", [2], indirect=True)
def test_one_flooding_device_cannot_starve_the_others(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    noisy, quiet = devices
    publisher = FleetPublisher(fault_broker, devices, PASSWORD)
    limits = {"ELDERCARE_DEVICE_RATE_PER_MINUTE": "60", "ELDERCARE_DEVICE_RATE_BURST": "10"}
    with gateways(1, database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir, extra_env=limits):
        for seq in range(300):
            publisher.publish(noisy, uplink_topic(noisy, "telemetry"), telemetry(seq))
        for seq in range(5):
            publisher.publish(quiet, uplink_topic(quiet, "telemetry"), telemetry(seq))
        publisher.wait_all_acknowledged(timeout=60)
        wait_for(lambda: len(telemetry_seqs(fault_pg.url, quiet)) == 5, timeout=30, what="the quiet device's data")

        def noisy_accounted() -> bool:
            stored = len(telemetry_seqs(fault_pg.url, noisy))
            limited = psql(
                fault_pg.url,
                "SELECT count(*) FROM dead_letter WHERE device_serial = %s AND reason LIKE 'rate limited%%'",
                (noisy,),
            )[0][0]
            return bool(stored + limited == 300)

        wait_for(noisy_accounted, timeout=30, what="every noisy message stored or dead-lettered")
    publisher.close()
    assert len(telemetry_seqs(fault_pg.url, noisy)) < 30, "the flood was limited"
    raw = psql(fault_pg.url, "SELECT payload FROM dead_letter WHERE device_serial = %s LIMIT 1", (noisy,))[0][0]
    assert json.loads(bytes(raw))["kind"] == "room", "the raw bytes are kept"


@pytest.mark.parametrize("devices", [3], indirect=True)
def test_low_battery_mains_lost_and_silent_devices_become_faults(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    low, unplugged, silent = devices
    psql(fault_pg.url, "UPDATE device SET heartbeat_interval_s = 10 WHERE serial = %s", (silent,))
    fast_sweep = {"ELDERCARE_SILENT_CHECK_S": "1", "ELDERCARE_SILENT_AFTER_HEARTBEATS": "1"}
    with gateways(1, database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir, extra_env=fast_sweep):

        def beat(serial: str, **fields: object) -> None:
            body = json.dumps({"ts": datetime.now(UTC).isoformat(), **fields})
            mosquitto_pub(
                fault_broker,
                username=serial,
                password=PASSWORD,
                topic=uplink_topic(serial, "heartbeat"),
                message=body,
            )

        beat(low, battery=55)
        beat(low, battery=15)
        beat(low, battery=14)  # still low: no second fault
        beat(unplugged, mains=True)
        beat(unplugged, mains=False)
        beat(silent, battery=80)
        wait_for(
            lambda: psql(
                fault_pg.url,
                "SELECT 1 FROM device_event WHERE device_serial = %s AND event_type = 'device_silent'",
                (silent,),
            ),
            timeout=30,
            what="the silent fault",
        )
        faults = psql(
            fault_pg.url,
            "SELECT device_serial, event_type FROM device_event WHERE device_serial = ANY(%s) ORDER BY id",
            (devices,),
        )
    assert (low, "low_battery") in faults and faults.count((low, "low_battery")) == 1
    assert (unplugged, "mains_lost") in faults
    assert psql(fault_pg.url, "SELECT online FROM device_status WHERE device_serial = %s", (silent,))[0][0] is False
    announced = psql(
        fault_pg.url,
        "SELECT count(*) FROM outbox WHERE topic = 'device_event' AND payload->>'device_serial' = ANY(%s)",
        (devices,),
    )[0][0]
    assert announced == len(faults)


@pytest.mark.parametrize("devices", [2], indirect=True)
def test_a_device_cannot_read_another_devices_downlinks(fault_broker: MosquittoInstance, devices: list[str]) -> None:
    snoop, victim = devices
    spy = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(fault_broker.port),
            "-u",
            snoop,
            "-P",
            PASSWORD,
            "-t",
            f"eldercare/v1/dev/{victim}/down/#",
            "-v",
            "-W",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    owner = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(fault_broker.port),
            "-u",
            victim,
            "-P",
            PASSWORD,
            "-t",
            f"eldercare/v1/dev/{victim}/down/#",
            "-v",
            "-C",
            "1",
            "-W",
            "10",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.7)
    mosquitto_pub(
        fault_broker,
        username="platform",
        password=DEMO_MQTT_PASSWORD,
        topic=f"eldercare/v1/dev/{victim}/down/feedback",
        message='{"state":"help_on_the_way"}',
    )
    assert "help_on_the_way" in owner.communicate(timeout=15)[0]
    assert spy.communicate(timeout=15)[0] == ""


def test_skewed_device_clocks_neither_reorder_nor_drop(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    serial = devices[0]
    with gateways(1, database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir):
        stamps = [
            "1970-01-01T00:00:00+00:00",
            "2099-01-01T00:00:00+00:00",
            (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        ]
        for index, stamp in enumerate(stamps):
            body = json.dumps({"event_id": f"skew-{index}", "type": "sos", "ts": stamp})
            mosquitto_pub(
                fault_broker,
                username=serial,
                password=PASSWORD,
                topic=uplink_topic(serial, "event"),
                message=body,
            )
            time.sleep(0.05)
        wait_for(
            lambda: (
                psql(fault_pg.url, "SELECT count(*) FROM device_event WHERE device_serial = %s", (serial,))[0][0] == 3
            ),
            timeout=10,
            what="all skewed events",
        )
    ordered = psql(
        fault_pg.url, "SELECT event_id FROM device_event WHERE device_serial = %s ORDER BY received_at", (serial,)
    )
    assert [row[0] for row in ordered] == ["skew-0", "skew-1", "skew-2"]


def test_chaos_kills_a_database_outage_and_a_broker_restart_lose_nothing(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    """A mixed stream for about a minute while the gateway is SIGKILLed three times, PostgreSQL is stopped for
    30 s and Mosquitto is restarted: afterwards every acknowledged alarm is one row, telemetry has no gap."""
    instance = f"chaos-{os.getpid()}"
    publisher = FleetPublisher(fault_broker, devices, PASSWORD)
    gateway = GatewayProcess(database_url=fault_pg.url, broker=fault_broker, instance=instance, log_dir=log_dir)
    gateway.wait_connected()
    sent_events: set[tuple[str, str]] = set()
    seqs = dict.fromkeys(devices, 0)
    started = time.monotonic()
    kills = 0
    database_stopped_at: float | None = None
    broker_restarted = False

    def tick() -> float:
        return time.monotonic() - started

    while tick() < 60:
        for serial in devices:
            publisher.publish(serial, uplink_topic(serial, "telemetry"), telemetry(seqs[serial]))
            seqs[serial] += 1
            if seqs[serial] % 25 == 0:
                event_id = f"chaos-{seqs[serial]}"
                publisher.publish(serial, uplink_topic(serial, "event"), event(event_id))
                sent_events.add((serial, event_id))
        if kills < 3 and tick() > 4 + kills * 5:
            gateway.kill()  # SIGKILL, then the same instance comes back and gets its session's messages
            kills += 1
            gateway = GatewayProcess(database_url=fault_pg.url, broker=fault_broker, instance=instance, log_dir=log_dir)
        if database_stopped_at is None and tick() > 20:
            fault_pg.stop(mode="fast")
            database_stopped_at = tick()
        if database_stopped_at is not None and fault_pg.is_running() is False and tick() > database_stopped_at + 30:
            fault_pg.start()
        if not broker_restarted and tick() > 52:
            fault_broker.stop()
            fault_broker.start()
            broker_restarted = True
        time.sleep(0.1)
    if not fault_pg.is_running():
        fault_pg.start()
    try:
        publisher.wait_all_acknowledged(timeout=180)
        expected = sum(seqs.values())
        wait_for_rows(fault_pg.url, "telemetry", devices, at_least=expected, timeout=180, what="every telemetry sample")
        wait_for_rows(fault_pg.url, "device_event", devices, at_least=len(sent_events), timeout=120, what="every alarm")
    finally:
        publisher.close()
        gateway.retire(database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir)
    assert kills == 3 and broker_restarted and database_stopped_at is not None
    stored = psql(
        fault_pg.url, "SELECT device_serial, event_id FROM device_event WHERE device_serial = ANY(%s)", (devices,)
    )
    assert len(stored) == len(set(stored)) == len(sent_events), "acknowledged alarms == distinct rows, no duplicate"
    assert set(stored) == sent_events
    for serial in devices:
        assert telemetry_seqs(fault_pg.url, serial) == list(range(seqs[serial])), f"gap or duplicate for {serial}"


@pytest.mark.parametrize("devices", [3], indirect=True)
def test_lanes_split_across_processes(
    fault_pg: PostgresInstance, fault_broker: MosquittoInstance, devices: list[str], log_dir: Path
) -> None:
    """The production layout: the alarm lane in a process of its own, telemetry and status in a niced one."""
    alarm_only = GatewayProcess(
        database_url=fault_pg.url,
        broker=fault_broker,
        instance=f"al{os.getpid()}",
        log_dir=log_dir,
        extra_env={"ELDERCARE_LANES": "alarm"},
    )
    bulk = GatewayProcess(
        database_url=fault_pg.url,
        broker=fault_broker,
        instance=f"bk{os.getpid()}",
        log_dir=log_dir,
        extra_env={"ELDERCARE_LANES": "status,telemetry", "ELDERCARE_NICE": "10"},
    )
    publisher = FleetPublisher(fault_broker, devices, PASSWORD)
    try:
        alarm_only.wait_connected(lanes=1)
        bulk.wait_connected(lanes=2)
        assert '"lane": "alarm"' in alarm_only.output() and '"lane": "telemetry"' not in alarm_only.output()
        for serial in devices:
            for seq in range(50):
                publisher.publish(serial, uplink_topic(serial, "telemetry"), telemetry(seq))
            publisher.publish(serial, uplink_topic(serial, "event"), event("split-1"))
        publisher.wait_all_acknowledged(timeout=30)
        wait_for_rows(
            fault_pg.url, "telemetry", devices, at_least=150, timeout=30, what="telemetry via the bulk process"
        )
        wait_for_rows(
            fault_pg.url, "device_event", devices, at_least=3, timeout=30, what="alarms via the alarm process"
        )
        assert row_count(fault_pg.url, "telemetry", devices) == 150
        assert row_count(fault_pg.url, "device_event", devices) == 3
    finally:
        publisher.close()
        retire([alarm_only, bulk], database_url=fault_pg.url, broker=fault_broker, log_dir=log_dir)
