"""The alarm center's SQL, named in one place (the service and the jobs run these; views never hold SQL)."""

from __future__ import annotations

ALARM_SELECT = """
SELECT a.*, t.label_zh AS type_label_zh, t.label_en AS type_label_en,
       r.name AS resident_name, r.birth_date, h.address, ar.name AS community,
       u.full_name AS acknowledged_by_name,
       (SELECT dv.institution_id FROM device dv WHERE dv.serial = a.device_serial) AS institution_id,
       ARRAY(SELECT o.id FROM alarm o WHERE o.source_key = a.source_key AND o.id <> a.id
             AND o.state <> 'resolved' ORDER BY o.id) AS linked
FROM alarm a
JOIN alarm_type t ON t.type = a.type
LEFT JOIN resident r ON r.id = a.resident_id
LEFT JOIN household h ON h.id = a.household_id
LEFT JOIN area ar ON ar.id = h.area_id
LEFT JOIN app_user u ON u.id = a.acknowledged_by
"""

LATEST_VERSION = "SELECT coalesce(max(version), 0) FROM alarm"
"""The newest alarm version: what a console has seen once it caught up."""

CHANGED_IDS = "SELECT id FROM alarm WHERE version > :v ORDER BY version LIMIT :limit"

TRACE = (
    "SELECT t.at, t.action, t.from_state, t.to_state, u.full_name AS user_name, t.reason, t.detail"
    " FROM alarm_transition t LEFT JOIN app_user u ON u.id = t.user_id"
    " WHERE t.alarm_id = :id ORDER BY t.at, t.id"
)

RECORD_TRANSITION = (
    "WITH traced AS (INSERT INTO alarm_transition"
    " (alarm_id, at, user_id, action, from_state, to_state, reason, detail)"
    " VALUES (:alarm, :at, :user, :action, :from_state, :to_state, :reason, :detail))"
    " SELECT pg_notify(:channel, :id)"  # one round trip: the intake pays for each under load
)

CURRENT_STATE = (
    "SELECT a.state, a.acknowledged_at, u.full_name FROM alarm a"
    " LEFT JOIN app_user u ON u.id = a.acknowledged_by WHERE a.id = :id"
)

BUMP_VERSION = "UPDATE alarm SET version = nextval('alarm_version_seq') WHERE id = :id"

FEEDBACK_TARGET = (
    "SELECT e.device_serial, e.event_id FROM alarm_event ae JOIN device_event e ON e.id = ae.device_event_id"
    " WHERE ae.alarm_id = :id ORDER BY e.received_at DESC, e.id DESC LIMIT 1"
)

ACKNOWLEDGE = (
    "UPDATE alarm SET state = 'acknowledged', acknowledged_at = :now, acknowledged_by = :user,"
    " version = nextval('alarm_version_seq') WHERE id = :id AND state = 'new' RETURNING id"
)

ACT = (
    "UPDATE alarm a SET state = 'in_progress', version = nextval('alarm_version_seq'),"
    " reached_at = CASE WHEN :reached THEN coalesce(a.reached_at, :now) ELSE a.reached_at END,"
    " reach_method = CASE WHEN :reached THEN coalesce(a.reach_method, 'phone') ELSE a.reach_method END,"
    " dispatched = a.dispatched OR :dispatching"
    " FROM alarm old WHERE a.id = :id AND old.id = a.id AND a.state IN ('acknowledged', 'in_progress')"
    " RETURNING old.state"
)

LOCK_FOR_RESOLVE = "SELECT state, dispatched, resident_id, type FROM alarm WHERE id = :id FOR UPDATE"

ALARM_FACTS = "SELECT source, resident_id, household_id, area_path, device_serial FROM alarm WHERE id = :id"
"""What a visit about the alarm copies from it."""

MARK_DISPATCHED = "UPDATE alarm SET dispatched = true, version = nextval('alarm_version_seq') WHERE id = :id"

STAFF_NAME = "SELECT name FROM staff WHERE id = :id"

RESOLVE = (
    "UPDATE alarm SET state = 'resolved', resolved_at = :now, resolved_by = :user, outcome = :outcome,"
    " reach_method = :method, resolution_notes = :notes, version = nextval('alarm_version_seq'),"
    " reached_at = CASE WHEN :method <> 'not_reached' THEN coalesce(reached_at, :now) ELSE reached_at END"
    " WHERE id = :id"
)

RESOLVE_AS_AWAY = (
    "UPDATE alarm SET state = 'resolved', acknowledged_at = coalesce(acknowledged_at, :now), resolved_at = :now,"
    " outcome = 'resident_away', resolution_notes = :notes, version = nextval('alarm_version_seq') WHERE id = :id"
)
"""The system closes an inactivity/silent-device alarm of a resident in hospital or away (alarms/intake.py)."""

TASK_FOR_ALARM = (
    "INSERT INTO task (kind, status, source, resident_id, household_id, device_serial, alarm_id,"
    " assignee_staff_id, due_at, window_start, window_end, priority, area_path, area_id, created_at, created_by,"
    " assigned_at, notes)"
    " SELECT :kind, CASE WHEN CAST(:staff AS integer) IS NULL THEN 'planned' ELSE 'assigned' END,"
    " CASE WHEN :kind = 'alarm_response' THEN 'alarm' ELSE 'device' END,"
    " resident_id, household_id, device_serial, id, :staff, :due, :now, :due,"
    " CASE WHEN :kind = 'alarm_response' THEN 1 ELSE 3 END, area_path,"
    " (SELECT area_id FROM household WHERE household.id = alarm.household_id), :now, :user,"
    " CASE WHEN CAST(:staff AS integer) IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END,"
    " replace(CAST(:notes AS text), '{type}', type)"
    " FROM alarm WHERE id = :id ON CONFLICT DO NOTHING RETURNING id"
)
"""The one task INSERT about an alarm, copying who and where from it. `{type}` in the notes becomes
the alarm's type. At most one open maintenance/substitute-cover task per alarm (`uq_task_alarm_kind`): a
second one is skipped (no id returned)."""

ALARM_TYPES = "SELECT * FROM alarm_type ORDER BY priority, type"

UPDATE_ALARM_TYPE = (
    "UPDATE alarm_type SET priority = :priority, ack_within_s = coalesce(:ack, ack_within_s),"
    " reach_within_s = coalesce(:reach, reach_within_s),"
    " resolve_within_s = coalesce(:resolve, resolve_within_s),"
    " updated_at = :now, updated_by = :user WHERE type = :type RETURNING *"
)

CARD_TASK = (
    "SELECT t.*, r.name AS resident_name, h.address, s.name AS assignee_name FROM task t"
    " LEFT JOIN resident r ON r.id = t.resident_id LEFT JOIN household h ON h.id = t.household_id"
    " LEFT JOIN staff s ON s.id = t.assignee_staff_id WHERE t.id = :id"
)
"""The task behind a welfare call, for the card."""

OPEN_WELFARE_CALL_OF = (
    "SELECT id FROM alarm WHERE source = 'welfare' AND source_key = :source_key AND type = :type"
    " AND state <> 'resolved' ORDER BY id LIMIT 1"
)
"""The resident's open welfare call of a type (at most one is open)."""
