"""From device events to alarms: claim pending outbox rows, group, link, open tasks for device faults.

Runs in every API process (rows are claimed with SKIP LOCKED, so processes share the work and a
restart catches up on whatever is pending). One transaction per batch: alarm rows, transitions,
tasks and the outbox mark commit together.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, text
from sqlmodel import Session

from eldercare_platform.alarms.queries import RESOLVE_AS_AWAY
from eldercare_platform.alarms.service import create_task, record_transition
from eldercare_platform.care_plans.service import AWAY_KINDS, state_at
from eldercare_platform.core.clock import LOCAL_TIMEZONE

NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
QUIET_WHEN_AWAY = frozenset({"inactivity", "device_silent"})  # not a fault while the resident is away
REASON_RESIDENT_AWAY = "resident_away"

# Under load every round trip waits for a core, so a batch is claimed together with everything the
# intake needs to know about its events (docs/benchmarks.md, "Alarm latency").
CLAIM_BATCH = """
SELECT o.id AS outbox_id, e.id, e.device_serial, e.event_type, e.received_at, d.household_id, d.care_center_id,
       coalesce(d.resident_id, (SELECT min(r.id) FROM resident r WHERE r.household_id = d.household_id
                                AND r.status = 'active')) AS resident_id,
       coalesce(ha.path, ca.path, ia.path) AS area_path,
       t.type IS NOT NULL AS known_type, coalesce(t.is_device_fault, false) AS is_device_fault
FROM outbox o
LEFT JOIN device_event e ON e.id = (o.payload->>'device_event_id')::bigint
LEFT JOIN device d ON d.serial = e.device_serial
LEFT JOIN household h ON h.id = d.household_id
LEFT JOIN area ha ON ha.id = h.area_id
LEFT JOIN care_center c ON c.id = d.care_center_id
LEFT JOIN area ca ON ca.id = c.area_id
LEFT JOIN institution i ON i.id = d.institution_id
LEFT JOIN area ia ON ia.id = i.area_id
LEFT JOIN alarm_type t ON t.type = e.event_type
WHERE o.topic = 'device_event' AND o.processed_at IS NULL
ORDER BY o.id LIMIT :limit
FOR UPDATE OF o SKIP LOCKED
"""

UPSERT_ALARM = """
WITH upserted AS (
INSERT INTO alarm (source_key, type, priority, resident_id, household_id, care_center_id, area_path, device_serial,
                   opened_at, last_event_at, ack_due_at, reach_due_at, resolve_due_at)
SELECT :source, t.type, t.priority, :resident, :household, :care_center, :area, :serial, :at, :at,
       :at + make_interval(secs => t.ack_within_s), :at + make_interval(secs => t.reach_within_s),
       :at + make_interval(secs => t.resolve_within_s)
FROM alarm_type t WHERE t.type = :type
ON CONFLICT (source_key, type) WHERE state <> 'resolved' DO UPDATE
SET event_count = alarm.event_count + 1, last_event_at = greatest(alarm.last_event_at, EXCLUDED.last_event_at),
    version = nextval('alarm_version_seq')
RETURNING id, (xmax = 0) AS opened, state, incident_id
), linked AS (
    INSERT INTO alarm_event (alarm_id, device_event_id) SELECT id, :event FROM upserted ON CONFLICT DO NOTHING
)
SELECT * FROM upserted
"""


def _alarm_type(event_type: str, received_at: datetime) -> str | None:
    """The alarm an event raises, or None (bed exits count only at night, local time)."""
    if event_type == "bed_exit" and received_at.astimezone(LOCAL_TIMEZONE).hour not in NIGHT_HOURS:
        return None
    return event_type


def intake_event(session: Session, *, event: RowMapping, now: datetime) -> int | None:
    """Open or attach the alarm for one stored device event (a row of CLAIM_BATCH); returns the alarm id."""
    if event["id"] is None:
        return None  # the outbox names an event that does not exist: nothing to raise
    source = f"resident:{event['resident_id']}" if event["resident_id"] else f"device:{event['device_serial']}"
    if event["event_type"] == "cancel":
        return _resident_cancelled(session, source=source, event=event, now=now)
    if _alarm_type(event["event_type"], event["received_at"]) is None or not event["known_type"]:
        return None  # an event type with no alarm (kept in device_event)
    row = (
        session.execute(
            text(UPSERT_ALARM),
            {
                "source": source,
                "type": event["event_type"],
                "resident": event["resident_id"],
                "household": event["household_id"],
                "care_center": event["care_center_id"],
                "area": event["area_path"],
                "serial": event["device_serial"],
                "at": event["received_at"],
                "event": event["id"],
            },
        )
        .mappings()
        .one()
    )
    alarm_id = int(row["id"])
    if row["opened"]:
        _link_incident(session, alarm_id=alarm_id, source=source)
        record_transition(
            session,
            alarm_id=alarm_id,
            action="opened",
            from_state=None,
            to_state="new",
            user_id=None,
            now=now,
            detail={"device_event_id": event["id"], "device_serial": event["device_serial"]},
        )
        if _resolved_as_away(session, event=event, alarm_id=alarm_id, now=now):
            return alarm_id
        if event["is_device_fault"]:
            _maintenance_task(session, alarm_id=alarm_id, now=now)
    else:
        record_transition(
            session,
            alarm_id=alarm_id,
            action="event_attached",
            from_state=row["state"],
            to_state=row["state"],
            user_id=None,
            now=now,
            detail={"device_event_id": event["id"]},
        )
    return alarm_id


def _resolved_as_away(session: Session, *, event: RowMapping, alarm_id: int, now: datetime) -> bool:
    """An inactivity or silent-device alarm of a resident in hospital or away with family (care_plans' temporary
    states) is no fault and needs no cover: resolved by the system at once, the reason on its trace. Any other
    alarm type opens normally: an emergency is always an alarm."""
    if event["event_type"] not in QUIET_WHEN_AWAY or event["resident_id"] is None:
        return False
    state = state_at(session, resident_id=event["resident_id"], at=event["received_at"])
    if state is None or state.kind not in AWAY_KINDS:
        return False
    session.execute(text(RESOLVE_AS_AWAY), {"id": alarm_id, "now": now, "notes": f"resident {state.kind}"})
    record_transition(
        session,
        alarm_id=alarm_id,
        action="resolve",
        from_state="new",
        to_state="resolved",
        user_id=None,
        now=now,
        reason=REASON_RESIDENT_AWAY,
        detail={
            "reason_code": REASON_RESIDENT_AWAY,
            "state_id": state.id,
            "state_kind": str(state.kind),
            "since": state.since.isoformat(),
        },
    )
    return True


def _link_incident(session: Session, *, alarm_id: int, source: str) -> None:
    """A different alarm type for the same resident is linked to the open incident, not merged into it."""
    session.execute(
        text(
            "UPDATE alarm SET incident_id = coalesce("
            " (SELECT coalesce(o.incident_id, o.id) FROM alarm o WHERE o.source_key = :source AND o.id <> :id"
            "  AND o.state <> 'resolved' ORDER BY o.id LIMIT 1), id) WHERE id = :id"
        ),
        {"source": source, "id": alarm_id},
    )


def _maintenance_task(session: Session, *, alarm_id: int, now: datetime) -> None:
    create_task(
        session,
        alarm_id=alarm_id,
        kind="maintenance",
        due=now + timedelta(hours=2),
        now=now,
        notes="设备故障跟进 device fault follow-up: {type}",
    )


def _resident_cancelled(session: Session, *, source: str, event: Any, now: datetime) -> int | None:
    """The resident pressed cancel: noted on the open SOS (an operator still confirms and closes it)."""
    row = session.execute(
        text("SELECT id, state FROM alarm WHERE source_key = :s AND type = 'sos' AND state <> 'resolved'"),
        {"s": source},
    ).first()
    if row is None:
        return None
    session.execute(
        text("INSERT INTO alarm_event (alarm_id, device_event_id) VALUES (:a, :e) ON CONFLICT DO NOTHING"),
        {"a": row.id, "e": event["id"]},
    )
    session.execute(text("UPDATE alarm SET version = nextval('alarm_version_seq') WHERE id = :id"), {"id": row.id})
    record_transition(
        session,
        alarm_id=row.id,
        action="resident_cancelled",
        from_state=row.state,
        to_state=row.state,
        user_id=None,
        now=now,
        reason="resident_pressed_cancel",  # a code the pages translate (see alarms/jobs.py)
        detail={"reason_code": "resident_pressed_cancel"},
    )
    return int(row.id)


def intake_pending(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Process a batch of pending device events; returns the alarm ids touched. Commits."""
    events = session.execute(text(CLAIM_BATCH), {"limit": limit}).mappings().all()
    touched: list[int] = []
    for event in events:
        alarm_id = intake_event(session, event=event, now=now)
        if alarm_id is not None:
            touched.append(alarm_id)
    if events:
        session.execute(
            text("UPDATE outbox SET processed_at = :now WHERE id = ANY(:ids)"),
            {"now": now, "ids": [event["outbox_id"] for event in events]},
        )
    session.commit()
    return touched
