"""Where a fleet's devices come from: the registry database (demo secrets) or a CSV file."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg

from eldercare_common.mqtt_auth import demo_device_password
from eldercare_common.settings import DEMO_SPARE_DEVICE_SERIAL
from eldercare_sim.fleet import SimDevice

HOME_KINDS = frozenset(
    {"home_alarm_unit", "fall_detector", "smoke_sensor", "gas_sensor", "water_sensor", "door_contact"}
)
TERMINAL_KINDS = frozenset(
    {"vitals_monitor", "smart_mattress", "checkin_terminal", "room_sensor", "canteen_checkin", "camera"}
)


def devices_from_db(
    database_url: str,
    *,
    device_secret: str,
    limit: int | None,
    kinds: list[str] | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[SimDevice]:
    """Active devices from the registry; passwords derived from the demo device secret.

    The demo's spare unit (DEMO_SPARE_DEVICE_SERIAL) is never played: it is the one a person presses by hand.
    """
    query = "SELECT serial, kind FROM device WHERE state = 'active' AND serial <> %s"
    params: list[object] = [DEMO_SPARE_DEVICE_SERIAL]
    if kinds:
        query += " AND kind = ANY(%s)"
        params.append(kinds)
    query += f" ORDER BY id {'DESC' if newest_first else 'ASC'} OFFSET %s"
    params.append(offset)
    if limit is not None:
        query += " LIMIT %s"
        params.append(limit)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(query, params).fetchall()
    return [SimDevice(serial, kind, demo_device_password(serial, device_secret)) for serial, kind in rows]


def devices_from_csv(path: Path) -> list[SimDevice]:
    """Devices from a CSV with columns serial,kind,password."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [SimDevice(row["serial"], row["kind"], row["password"]) for row in csv.DictReader(handle)]
