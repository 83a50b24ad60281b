"""The `meal_watch` job: canteen check-ins collect orders, completed deliveries deliver them, and an order still
open after its deadline becomes a welfare call in the operators' queue.

Check-ins arrive from the canteen terminals as `telemetry` rows (kind `meal_checkin`, data `resident_ref`,
`method`, `meal`; docs/device-protocol.md). The job reads them from its watermark (`meal_watch_state`, the
gateway receive time it has read up to) minus a short overlap, so a row committed a little late is still seen;
everything it does is idempotent, so reading a row twice changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alarms import service as alarms
from eldercare_platform.care_plans.models import Meal
from eldercare_platform.core.clock import local_date
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.meals.models import CollectedVia, MealReason, OrderSource, OrderStatus
from eldercare_platform.meals.rules import meal_at, meal_times
from eldercare_platform.meals.service import NOT_STARTED, insert_order
from eldercare_platform.tasks import service as tasks
from eldercare_platform.tasks.models import TaskAction, TaskStatus

READER = "meal_watch"
OVERLAP = timedelta(minutes=10)
"""How far before its watermark the watch rereads (rows the gateway committed after a later one)."""
FIRST_LOOKBACK = timedelta(hours=24)
"""Where the very first run starts reading."""
RESIDENT_REF = re.compile(r"^R([0-9]{6,9})$")
"""A resident's card number: `R` and the resident id in at least 6 digits (R000123 is resident 123)."""
WELFARE_TYPE = MealReason.MEAL_NOT_COLLECTED  # also the alarm type of the welfare call

CHECKINS = """
SELECT t.time, t.device_serial, t.data, cc.area_id AS terminal_area_id
FROM telemetry t
LEFT JOIN device d ON d.serial = t.device_serial
LEFT JOIN care_center cc ON cc.id = d.care_center_id
WHERE t.kind = 'meal_checkin' AND t.time > :since AND t.time <= :now
ORDER BY t.time
"""

COLLECT = """
UPDATE meal_order o SET status = 'collected', collected_at = :at, collected_via = 'terminal', updated_at = :now,
       status_reason = CASE WHEN old.status = 'ordered' THEN o.status_reason ELSE 'checked_in_after_' || old.status END
FROM (SELECT id, status FROM meal_order WHERE resident_id = :resident AND service_date = :day AND meal = :meal
      AND status IN ('ordered', 'not_collected', 'cancelled') FOR UPDATE) old
WHERE o.id = old.id
RETURNING o.id, old.status AS was, o.task_id, o.welfare_alarm_id
"""

POINT_FOR_CHECKIN = """
SELECT coalesce(
    (SELECT mp.id FROM meal_point mp WHERE mp.area_id = CAST(:terminal_area AS integer)
     ORDER BY (mp.kind = 'canteen') DESC, mp.id LIMIT 1),
    (SELECT (m->>'meal_point_id')::int FROM care_plan cp, jsonb_array_elements(cp.meals) m
     WHERE cp.resident_id = :resident AND cp.valid_to IS NULL
       AND EXISTS (SELECT 1 FROM meal_point p WHERE p.id = (m->>'meal_point_id')::int) LIMIT 1),
    (SELECT mp.id FROM meal_point mp JOIN household h ON h.area_id = mp.area_id JOIN resident r ON r.household_id = h.id
     WHERE r.id = :resident ORDER BY mp.id LIMIT 1))
"""
"""Where an unordered check-in ate: a meal point in the terminal's community (a canteen first), else the one in
the resident's meal plan, else one in the resident's community."""

DELIVERED = """
SELECT o.id, o.welfare_alarm_id, o.status, t.completed_at, t.en_route_at, t.findings->>'meal_outcome' AS outcome
FROM meal_order o JOIN task t ON t.id = o.task_id
WHERE o.service_date >= :since AND o.status IN ('ordered', 'not_collected') AND t.status = 'completed'
"""

AWAY_AT_DEADLINE = """
UPDATE meal_order o SET status = 'cancelled', status_reason = 'resident_away', updated_at = :now
FROM resident r
WHERE o.status = 'ordered' AND o.deadline <= :now AND r.id = o.resident_id AND (r.status <> 'active'
   OR EXISTS (SELECT 1 FROM resident_state s WHERE s.resident_id = o.resident_id
              AND (s.kind IN ('moved', 'deceased') AND s.starts_at < o.deadline AND s.ended_at IS NULL
                   OR s.kind IN ('hospital', 'away_with_family') AND s.starts_at < o.deadline
                      AND coalesce(least(s.ends_at, s.ended_at), 'infinity') > o.deadline - interval '3 hours')))
RETURNING o.id
"""
"""Orders of residents no longer at home when the meal was served (a state recorded after the order was made and
not cancelled with it): cancelled, no welfare call."""

PAST_DEADLINE = (
    "UPDATE meal_order SET status = 'not_collected', status_reason = 'deadline_passed', updated_at = :now"
    " WHERE status = 'ordered' AND deadline <= :now RETURNING id, resident_id, service_date, meal, mode"
)


def resident_id_of(ref: Any) -> int | None:
    """The resident a terminal's `resident_ref` names (`R` + the id in 6 or more digits), or None."""
    match = RESIDENT_REF.match(ref) if isinstance(ref, str) else None
    return int(match.group(1)) if match else None


def _meal_of(settings: ServiceRulesMixin, at: datetime, data: dict[str, Any]) -> tuple[Any, Meal]:
    said = data.get("meal")
    if said in {str(meal) for meal in Meal}:
        return local_date(at), Meal(said)
    return meal_at(settings, at)


def _late_note(session: Session, *, alarm_id: int | None, order_id: int, via: str, now: datetime) -> None:
    if alarm_id is not None:
        alarms.note_welfare_call(
            session,
            alarm_id=alarm_id,
            reason=MealReason.MEAL_COLLECTED_LATE,
            detail={"meal_order_id": order_id, "collected_via": via},
            now=now,
        )


def read_checkins(session: Session, *, settings: ServiceRulesMixin, now: datetime) -> dict[str, int]:
    """Check-ins since the watermark: orders collected, ad-hoc dine-in orders for check-ins without one."""
    watermark = session.execute(
        text("SELECT watermark FROM meal_watch_state WHERE reader = :r FOR UPDATE"), {"r": READER}
    ).scalar()
    since = now - FIRST_LOOKBACK if watermark is None else min(watermark, now) - OVERLAP
    counts = {"checkins": 0, "collected": 0, "ad_hoc": 0, "already": 0, "unknown_resident": 0, "no_meal_point": 0}
    rows = session.execute(text(CHECKINS), {"since": since, "now": now}).all()
    ids = {resident_id_of((row.data or {}).get("resident_ref")) for row in rows} - {None}
    known = (
        set(session.execute(text("SELECT id FROM resident WHERE id = ANY(:ids)"), {"ids": list(ids)}).scalars())
        if ids
        else set()
    )
    for row in rows:
        counts["checkins"] += 1
        data = row.data if isinstance(row.data, dict) else {}
        resident_id = resident_id_of(data.get("resident_ref"))
        if resident_id is None or resident_id not in known:
            counts["unknown_resident"] += 1
            continue
        day, meal = _meal_of(settings, row.time, data)
        updated = session.execute(
            text(COLLECT), {"at": row.time, "now": now, "resident": resident_id, "day": day, "meal": str(meal)}
        ).first()
        if updated is not None:
            counts["collected"] += 1
            if updated.task_id is not None:
                tasks.move(
                    session,
                    task_id=updated.task_id,
                    action=TaskAction.CANCELLED,
                    to_status=TaskStatus.CANCELLED,
                    allowed_from=NOT_STARTED,
                    now=now,
                    reason=MealReason.MEAL_COLLECTED_AT_CANTEEN,
                    detail={"meal_order_id": updated.id, "device_serial": row.device_serial},
                )
            if updated.was == OrderStatus.NOT_COLLECTED:
                _late_note(session, alarm_id=updated.welfare_alarm_id, order_id=updated.id, via="terminal", now=now)
            continue
        point = session.execute(
            text(POINT_FOR_CHECKIN), {"terminal_area": row.terminal_area_id, "resident": resident_id}
        ).scalar()
        if point is None:
            counts["no_meal_point"] += 1
            continue
        order_id = insert_order(
            session,
            resident_id=resident_id,
            meal_point_id=int(point),
            service_date=day,
            meal=meal,
            mode="dine_in",
            diet=[],
            source=OrderSource.AD_HOC,
            deadline=meal_times(settings, meal=meal, service_date=day).deadline,
            now=row.time,
            status=OrderStatus.COLLECTED,
            status_reason=MealReason.CHECKED_IN_WITHOUT_ORDER,
            collected_via=CollectedVia.TERMINAL,
        )
        counts["ad_hoc" if order_id is not None else "already"] += 1
    session.execute(
        text(
            "INSERT INTO meal_watch_state (reader, watermark, updated_at) VALUES (:r, :now, :now)"
            " ON CONFLICT (reader) DO UPDATE SET watermark = greatest(meal_watch_state.watermark, :now),"
            " updated_at = :now"
        ),
        {"r": READER, "now": now},
    )
    return counts


def read_deliveries(session: Session, *, settings: ServiceRulesMixin, now: datetime) -> int:
    """Completed delivery tasks deliver their orders; one the caregiver left with a neighbour (the app's
    `findings.meal_outcome`) is marked `left_with_neighbour` (who holds the meal matters more than its lateness),
    else one that took longer than `meal_delivery_limit_minutes` from pick-up (en route) to the door is marked
    `delivered_late`."""
    limit = timedelta(minutes=settings.meal_delivery_limit_minutes)
    done = 0
    for row in session.execute(text(DELIVERED), {"since": local_date(now) - timedelta(days=1)}).all():
        late = row.en_route_at is not None and row.completed_at - row.en_route_at > limit
        reason = (
            MealReason.LEFT_WITH_NEIGHBOUR
            if row.outcome == MealReason.LEFT_WITH_NEIGHBOUR
            else MealReason.DELIVERED_LATE
            if late
            else None
        )
        session.execute(
            text(
                "UPDATE meal_order SET status = 'delivered', collected_at = :at, collected_via = 'staff',"
                " status_reason = coalesce(CAST(:reason AS text), status_reason), updated_at = :now WHERE id = :id"
            ),
            {"at": row.completed_at, "reason": None if reason is None else str(reason), "now": now, "id": row.id},
        )
        if row.status == OrderStatus.NOT_COLLECTED:
            _late_note(session, alarm_id=row.welfare_alarm_id, order_id=row.id, via="staff", now=now)
        done += 1
    return done


def raise_welfare_calls(session: Session, *, now: datetime) -> dict[str, int]:
    """Orders still `ordered` after their deadline: `not_collected`, and a welfare call for each (one open call
    per resident: a second missed meal is noted on the open one). Each order passes here once. An order of a
    resident who was in hospital or away around the meal (or has moved or died) is cancelled instead."""
    opened = noted = 0
    away = len(session.execute(text(AWAY_AT_DEADLINE), {"now": now}).all())
    for order in session.execute(text(PAST_DEADLINE), {"now": now}).all():
        alarm_id = alarms.open_welfare_call(
            session,
            alarm_type=WELFARE_TYPE,
            resident_id=order.resident_id,
            now=now,
            reason=WELFARE_TYPE,
            meal_order_id=order.id,
            detail={
                "reason_code": WELFARE_TYPE,
                "service_date": order.service_date.isoformat(),
                "meal": order.meal,
                "mode": order.mode,
            },
        )
        if alarm_id is None:
            alarm_id = alarms.open_welfare_call_of(session, alarm_type=WELFARE_TYPE, resident_id=order.resident_id)
            if alarm_id is not None:
                alarms.note_welfare_call(
                    session,
                    alarm_id=alarm_id,
                    reason=MealReason.MEAL_NOT_COLLECTED_AGAIN,
                    detail={"meal_order_id": order.id},
                    now=now,
                )
                noted += 1
        else:
            opened += 1
        session.execute(
            text("UPDATE meal_order SET welfare_alarm_id = :alarm WHERE id = :id"), {"alarm": alarm_id, "id": order.id}
        )
    return {"welfare_calls": opened, "noted": noted, "away": away}


def watch(session: Session, *, settings: ServiceRulesMixin, now: datetime) -> dict[str, int]:
    """The job's body (caller commits): check-ins, then deliveries, then deadlines (so a check-in that arrived
    before the deadline always wins over the welfare call)."""
    counts = read_checkins(session, settings=settings, now=now)
    counts["delivered"] = read_deliveries(session, settings=settings, now=now)
    counts.update(raise_welfare_calls(session, now=now))
    return counts
