"""Supervision dashboards at district size: rollup-backed figure queries beside the same figures from raw rows.

    .venv/bin/python -m bench.dashboards [--residents 50000] [--days 90] [--alarms-per-day 1500]
                                         [--terminals 300] [--sample-minutes 15] [--repeats 30]

A fresh PostgreSQL (under var/bench/dashboards) is migrated and filled, in SQL, with a generated district: one
district of `--residents` residents in 10 streets × 10 communities, `--days` of history up to the current hour —
alarms (acknowledged and resolved with plausible delays), visits and purchased-service tasks (completed, late,
missed, cancelled for hospital stays; the next 14 days planned; assigned to 12 caregivers per community, 1 in 20
residents' unassigned), follow-ups of the problems found (90 % closing them), hospital stays of 2 % of the residents,
lunch orders of 10 % of them at a meal point per community, a home alarm unit per household with its status, and
care-center terminal telemetry (`--terminals` terminals, 25 per care center or institution, registered devices —
vitals monitor and mattress worn by a resident, room sensor, check-in terminal, camera —, one sample every
`--sample-minutes`; care plans, caregivers and EVV positions for the purchased services). Then:

1. the rollups are built in full (`refresh_rollups(full=True)`), then refreshed incrementally after 0.5 % of the
   alarms changed and 200 tasks moved a day, then once more with nothing changed (what the 5-minute scheduler job
   does);
2. each dashboard request — alarms (from the hourly rollup, and per day from the daily one) and visits at district,
   street and community level for the current month and for the whole history, the care-center monitor's feeds
   for 7 and 30 days — runs `--repeats` times from the rollups and from the raw tables, alternately, in the same
   run; p50/p95 of each, and whether both gave the same figures;
   The same for the supervision sections themselves (`section …`): the visits section, its caregiver rows and the
   alarms section from the rollups (migration 0016) and from raw rows, at the last refresh's instant;
3. the supervision sections through the API (`--api-repeats` each): a district supervisor's alarms, visits, visits
   per caregiver, meals and devices at each tier, for the current month and for the whole history, as the sections
   compute them — with the API's clock at the last refresh (what a request after the scheduler job sees); the
   care-center monitor of the district (7 and 30 days), a wearer's drill-down (30 days) and the services statement
   (this month and the last full one).

Target: p95 ≤ 300 ms per dashboard request. `--url` uses an existing migrated, empty database instead.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from bench.harness import Report, machine, percentiles, private_postgres
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.scope import EVERYTHING
from eldercare_platform.migrate import upgrade
from eldercare_platform.supervision.monitor import figures as monitor_totals
from eldercare_platform.supervision.monitor import monitor
from eldercare_platform.supervision.rollups import (
    Figures,
    Source,
    alarm_daily_figures,
    alarm_figures,
    refresh_rollups,
    task_figures,
    telemetry_figures,
)
from eldercare_platform.supervision.tier import local_midnight

STREETS = 10
COMMUNITIES_PER_STREET = 10
TERMINALS_PER_CENTER = 25
WEARER = 50
"""The resident wearing the first vitals monitor and mattress (CT000000, CT000001): the drill-down's subject."""
TARGET_P95_MS = 300.0
SOURCES: tuple[Source, ...] = ("rollup", "raw")

AREAS = """
INSERT INTO area (id, code, name, level, parent_id, path) VALUES
  (1, 'B1', '测试市', 'city', NULL, '/1/'), (2, 'B2', '测试区', 'district', 1, '/1/2/');
INSERT INTO area (id, code, name, level, parent_id, path)
SELECT 10 + s, 'B' || (10 + s), '街道' || s, 'street', 2, '/1/2/' || (10 + s) || '/'
FROM generate_series(0, :streets - 1) s;
INSERT INTO area (id, code, name, level, parent_id, path)
SELECT 100 + c, 'B' || (100 + c), '社区' || c, 'community', 10 + c / :per_street,
       '/1/2/' || (10 + c / :per_street) || '/' || (100 + c) || '/'
FROM generate_series(0, :streets * :per_street - 1) c;
SELECT setval(pg_get_serial_sequence('area', 'id'), 1000);
"""

PEOPLE = """
INSERT INTO household (id, area_id, address, enrolled_at)
SELECT n, 100 + n % (:streets * :per_street), '测试路' || n || '号', :start FROM generate_series(1, :residents) n;
SELECT setval(pg_get_serial_sequence('household', 'id'), :residents + 1);
INSERT INTO resident (id, household_id, name, gender, birth_date, capability_level, care_tier, consent_data_processing,
                      consent_share_with_family, consent_camera, status)
SELECT n, n, '居民' || n, CASE WHEN n % 2 = 0 THEN 'female' ELSE 'male' END, DATE '1940-01-01' + n % 7000,
       'intact', CASE WHEN n % 10 = 0 THEN 'high_risk' WHEN n % 10 < 4 THEN 'key' ELSE 'regular' END,
       true, true, false, CASE WHEN n % 50 = 0 THEN 'in_institution' ELSE 'active' END
FROM generate_series(1, :residents) n;
SELECT setval(pg_get_serial_sequence('resident', 'id'), :residents + 1);
"""

HOME = """(SELECT '/1/2/' || (10 + (r % (:streets * :per_street)) / :per_street) || '/'
                  || (100 + r % (:streets * :per_street)) || '/')"""

ALARMS = f"""
INSERT INTO alarm (source_key, type, priority, state, resident_id, household_id, area_path, device_serial, opened_at,
                   last_event_at, ack_due_at, reach_due_at, resolve_due_at, acknowledged_at, resolved_at, outcome)
SELECT 'bench:' || n, t.type, t.priority,
       CASE WHEN opened > :now - interval '20 minutes' THEN 'new'
            WHEN opened > :now - interval '2 hours' THEN 'acknowledged' ELSE 'resolved' END,
       r, r, {HOME}, 'HA' || lpad(r::text, 8, '0'), opened, opened,
       opened + interval '60 seconds', opened + interval '10 minutes', opened + interval '1 hour',
       CASE WHEN opened > :now - interval '20 minutes' THEN NULL ELSE opened + ack END,
       CASE WHEN opened > :now - interval '2 hours' THEN NULL
            ELSE opened + ack + interval '1 second' * (600 + n % 3000) END,
       CASE WHEN opened > :now - interval '2 hours' THEN NULL WHEN n % 7 = 0 THEN 'dispatched' ELSE 'false_alarm' END
FROM (SELECT n, 1 + (n * 7919) % :residents AS r,
             :now - interval '1 second' * ((n * 104729) % (:days * 86400)) AS opened,
             interval '1 second' * (5 + ((n * 31) % 100) * ((n * 17) % 100) / 40) AS ack
      FROM generate_series(CAST(1 AS bigint), :alarms) n) a
JOIN (SELECT row_number() OVER () - 1 AS k, type, priority FROM
      (VALUES ('sos', 1), ('sos', 1), ('sos', 1), ('fall', 1), ('smoke', 1), ('abnormal_vitals', 2),
              ('bed_exit', 2), ('inactivity', 2), ('door_open', 3), ('device_silent', 4),
              ('low_battery', 5), ('low_battery', 5)) v(type, priority)) t ON t.k = a.n % 12
"""
"""Acknowledgement after 5 s to ~4 min (most within a minute), resolution 10–60 min later; the last two hours open."""

STAFF_PER_COMMUNITY = 12

STAFF = """
INSERT INTO staff (id, name, phone, role, home_area_id, active)
SELECT n, '护理员' || n, '139' || lpad(n::text, 8, '0'), 'caregiver', 100 + (n - 1) / :staff_per_community, true
FROM generate_series(1, :streets * :per_street * :staff_per_community) n;
SELECT setval(pg_get_serial_sequence('staff', 'id'), :streets * :per_street * :staff_per_community + 1);
"""
"""Caregivers: `STAFF_PER_COMMUNITY` per community (a visit's assignee works in the resident's community)."""

TASKS = f"""
ALTER TABLE task DISABLE TRIGGER task_feed_note;
INSERT INTO task (kind, status, status_reason, source, service, resident_id, household_id, area_id, area_path,
                  window_start, window_end, duration_minutes, completed_at, checked_in_at, problem_found,
                  assignee_staff_id)
SELECT kind,
       CASE WHEN ws > :now THEN 'planned' WHEN x < 3 THEN 'missed' WHEN x < 7 THEN 'cancelled' ELSE 'completed' END,
       CASE WHEN ws > :now THEN NULL WHEN x < 3 THEN 'not_home' WHEN x = 3 THEN 'resident_away'
            WHEN x < 7 THEN 'resident_in_hospital' END,
       'plan', CASE WHEN kind = 'service' THEN 'cleaning' END, r, r, 100 + r % (:streets * :per_street), {HOME},
       ws, ws + interval '2 hours', 30,
       CASE WHEN ws > :now OR x < 7 THEN NULL WHEN x < 15 THEN ws + interval '2 hours 20 minutes'
            ELSE ws + interval '50 minutes' END,
       CASE WHEN ws > :now OR x < 7 THEN NULL ELSE ws + interval '20 minutes' END,
       ws <= :now AND x >= 7 AND x % 13 = 0,
       CASE WHEN r % 20 <> 0 THEN 1 + (r % (:streets * :per_street)) * :staff_per_community
                                  + (r / (:streets * :per_street)) % :staff_per_community END
FROM (SELECT r, d, kind, (r * 7 + d * 13) % 100 AS x,
             CAST(:today AS date) + d + time '08:00' + interval '1 minute' * ((r * 37) % 540)
                 - interval '8 hours' AS ws
      FROM generate_series(1, :residents) r
      CROSS JOIN generate_series(-:days, 13) d
      CROSS JOIN (VALUES ('visit'), ('service')) k(kind)
      WHERE r % 50 <> 0
        AND ((kind = 'visit' AND (CASE WHEN r % 10 = 0 THEN (r + d) % 2 WHEN r % 10 < 4 THEN (r + d) % 7
                                         ELSE (r + d) % 14 END) = 0)
          OR (kind = 'service' AND r % 100 < 18 AND (r + d) % 3 = 0))) t;
ALTER TABLE task ENABLE TRIGGER task_feed_note
"""
"""Visits every 2 days (high risk), weekly (key) or fortnightly (regular); 18 % of residents get a service every
3 days; local 08:00–17:00 windows; of the past ones 3 % missed, 4 % cancelled (hospital, away), 8 % late. The
caregivers' live feed (a trigger) is off while they are written."""

FOLLOW_UPS_AND_STAYS = """
INSERT INTO task (kind, status, source, resident_id, household_id, area_id, area_path, window_start, window_end,
                  duration_minutes, checked_in_at, completed_at, problem_found, follow_up_of, assignee_staff_id)
SELECT 'follow_up', CASE WHEN v.id % 10 = 0 OR f.ws + interval '1 hour' > :now THEN 'planned' ELSE 'completed' END,
       'finding', v.resident_id, v.household_id, v.area_id, v.area_path, f.ws, f.ws + interval '2 hours', 30,
       CASE WHEN v.id % 10 <> 0 AND f.ws + interval '1 hour' <= :now THEN f.ws + interval '10 minutes' END,
       CASE WHEN v.id % 10 <> 0 AND f.ws + interval '1 hour' <= :now THEN f.ws + interval '40 minutes' END,
       false, v.id, v.assignee_staff_id
FROM task v CROSS JOIN LATERAL (SELECT v.window_start + interval '1 day' * (1 + v.id % 3) AS ws) f
WHERE v.kind = 'visit' AND v.problem_found;
INSERT INTO resident_state (resident_id, kind, starts_at, ends_at, reason, recorded_at)
SELECT r, 'hospital', :start + interval '1 day' * (r % (:days - 7)), :start + interval '1 day' * (r % (:days - 7) + 6),
       '住院', :start + interval '1 day' * (r % (:days - 7))
FROM generate_series(1, :residents) r WHERE r % 50 = 7
"""
"""A follow-up of every problem found, 1–3 days later: 90 % completed without a new problem (closing it), the rest
still planned; a 6-day hospital stay of 2 % of the residents (their missed visits then are excused)."""

MEALS = """
INSERT INTO meal_point (id, name, area_id, address, kind, daily_capacity, capacity_per_meal, delivers)
SELECT 100 + c, '助餐点' || c, 100 + c, '助餐路' || c || '号', 'meal_point', 200, 60, true
FROM generate_series(0, :streets * :per_street - 1) c;
INSERT INTO meal_order (resident_id, meal_point_id, service_date, meal, mode, source, status, deadline, ordered_at)
SELECT r, 100 + r % (:streets * :per_street), day, 'lunch',
       (ARRAY['dine_in', 'pick_up', 'delivery'])[1 + r % 3], 'plan',
       CASE WHEN deadline > :now THEN 'ordered' WHEN (r + d) % 50 = 0 THEN 'cancelled'
            WHEN (r + d) % 33 = 0 THEN 'not_collected' WHEN r % 3 = 2 THEN 'delivered' ELSE 'collected' END,
       deadline, deadline - interval '1 day'
FROM generate_series(1, :residents) r
CROSS JOIN generate_series(-:days, 1) d
CROSS JOIN LATERAL (SELECT CAST(:today AS date) + d AS day,
                           CAST(:today AS date) + d + time '13:00' - interval '8 hours' AS deadline) x
WHERE r % 10 = 3 AND r % 50 <> 0
"""
"""A meal point per community; lunch for 10 % of the residents every day (tomorrow's ordered): 3 % not collected,
2 % cancelled, delivery for a third of them."""

DEVICES = """
INSERT INTO device (serial, kind, model, heartbeat_interval_s, state, household_id)
SELECT 'HA' || lpad(r::text, 8, '0'), 'home_alarm_unit', 'B-1', 60, 'active', r FROM generate_series(1, :residents) r;
INSERT INTO device_status (device_serial, online, last_seen_at, battery_pct)
SELECT 'HA' || lpad(r::text, 8, '0'), r % 40 <> 0,
       CASE WHEN r % 40 <> 0 THEN :now - interval '1 minute' ELSE :now - interval '1 hour' * (r % 400) END,
       CASE WHEN r % 60 = 0 THEN 15 ELSE 40 + r % 60 END
FROM generate_series(1, :residents) r
"""
"""A home alarm unit per household (the alarms' `HA…` serials): 2.5 % offline for up to 400 hours, 1.7 % low
battery."""

# --- the care centers' and institutions' terminals, and the purchased services (helper `monitor`) ----------

FACILITIES = """
INSERT INTO care_center (id, name, area_id, address, kind, capacity)
SELECT f, '照料中心' || f, 100 + (f * 37) % (:streets * :per_street), '中心路' || f || '号', 'day_care_center', 40
FROM generate_series(1, (:terminals + :per_facility - 1) / :per_facility) f WHERE f % 2 = 1;
SELECT setval(pg_get_serial_sequence('care_center', 'id'), 1000);
INSERT INTO institution (id, name, area_id, address, beds, nursing_beds)
SELECT f, '养老院' || f, 100 + (f * 37) % (:streets * :per_street), '颐养路' || f || '号', 200, 120
FROM generate_series(1, (:terminals + :per_facility - 1) / :per_facility) f WHERE f % 2 = 0;
SELECT setval(pg_get_serial_sequence('institution', 'id'), 1000);
INSERT INTO device (serial, kind, model, care_center_id, institution_id, resident_id, heartbeat_interval_s, state,
                    installed_at)
SELECT 'CT' || lpad(t::text, 6, '0'),
       (ARRAY['vitals_monitor', 'smart_mattress', 'room_sensor', 'checkin_terminal', 'camera'])[1 + t % 5], 'T-1',
       CASE WHEN (t / :per_facility + 1) % 2 = 1 THEN t / :per_facility + 1 END,
       CASE WHEN (t / :per_facility + 1) % 2 = 0 THEN t / :per_facility + 1 END,
       CASE WHEN t % 5 < 2 THEN least(:residents, 50 * (t / 5 + 1)) END, 60, 'active', :start
FROM generate_series(0, :terminals - 1) t
"""
"""Care centers (odd) and institutions (even), `TERMINALS_PER_CENTER` terminals each: a vitals monitor and a smart
mattress worn by the same resident, a room sensor, a check-in terminal and a camera, in turn."""

TELEMETRY = """
INSERT INTO telemetry (time, device_serial, seq, kind, data)
SELECT at, 'CT' || lpad(t::text, 6, '0'), s, (ARRAY['vitals', 'mattress', 'room', 'checkin', 'camera_link'])[1 + t % 5],
       CASE t % 5
         WHEN 0 THEN jsonb_build_object('heart_rate', 55 + (t * 7 + s * 11) % 68, 'spo2', 90 + (t + s * 3) % 10,
                                        'systolic', 100 + (t * 3 + s * 7) % 63, 'diastolic', 60 + (s * 5 + t) % 35,
                                        'temperature', 36.0 + ((t + s) % 16) / 10.0)
         WHEN 1 THEN jsonb_strip_nulls(jsonb_build_object(
                       'in_bed', in_bed, 'heart_rate', CASE WHEN in_bed THEN 48 + (t + s) % 30 END,
                       'respiration_rate', CASE WHEN in_bed THEN 10 + s % 12 END))
         WHEN 2 THEN jsonb_build_object('temperature', 19 + ((t + s) % 92) / 10.0, 'humidity', 35 + (t * 3 + s) % 37,
                                        'smoke', (s * 7 + t) % 20011 = 0)
         WHEN 3 THEN jsonb_build_object('resident_ref',
                                        'R' || lpad((1 + (t / :per_facility * 120 + (t * 31 + s * 17) % 120)
                                                     % :residents)::text, 6, '0'),
                                        'method', 'face')
         ELSE jsonb_build_object('online', NOT ((t / 5) % 20 = 3 AND s < 8) AND (s + t) % 300 <> 0,
                                 'bitrate_kbps', 1800)
       END
FROM generate_series(0, :terminals - 1) t
CROSS JOIN generate_series(0, :days * 1440 / :sample_minutes - 1) s
CROSS JOIN LATERAL (SELECT :now - interval '1 minute' * (:sample_minutes * s) AS at) x
CROSS JOIN LATERAL (SELECT extract(hour FROM x.at AT TIME ZONE 'Asia/Shanghai')::int AS hour) h
CROSS JOIN LATERAL (SELECT CASE WHEN h.hour >= 7 AND h.hour < 21 THEN (t + s) % 4 = 0
                                ELSE (t * 13 + s) % 29 <> 0 END AS in_bed) b
WHERE t % 5 <> 3 OR h.hour BETWEEN 8 AND 17
"""
"""One sample every `--sample-minutes` per terminal (check-in terminals 08:00–18:00 local only, naming one of 120
residents per facility): vitals ~6 % out of range; mattresses in bed at night but for an exit now and then (about
one a night), mostly up by day; rooms now and then too warm or too humid, smoke very rarely; cameras online but for
short drops, one in 20 offline for the last two hours."""

SMOKE_EVENTS = """
INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)
SELECT 'CT' || lpad(t::text, 6, '0'), 'bench-smoke-' || t, 'smoke', at, at
FROM generate_series(2, :terminals - 1, 5) t
CROSS JOIN LATERAL (SELECT :now - interval '1 hour' * (t * 7 % (:days * 24)) AS at) x
WHERE t % 35 = 2
"""

SERVICES = """
UPDATE staff SET skills = ARRAY['cleaning', 'bathing', 'nursing'],
                 institution_id = CASE WHEN id % 3 = 0 THEN (SELECT i.id FROM institution i ORDER BY i.id
                                       OFFSET (staff.id / 3) % (SELECT count(*) FROM institution) LIMIT 1) END;
UPDATE household SET latitude = 32.2 + (id % 100) * 0.001, longitude = 119.45 + (id / 100 % 100) * 0.001;
INSERT INTO care_plan (resident_id, version, valid_from, valid_to, visit_tier, proposed_tier, services, created_at)
SELECT r.id, v.version, v.valid_from, v.valid_to, r.care_tier, r.care_tier,
       jsonb_build_array(
         jsonb_build_object('service', 'cleaning', 'hours_per_month', 4 + v.version * 4, 'funder', 'government'),
         jsonb_build_object('service', 'bathing', 'hours_per_month', 4, 'funder', 'government'),
         jsonb_build_object('service', 'nursing', 'hours_per_month', 5, 'funder', 'self_paid')),
       :start
FROM resident r
CROSS JOIN LATERAL (VALUES
    (1, CAST(:today AS date) - :days - 30,
     CASE WHEN r.id % 7 = 0 THEN date_trunc('month', CAST(:today AS date) - 40)::date + 14 END),
    (2, date_trunc('month', CAST(:today AS date) - 40)::date + 15, NULL)) v(version, valid_from, valid_to)
WHERE r.id % 100 < 18 AND r.id % 50 <> 0 AND (v.version = 1 OR r.id % 7 = 0);
UPDATE task t
SET service = (ARRAY['cleaning', 'bathing', 'nursing'])
                  [1 + (t.resident_id + (t.window_start::date - DATE '2000-01-01') / 3) % 3],
    assignee_staff_id = 1 + (t.resident_id * 7 + CASE WHEN t.id % 10 = 0 THEN 1 ELSE 0 END) % 300,  -- 300 of them
    check_in_latitude = CASE WHEN t.checked_in_at IS NOT NULL
                             THEN h.latitude + CASE WHEN t.id % 50 = 0 THEN 0.05 ELSE 0.0005 END END,
    check_in_longitude = CASE WHEN t.checked_in_at IS NOT NULL THEN h.longitude + 0.0005 END,
    check_out_latitude = CASE WHEN t.checked_in_at IS NOT NULL THEN h.latitude - 0.0005 END,
    check_out_longitude = CASE WHEN t.checked_in_at IS NOT NULL THEN h.longitude END
FROM household h
WHERE t.kind = 'service' AND h.id = t.household_id
"""
"""The caregivers (STAFF) all skilled for the services, every third one an institution's; homes located; every
resident getting purchased services (the TASKS script's service tasks) has a care plan — cleaning, bathing
(government) and nursing (self-paid), one in seven with a second version from the 15th of last month —; the service
tasks get a service, one of 300 caregivers (the same one mostly) and EVV positions near the home (one in 50 checked
in 5 km away: not verified)."""

CHANGES = """
UPDATE alarm SET resolved_at = resolved_at + interval '5 minutes', version = nextval('alarm_version_seq')
WHERE id % 200 = 0 AND state = 'resolved';
UPDATE task SET window_start = window_start + interval '1 day', window_end = window_end + interval '1 day',
                version = nextval('task_version_seq')
WHERE id IN ((SELECT id FROM task WHERE status = 'planned' ORDER BY id LIMIT 100)
             UNION ALL (SELECT id FROM task WHERE status = 'completed' ORDER BY id DESC LIMIT 100));
UPDATE meal_order SET status = 'collected', collected_at = deadline
WHERE id IN (SELECT id FROM meal_order WHERE status = 'not_collected' ORDER BY id LIMIT 100)
"""


def execute_script(session: Session, script: str, params: dict[str, Any]) -> None:
    """Run `;`-separated statements, each with the parameters it names."""
    for statement in filter(None, (part.strip() for part in script.split(";\n"))):
        names = {key: value for key, value in params.items() if f":{key}" in statement}
        session.execute(text(statement.rstrip(";")), names)


def build(engine: Engine, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """The generated district, in SQL; returns row counts and seconds per step."""
    params: dict[str, Any] = {
        "streets": STREETS,
        "per_street": COMMUNITIES_PER_STREET,
        "residents": args.residents,
        "days": args.days,
        "alarms": args.alarms_per_day * args.days,
        "terminals": args.terminals,
        "sample_minutes": args.sample_minutes,
        "per_facility": TERMINALS_PER_CENTER,
        "now": now,
        "today": local_date(now),
        "start": now - timedelta(days=args.days),
        "staff_per_community": STAFF_PER_COMMUNITY,
    }
    seconds: dict[str, float] = {}
    for name, script in (("areas", AREAS), ("people", PEOPLE), ("alarms", ALARMS), ("staff", STAFF), ("tasks", TASKS),
                         ("follow-ups and stays", FOLLOW_UPS_AND_STAYS), ("meals", MEALS), ("devices", DEVICES),
                         ("facilities", FACILITIES), ("telemetry", TELEMETRY), ("smoke events", SMOKE_EVENTS),
                         ("services", SERVICES)):  # fmt: skip
        started = time.perf_counter()
        with Session(engine) as session:
            execute_script(session, script, params)
            session.commit()
        seconds[name] = round(time.perf_counter() - started, 1)
        print(f"  built {name} in {seconds[name]} s", flush=True)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        counts = {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("resident", "alarm", "task", "telemetry", "meal_order", "device")
        }
    return {"rows": counts, "seconds": seconds}


def refresh(engine: Engine, now: datetime, *, full: bool) -> tuple[float, str, dict[str, int]]:
    """One refresh, committed: seconds, its summary, the rollups' row counts."""
    with Session(engine) as session:
        started = time.perf_counter()
        result = refresh_rollups(session, now=now, full=full)
        session.commit()
        seconds = time.perf_counter() - started
        session.execute(
            text(
                "ANALYZE rollup_alarm_hourly, rollup_alarm_daily, rollup_alarm_detail, rollup_task_daily,"
                " rollup_telemetry_hourly, rollup_telemetry_daily, rollup_visit_task, rollup_visit_daily,"
                " rollup_visit_caregiver, rollup_alarm_caller, rollup_meal_order, rollup_meal_daily, rollup_meal_point,"
                " rollup_statement_session, rollup_statement_line, rollup_statement_entitled, rollup_statement_final,"
                " rollup_statement_mixed"
            )
        )
        session.commit()
        counts = {
            table: int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("rollup_alarm_hourly", "rollup_task_daily", "rollup_telemetry_hourly")
        }
    return seconds, str(result), counts


Request = Callable[..., Figures]
"""A figure query taking a session and `source=`."""


def requests(now: datetime, days: int) -> dict[str, Request]:
    """The dashboard requests: name → figure query with its source."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    end = hour + timedelta(hours=1)
    today = local_date(now)
    month_first = today.replace(day=1)
    history_first = today - timedelta(days=days)
    month_start = datetime.combine(month_first, datetime.min.time(), tzinfo=UTC) - timedelta(hours=8)
    history_start = datetime.combine(history_first, datetime.min.time(), tzinfo=UTC) - timedelta(hours=8)
    street, community = "/1/2/10/", "/1/2/10/100/"
    center = [f"CT{n:06d}" for n in range(TERMINALS_PER_CENTER)]
    wanted: dict[str, Request] = {}
    for label, path in (("district", "/1/2/"), ("street", street), ("community", community)):
        for period, start, first in (("month", month_start, month_first), (f"{days}d", history_start, history_first)):
            wanted[f"alarms {label} {period}"] = partial(alarm_figures, area_path=path, start=start, end=end)
            wanted[f"alarms daily {label} {period}"] = partial(
                alarm_daily_figures, area_path=path, first_day=first, last_day=today
            )
            wanted[f"visits {label} {period}"] = partial(task_figures, area_path=path, first_day=first, last_day=today)
    for period_days in (7, 30):
        start = end - timedelta(days=period_days)
        wanted[f"monitor care center {period_days}d"] = partial(telemetry_figures, serials=center, start=start, end=end)
    return wanted


def section_requests(engine: Engine, now: datetime, days: int) -> dict[str, Callable[..., Any]]:
    """The supervision sections themselves, from the rollups (migrations 0016, 0018) and raw: the visits section and
    its caregiver rows and the meals section at each tier for the whole history and the district's month, the
    district's meal points, the alarms section (its repeat callers) for the district's history, the services statement
    of the district (this month, the last full one; one page of 200 lines, migration 0020); `now` is the last
    refresh's instant."""
    from eldercare_platform.core.scope import EVERYTHING
    from eldercare_platform.supervision.alarms_figures import alarms_section
    from eldercare_platform.supervision.meals_figures import meals_section, point_rows
    from eldercare_platform.supervision.schemas import AreaRef
    from eldercare_platform.supervision.statement import services_statement
    from eldercare_platform.supervision.tier import Period, Tier, month_period
    from eldercare_platform.supervision.visits_figures import caregiver_rows, visits_section

    def ref(row: Any) -> AreaRef:
        return AreaRef(id=row.id, name=row.name, level=row.level, path=row.path)

    def tier(session: Session, area_id: int) -> Tier:
        sql = "SELECT id, name, level, path FROM area WHERE {} ORDER BY code, id"
        area = session.execute(text(sql.format("id = :id")), {"id": area_id}).one()
        children = session.execute(text(sql.format("parent_id = :id")), {"id": area_id}).all()
        return Tier(area=ref(area), scope=EVERYTHING, children=[ref(child) for child in children])

    today = local_date(now)
    history, month = Period(today - timedelta(days=days), today), Period(today.replace(day=1), today)
    late_after = timedelta(minutes=15)
    wanted: dict[str, Callable[..., Any]] = {}
    with Session(engine) as session:
        tiers = {label: tier(session, area) for label, area in (("district", 2), ("street", 10), ("community", 100))}
    for label, at in tiers.items():
        for name, period in ((f"{days}d", history), ("month", month)):
            if label != "district" and name == "month":
                continue
            common: dict[str, Any] = {"tier": at, "period": period, "now": now, "late_after": late_after}
            wanted[f"section visits {label} {name}"] = partial(visits_section, **common)
            wanted[f"section caregivers {label} {name}"] = partial(caregiver_rows, **common)
            wanted[f"section meals {label} {name}"] = partial(meals_section, tier=at, period=period, now=now)
    wanted[f"section meal points district {days}d"] = partial(point_rows, tier=tiers["district"], period=history)
    wanted[f"section alarms district {days}d"] = partial(
        alarms_section, tier=tiers["district"], period=history, now=now
    )
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    for name, which in (("month", None), ("last month", last_month)):
        wanted[f"section statement district {name}"] = partial(
            services_statement, tier=tiers["district"], period=month_period(which, now=now), now=now, limit=200
        )
    return wanted


def monitor_figures(
    session: Session, *, area_path: str, start: datetime, end: datetime, source: Source = "rollup"
) -> Figures:
    """The care-center monitor of an area as `Figures`: totals, per facility, the daily series and the exceptions
    (the section's content), from the rollups (raw after their watermarks) or from the raw samples."""
    found = monitor(session, scope=EVERYTHING, area_path=area_path, start=start, end=end, source=source)
    return Figures(
        totals=monitor_totals(found.facilities),
        by_key={f"{p.kind}:{p.id}": monitor_totals([p]) for p in found.facilities},
        series=[(key, sorted(days.items())) for key, days in found.series.items()],
        children={n: {"alert": (a.kind, a.serial, a.since, a.message)} for n, a in enumerate(found.alerts)},
    )


def monitor_requests(now: datetime) -> dict[str, Request]:
    """The monitor of the district for the last 7 and 30 local days (its figures, rollup beside raw)."""
    today = local_date(now)
    return {
        f"monitor district {days}d": partial(
            monitor_figures,
            area_path="/1/2/",
            start=local_midnight(today - timedelta(days=days - 1)),
            end=local_midnight(today + timedelta(days=1)),
        )
        for days in (7, 30)
    }


def measure(engine: Engine, wanted: dict[str, Request], repeats: int) -> dict[str, dict[str, Any]]:
    """Each request `repeats` times from the rollups and from raw rows, alternately; ms percentiles and agreement."""
    results: dict[str, dict[str, Any]] = {}
    with Session(engine) as session:
        for name, request in wanted.items():
            timings: dict[str, list[float]] = {"rollup": [], "raw": []}
            answers: dict[str, Figures] = {}
            for _ in range(repeats):
                for source in SOURCES:
                    started = time.perf_counter()
                    answers[source] = request(session, source=source)
                    timings[source].append((time.perf_counter() - started) * 1000)
                session.rollback()
            results[name] = {
                "rollup_ms": percentiles(timings["rollup"]),
                "raw_ms": percentiles(timings["raw"]),
                "same_figures": answers["rollup"] == answers["raw"],
                "alarms_or_tasks": _size(answers["rollup"]),
            }
            row = results[name]
            print(
                f"  {name:<34} rollup p50 {row['rollup_ms']['p50']:>7} p95 {row['rollup_ms']['p95']:>7}"
                f"   raw p50 {row['raw_ms']['p50']:>8} p95 {row['raw_ms']['p95']:>8}   same {row['same_figures']}",
                flush=True,
            )
    return results


def _size(figures: Any) -> int:
    """How many alarms / tasks / samples the figures count (to show the request's size)."""
    if isinstance(figures, list):  # caregiver rows, meal points
        return int(sum(row["due"] if "due" in row else row["orders"] for row in figures))
    if "due" in figures.totals:  # the visits section
        return int(figures.totals["due"])
    if "alarms" in figures.totals:
        return int(figures.totals["alarms"])
    if "served_rate" in figures.totals:  # the meals section
        return int(figures.totals["orders"]) + int(figures.totals["cancelled"])
    if figures.totals and all(isinstance(v, dict) for v in figures.totals.values()):
        return int(sum(v["tasks"] for k, v in figures.totals.items() if k.count(":") == 1))
    return int(sum(v for v in figures.totals.values() if isinstance(v, int | float)))


SUPERVISOR = """
INSERT INTO app_user (username, full_name, role, scope_area_id, locale, active, password_hash)
VALUES ('bench_supervisor', '区监管员', 'supervisor', 2, 'zh-CN', true, :hash)
"""


API_SECTIONS = ("alarms", "visits", "visits/caregivers", "meals", "devices")


def measure_api(url: str, now: datetime, days: int, repeats: int) -> dict[str, dict[str, Any]]:
    """The supervision sections through the API (in-process ASGI, the real auth): a district supervisor's
    dashboard for the current month and for the whole history. These are the sections as they compute today;
    `now` is the API's clock (the visits rollup is read only from its refresh's instant on)."""
    from fastapi.testclient import TestClient

    from eldercare_platform.core.clock import FixedClock
    from eldercare_platform.core.config import ApiSettings
    from eldercare_platform.core.security import hash_password
    from eldercare_platform.main import create_app

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        session.execute(text(SUPERVISOR), {"hash": hash_password("bench-password")})
        session.commit()
    engine.dispose()
    settings = ApiSettings(environment="test", database_url=url, mqtt_url="mqtt://127.0.0.1:1")
    app = create_app(settings, connect_broker=False, clock=FixedClock(now))
    today = local_date(now)
    periods = {"month": {}, f"{days}d": {"from": (today - timedelta(days=days)).isoformat(), "to": today.isoformat()}}
    results: dict[str, dict[str, Any]] = {}
    with TestClient(app) as client:
        token = client.post("/api/auth/token", data={"username": "bench_supervisor", "password": "bench-password"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for section in API_SECTIONS:
            for label, area in (("district", 2), ("street", 10), ("community", 100)):
                for period, bounds in periods.items():
                    timings = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        response = client.get(
                            f"/api/supervision/{section}", params={"area_id": area, **bounds}, headers=headers
                        )
                        timings.append((time.perf_counter() - started) * 1000)
                        response.raise_for_status()
                    name = f"API {section} {label} {period}"
                    body = response.json()
                    totals = body["totals"] if "totals" in body else {"rows": len(body["rows"])}
                    results[name] = {"ms": percentiles(timings), "totals": totals}
                    print(f"  {name:<34} p50 {results[name]['ms']['p50']:>8} p95 {results[name]['ms']['p95']:>8}")
        results |= measure_monitor_api(client, headers, today, repeats)
    return results


def monitor_api_requests(today: date) -> dict[str, tuple[str, dict[str, str]]]:
    """The care-center monitor (district, 7 and 30 days), a wearer's drill-down (30 days) and the services statement
    (this month and the last full one): name → (path, query)."""
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    month = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
    return {
        "API monitor district 7d": ("/api/supervision/monitor", {"area_id": "2", **week}),
        "API monitor district 30d": ("/api/supervision/monitor", {"area_id": "2", **month}),
        "API monitor resident 30d": (f"/api/supervision/monitor/residents/{WEARER}", month),
        "API statement district month": ("/api/supervision/services/statement", {"area_id": "2"}),
        "API statement district last month": (
            "/api/supervision/services/statement",
            {"area_id": "2", "month": last_month},
        ),
    }


def measure_monitor_api(client: Any, headers: dict[str, str], today: date, repeats: int) -> dict[str, dict[str, Any]]:
    """`monitor_api_requests`, each `repeats` times: ms percentiles and the answer's totals."""
    results: dict[str, dict[str, Any]] = {}
    for name, (path, params) in monitor_api_requests(today).items():
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(path, params=params, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        body = response.json()
        totals = body.get("totals") or {"metrics": len(body["metrics"]), "bed_exits": len(body["night_bed_exits"])}
        results[name] = {"ms": percentiles(timings), "totals": totals, "bytes": len(response.content)}
        print(f"  {name:<34} p50 {results[name]['ms']['p50']:>8} p95 {results[name]['ms']['p95']:>8}", flush=True)
    return results


def run(url: str, args: argparse.Namespace, now: datetime, report: Report) -> None:
    """Build, refresh, measure."""
    upgrade(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=1, max_overflow=0)
    try:
        district = build(engine, args, now)
        report.add("district: residents / alarms / tasks / telemetry rows",
                   " / ".join(str(district["rows"][t]) for t in ("resident", "alarm", "task", "telemetry")),
                   "district")  # fmt: skip
        report.add("district build (s)", district["seconds"], "build_s")
        seconds, summary, counts = refresh(engine, now, full=True)
        report.add("rollups: full build (s)", round(seconds, 2), "refresh_full_s")
        report.add("rollups: rows alarm hourly / task daily / telemetry hourly",
                   " / ".join(str(v) for v in counts.values()), "rollup_rows")  # fmt: skip
        with Session(engine) as session:
            execute_script(session, CHANGES, {})
            session.commit()
        later = now + timedelta(minutes=5)
        seconds, summary, _ = refresh(engine, later, full=False)
        report.add("rollups: incremental refresh after changes (s)", round(seconds, 2), "refresh_incremental_s")
        report.add("rollups: incremental refresh recomputed", summary, "refresh_incremental")
        seconds, summary, _ = refresh(engine, later + timedelta(minutes=5), full=False)
        report.add("rollups: next refresh, nothing changed (s)", round(seconds, 2), "refresh_steady_s")
        report.add("rollups: next refresh recomputed (the 14-day lookback)", summary, "refresh_steady")
        refreshed = later + timedelta(minutes=5)  # the last refresh: the sections' clock
        wanted = requests(now, args.days) | monitor_requests(now) | section_requests(engine, refreshed, args.days)
        results = measure(engine, wanted, args.repeats)
        report.data["requests"] = results
        worst = max(row["rollup_ms"]["p95"] for row in results.values())
        report.add("worst rollup p95 (ms) / target", f"{worst} / {TARGET_P95_MS}", "worst_rollup_p95_ms")
        report.add("worst raw p95 (ms)", max(row["raw_ms"]["p95"] for row in results.values()), "worst_raw_p95_ms")
        report.add("every request: rollup figures == raw figures", all(r["same_figures"] for r in results.values()),
                   "all_same")  # fmt: skip
        report.data["target_met"] = worst <= TARGET_P95_MS
        if args.api_repeats:
            api = measure_api(url, refreshed, args.days, args.api_repeats)
            report.data["api"] = api
            report.add(
                "API sections: worst p95 (ms)", max(row["ms"]["p95"] for row in api.values()), "api_worst_p95_ms"
            )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> Path:
    """Build the district, measure, write the JSON; returns its path."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--alarms-per-day", type=int, default=1500)
    parser.add_argument("--terminals", type=int, default=300)
    parser.add_argument("--sample-minutes", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--api-repeats", type=int, default=5, help="requests per API section (0: none)")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="the clock's instant (ISO, aware)")
    parser.add_argument("--url", default=None, help="an existing migrated, empty database instead of a fresh one")
    parser.add_argument("--results-dir", type=Path, default=None, help="where the JSON goes (default bench/results)")
    args = parser.parse_args(argv)
    now = (args.now or datetime.now(UTC)).astimezone(UTC)
    report = Report("dashboards")
    report.add("clock", now.isoformat(), "now")
    report.add("size: residents / days / alarms a day / terminals / sample minutes / repeats",
               f"{args.residents} / {args.days} / {args.alarms_per_day} / {args.terminals} / {args.sample_minutes}"
               f" / {args.repeats}", "size")  # fmt: skip
    report.data["arguments"] = {k: v for k, v in vars(args).items() if k not in ("now", "url", "results_dir")}
    if args.url:
        run(args.url, args, now, report)
    else:
        with private_postgres("dashboards", "bench_dashboards") as (_, postgres):
            run(postgres.url, args, now, report)
    if args.results_dir is None:
        return report.finish()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path: Path = args.results_dir / f"dashboards-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    payload = {
        "benchmark": "dashboards",
        "machine": machine(),
        "results": report.data,
        "at": datetime.now(UTC).isoformat(),
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    print(f"  results written to {path}")
    return path


if __name__ == "__main__":
    main()
