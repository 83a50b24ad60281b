"""The planning domain's SQL, named in one place (the plan tables are written by migration 0010)."""

PROBLEM_TASKS = """
SELECT t.id, t.kind, t.status, t.resident_id, t.assignee_staff_id, t.window_start, t.window_end, t.duration_minutes,
       t.priority, t.required_skill, t.service, t.checked_in_at, h.latitude, h.longitude,
       mo.meal, mo.service_date, mp.id AS meal_point_id, mp.latitude AS meal_point_latitude,
       mp.longitude AS meal_point_longitude
FROM task t
LEFT JOIN household h ON h.id = t.household_id
LEFT JOIN meal_order mo ON mo.id = t.meal_order_id
LEFT JOIN meal_point mp ON mp.id = mo.meal_point_id
WHERE t.area_path LIKE :path || '%' AND t.window_start >= :start AND t.window_start < :end
  AND t.status IN ('planned', 'assigned', 'published', 'en_route', 'checked_in')
ORDER BY t.window_start, t.priority, t.id
"""
"""The community's open tasks of the local day (window start in the day), with the home and, for a meal
delivery, the meal and its meal point."""

DONE_IN_SHIFT = """
SELECT sh.id AS shift_id, count(t.id) AS done
FROM shift sh JOIN task t ON t.assignee_staff_id = sh.staff_id AND t.status = 'completed'
 AND t.window_start >= sh.starts_at AND t.window_start < sh.ends_at
WHERE sh.id = ANY(CAST(:shifts AS bigint[]))
GROUP BY sh.id
"""
"""Tasks already completed in each shift (they count against `max_tasks_per_shift`)."""

LAST_COMPLETED = """
SELECT DISTINCT ON (t.assignee_staff_id) t.assignee_staff_id AS staff_id, t.completed_at, h.latitude, h.longitude
FROM task t JOIN household h ON h.id = t.household_id
WHERE t.assignee_staff_id = ANY(CAST(:staff AS integer[])) AND t.status = 'completed'
  AND t.completed_at >= :start AND t.completed_at <= :now AND h.latitude IS NOT NULL
ORDER BY t.assignee_staff_id, t.completed_at DESC
"""
"""Where each caregiver was last seen working today: the home of their last completed task."""

CONTINUITY = """
SELECT t.resident_id, t.assignee_staff_id AS staff_id, count(*) AS visits
FROM task t
WHERE t.resident_id = ANY(CAST(:residents AS integer[])) AND t.status = 'completed'
  AND t.assignee_staff_id IS NOT NULL AND t.completed_at >= :since AND t.completed_at < :now
GROUP BY t.resident_id, t.assignee_staff_id
"""
"""Who served each resident over the continuity window (completed tasks per staff member)."""

FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
    SELECT 't' || t.id || ':' || CASE WHEN t.status = 'planned' THEN 'u'
                                      WHEN t.status IN ('cancelled', 'suspended', 'missed') THEN 'x' ELSE 'a' END
           || ':' || extract(epoch FROM t.window_start)::bigint || ':'
           || coalesce(extract(epoch FROM t.window_end)::bigint, 0) || ':' || t.priority AS item
    FROM task t
    WHERE t.area_path LIKE :path || '%' AND t.window_start >= :start AND t.window_start < :end
    UNION ALL
    SELECT 's' || sh.id || ':' || extract(epoch FROM sh.starts_at)::bigint || ':'
           || extract(epoch FROM sh.ends_at)::bigint
    FROM shift sh JOIN staff s ON s.id = sh.staff_id JOIN area a ON a.id = s.home_area_id
    WHERE s.active AND a.path LIKE :path || '%' AND sh.starts_at < :end AND sh.ends_at > :start
    UNION ALL
    SELECT 'l' || l.id || ':' || extract(epoch FROM l.starts_at)::bigint || ':' || extract(epoch FROM l.ends_at)::bigint
    FROM staff_leave l JOIN staff s ON s.id = l.staff_id JOIN area a ON a.id = s.home_area_id
    WHERE l.cancelled_at IS NULL AND a.path LIKE :path || '%' AND l.starts_at < :end AND l.ends_at > :start
) items
"""
"""What an intraday replan reacts to, as one hash: the day's tasks (created, cancelled, suspended, missed, given
back to planning, rescheduled, reprioritised; not their progress), the shifts and the leave of the community's
staff. Stored with each plan (`inputs.fingerprint`, taken after the plan was applied)."""

INSERT_PLAN = """
INSERT INTO plan (area_id, area_path, day, kind, status, trigger, solver, settings, inputs, cost, changes, error,
                  previous_plan_id, runtime_ms, created_at, created_by)
VALUES (:area, :path, :day, :kind, :status, CAST(:trigger AS jsonb), :solver, CAST(:settings AS jsonb),
        CAST(:inputs AS jsonb), CAST(:cost AS jsonb), CAST(:changes AS jsonb), :error, :previous, :runtime, :now, :user)
RETURNING id
"""

INSERT_STOPS = """
INSERT INTO plan_stop (plan_id, task_id, staff_id, shift_id, sequence, planned_start, planned_end, travel_km,
                       travel_minutes, pinned)
SELECT :plan, * FROM unnest(CAST(:tasks AS bigint[]), CAST(:staff AS integer[]), CAST(:shifts AS bigint[]),
                            CAST(:sequences AS smallint[]), CAST(:starts AS timestamptz[]),
                            CAST(:ends AS timestamptz[]), CAST(:km AS double precision[]),
                            CAST(:minutes AS double precision[]), CAST(:pinned AS boolean[]))
"""

INSERT_UNASSIGNED = """
INSERT INTO plan_unassigned (plan_id, task_id, reason, detail)
SELECT :plan, task_id, reason, CAST(detail AS jsonb)
FROM unnest(CAST(:tasks AS bigint[]), CAST(:reasons AS text[]), CAST(:details AS text[])) AS u(task_id, reason, detail)
"""

PREVIOUS_PUBLISHED = """
SELECT id FROM plan WHERE area_id = :area AND day = :day AND published_at IS NOT NULL AND id <> :exclude
ORDER BY published_at DESC, id DESC LIMIT 1
"""
"""The plan the caregivers last saw for the area's day (published, possibly superseded since)."""

PLAN_STOPS_OF = "SELECT task_id, staff_id, planned_start FROM plan_stop WHERE plan_id = :plan"
PLAN_UNASSIGNED_OF = "SELECT task_id, reason FROM plan_unassigned WHERE plan_id = :plan"

SUPERSEDE = """
UPDATE plan SET status = 'superseded'
WHERE area_id = :area AND day = :day AND id <> :plan AND status IN ('draft', 'published')
RETURNING id
"""

LATEST_PLAN = """
SELECT id, kind, status, inputs->>'fingerprint' AS fingerprint, created_at FROM plan
WHERE area_id = :area AND day = :day ORDER BY created_at DESC, id DESC LIMIT 1
"""

NIGHTLY_DUE = """
SELECT a.id FROM area a
WHERE a.level = 'community' AND a.path LIKE :within || '%'
  AND EXISTS (SELECT 1 FROM task t WHERE t.area_path LIKE a.path || '%' AND t.window_start >= :start
              AND t.window_start < :end AND t.status IN ('planned', 'assigned', 'published', 'en_route', 'checked_in'))
  AND NOT EXISTS (SELECT 1 FROM plan p WHERE p.area_id = a.id AND p.day = :day AND p.kind = 'nightly'
                  AND p.published_at IS NOT NULL)
ORDER BY a.path
"""
"""Communities with open tasks on the day and no nightly plan published for it yet."""

LIVE_DAYS = """
SELECT DISTINCT p.area_id FROM plan p
WHERE p.day = :day AND p.published_at IS NOT NULL AND p.area_path LIKE :within || '%'
ORDER BY p.area_id
"""
"""Communities whose day is live: some plan of it has been published."""

UNPLANNED = """
SELECT a.id FROM area a
WHERE a.level = 'community' AND a.path LIKE :within || '%'
  AND EXISTS (SELECT 1 FROM task t WHERE t.area_path LIKE a.path || '%' AND t.window_start >= :start
              AND t.window_start < :end AND t.status IN ('planned', 'assigned', 'published', 'en_route', 'checked_in'))
  AND NOT EXISTS (SELECT 1 FROM plan p WHERE p.area_id = a.id AND p.day = :day)
ORDER BY a.path
"""
"""Communities with open tasks on the day and no plan of any kind for it."""
