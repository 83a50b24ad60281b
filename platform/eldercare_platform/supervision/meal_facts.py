"""What a meal order counts as in the `meals` section (docs/supervision.md, "Meals"): one SQL definition, used by the
section on raw rows, by the rollup refresh (which stores it per order, `rollup_meal_order`, migration 0018) and by
the section's rollup path for the orders it reads raw.

An order is located at its resident's home (the household's area); `o` is `meal_order`, `w` the order's welfare
call (`alarm`, LEFT JOINed on `o.welfare_alarm_id`).
"""

from __future__ import annotations

FOLLOWED = """CASE WHEN w.id IS NULL THEN 'no_call' WHEN w.resolved_at IS NULL THEN 'open'
                   ELSE coalesce(w.outcome, 'resolved') END"""
"""What followed a not-collected order: the welfare call's outcome once resolved, `open` while not, `no_call`."""

SETTLED = "(o.status IN ('collected', 'delivered', 'not_collected') OR (o.status = 'ordered' AND o.deadline <= :now))"
"""An order whose outcome is known or due (the denominator of 送达率)."""

SERVED = "('delivered', 'collected')"

SEATED = "('dine_in', 'pick_up')"
"""Modes that take a seat at the point (delivery does not)."""

FINAL = f"""(o.status IN ('collected', 'delivered', 'cancelled')
           OR (o.status = 'not_collected' AND {FOLLOWED} <> 'open'))"""
"""What an order counts as changes only with a change of its row (or, for a resolved welfare call, of the call's):
collected, delivered, cancelled, or not collected with no call (opening one sets `welfare_alarm_id`) or a resolved
one. An order still `ordered` (settled once its deadline passes) or with an open call is not final."""

FACT_COLUMNS = "order_id, day, resident_id, area_path, meal_point_id, meal, mode, status, followed, deadline, final"

FACTS = f"""
SELECT o.id, o.service_date, o.resident_id, ar.path, o.meal_point_id, o.meal, o.mode, o.status,
       CASE WHEN o.status = 'not_collected' THEN {FOLLOWED} END, o.deadline, {FINAL}
FROM meal_order o
LEFT JOIN resident r ON r.id = o.resident_id
LEFT JOIN household h ON h.id = r.household_id
LEFT JOIN area ar ON ar.id = h.area_id
LEFT JOIN alarm w ON w.id = o.welfare_alarm_id
WHERE o.service_date < :horizon_day AND {{where}}
"""
"""A `rollup_meal_order` row per order of a local day before the refresh's (`area_path` NULL without a home: such an
order counts at its point, not in an area)."""

PREFIXES = """CROSS JOIN LATERAL (
    SELECT '/' || array_to_string(ids.ids[1:k], '/') || '/' AS prefix, k::smallint AS depth
    FROM (SELECT string_to_array(trim(BOTH '/' FROM {path}), '/') AS ids) ids,
         generate_series(1, cardinality(ids.ids)) k) p"""

DAILY = f"""
SELECT f.day, p.prefix, p.depth, f.status, coalesce(f.followed, ''), count(*)::integer
FROM rollup_meal_order f {PREFIXES.format(path="f.area_path")}
WHERE f.final AND f.area_path IS NOT NULL AND {{where}}
GROUP BY 1, 2, 3, 4, 5
"""
"""`rollup_meal_daily`: the final orders per local day, area on the home's path, status and what followed."""

POINT = f"""
SELECT f.day, f.meal_point_id, f.meal, count(*)::integer,
       (count(*) FILTER (WHERE f.mode IN {SEATED}))::integer
FROM rollup_meal_order f
WHERE f.final AND f.status <> 'cancelled' AND {{where}}
GROUP BY 1, 2, 3
"""
"""`rollup_meal_point`: the final orders not cancelled and their seats per local day, point and meal."""

DIRTY = """
SELECT id FROM meal_order WHERE version > :seen
UNION
SELECT o.id FROM alarm a JOIN meal_order o ON o.welfare_alarm_id = a.id WHERE a.version > :alarm_seen
UNION
SELECT order_id FROM rollup_meal_order WHERE NOT final AND {open_where}
"""
"""The orders whose `rollup_meal_order` row may no longer be what they count as: changed since the refresh (their
`version` moved — the resident's or the household's move bumps it —, or they are new), those whose welfare call
changed since (by `alarm.version`), and those that were not final (`open_where`: a condition on the rollup)."""
