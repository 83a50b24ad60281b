"""A small fixed data set for the supervision rollups, and the check that rollups and raw rows agree.

Used by the PostgreSQL test (tests/integration/test_supervision_rollups.py) and the TimescaleDB lane
(tests/timescale_tests/test_supervision_rollups.py): the same rows, the same assertions, both lanes.

Areas are only paths here (alarms and tasks carry their community's path): district `/1/2/`, streets `/1/2/3/`
and `/1/2/4/`, communities `/1/2/3/5/`, `/1/2/3/6/`, `/1/2/4/7/`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.scope import EVERYTHING
from eldercare_platform.supervision.alarms_figures import alarms_section
from eldercare_platform.supervision.rollups import (
    alarm_daily_figures,
    alarm_figures,
    task_figures,
    telemetry_figures,
)
from eldercare_platform.supervision.schemas import AreaRef
from eldercare_platform.supervision.tier import Period, Tier

BASE = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COMMUNITIES = ("/1/2/3/5/", "/1/2/3/6/", "/1/2/4/7/")
TYPES = ("sos", "fall", "water", "low_battery")
ACK_AFTER_S = (30, 60, 61, 180, 181, None)
"""Alarm i is acknowledged ACK_AFTER_S[i % 6] seconds after it opened (None: never)."""
ALARMS = 40
TASKS = 48
SERIALS = ("CC0001", "CC0002", "CC0003")


def _alarm_rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(ALARMS):
        opened = BASE + timedelta(minutes=97 * i)
        ack_s = ACK_AFTER_S[i % 6]
        acked = None if ack_s is None else opened + timedelta(seconds=ack_s)
        resolved = opened + timedelta(seconds=1800 + 60 * i) if acked is not None and i % 3 else None
        state = "resolved" if resolved else "acknowledged" if acked else "new"
        due = opened + timedelta(minutes=1)
        rows.append(
            (f"bench:{i}", TYPES[i % 4], 1, state, COMMUNITIES[i % 3], f"HA{i:05d}", opened, opened, due, due, due,
             acked, resolved)
        )  # fmt: skip
    return rows


def _task_rows() -> list[tuple[Any, ...]]:
    statuses = ("completed", "completed", "missed", "cancelled", "planned", "completed")
    rows = []
    for i in range(TASKS):
        start = BASE + timedelta(hours=5 * i)
        end = start + timedelta(hours=2)
        status = statuses[i % 6]
        completed = end + timedelta(minutes=30 if i % 4 == 0 else -30) if status == "completed" else None
        reason = "resident_in_hospital" if status == "cancelled" else "not_home" if status == "missed" else None
        rows.append(
            ("visit" if i % 2 == 0 else "service", status, reason, COMMUNITIES[i % 3], start, end, completed,
             i % 5 == 0)
        )  # fmt: skip
    return rows


def load(conn: psycopg.Connection[Any]) -> None:
    """Insert the alarms, tasks and telemetry (the caller commits, or uses autocommit)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO alarm (source_key, type, priority, state, area_path, device_serial, opened_at, last_event_at,"
            " ack_due_at, reach_due_at, resolve_due_at, acknowledged_at, resolved_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            _alarm_rows(),
        )
        cur.executemany(
            "INSERT INTO task (kind, status, status_reason, area_path, window_start, window_end, completed_at,"
            " problem_found, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'plan')",
            _task_rows(),
        )
        samples = [
            (BASE + timedelta(minutes=20 * n), serial, kind, '{"v": 1}')
            for serial in SERIALS
            for kind in ("vitals", "room")
            for n in range(0, 3 * 48, 1 + SERIALS.index(serial))
        ]
        cur.executemany("INSERT INTO telemetry (time, device_serial, kind, data) VALUES (%s, %s, %s, %s)", samples)


def change(conn: psycopg.Connection[Any]) -> None:
    """What happens after a refresh: an old alarm is acknowledged late, a task moves to another day, a new sample."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE alarm SET acknowledged_at = opened_at + interval '45 seconds', state = 'acknowledged',"
            " version = nextval('alarm_version_seq') WHERE source_key = 'bench:5'"
        )
        cur.execute(
            "UPDATE task SET window_start = window_start + interval '3 days', window_end = window_end + interval"
            " '3 days', version = nextval('task_version_seq') WHERE id = (SELECT min(id) FROM task)"
        )
        cur.execute(
            "INSERT INTO telemetry (time, device_serial, kind, data) VALUES (%s, 'CC0001', 'vitals', '{}')",
            (NOW - timedelta(minutes=10),),
        )


PERIODS = (
    (BASE - timedelta(days=1), NOW),
    (BASE + timedelta(hours=7), BASE + timedelta(days=2, hours=3)),
)
AREAS = ("/1/2/", "/1/2/3/", "/1/2/4/7/", "/9/")


def assert_rollups_agree(session: Session) -> None:
    """Every figure query returns the same numbers from the rollups as from the raw rows."""
    for area in AREAS:
        for start, end in PERIODS:
            rollup = alarm_figures(session, area_path=area, start=start, end=end, source="rollup")
            raw = alarm_figures(session, area_path=area, start=start, end=end, source="raw")
            assert rollup == raw, (area, start, end)
            first, last = start.date(), end.date()
            assert alarm_daily_figures(session, area_path=area, first_day=first, last_day=last, source="rollup") == (
                alarm_daily_figures(session, area_path=area, first_day=first, last_day=last, source="raw")
            ), (area, first, last)
            assert task_figures(session, area_path=area, first_day=first, last_day=last, source="rollup") == (
                task_figures(session, area_path=area, first_day=first, last_day=last, source="raw")
            ), (area, first, last)
        for start, end in PERIODS:
            assert telemetry_figures(session, serials=SERIALS[:2], start=start, end=end, source="rollup") == (
                telemetry_figures(session, serials=SERIALS[:2], start=start, end=end, source="raw")
            )
    assert_alarms_section_agrees(session)


def _tier(path: str) -> Tier:
    """An area of the data set (ids are the path's segments) with its children, seen by everyone."""
    ids = [int(part) for part in path.strip("/").split("/")]
    paths = {*COMMUNITIES, *(community.rsplit("/", 2)[0] + "/" for community in COMMUNITIES)}
    children = sorted(p for p in paths if p.startswith(path) and p.count("/") == path.count("/") + 1)
    ref = AreaRef(id=ids[-1], name=path, level="area", path=path)
    kids = [AreaRef(id=int(p.strip("/").rsplit("/", 1)[1]), name=p, level="area", path=p) for p in children]
    return Tier(area=ref, scope=EVERYTHING, children=kids)


SECTION_PERIODS = (
    Period(date(2026, 11, 9), date(2026, 11, 20)),  # the last day after the refresh's watermark: raw
    Period(date(2026, 11, 10), date(2026, 11, 12)),
    Period(date(2026, 11, 20), date(2026, 11, 30)),
)


def assert_alarms_section_agrees(session: Session) -> None:
    """The alarms section from the daily detail rollup (migration 0015) equals the one from raw rows: counts, outcomes,
    hours, days and the p50 / p90 of the seconds to acknowledge and resolve."""
    assert session.execute(text("SELECT count(*) FROM rollup_alarm_detail")).scalar_one() > 0
    for area in ("/1/2/", "/1/2/3/", "/1/2/4/7/"):
        tier = _tier(area)
        for period in SECTION_PERIODS:
            rollup = alarms_section(session, tier=tier, period=period, now=NOW, source="rollup")
            raw = alarms_section(session, tier=tier, period=period, now=NOW, source="raw")
            assert rollup == raw, (area, period)
    district = alarms_section(session, tier=_tier("/1/2/"), period=SECTION_PERIODS[0], now=NOW)
    assert district.totals["alarms"] == 30, "40 alarms, 10 of them low battery (a device fault)"
    assert district.totals["ack_p50_s"] is not None and district.totals["resolve_p90_s"] is not None
    assert {child.area.id: child.figures["alarms"] for child in district.children} == {3: 20, 4: 10}


def assert_hand_computed(session: Session, *, changed: bool) -> None:
    """The district's figures against numbers worked out by hand from the rows above."""
    alarms = alarm_figures(session, area_path="/1/2/", start=PERIODS[0][0], end=PERIODS[0][1])
    # i % 6 over 40 alarms: residues 0–3 occur 7 times, 4–5 six times. Acknowledged after 30, 60 (exactly: counts
    # as ≤ 60 s), 61, 180, 181 s, or never (so 4 × 7 + 6 = 34 acknowledged); `change` acknowledges alarm 5 at 45 s.
    expected = {"alarms": 40, "acknowledged": 34, "ack_le_60": 14, "ack_le_180": 28}
    if changed:
        expected |= {"acknowledged": 35, "ack_le_60": 15, "ack_le_180": 29}
    assert {key: alarms.totals[key] for key in expected} == expected
    assert alarms.totals["ack_s_sum"] == 7 * (30 + 60 + 61 + 180) + 6 * 181 + (45 if changed else 0)
    assert {key: value["alarms"] for key, value in alarms.by_key.items()} == {
        "sos": 10,
        "fall": 10,
        "water": 10,
        "low_battery": 10,
    }
    assert {key: value["alarms"] for key, value in alarms.children.items()} == {3: 27, 4: 13}
    assert sum(count for _, count in alarms.series) == 40
    daily = alarm_daily_figures(session, area_path="/1/2/", first_day=date(2026, 11, 9), last_day=date(2026, 11, 30))
    assert (daily.totals, daily.by_key, daily.children) == (alarms.totals, alarms.by_key, alarms.children)
    assert sum(count for _, count in daily.series) == 40

    tasks = task_figures(session, area_path="/1/2/", first_day=date(2026, 11, 9), last_day=date(2026, 11, 30))
    # 48 tasks, statuses cycle by i % 6 (8 of each residue): completed (0, 1, 5), missed (2), cancelled (3),
    # planned (4); visits are the even i, services the odd ones.
    visits = {key: value["tasks"] for key, value in tasks.totals.items() if key.startswith("visit:")}
    assert visits == {
        "visit:completed": 8,  # i % 6 == 0 (even)
        "visit:missed": 8,  # i % 6 == 2
        "visit:missed:not_home": 8,
        "visit:planned": 8,  # i % 6 == 4
    }
    services = {key: value["tasks"] for key, value in tasks.totals.items() if key.startswith("service:")}
    assert services == {
        "service:completed": 16,  # i % 6 in (1, 5)
        "service:cancelled": 8,  # i % 6 == 3
        "service:cancelled:resident_in_hospital": 8,
    }
    # late: completed and i % 4 == 0 → i % 12 == 0 (i % 6 == 0 and even) → i in 0, 12, 24, 36.
    # Task 0 moved three days on (by `change`) ends after its completion: no longer late.
    assert tasks.totals["visit:completed"]["late"] == (3 if changed else 4)
    assert tasks.totals["service:completed"]["late"] == 0
    if changed:
        # task 0 (a visit, completed late, on 10 Nov local) moved three days on: 13 Nov local.
        assert ("2026-11-13", "visit", "completed") in {(d.isoformat(), k, s) for d, k, s, _ in tasks.series}

    telemetry = telemetry_figures(session, serials=SERIALS, start=PERIODS[0][0], end=PERIODS[0][1])
    # every 20 min over 48 h = 144 samples for CC0001 per kind, every 2nd for CC0002 (72), every 3rd (48).
    assert telemetry.totals == {"vitals": 264 + (1 if changed else 0), "room": 264}
    assert telemetry.by_key["CC0001:room"] == {"samples": 144, "hours": 48}
