"""A plan written down and applied to the tasks (docs/scheduling.md, "What a plan records", "Applying a plan").

`record` writes the `plan` row, its stops and the tasks it could not serve; `apply` hands the plan to the task
engine through `tasks.service` (every change of caregiver has its trace line, naming the plan); `publish` puts a
plan's tasks on the caregivers' lists. A pinned task's caregiver is never touched. A plan that failed its checks
is recorded `failed` with its problems and applied to nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alerts_service
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.planning import queries
from eldercare_platform.planning.models import PlanKind, PlanReason, PlanStatus
from eldercare_platform.planning.problem import ProblemContext
from eldercare_platform.routing.problem import Plan, PlanningProblem
from eldercare_platform.routing.travel import TravelModel
from eldercare_platform.tasks import service as tasks_service

TIME_SHIFT_MINUTES = 15
"""A task whose planned start moved by more than this is a change worth telling (`changes.time_shifts`)."""

NO_ALERT_REASONS = frozenset({"deferred"})
"""Unassigned reasons that raise no alert: a flexible visit moved to another day is the plan working."""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def failed_subject(area_id: int, day: date) -> str:
    """The subject of a community's day's PLAN_FAILED alert."""
    return f"plan:{area_id}:{day.isoformat()}"


@dataclass
class Applied:
    """What applying a plan did to the tasks."""

    assigned: list[int] = field(default_factory=list)
    reassigned: list[int] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)
    routed: int = 0
    alerts: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "assigned": len(self.assigned),
            "reassigned": len(self.reassigned),
            "unassigned": len(self.unassigned),
            "routed": self.routed,
            "alerts": self.alerts,
        }


def previous_published(session: Session, *, area_id: int, day: date, exclude: int = 0) -> int | None:
    """The plan the caregivers last saw for the community's day (None: none was published)."""
    found = session.execute(text(queries.PREVIOUS_PUBLISHED), {"area": area_id, "day": day, "exclude": exclude})
    value = found.scalar()
    return None if value is None else int(value)


def changes_since(session: Session, *, previous_id: int | None, plan: Plan) -> dict[str, Any]:
    """What changed since the previous published plan: tasks moved to another caregiver, newly assigned, left
    unassigned (they were in a route), planned starts moved by more than TIME_SHIFT_MINUTES, and the tasks that
    left the plan (done, cancelled…: no longer in the problem)."""
    new = {stop.task_id: (route.staff_id, stop.start) for route in plan.routes for stop in route.stops}
    old: dict[int, tuple[int, datetime]] = {}
    if previous_id is not None:
        rows = session.execute(text(queries.PLAN_STOPS_OF), {"plan": previous_id})
        old = {int(r.task_id): (int(r.staff_id), r.planned_start) for r in rows}
    answered = set(new) | {u.task_id for u in plan.unassigned}
    moved, shifted = [], []
    for task_id, (staff, start) in sorted(new.items()):
        if task_id not in old:
            continue
        before_staff, before_start = old[task_id]
        if before_staff != staff:
            moved.append({"task_id": task_id, "from_staff_id": before_staff, "to_staff_id": staff})
        minutes = (start - before_start).total_seconds() / 60
        if abs(minutes) > TIME_SHIFT_MINUTES:
            shifted.append({"task_id": task_id, "staff_id": staff, "previous_start": before_start,
                            "planned_start": start, "minutes": round(minutes, 1)})  # fmt: skip
    newly = [{"task_id": t, "staff_id": staff} for t, (staff, _) in sorted(new.items()) if t not in old]
    dropped = [
        {"task_id": u.task_id, "from_staff_id": old[u.task_id][0], "reason": u.reason}
        for u in sorted(plan.unassigned, key=lambda u: u.task_id)
        if u.task_id in old
    ]
    gone = sorted(set(old) - answered)
    statuses = dict(
        session.execute(text("SELECT id, status FROM task WHERE id = ANY(CAST(:ids AS bigint[]))"), {"ids": gone}).all()
    )
    left = [{"task_id": t, "status": statuses.get(t)} for t in gone]
    changes: dict[str, list[dict[str, Any]]] = {
        "moved": moved,
        "newly_assigned": newly,
        "unassigned": dropped,
        "time_shifts": shifted,
        "left": left,
    }
    return {"previous_plan_id": previous_id} | changes | {"counts": {k: len(v) for k, v in changes.items()}}


def settings_of(problem: PlanningProblem, model: TravelModel, solver: str) -> dict[str, Any]:
    """The settings a plan records: the solve's, and the travel model's."""
    travel: dict[str, Any] = {"model": model.name}
    for name in ("circuity", "speeds_kmh", "base_url", "profiles"):
        if hasattr(model, name):
            travel[name] = getattr(model, name)
    return {"planner": solver, **problem.settings.as_dict(), "travel": travel}


def cost_of(plan: Plan) -> dict[str, Any]:
    """The planner's cost breakdown, each route's totals and how the solver got there."""
    routes = [
        {"staff_id": r.staff_id, "shift_id": r.shift_id, "stops": len(r.stops), "travel_km": round(r.travel_km, 3),
         "travel_minutes": round(r.travel_minutes, 1)}
        for r in plan.routes
    ]  # fmt: skip
    return dict(plan.cost) | {"routes": routes, "solver_stats": dict(plan.stats)}


def record(
    session: Session,
    *,
    context: ProblemContext,
    kind: PlanKind,
    status: PlanStatus,
    solver: str,
    settings: dict[str, Any],
    trigger: dict[str, Any],
    now: datetime,
    user_id: int | None,
    runtime_ms: int,
    plan: Plan | None = None,
    error: str | None = None,
    changes: dict[str, Any] | None = None,
    previous_id: int | None = None,
) -> int:
    """Write the `plan` row (and, for a plan that is not failed, its stops and unassigned tasks); returns its id."""
    area = context.area
    plan_id = int(
        session.execute(
            text(queries.INSERT_PLAN),
            {
                "area": area.area_id,
                "path": area.path,
                "day": area.day,
                "kind": str(kind),
                "status": str(status),
                "trigger": _json(trigger),
                "solver": solver,
                "settings": _json(settings),
                "inputs": _json(context.inputs),
                "cost": _json(cost_of(plan) if plan is not None and status != PlanStatus.FAILED else {}),
                "changes": _json(changes or {}),
                "error": error,
                "previous": previous_id,
                "runtime": max(0, runtime_ms),
                "now": now,
                "user": user_id,
            },
        ).scalar_one()
    )
    if plan is None or status == PlanStatus.FAILED:
        return plan_id
    stops = [(route, stop) for route in plan.routes for stop in route.stops]
    if stops:
        session.execute(
            text(queries.INSERT_STOPS),
            {
                "plan": plan_id,
                "tasks": [s.task_id for _, s in stops],
                "staff": [r.staff_id for r, _ in stops],
                "shifts": [r.shift_id for r, _ in stops],
                "sequences": [s.sequence for _, s in stops],
                "starts": [s.start for _, s in stops],
                "ends": [s.end for _, s in stops],
                "km": [max(0.0, s.travel_km) for _, s in stops],
                "minutes": [max(0.0, s.travel_minutes) for _, s in stops],
                "pinned": [s.pinned or context.tasks[s.task_id].pinned for _, s in stops],
            },
        )
    if plan.unassigned:
        session.execute(
            text(queries.INSERT_UNASSIGNED),
            {
                "plan": plan_id,
                "tasks": [u.task_id for u in plan.unassigned],
                "reasons": [u.reason for u in plan.unassigned],
                "details": [_json(dict(u.detail)) for u in plan.unassigned],
            },
        )
    return plan_id


def apply(
    session: Session,
    *,
    plan_id: int,
    kind: PlanKind,
    problem: PlanningProblem,
    plan: Plan,
    context: ProblemContext,
    now: datetime,
    user_id: int | None,
) -> Applied:
    """Hand the plan to the task engine: each served task to its route's caregiver (assigned, or reassigned in
    place) with its route order and planned start; each task the plan could not serve back to planning with the
    reason (a pinned one is left as it is) and, when it must be served, a TASK_UNASSIGNED alert."""
    done = Applied()
    routes: list[tuple[int, int | None, datetime | None]] = []
    visits = {visit.task_id: visit for visit in problem.visits}
    for route in plan.routes:
        for stop in route.stops:
            fact = context.tasks[stop.task_id]
            routes.append((stop.task_id, stop.sequence, stop.start))
            if fact.pinned or (fact.assignee_staff_id == route.staff_id and fact.status != "planned"):
                continue
            reason = PlanReason.CAREGIVER_UNAVAILABLE if fact.unavailable else PlanReason.PLANNED
            if fact.assignee_staff_id is not None and not fact.unavailable:
                reason = PlanReason.REPLANNED
            detail: dict[str, Any] = {"plan_kind": str(kind), "sequence": stop.sequence}
            if fact.unavailable:
                detail["caregiver_unavailable"] = fact.unavailable
            outcome = tasks_service.assign_for_plan(
                session, task_id=stop.task_id, staff_id=route.staff_id, plan_id=plan_id, now=now,
                reason=str(reason), user_id=user_id, detail=detail,
            )  # fmt: skip
            if outcome == "assigned":
                done.assigned.append(stop.task_id)
            elif outcome == "reassigned":
                done.reassigned.append(stop.task_id)
    for item in plan.unassigned:
        fact = context.tasks[item.task_id]
        routes.append((item.task_id, None, None))
        if fact.pinned:
            continue
        if fact.assignee_staff_id is not None:
            reason = PlanReason.CAREGIVER_UNAVAILABLE if fact.unavailable else PlanReason.NOT_SERVED
            detail = {"plan_kind": str(kind), "unassigned_reason": item.reason}
            if fact.unavailable:
                detail["caregiver_unavailable"] = fact.unavailable
            if tasks_service.unassign_for_plan(
                session, task_id=item.task_id, plan_id=plan_id, now=now, reason=str(reason), user_id=user_id,
                detail=detail,
            ) is not None:  # fmt: skip
                done.unassigned.append(item.task_id)
        if visits[item.task_id].mandatory and item.reason not in NO_ALERT_REASONS:
            raised = alerts_service.raise_alert(
                session,
                kind=AlertKind.TASK_UNASSIGNED,
                subject_key=f"task:{item.task_id}",
                message=f"计划无法安排任务 #{item.task_id} ({item.reason}) / the plan could not serve task"
                f" #{item.task_id}: {item.reason}",
                now=now,
                severity=min(3, fact.priority),
                task_id=item.task_id,
                resident_id=fact.resident_id,
                detail={"reason": item.reason, "plan_id": plan_id, **dict(item.detail)},
            )
            done.alerts += raised is not None
    done.routed = tasks_service.set_routes(session, plan_id=plan_id, stops=routes)
    return done


def clear_closed(session: Session, *, area_id: int, day: date, keep: set[int]) -> int:
    """Tasks an earlier plan of the day placed that have since been cancelled, suspended or missed leave the
    routes (their route order and planned start are cleared)."""
    ids = session.execute(
        text(
            "SELECT t.id FROM task t JOIN plan p ON p.id = t.plan_id WHERE p.area_id = :area AND p.day = :day"
            " AND t.status IN ('cancelled', 'suspended', 'missed') AND t.route_sequence IS NOT NULL"
        ),
        {"area": area_id, "day": day},
    ).scalars()
    stale = [int(i) for i in ids if int(i) not in keep]
    if not stale:
        return 0
    result = session.execute(
        text(
            "UPDATE task SET route_sequence = NULL, planned_start = NULL, version = nextval('task_version_seq')"
            " WHERE id = ANY(CAST(:ids AS bigint[]))"
        ),
        {"ids": stale},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def supersede(session: Session, *, plan_id: int, area_id: int, day: date) -> list[int]:
    """Every earlier draft or published plan of the community's day is superseded by this one."""
    rows = session.execute(text(queries.SUPERSEDE), {"area": area_id, "day": day, "plan": plan_id}).scalars()
    return [int(i) for i in rows]


def publish(session: Session, *, plan_id: int, now: datetime, user_id: int | None) -> list[int]:
    """The plan is published (its tasks still `assigned` go onto the caregivers' lists); returns their ids."""
    session.execute(
        text("UPDATE plan SET status = 'published', published_at = :now WHERE id = :id"), {"id": plan_id, "now": now}
    )
    stops = session.execute(
        text(
            "SELECT ps.task_id FROM plan_stop ps JOIN task t ON t.id = ps.task_id"
            " WHERE ps.plan_id = :id AND t.status = 'assigned' AND t.assignee_staff_id = ps.staff_id"
            " ORDER BY ps.staff_id, ps.sequence"
        ),
        {"id": plan_id},
    ).scalars()
    return tasks_service.publish_for_plan(
        session, task_ids=[int(t) for t in stops], plan_id=plan_id, now=now, reason=PlanReason.PLAN_PUBLISHED,
        user_id=user_id,
    )  # fmt: skip


def alert_failed(session: Session, *, plan_id: int, context: ProblemContext, error: str, now: datetime) -> None:
    """A PLAN_FAILED alert for the community's coordinators (one open per community and day)."""
    area = context.area
    alerts_service.raise_alert(
        session,
        kind=AlertKind.PLAN_FAILED,
        subject_key=failed_subject(area.area_id, area.day),
        message=f"{area.name} {area.day.isoformat()} 的排班计划失败, 未应用 / the plan failed and was not applied",
        now=now,
        severity=2,
        area_id=area.area_id,
        area_path=area.path,
        detail={"plan_id": plan_id, "error": error[:500]},
    )


def resolve_failed(session: Session, *, area_id: int, day: date, now: datetime) -> None:
    """A plan of the day succeeded: its failed plan's alert is resolved."""
    alerts_service.resolve_alerts(
        session,
        kind=AlertKind.PLAN_FAILED,
        now=now,
        resolution=PlanReason.PLAN_SUCCEEDED,
        subject_keys=[failed_subject(area_id, day)],
    )
