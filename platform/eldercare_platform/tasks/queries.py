"""The task engine's SQL, named in one place."""

INSERT_TASK = """
INSERT INTO task (kind, status, source, resident_id, household_id, device_serial, alarm_id, assignee_staff_id,
                  service, slot, care_plan_id, area_id, area_path, window_start, window_end, due_at,
                  duration_minutes, priority, required_skill, follow_up_of, meal_order_id, notes,
                  created_at, created_by, assigned_at, updated_at, updated_by)
SELECT :kind, CASE WHEN CAST(:staff AS integer) IS NULL THEN 'planned' ELSE 'assigned' END, :source,
       :resident, coalesce(CAST(:household AS integer), r.household_id), :serial, :alarm, :staff,
       :service, :slot, :care_plan, h.id_area, coalesce(CAST(:area_path AS text), a.path),
       :window_start, :window_end, :window_end, :duration, :priority, :skill, :follow_up_of, :meal_order, :notes,
       :now, :user, CASE WHEN CAST(:staff AS integer) IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END,
       :now, :user
FROM (SELECT 1) one
LEFT JOIN resident r ON r.id = :resident
LEFT JOIN LATERAL (SELECT hh.id, hh.area_id AS id_area FROM household hh
                   WHERE hh.id = coalesce(CAST(:household AS integer), r.household_id)) h ON true
LEFT JOIN area a ON a.id = h.id_area
ON CONFLICT DO NOTHING
RETURNING id, status
"""
"""The one task INSERT. Where the task is (area, path) comes from the resident's home; a generated task's
(resident, service, slot) key makes a second insert of the same slot a no-op (no row returned)."""

INSERT_EVENT = """
INSERT INTO task_event (task_id, at, user_id, staff_id, action, from_status, to_status, reason, detail)
VALUES (:task, :now, :user, :staff, :action, :from_status, :to_status, :reason, CAST(:detail AS jsonb))
"""

TRACE = """
SELECT e.id, e.at, e.action, e.from_status, e.to_status, e.reason, e.detail, e.user_id, e.staff_id,
       u.full_name AS user_name, s.name AS staff_name
FROM task_event e LEFT JOIN app_user u ON u.id = e.user_id LEFT JOIN staff s ON s.id = e.staff_id
WHERE e.task_id = :task ORDER BY e.at, e.id
"""

TASK_SELECT = """
SELECT t.id, t.kind, t.status, t.source, t.service, t.slot, t.priority, t.resident_id, r.name AS resident_name,
       t.household_id, h.address, t.area_id, t.alarm_id, t.meal_order_id, t.follow_up_of, t.assignee_staff_id,
       s.name AS assignee_name, t.window_start, t.window_end, t.duration_minutes, t.required_skill,
       t.status_reason, t.notes, t.assigned_at, t.published_at, t.accepted_at, t.en_route_at, t.checked_in_at,
       t.completed_at, t.problem_found, t.findings, t.version, t.area_path,
       r.phone AS resident_phone, h.access_notes, h.latitude AS home_latitude, h.longitude AS home_longitude,
       t.check_in_latitude, t.check_in_longitude, t.check_out_latitude, t.check_out_longitude,
       t.plan_id, t.route_sequence, t.planned_start,
       t.acknowledged_at, t.acknowledged_version, r.birth_date AS resident_birth_date,
       ARRAY(SELECT p.id FROM task_photo p WHERE p.task_id = t.id ORDER BY p.id) AS photo_ids,
       mp.name AS meal_point_name, mp.address AS meal_point_address, mp.latitude AS meal_point_latitude,
       mp.longitude AS meal_point_longitude
FROM task t
LEFT JOIN resident r ON r.id = t.resident_id
LEFT JOIN household h ON h.id = t.household_id
LEFT JOIN staff s ON s.id = t.assignee_staff_id
LEFT JOIN meal_order mo ON mo.id = t.meal_order_id
LEFT JOIN meal_point mp ON mp.id = mo.meal_point_id
"""
"""A task with its resident, home, assignee, photos and (a meal delivery) meal point: the board, the caregiver's
list, the EVV block."""

ROUTE_ORDER = "coalesce(t.planned_start, t.window_start), t.route_sequence NULLS LAST, t.window_start, t.priority, t.id"
"""A caregiver's day in route order: planned start (else window start), route sequence, window start."""

LOCK_TASK = """
SELECT t.id, t.status, t.kind, t.source, t.resident_id, t.household_id, t.alarm_id, t.assignee_staff_id,
       t.area_path, t.window_start, t.window_end, t.required_skill, t.priority, t.accepted_at, t.en_route_at,
       t.checked_in_at, t.follow_up_of, t.service, t.duration_minutes, t.notes, t.completed_at, t.version,
       t.acknowledged_version, t.meal_order_id, h.latitude AS home_latitude, h.longitude AS home_longitude
FROM task t LEFT JOIN household h ON h.id = t.household_id
WHERE t.id = :id
"""
"""A task's facts for a change; the caller adds its scope clause and `FOR UPDATE OF t`."""
