"""The device protocol: models, topics, decoding, and the docs that describe them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml

from eldercare_common.contract.v1 import (
    MAX_PAYLOAD_BYTES,
    UPLINK_MODELS,
    FeedbackPayload,
    TopicError,
    Uplink,
    parse_uplink_topic,
    uplink_topic,
)
from eldercare_gateway.decode import Accepted, Rejected, decode
from eldercare_gateway.registry import DeviceRegistry, KnownDevice
from scripts.export_asyncapi import asyncapi_text

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_SCHEMA = (
    ROOT / "tests" / "schemas" / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0-without-$id.json"
)
NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


class FakeRegistry(DeviceRegistry):
    """A registry with fixed contents (decode is pure; the DB-backed registry is tested on PostgreSQL)."""

    def __init__(self) -> None:
        super().__init__("postgresql://unused/x")
        self._devices = {"HA0000001": KnownDevice(1, "HA0000001", "home_alarm_unit", 60)}
        self._loaded_at = float("inf")

    def get(self, serial: str) -> KnownDevice | None:
        return self._devices.get(serial)


def test_asyncapi_document_is_generated_and_current() -> None:
    committed = (ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == asyncapi_text(), "run `make docs` and commit docs/asyncapi.yaml"


def test_asyncapi_document_is_valid_asyncapi_3() -> None:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    document = yaml.safe_load(asyncapi_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(document)) == []
    document["operations"]["receive_event"]["action"] = "publish"  # AsyncAPI 2 wording: must be refused
    assert list(jsonschema.Draft7Validator(schema).iter_errors(document))


def test_asyncapi_payloads_are_the_models_schemas() -> None:
    document = yaml.safe_load(asyncapi_text())
    schemas = document["components"]["schemas"]
    for model in UPLINK_MODELS.values():
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)


def _doc_json_examples() -> list[dict[str, object]]:
    text = (ROOT / "docs" / "device-protocol.md").read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]


def test_every_json_example_in_the_protocol_doc_is_valid() -> None:
    examples = _doc_json_examples()
    assert len(examples) == 3
    for example, channel in zip(examples, [Uplink.EVENT, Uplink.HEARTBEAT, Uplink.TELEMETRY], strict=True):
        UPLINK_MODELS[channel].model_validate(example)


def test_mosquitto_pub_example_payload_is_valid() -> None:
    text = (ROOT / "docs" / "device-protocol.md").read_text(encoding="utf-8")
    payload = re.search(r"-m '(\{.*?\})'", text)
    assert payload is not None
    UPLINK_MODELS[Uplink.EVENT].model_validate_json(payload.group(1))


def test_topics_round_trip() -> None:
    assert parse_uplink_topic(uplink_topic("HA0000001", Uplink.EVENT)) == ("HA0000001", Uplink.EVENT)
    for bad in (
        "eldercare/v2/dev/HA1/up/event",
        "eldercare/v1/dev/HA1/up/firmware",
        "eldercare/v1/dev/HA1/event",
        "other/v1/dev/HA1/up/event",
        "eldercare/v1/dev/HA1/down/feedback",
    ):
        with pytest.raises(TopicError):
            parse_uplink_topic(bad)


@pytest.mark.parametrize(
    "device_ts", ["1970-01-01T00:00:00+00:00", "2099-12-31T23:59:59+08:00", "2026-11-22T08:00:00-05:00"]
)
def test_clock_skew_is_accepted_and_receive_time_is_kept(device_ts: str) -> None:
    payload = json.dumps({"event_id": "e1", "type": "sos", "ts": device_ts}).encode()
    result = decode(uplink_topic("HA0000001", Uplink.EVENT), payload, registry=FakeRegistry(), received_at=NOW)
    assert isinstance(result, Accepted)
    assert result.received_at == NOW
    assert result.payload.ts == datetime.fromisoformat(device_ts)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("eldercare/v1/dev/HA0000001/up/event", b"{nope", "json:"),
        ("eldercare/v1/dev/HA0000001/up/event", b"[1]", "json: payload is not an object"),
        (
            "eldercare/v1/dev/HA0000001/up/event",
            b'{"event_id":"e","type":"quake","ts":"2026-01-01T00:00:00Z"}',
            "schema: type",
        ),
        (
            "eldercare/v1/dev/HA0000001/up/event",
            b'{"event_id":"e","type":"cancel","ts":"2026-01-01T00:00:00"}',
            "schema: ts",
        ),
        (
            "eldercare/v1/dev/HA0000001/up/event",
            b'{"event_id":"e","type":"cancel","ts":"2026-01-01T00:00:00Z","x":1}',
            "schema: x",
        ),
        ("eldercare/v1/dev/ZZ9999999/up/event", b"{}", "unknown device"),
        ("eldercare/v1/dev/HA0000001/up/event", b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "size:"),
        ("eldercare/v9/dev/HA0000001/up/event", b"{}", "topic: unsupported protocol version"),
        ("eldercare/v1/dev/HA0000001/up/heartbeat", b'{"ts":"2026-01-01T00:00:00Z","battery":140}', "schema: battery"),
        (
            "eldercare/v1/dev/HA0000001/up/telemetry",
            b'{"seq":1,"ts":"2026-01-01T00:00:00Z","kind":"room","data":{}}',
            "schema: data",
        ),
        ("eldercare/v1/dev/HA0000001/up/event", b"\xff\xfe\x00", "json:"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(topic: str, payload: bytes, reason: str) -> None:
    result = decode(topic, payload, registry=FakeRegistry(), received_at=NOW)
    assert isinstance(result, Rejected)
    assert result.reason.startswith(reason), result.reason


def test_feedback_payload_is_what_the_doc_shows() -> None:
    body = FeedbackPayload(event_id="doc-example-1", state="call_received", ts=NOW)
    assert json.loads(body.model_dump_json(exclude_none=True)) == {
        "event_id": "doc-example-1",
        "state": "call_received",
        "ts": "2026-11-22T00:00:00Z",
    }


def test_broker_acl_allows_exactly_the_protocols_uplink_channels() -> None:
    from eldercare_common.mqtt_auth import UPLINK_CHANNELS, acl_text

    assert set(UPLINK_CHANNELS) == {channel.value for channel in Uplink}
    acl = acl_text({"gateway": "x"})
    assert "pattern write eldercare/v1/dev/%u/up/event" in acl
    assert "pattern write eldercare/v1/dev/%u/up/#" not in acl
