"""Writing the history: COPY per table in foreign-key order, the task traces derived from the task rows in one
statement, the links that point both ways set last, the id sequences moved past the written rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from eldercare_common.geo import haversine_m_sql
from eldercare_platform.seed.history.book import ID_TABLES, Book, Row

TASK_COLUMNS = (
    "id",
    "kind",
    "status",
    "source",
    "service",
    "slot",
    "resident_id",
    "household_id",
    "area_id",
    "area_path",
    "device_serial",
    "alarm_id",
    "assignee_staff_id",
    "care_plan_id",
    "meal_order_id",
    "follow_up_of",
    "window_start",
    "window_end",
    "due_at",
    "duration_minutes",
    "priority",
    "required_skill",
    "status_reason",
    "notes",
    "created_at",
    "created_by",
    "assigned_at",
    "published_at",
    "accepted_at",
    "en_route_at",
    "checked_in_at",
    "completed_at",
    "check_in_latitude",
    "check_in_longitude",
    "check_out_latitude",
    "check_out_longitude",
    "findings",
    "problem_found",
    "updated_at",
    "updated_by",
    "planned_start",
)
ALARM_COLUMNS = (
    "id",
    "source_key",
    "type",
    "priority",
    "state",
    "incident_id",
    "resident_id",
    "household_id",
    "care_center_id",
    "area_path",
    "device_serial",
    "opened_at",
    "last_event_at",
    "ack_due_at",
    "reach_due_at",
    "resolve_due_at",
    "acknowledged_at",
    "acknowledged_by",
    "reached_at",
    "reach_method",
    "dispatched",
    "resolved_at",
    "resolved_by",
    "outcome",
    "resolution_notes",
    "escalation_level",
    "escalated_at",
    "substitute_cover_required",
    "source",
    "meal_order_id",
)
ORDER_COLUMNS = (
    "id",
    "resident_id",
    "meal_point_id",
    "service_date",
    "meal",
    "mode",
    "diet",
    "source",
    "status",
    "status_reason",
    "care_plan_id",
    "deadline",
    "ordered_at",
    "ordered_by",
    "collected_at",
    "collected_via",
    "updated_at",
)
STATE_COLUMNS = (
    "id",
    "resident_id",
    "kind",
    "starts_at",
    "ends_at",
    "reason",
    "recorded_at",
    "recorded_by",
    "ended_at",
    "ended_by",
)
EVENT_COLUMNS = ("id", "device_serial", "event_id", "event_type", "device_time", "received_at", "payload")
TRANSITION_COLUMNS = ("alarm_id", "at", "user_id", "action", "from_state", "to_state", "reason", "detail")
TELEMETRY_COLUMNS = ("time", "device_serial", "seq", "device_time", "kind", "data")
JSON_COLUMNS = frozenset({"findings", "payload", "detail"})

TASK_TRACE = """
INSERT INTO task_event (task_id, at, user_id, staff_id, action, from_status, to_status, reason, detail)
SELECT t.id, e.at, e.user_id, e.staff_id, e.action, e.from_status, e.to_status, e.reason, e.detail
FROM task t
LEFT JOIN household h ON h.id = t.household_id
LEFT JOIN LATERAL (SELECT min(u.id) AS id FROM app_user u WHERE u.staff_id = t.assignee_staff_id) u ON true
CROSS JOIN LATERAL (
    SELECT CASE WHEN t.en_route_at IS NOT NULL THEN 'en_route' WHEN t.published_at IS NOT NULL THEN 'published'
                WHEN t.assigned_at IS NOT NULL THEN 'assigned' ELSE 'planned' END AS reached,
           round({IN_M}::numeric, 1)::float8 AS in_m,
           round({OUT_M}::numeric, 1)::float8 AS out_m
) x
CROSS JOIN LATERAL (VALUES
    (t.created_at, t.created_by, NULL::integer, 'created', NULL::text, 'planned', NULL::text,
     jsonb_build_object('source', t.source, 'kind', t.kind)),
    (t.assigned_at, t.created_by, t.assignee_staff_id, 'assigned', 'planned', 'assigned', NULL,
     jsonb_build_object('to_staff_id', t.assignee_staff_id)),
    (t.published_at, t.created_by, NULL, 'published', 'assigned', 'published', NULL, '{}'::jsonb),
    (CASE WHEN t.accepted_at < t.en_route_at THEN t.accepted_at END, u.id, t.assignee_staff_id, 'accepted',
     'published', 'published', NULL,
     jsonb_build_object('received_at', t.accepted_at)),
    (t.en_route_at, u.id, t.assignee_staff_id, 'en_route', 'published', 'en_route', NULL,
     jsonb_build_object('received_at', t.en_route_at)),
    (t.checked_in_at, u.id, t.assignee_staff_id, 'checked_in', 'en_route', 'checked_in', NULL,
     jsonb_build_object('received_at', t.checked_in_at, 'latitude', t.check_in_latitude,
                        'longitude', t.check_in_longitude, 'distance_m', x.in_m,
                        'location_verified', x.in_m <= %(verified)s, 'verified_within_m', %(verified)s)),
    (CASE WHEN t.status = 'completed' THEN t.completed_at END, u.id, t.assignee_staff_id, 'completed', 'checked_in',
     'completed', NULL,
     jsonb_build_object('received_at', t.completed_at, 'latitude', t.check_out_latitude,
                        'longitude', t.check_out_longitude, 'distance_m', x.out_m, 'problem_found', t.problem_found)),
    (CASE WHEN t.status IN ('missed', 'cancelled', 'suspended') THEN t.updated_at END,
     t.updated_by, CASE WHEN t.status_reason = 'no_answer' THEN t.assignee_staff_id END,
     CASE WHEN t.status_reason = 'no_answer' THEN 'no_answer' ELSE t.status END, x.reached, t.status, t.status_reason,
     CASE WHEN t.status_reason = 'not_done_in_time'
          THEN jsonb_build_object('reason_code', 'not_done_in_time', 'window_end', t.window_end, 'after_minutes', 30)
          WHEN t.status = 'suspended' THEN jsonb_build_object('reason_code', t.status_reason)
          ELSE '{}'::jsonb END)
) e(at, user_id, staff_id, action, from_status, to_status, reason, detail)
WHERE t.id >= %(first)s AND t.id < %(last)s AND e.at IS NOT NULL
""".replace(
    "{IN_M}", haversine_m_sql("h.latitude", "h.longitude", "t.check_in_latitude", "t.check_in_longitude")
).replace("{OUT_M}", haversine_m_sql("h.latitude", "h.longitude", "t.check_out_latitude", "t.check_out_longitude"))
"""A task's trace from its columns (the steps tasks/work.py and the engine's jobs write): created, assigned and
published (by the nightly plan or whoever made it), accepted, en route, checked in and completed by the assignee
(with the positions and their distance from the home), or missed / no answer / cancelled / suspended with the
reason."""


def _value(column: str, value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, default=str) if column in JSON_COLUMNS else value


def copy_rows(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
    """COPY dict rows (the named columns) into a table; returns how many."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    written = 0
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([_value(c, row[c]) for c in columns])
            written += 1
    return written


def copy_tuples(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY tuples (already in column order; JSON already text) into a table."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    written = 0
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def write_book(cur: psycopg.Cursor[Any], book: Book, *, first_task_id: int, verified_within_m: float) -> dict[str, int]:
    """Every row of the book, in foreign-key order; returns the rows written per table."""
    counts: dict[str, int] = {}
    counts["resident_state"] = copy_rows(cur, "resident_state", STATE_COLUMNS, book.states)
    counts["device_event"] = copy_rows(cur, "device_event", EVENT_COLUMNS, book.device_events)
    counts["meal_order"] = copy_rows(cur, "meal_order", ORDER_COLUMNS, book.orders)
    counts["alarm"] = copy_rows(cur, "alarm", ALARM_COLUMNS, sorted(book.alarms, key=lambda a: a["id"]))
    counts["alarm_event"] = copy_tuples(
        cur, "alarm_event", ("alarm_id", "device_event_id"), ((e["alarm_id"], e["id"]) for e in book.device_events)
    )
    counts["alarm_transition"] = copy_tuples(
        cur,
        "alarm_transition",
        TRANSITION_COLUMNS,
        (
            (*line[:7], json.dumps(line[7], ensure_ascii=False, default=str))
            for line in sorted(book.transitions, key=lambda line: (line[0], line[1]))
        ),
    )
    counts["task"] = copy_rows(cur, "task", TASK_COLUMNS, sorted(book.tasks, key=lambda t: t["id"]))
    cur.execute(TASK_TRACE, {"first": first_task_id, "last": book.next_id["task"], "verified": verified_within_m})
    counts["task_event"] = cur.rowcount
    links = [
        (o["id"], o["task_id"], o["welfare_alarm_id"]) for o in book.orders if o["task_id"] or o["welfare_alarm_id"]
    ]
    if links:
        cur.execute(
            "UPDATE meal_order o SET task_id = l.task, welfare_alarm_id = l.alarm"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS l(id, task, alarm) WHERE o.id = l.id",
            ([i for i, _, _ in links], [t for _, t, _ in links], [a for _, _, a in links]),
        )
    calls = [(a["id"], a["task_id"]) for a in book.alarms if a["task_id"] is not None]
    if calls:
        cur.execute(
            "UPDATE alarm a SET task_id = l.task FROM unnest(%s::bigint[], %s::bigint[]) AS l(id, task)"
            " WHERE a.id = l.id",
            ([i for i, _ in calls], [t for _, t in calls]),
        )
    counts["telemetry"] = copy_tuples(cur, "telemetry", TELEMETRY_COLUMNS, book.telemetry)
    for status in book.statuses:
        cur.execute(
            "INSERT INTO device_status (device_serial, online, last_seen_at, last_heartbeat_at, battery_pct,"
            " signal_dbm, mains_power, firmware, changed_at) VALUES (%(device_serial)s, %(online)s, %(last_seen_at)s,"
            " %(last_heartbeat_at)s, %(battery_pct)s, %(signal_dbm)s, %(mains_power)s, %(firmware)s, %(changed_at)s)"
            " ON CONFLICT (device_serial) DO UPDATE SET online = EXCLUDED.online, last_seen_at = EXCLUDED.last_seen_at,"
            " last_heartbeat_at = EXCLUDED.last_heartbeat_at, battery_pct = EXCLUDED.battery_pct,"
            " signal_dbm = EXCLUDED.signal_dbm, changed_at = EXCLUDED.changed_at",
            status,
        )
    counts["device_status"] = len(book.statuses)
    if book.terminal_residents:
        cur.execute(
            "UPDATE device d SET resident_id = l.resident FROM unnest(%s::text[], %s::int[]) AS l(serial, resident)"
            " WHERE d.serial = l.serial",
            (list(book.terminal_residents), list(book.terminal_residents.values())),
        )
    if book.discharged:
        cur.execute(
            "UPDATE resident r SET reassessment_due_on = l.day, updated_at = %s"
            " FROM unnest(%s::int[], %s::date[]) AS l(id, day) WHERE r.id = l.id",
            (book.now, list(book.discharged), list(book.discharged.values())),
        )
    for table in ID_TABLES:
        cur.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                " greatest(%s - 1, (SELECT coalesce(max(id), 1) FROM {})))"
            ).format(sql.Identifier(table)),
            (table, book.next_id[table]),
        )
    return counts
