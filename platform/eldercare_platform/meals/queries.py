"""The meals domain's SQL, named in one place (service, order generation and the watch run these)."""

from __future__ import annotations

ORDER_SELECT = """
SELECT o.id, o.resident_id, r.name AS resident_name, o.meal_point_id, mp.name AS meal_point_name, o.service_date,
       o.meal, o.mode, o.diet, o.source, o.status, o.status_reason, o.deadline, o.ordered_at, o.collected_at,
       o.collected_via, o.task_id, o.welfare_alarm_id
FROM meal_order o
JOIN resident r ON r.id = o.resident_id
JOIN meal_point mp ON mp.id = o.meal_point_id
"""

INSERT_ORDER = """
INSERT INTO meal_order (resident_id, meal_point_id, service_date, meal, mode, diet, source, status, status_reason,
                        care_plan_id, deadline, ordered_at, ordered_by, collected_at, collected_via)
VALUES (:resident, :point, :day, :meal, :mode, :diet, :source, :status, :reason, :plan, :deadline, :now, :user,
        :collected_at, :collected_via)
ON CONFLICT (resident_id, service_date, meal) DO NOTHING
RETURNING id
"""
"""One order; nothing is written when the resident already has an order (of any status) for that meal."""

SEATS_TAKEN = (
    "SELECT count(*) FROM meal_order WHERE meal_point_id = :point AND service_date = :day AND meal = :meal"
    " AND mode IN ('dine_in', 'pick_up') AND status <> 'cancelled'"
)

LOCK_POINT = "SELECT id, name, area_id, capacity_per_meal, delivers FROM meal_point WHERE id = :id FOR UPDATE"

HOME_OF = (
    "SELECT r.id, r.status, r.household_id, h.area_id, a.path AS area_path FROM resident r"
    " JOIN household h ON h.id = r.household_id JOIN area a ON a.id = h.area_id WHERE r.id = :id"
)

LINK_TASK = "UPDATE meal_order SET task_id = :task WHERE id = :id"

POINT_DAY = """
SELECT meal,
       count(*) FILTER (WHERE status = 'ordered') AS ordered,
       count(*) FILTER (WHERE status = 'collected') AS collected,
       count(*) FILTER (WHERE status = 'delivered') AS delivered,
       count(*) FILTER (WHERE status = 'not_collected') AS not_collected,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status <> 'cancelled' AND mode = 'dine_in') AS dine_in,
       count(*) FILTER (WHERE status <> 'cancelled' AND mode = 'pick_up') AS pick_up,
       count(*) FILTER (WHERE status <> 'cancelled' AND mode = 'delivery') AS delivery
FROM meal_order WHERE meal_point_id = :point AND service_date = :day GROUP BY meal
"""

OVER_CAPACITY = """
SELECT o.meal_point_id, o.service_date, o.meal, mp.area_id, mp.name, mp.capacity_per_meal, count(*) AS seats
FROM meal_order o JOIN meal_point mp ON mp.id = o.meal_point_id
WHERE o.service_date BETWEEN :first AND :last AND o.mode IN ('dine_in', 'pick_up') AND o.status <> 'cancelled'
GROUP BY o.meal_point_id, o.service_date, o.meal, mp.area_id, mp.name, mp.capacity_per_meal
HAVING count(*) > mp.capacity_per_meal
ORDER BY o.meal_point_id, o.service_date, o.meal
"""

CARD_ORDER = """
SELECT o.id, o.service_date, o.meal, o.mode, o.status, o.meal_point_id, mp.name AS meal_point_name,
       mp.phone AS meal_point_phone, o.deadline, o.task_id
FROM meal_order o JOIN meal_point mp ON mp.id = o.meal_point_id WHERE o.id = :id
"""

AWAY_DURING = """
SELECT EXISTS (
    SELECT 1 FROM resident_state WHERE resident_id = :resident AND kind IN ('hospital', 'away_with_family')
    AND starts_at < :until AND coalesce(least(ends_at, ended_at), 'infinity') > :since)
"""
"""Whether the resident is in hospital or away with family at some time in [since, until)."""
