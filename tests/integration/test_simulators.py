"""The simulators against the real broker and gateway: a fleet, a reconnect storm, downlinks, hostile clients."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.settings import DEMO_DEVICE_SECRET, DEMO_MQTT_PASSWORD, DEMO_SPARE_DEVICE_SERIAL
from eldercare_gateway.service import Gateway
from eldercare_sim.sources import devices_from_db
from tests.conftest import ROOT, psql
from tests.integration.gateway_support import gateway_settings, mosquitto_pub, running_gateway, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim_broker(seeded_broker: MosquittoInstance) -> MosquittoInstance:
    """The broker that knows every device of the seeded district."""
    return seeded_broker


@pytest.fixture(scope="module")
def sim_gateway(seeded_url: str, sim_broker: MosquittoInstance) -> Iterator[Gateway]:
    with running_gateway(
        gateway_settings(
            seeded_url,
            sim_broker,
            instance=f"sim{os.getpid()}",
            device_rate_per_minute=100_000,
            device_rate_burst=10_000,
        )
    ) as gateway:
        yield gateway


def run_sim(
    seeded_url: str, broker: MosquittoInstance, tmp_path: Path, scenario: dict[str, object], *args: str
) -> tuple[subprocess.Popen[str], Path]:
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    summary = tmp_path / "summary.json"
    env = {**os.environ, "ELDERCARE_ENV": "test", "DATABASE_URL": seeded_url, "MQTT_URL": broker.url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eldercare_sim",
            "--scenario",
            str(scenario_file),
            "--summary-json",
            str(summary),
            "--progress",
            "2",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, summary


def finish(process: subprocess.Popen[str], *, timeout: float) -> str:
    """The simulator's stderr once it exits; if it overruns, its threads' stacks (SIGUSR1) in the failure."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(1)
        process.kill()
        err = process.communicate()[1]
        raise AssertionError(f"the simulator overran {timeout} s; its stacks and last lines:\n{err[-12000:]}") from None


def test_a_thousand_devices_with_a_reconnect_storm_and_downlinks(
    seeded_url: str, sim_broker: MosquittoInstance, sim_gateway: Gateway, tmp_path: Path
) -> None:
    scenario = {
        "name": "busy",
        "duration_s": 14,
        "heartbeat_interval_s": 4,
        "telemetry_interval_s": 2,
        "sos_per_device_per_day": 3000,
        "offline_per_device_per_day": 0,
        "connect_spread_s": 2,
        "reconnect_storm_every_s": 7,
        "max_connect_rate": 1000,
    }
    before = psql(seeded_url, "SELECT coalesce(max(id), 0) FROM device_event")[0][0]
    process, summary_path = run_sim(seeded_url, sim_broker, tmp_path, scenario, "--homes", "1000", "--terminals", "30")
    answered: list[tuple[str, str]] = []

    def answer_first_sos() -> None:
        row = wait_for(
            lambda: psql(
                seeded_url,
                "SELECT device_serial, event_id FROM device_event"
                " WHERE id > %s AND event_type = 'sos' ORDER BY id LIMIT 1",
                (before,),
            ),
            timeout=12,
            what="an SOS from the fleet",
        )
        serial, event_id = row[0]
        body = json.dumps({"event_id": event_id, "state": "call_received", "ts": "2026-11-22T00:00:00Z"})
        mosquitto_pub(
            sim_broker,
            username="platform",
            password=DEMO_MQTT_PASSWORD,
            topic=f"eldercare/v1/dev/{serial}/down/feedback",
            message=body,
        )
        answered.append((serial, event_id))

    helper = threading.Thread(target=answer_first_sos)
    helper.start()
    err = finish(process, timeout=120)
    helper.join()
    assert process.returncode == 0, err[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["devices"] == 1030
    assert summary["errors"] == {}
    assert summary["connects"] >= 2 * 1030, "every device reconnected after the storm"
    assert summary["drops"] >= 1030
    assert "reconnect storm" in err and "connected" in err, "progress lines and the storm are shown"
    assert summary["acked"]["telemetry"] > 0 and summary["sent"]["heartbeat"] > 1030
    assert summary["acked"]["event"] > 0
    serial, event_id = answered[0]
    assert summary["feedback"].get("call_received") == 1
    assert set(summary["feedback_by_event"]) == {f"{serial}/{event_id}"}

    stored = wait_for(
        lambda: (
            (n := psql(seeded_url, "SELECT count(*) FROM device_event WHERE id > %s", (before,))[0][0])
            >= summary["acked"]["event"]
            and n
        ),
        timeout=20,
        what="every acknowledged event stored",
    )
    assert stored == summary["acked"]["event"], "stored exactly what the broker acknowledged"
    online = psql(
        seeded_url, "SELECT count(*) FROM device_status WHERE online AND last_seen_at > now() - interval '1 min'"
    )
    assert online[0][0] >= 1000


def test_hostile_clients_are_dead_lettered_or_refused_and_the_rest_carry_on(
    seeded_url: str, sim_broker: MosquittoInstance, sim_gateway: Gateway, tmp_path: Path
) -> None:
    scenario = {
        "name": "hostile",
        "duration_s": 8,
        "heartbeat_interval_s": 2,
        "hostile_messages_per_s": 10,
        "sos_per_device_per_day": 20000,
        "offline_per_device_per_day": 0,
        "connect_spread_s": 1,
    }
    process, summary_path = run_sim(
        seeded_url, sim_broker, tmp_path, scenario, "--count", "20", "--hostile", "2", "--seed", "99"
    )
    err = finish(process, timeout=60)
    assert process.returncode == 0, err[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["hostile_clients"] == 2
    attacks = {key.split(":", 1)[1] for key in summary["sent"] if key.startswith("hostile:")}
    assert attacks == {
        "malformed_json",
        "oversized",
        "schema_violation",
        "unknown_channel",
        "foreign_topic",
        "replay",
        "not_an_object",
        "bad_version",
    }
    hostile = [
        row[0]
        for row in psql(
            seeded_url,
            "SELECT serial FROM device WHERE state = 'active' AND serial <> %s ORDER BY id DESC LIMIT 2",
            (DEMO_SPARE_DEVICE_SERIAL,),
        )
    ]
    reasons = {
        row[0]
        for row in psql(
            seeded_url, "SELECT split_part(reason, ':', 1) FROM dead_letter WHERE device_serial = ANY(%s)", (hostile,)
        )
    }
    assert reasons == {"json", "size", "schema"}, "unknown channels and versions are refused by the broker's ACL"
    assert psql(seeded_url, "SELECT count(*) FROM device_event WHERE event_id LIKE 'spoof-%%'")[0][0] == 0
    replays = psql(
        seeded_url, "SELECT device_serial, count(*) FROM device_event WHERE event_id = 'hostile-replay-99' GROUP BY 1"
    )
    assert sorted(replays) == sorted((serial, 1) for serial in hostile), "a replay is stored once"
    assert summary["acked"]["event"] > 0, "the honest devices were served all along"
    assert all(lane.connected for lane in sim_gateway.lanes)


def test_no_simulator_plays_the_spare_unit(seeded_url: str) -> None:
    """The spare is for a person: not in the fleet, not among the hostile clients (the newest devices)."""
    assert psql(seeded_url, "SELECT state FROM device WHERE serial = %s", (DEMO_SPARE_DEVICE_SERIAL,)) == [("active",)]
    everyone = devices_from_db(seeded_url, device_secret=DEMO_DEVICE_SECRET, limit=None)
    newest = devices_from_db(seeded_url, device_secret=DEMO_DEVICE_SECRET, limit=5, newest_first=True)
    homes = devices_from_db(seeded_url, device_secret=DEMO_DEVICE_SECRET, limit=None, kinds=["home_alarm_unit"])
    active = psql(seeded_url, "SELECT count(*) FROM device WHERE state = 'active'")[0][0]
    assert len(everyone) == active - 1
    for fleet in (everyone, newest, homes):
        assert DEMO_SPARE_DEVICE_SERIAL not in {d.serial for d in fleet}
