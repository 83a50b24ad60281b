"""docs/device-protocol.md, run for real: provision through the API, the doc's mosquitto_sub and mosquitto_pub,
the SOS stored by the gateway, an operator's acknowledgment, and "call received" back on the device's topic."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from eldercare_common.devstack import MosquittoInstance
from eldercare_common.settings import DEMO_SPARE_DEVICE_SERIAL
from eldercare_platform.core.db import engine_for
from eldercare_platform.devices.jobs import BrokerCredentialSync
from eldercare_platform.main import create_app
from eldercare_platform.scheduler.runner import run_once
from tests.conftest import SERVICE_ACCOUNTS, platform_settings, psql
from tests.integration.gateway_support import (
    committed_user,
    gateway_settings,
    register_devices,
    running_gateway,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "device-protocol.md").read_text(encoding="utf-8")


def doc_serial() -> str:
    """The device the doc's examples are run as."""
    found = re.search(r"<!-- example: sos -->\n```bash\n.*? -u (\S+) ", DOC, re.DOTALL)
    assert found is not None, "the doc's SOS example names no device"
    return found.group(1)


def test_the_examples_use_the_demos_spare_unit_which_no_simulator_plays() -> None:
    """A newcomer follows the doc on `make demo`: its examples must be a device the simulators leave alone."""
    assert doc_serial() == DEMO_SPARE_DEVICE_SERIAL
    listen = re.search(r"<!-- example: subscribe -->\n```bash\n(.*?)```", DOC, re.DOTALL)
    assert listen is not None and f"-u {DEMO_SPARE_DEVICE_SERIAL} " in listen.group(1)


def doc_command(name: str, *, host: str, port: int, password: str) -> list[str]:
    """The shell command under `<!-- example: name -->`, with the placeholders filled in."""
    block = re.search(rf"<!-- example: {name} -->\n```bash\n(.*?)```", DOC, re.DOTALL)
    assert block is not None, f"example {name} missing from the doc"
    command = block.group(1).replace("\\\n", " ")
    command = command.replace("BROKER_HOST", host).replace("BROKER_PORT", str(port))
    return shlex.split(command.replace("DEVICE_PASSWORD", password))


def test_the_documented_sos_reaches_the_database_and_call_received_reaches_the_device(
    database_url: str, mosquitto: MosquittoInstance
) -> None:
    serial = doc_serial()
    committed_user(database_url, username="doc.admin", role="admin")
    committed_user(database_url, username="doc.operator", role="operator")
    household = psql(
        database_url, "SELECT household_id FROM device WHERE serial = %s", (register_devices(database_url, 1)[0],)
    )[0][0]
    settings = platform_settings(database_url, mosquitto)
    with TestClient(create_app(settings)) as api, running_gateway(gateway_settings(database_url, mosquitto)):

        def login(username: str) -> dict[str, str]:
            token = api.post("/api/auth/token", data={"username": username, "password": "test-password-123"})
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        # 1. Provision: the password is in the response, once; the broker learns it from the scheduler's sync job.
        created = api.post(
            "/api/devices",
            headers=login("doc.admin"),
            json={"serial": serial, "kind": "home_alarm_unit", "model": "YK-100", "household_id": household},
        )
        assert created.status_code == 201, created.text
        credential = created.json()["mqtt"]
        assert credential["username"] == serial and len(credential["password"]) >= 20
        assert credential["downlink_subscription"] == f"eldercare/v1/dev/{serial}/down/#"
        assert (
            psql(
                database_url,
                "SELECT count(*) FROM device_credential WHERE username = %s AND password_hash LIKE '$7$%%'",
                (serial,),
            )[0][0]
            == 1
        )
        sync = BrokerCredentialSync(
            auth_dir=mosquitto.directory, pid_file=mosquitto.pid_file, service_accounts=dict(SERVICE_ACCOUNTS)
        )
        engine = engine_for(settings.sqlalchemy_url, 2)
        assert run_once(engine, job="broker_sync_doc_test", fire_time=time_slot(), work=sync)
        time.sleep(0.5)  # Mosquitto rereads the password file on SIGHUP

        # 2. The documented subscriber, then the documented SOS.
        listen = doc_command("subscribe", host="127.0.0.1", port=mosquitto.port, password=credential["password"])
        # stdbuf: mosquitto_sub's stdout is block-buffered on a pipe; we need its SUBACK line as it happens.
        # -R: the session's broker is shared, and a config an earlier test (the API fuzz) sent to this serial is
        # retained for it, as the protocol promises; this test waits for the live "call received" only.
        subscriber = subprocess.Popen(
            ["stdbuf", "-oL", *listen, "-R", "-C", "1", "-W", "30", "-d"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert subscriber.stdout is not None
        for line in subscriber.stdout:
            if "SUBACK" in line:
                break
        sos = doc_command("sos", host="127.0.0.1", port=mosquitto.port, password=credential["password"])
        started = time.monotonic()
        published = subprocess.run(sos, capture_output=True, text=True, timeout=20, check=False)
        assert published.returncode == 0, published.stderr
        wait_for(
            lambda: psql(
                database_url,
                "SELECT 1 FROM device_event WHERE device_serial = %s AND event_id = 'doc-example-1'",
                (serial,),
            ),
            timeout=5,
            what="the documented SOS",
        )
        print(f"mosquitto_pub → committed row: {(time.monotonic() - started) * 1000:.0f} ms (process start included)")

        # 3. An operator acknowledges; the device hears "call received".
        operator = login("doc.operator")
        events = api.get("/api/device-events", headers=operator).json()
        event = next(e for e in events if e["event_id"] == "doc-example-1")
        assert event["event_type"] == "sos"
        ack = api.post(f"/api/device-events/{event['id']}/feedback", headers=operator, json={"state": "call_received"})
        assert ack.status_code == 202, ack.text
        wait_for(
            lambda: psql(database_url, "SELECT processed_at FROM outbox WHERE id = %s", (ack.json()["outbox_id"],))[0][
                0
            ],
            timeout=10,
            what="the downlink published",
        )
        out, err = subscriber.communicate(timeout=30)
        assert subscriber.returncode == 0, err
        message_lines = [line for line in out.splitlines() if line.startswith("eldercare/")]
        assert len(message_lines) == 1, out
        topic, body = message_lines[0].split(" ", 1)
        assert topic == f"eldercare/v1/dev/{serial}/down/feedback"
        feedback = json.loads(body)
        assert (feedback["event_id"], feedback["state"]) == ("doc-example-1", "call_received")
        assert (
            psql(database_url, "SELECT count(*) FROM outbox WHERE topic = 'downlink' AND processed_at IS NULL")[0][0]
            == 0
        )


def time_slot() -> datetime:
    """A fire time of its own for this test's sync run."""
    return datetime.now(UTC)
