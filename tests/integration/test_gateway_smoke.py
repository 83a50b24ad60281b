"""The gateway on real Mosquitto and PostgreSQL: an SOS from `mosquitto_pub` becomes a committed row."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from eldercare_common.devstack import MosquittoInstance
from tests.conftest import psql
from tests.integration.gateway_support import (
    gateway_settings,
    mosquitto_pub,
    register_devices,
    running_gateway,
    sync_broker,
    wait_for,
)

PASSWORD = "device-pass-1"


@pytest.fixture(scope="module")
def devices(database_url: str, mosquitto: MosquittoInstance) -> list[str]:
    serials = register_devices(database_url, 2, password=PASSWORD)
    sync_broker(mosquitto, database_url)
    return serials


def test_sos_heartbeat_and_malformed_message(
    database_url: str, mosquitto: MosquittoInstance, devices: list[str]
) -> None:
    serial = devices[0]
    with running_gateway(gateway_settings(database_url, mosquitto)):
        sos = {"event_id": "smoke-1", "type": "sos", "ts": datetime.now(UTC).isoformat()}
        result = mosquitto_pub(
            mosquitto,
            username=serial,
            password=PASSWORD,
            topic=f"eldercare/v1/dev/{serial}/up/event",
            message=json.dumps(sos),
        )
        assert result.returncode == 0, result.stderr
        row = wait_for(
            lambda: psql(
                database_url,
                "SELECT event_type, received_at FROM device_event WHERE device_serial = %s AND event_id = 'smoke-1'",
                (serial,),
            ),
            timeout=5,
            what="the SOS row",
        )
        assert row[0][0] == "sos"

        heartbeat = {"ts": datetime.now(UTC).isoformat(), "battery": 87, "signal": -71, "mains": True}
        mosquitto_pub(
            mosquitto,
            username=serial,
            password=PASSWORD,
            topic=f"eldercare/v1/dev/{serial}/up/heartbeat",
            message=json.dumps(heartbeat),
            qos=0,
        )
        status = wait_for(
            lambda: psql(
                database_url,
                "SELECT online, battery_pct, signal_dbm FROM device_status WHERE device_serial = %s",
                (serial,),
            ),
            timeout=5,
            what="device status",
        )
        assert status[0] == (True, 87, -71)

        mosquitto_pub(
            mosquitto,
            username=serial,
            password=PASSWORD,
            topic=f"eldercare/v1/dev/{serial}/up/event",
            message=b"{not json",
        )
        dead = wait_for(
            lambda: psql(database_url, "SELECT reason, payload FROM dead_letter WHERE device_serial = %s", (serial,)),
            timeout=5,
            what="the dead letter",
        )
        assert dead[0][0].startswith("json:")
        assert bytes(dead[0][1]) == b"{not json"


def test_same_event_id_twice_is_one_row(database_url: str, mosquitto: MosquittoInstance, devices: list[str]) -> None:
    serial = devices[1]
    with running_gateway(gateway_settings(database_url, mosquitto)):
        sos = json.dumps({"event_id": "dup-1", "type": "sos", "ts": datetime.now(UTC).isoformat()})
        for _ in range(3):
            mosquitto_pub(
                mosquitto, username=serial, password=PASSWORD, topic=f"eldercare/v1/dev/{serial}/up/event", message=sos
            )
        wait_for(
            lambda: psql(
                database_url, "SELECT 1 FROM device_event WHERE device_serial = %s AND event_id = 'dup-1'", (serial,)
            ),
            timeout=5,
            what="the SOS row",
        )
    count = psql(
        database_url, "SELECT count(*) FROM device_event WHERE device_serial = %s AND event_id = 'dup-1'", (serial,)
    )
    assert count[0][0] == 1


def test_device_cannot_publish_under_another_id(
    database_url: str, mosquitto: MosquittoInstance, devices: list[str]
) -> None:
    mine, other = devices
    with running_gateway(gateway_settings(database_url, mosquitto)):
        sos = json.dumps({"event_id": "spoof-1", "type": "sos", "ts": datetime.now(UTC).isoformat()})
        # MQTT 5 lets the broker say "not authorized" in the PUBACK; mosquitto_pub reports it.
        result = mosquitto_pub(
            mosquitto,
            username=mine,
            password=PASSWORD,
            topic=f"eldercare/v1/dev/{other}/up/event",
            message=sos,
            extra=["-V", "5"],
        )
        honest = json.dumps({"event_id": "after-spoof", "type": "sos", "ts": datetime.now(UTC).isoformat()})
        mosquitto_pub(
            mosquitto, username=mine, password=PASSWORD, topic=f"eldercare/v1/dev/{mine}/up/event", message=honest
        )
        wait_for(
            lambda: psql(database_url, "SELECT 1 FROM device_event WHERE event_id = 'after-spoof'"),
            timeout=5,
            what="the honest SOS",
        )
    assert psql(database_url, "SELECT count(*) FROM device_event WHERE event_id = 'spoof-1'")[0][0] == 0
    assert b"not authorized" in (result.stderr + result.stdout).lower() or result.returncode != 0


def test_wrong_password_is_refused(mosquitto: MosquittoInstance, devices: list[str]) -> None:
    result = mosquitto_pub(
        mosquitto, username=devices[0], password="wrong", topic="eldercare/v1/dev/x/up/event", message="{}"
    )
    assert result.returncode != 0
    assert b"not authorised" in result.stderr.lower() or b"not authorized" in result.stderr.lower()
