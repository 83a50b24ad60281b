"""Simulator behaviour that needs no broker: determinism, payloads that the gateway accepts, scenarios."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError

from eldercare_common.contract.v1 import (
    MAX_PAYLOAD_BYTES,
    EventPayload,
    HeartbeatPayload,
    TelemetryKind,
    TelemetryPayload,
)
from eldercare_sim.fleet import ConnectGate, FleetStats, SimDevice, SimulatedDevice, telemetry_data
from eldercare_sim.hostile import ATTACKS, hostile_message
from eldercare_sim.scenario import (
    REAL_SOS_PER_DEVICE_PER_DAY,
    Scenario,
    calls_per_member_per_day,
    expected_calls_per_day,
)

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def make(seed: int, serial: str = "HA0000001", scenario: Scenario | None = None) -> SimulatedDevice:
    return SimulatedDevice(
        SimDevice(serial, "home_alarm_unit", "pw"),
        scenario=scenario or Scenario(),
        seed=seed,
        host="127.0.0.1",
        port=1,
        stats=FleetStats(),
        gate=ConnectGate(100),
        stop=asyncio.Event(),
    )


def test_same_seed_same_device_behaviour() -> None:
    first, again, other = make(7), make(7), make(8)
    assert (first.boot, first.battery, first.battery_runs_low) == (again.boot, again.battery, again.battery_runs_low)
    assert first.queue_event("sos") == again.queue_event("sos")  # type: ignore[arg-type]
    assert (first.boot, first.battery) != (other.boot, other.battery)


def test_devices_in_one_fleet_differ() -> None:
    assert make(7, "HA0000001").boot != make(7, "HA0000002").boot


def test_event_ids_are_unique_per_device_and_valid() -> None:
    device = make(3)
    ids = {device.queue_event("sos") for _ in range(50)}  # type: ignore[arg-type]
    assert len(ids) == 50
    for _, _, payload in device.outbox.values():
        EventPayload.model_validate_json(payload)


def test_heartbeats_and_telemetry_are_valid_protocol_messages() -> None:
    device = make(5, scenario=Scenario(heartbeat_interval_s=4))
    HeartbeatPayload.model_validate_json(device.heartbeat())
    rng = random.Random(1)
    now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    for kind in TelemetryKind:
        TelemetryPayload(seq=0, ts=now, kind=kind, data=telemetry_data(kind, rng, now))


def test_daily_rhythm_mattress_occupied_at_night() -> None:
    rng = random.Random(2)
    night = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai
    day = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    at_night = sum(telemetry_data(TelemetryKind.MATTRESS, rng, night)["in_bed"] for _ in range(500))
    by_day = sum(telemetry_data(TelemetryKind.MATTRESS, rng, day)["in_bed"] for _ in range(500))
    assert at_night > 400 and by_day < 200


def test_every_hostile_attack_is_something_the_platform_must_refuse() -> None:
    device = SimDevice("HA0000001", "home_alarm_unit", "pw")
    rng = random.Random(1)
    for kind in ATTACKS:
        topic, payload = hostile_message(kind, device, "HA0000002", rng, b'{"event_id":"r","type":"sos"}')
        if kind == "foreign_topic":
            assert "/HA0000002/" in topic
        elif kind in ("unknown_channel", "bad_version"):
            assert not topic.startswith("eldercare/v1/dev/HA0000001/up/event")
        elif kind == "oversized":
            assert len(payload) > MAX_PAYLOAD_BYTES
        elif kind != "replay":
            with pytest.raises(ValidationError):
                EventPayload.model_validate_json(payload)


def test_shipped_scenarios_load() -> None:
    files = sorted((ROOT / "simulators" / "scenarios").glob("*.yaml"))
    assert files
    for path in files:
        Scenario.load(path)


def test_scenario_typos_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("heartbeat_intervall_s: 30\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        Scenario.load(bad)


def test_the_real_call_rate_is_derived_from_lanzhous_figures() -> None:
    """472,100 calls a year by 88,000 members: 5.4 a year, ≈ 0.0147 a day; 300 units ≈ 4.4 calls a day."""
    assert calls_per_member_per_day() == pytest.approx(472_100 / 88_000 / 365)
    assert calls_per_member_per_day() * 365 == pytest.approx(5.365, abs=0.001)
    assert REAL_SOS_PER_DEVICE_PER_DAY == 0.0147
    assert expected_calls_per_day(300) == pytest.approx(4.41)
    assert Scenario().sos_per_device_per_day == REAL_SOS_PER_DEVICE_PER_DAY
    with pytest.raises(ValueError, match="members"):
        calls_per_member_per_day(members=0)


@pytest.mark.parametrize("name", ["demo", "city-day"])
def test_the_demo_and_city_scenarios_call_at_the_real_rate(name: str) -> None:
    """The demo used to press 20 SOS per unit a day (≈ 3 unanswered calls a minute for its 300 devices)."""
    scenario = Scenario.load(ROOT / "simulators" / "scenarios" / f"{name}.yaml")
    assert scenario.sos_per_device_per_day == REAL_SOS_PER_DEVICE_PER_DAY
    # Falls and fires are rarer than calls, most of which are not emergencies at all.
    assert scenario.fall_per_device_per_day < scenario.sos_per_device_per_day
    assert scenario.smoke_per_device_per_day < scenario.fall_per_device_per_day
    # The demo's 300 devices (about 200 home units) then make a handful of calls a day, not thousands.
    assert expected_calls_per_day(300, scenario.sos_per_device_per_day) < 5


def run_on_own_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a thread of its own: earlier tests (Playwright's sync API) may have left a loop running on
    this one, where asyncio.run() refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class _PubackBeatsTheCancel:
    """A broker client whose publish completes even when cancelled in the same step, as Python 3.11's
    `asyncio.wait_for` (inside aiomqtt's publish) does when the PUBACK and the cancel arrive together (gh-86296)."""

    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # the cancel is lost: the publish "returns the PUBACK"
            await asyncio.sleep(0.01)
        self.published.append(topic)


def test_the_outbox_flush_ends_after_the_stop_even_when_a_cancel_is_lost() -> None:
    """The 1,000-device fleet test once ran past its limit: every session's flush loop had lost the TaskGroup's
    cancel in a publish and went on forever, so the simulator never exited. Now it ends by itself."""

    async def scenario() -> tuple[bool, list[str], dict[str, tuple[str, str, bytes]]]:
        device = make(5)
        client = _PubackBeatsTheCancel()
        device.queue_event("sos")  # type: ignore[arg-type]
        flush = asyncio.create_task(device._flush_outbox(client))  # type: ignore[arg-type]
        await asyncio.sleep(0.005)  # mid-publish
        device.stop.set()
        flush.cancel()  # lost by the publish
        done, _ = await asyncio.wait({flush}, timeout=10)  # a guard against hanging the suite, not a timing check
        if not done:
            flush.cancel()
        return bool(done), client.published, device.outbox

    ended, published, outbox = run_on_own_thread(scenario())
    assert ended, "the flush loop went on after the stop"
    assert len(published) == 1 and published[0].endswith("/up/event")
    assert outbox == {}


def test_the_outbox_flush_publishes_what_is_left_then_ends_once_stopped() -> None:
    async def scenario() -> tuple[list[str], int]:
        device = make(6)
        client = _PubackBeatsTheCancel()
        device.queue_event("sos")  # type: ignore[arg-type]
        device.queue_telemetry(TelemetryKind.ROOM)
        device.stop.set()
        await asyncio.wait_for(device._flush_outbox(client), timeout=10)  # type: ignore[arg-type]
        return client.published, len(device.outbox)

    published, left = run_on_own_thread(scenario())
    assert [topic.rsplit("/", 1)[1] for topic in published] == ["event", "telemetry"]
    assert left == 0
