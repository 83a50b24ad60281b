"""`make demo`'s pure parts: the order it stops things in, and the spare unit's commands it prints."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from eldercare_common.contract.v1 import EventPayload
from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.settings import DEMO_DEVICE_SECRET, DEMO_SPARE_DEVICE_SERIAL
from scripts.run_demo import broker_address, spare_device_text, stop_order


def test_dependents_stop_first_fleet_then_services_then_broker_then_database() -> None:
    started = ["gateway", "api", "scheduler", "simulators", "mosquitto", "postgresql"]
    assert stop_order(started) == [
        ("simulators",),
        ("scheduler", "api", "gateway"),
        ("mosquitto",),
        ("postgresql",),
    ]


def test_stop_order_whatever_the_start_order_and_with_external_services() -> None:
    assert stop_order(["postgresql", "mosquitto", "api", "gateway"]) == [
        ("gateway", "api"),
        ("mosquitto",),
        ("postgresql",),
    ]
    # DATABASE_URL and MQTT_URL set: no private PostgreSQL or Mosquitto to stop.
    assert stop_order(["simulators", "gateway"]) == [("simulators",), ("gateway",)]
    assert stop_order([]) == []


def test_the_simulated_caregivers_stop_with_the_fleet_before_the_api_they_use() -> None:
    started = ["gateway", "api", "scheduler", "simulators", "caregivers", "mosquitto", "postgresql"]
    assert stop_order(started)[0] == ("caregivers", "simulators")
    assert stop_order(started)[1] == ("scheduler", "api", "gateway")


def test_an_unknown_part_has_no_guessed_place() -> None:
    with pytest.raises(ValueError, match="exporter"):
        stop_order(["gateway", "exporter"])


def printed_command(text: str, program: str) -> list[str]:
    """The arguments bash would pass to `program` for the printed line (run through bash, printf in its place)."""
    line = next(line.strip() for line in text.splitlines() if line.strip().startswith(program))
    fake = line.replace(program, "printf '%s\\0'", 1)
    result = subprocess.run(["bash", "-c", fake], capture_output=True, text=True, check=True)
    return result.stdout.split("\0")[:-1]


def test_the_spare_units_commands_work_when_pasted_into_bash() -> None:
    text = spare_device_text(host="127.0.0.1", port=51883)
    password = demo_device_password(DEMO_SPARE_DEVICE_SERIAL, DEMO_DEVICE_SECRET)
    assert DEMO_SPARE_DEVICE_SERIAL in text and password in text
    listen = printed_command(text, "mosquitto_sub")
    assert listen == [
        *shlex.split(f"-h 127.0.0.1 -p 51883 -u {DEMO_SPARE_DEVICE_SERIAL} -P {shlex.quote(password)} -q 1"),
        "-t",
        f"eldercare/v1/dev/{DEMO_SPARE_DEVICE_SERIAL}/down/#",
        "-v",
    ]
    press = printed_command(text, "mosquitto_pub")
    assert press[press.index("-t") + 1] == f"eldercare/v1/dev/{DEMO_SPARE_DEVICE_SERIAL}/up/event"
    # The message is a valid SOS under the protocol, with a fresh event_id and an offset in its time.
    event = EventPayload.model_validate_json(press[press.index("-m") + 1])
    assert event.type == "sos" and event.event_id.startswith("try-") and event.event_id[4:].isdigit()
    assert event.ts.utcoffset() is not None
    assert json.loads(press[press.index("-m") + 1])["type"] == "sos"


def test_broker_address_of_the_mqtt_url() -> None:
    assert broker_address("mqtt://127.0.0.1:51883") == ("127.0.0.1", 51883)
    assert broker_address("mqtt://broker.intranet") == ("broker.intranet", 1883)
