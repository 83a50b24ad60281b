"""Running the planner: one community's day (`run_plan`), the nightly plans for tomorrow and the intraday replans
of today (docs/scheduling.md, "When plans run").

A plan is made for one community and one local day at a time; a street or a district is planned community by
community, one after the other, each solve with its own time limit (`planner_seconds`). Runs of the same
community and day are serialised by an advisory lock, so a coordinator's run and a job never interleave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.logging import get_logger
from eldercare_platform.core.clock import LOCAL_TIMEZONE, local_date
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.planning import queries, record
from eldercare_platform.planning.models import PlanKind, PlanStatus
from eldercare_platform.planning.problem import build_problem, community, local_day
from eldercare_platform.planning.solver import check, default_planner
from eldercare_platform.routing.problem import Planner

log = get_logger(__name__)

PUBLISHED_AT_ONCE = frozenset({PlanKind.NIGHTLY, PlanKind.INTRADAY})
"""Plans published as soon as they are made: the nightly plan (made past the cut-off) and the intraday replans of
a live day. A coordinator's manual plan is a draft until published."""


def _lock(session: Session, area_id: int, day: date) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"plan:{area_id}:{day.isoformat()}"})


def fingerprint(session: Session, *, area_id: int, day: date) -> str:
    """The hash of what an intraday replan reacts to (queries.FINGERPRINT) for the community's day."""
    area = community(session, area_id=area_id, day=day)
    return str(
        session.execute(text(queries.FINGERPRINT), {"path": area.path, "start": area.start, "end": area.end}).scalar()
    )


def run_plan(
    session: Session,
    *,
    area_id: int,
    day: date,
    kind: PlanKind,
    now: datetime,
    settings: ServiceRulesMixin,
    user_id: int | None = None,
    trigger: dict[str, Any] | None = None,
    planner: Planner | None = None,
) -> int:
    """Plan the community's day: build the problem, solve, check, record, apply to the tasks and (nightly,
    intraday) publish. A plan whose solver raised, that is not feasible, or that breaks a rule is recorded
    `failed` with its problems, applied to nothing, and raises a PLAN_FAILED alert. Returns the plan's id.
    Flushes; the caller commits."""
    _lock(session, area_id, day)
    started = time.perf_counter()
    problem, context = build_problem(session, area_id=area_id, day=day, now=now, settings=settings)
    build_ms = round((time.perf_counter() - started) * 1000)
    chosen = planner or default_planner(settings, context.travel)
    settings_json = record.settings_of(problem, context, chosen.name)
    trigger = {"kind": str(kind)} | (trigger or {})
    solved_at = time.perf_counter()
    error: str | None = None
    try:
        plan = chosen.plan(problem)
    except Exception as exc:  # a solver crash is a failed plan, not a failed job: the tasks stay as they were
        log.exception("planner failed", area_id=area_id, day=day.isoformat())
        plan, error = None, f"solver error: {type(exc).__name__}: {exc}"
    runtime_ms = round((time.perf_counter() - solved_at) * 1000)
    context.inputs["build_ms"] = build_ms
    if plan is not None:
        problems = check(problem, plan, context.travel)
        if not plan.feasible:
            problems.insert(0, "the solver found no feasible plan")
        if problems:
            error = "; ".join(problems[:50]) + (f" (+{len(problems) - 50} more)" if len(problems) > 50 else "")
    common: dict[str, Any] = {
        "context": context,
        "kind": kind,
        "solver": plan.solver if plan is not None else chosen.name,
        "settings": settings_json,
        "trigger": trigger,
        "now": now,
        "user_id": user_id,
        "runtime_ms": runtime_ms,
    }
    if plan is None or error is not None:
        context.inputs["fingerprint"] = fingerprint(session, area_id=area_id, day=day)
        plan_id = record.record(session, status=PlanStatus.FAILED, plan=plan, error=error, **common)
        record.alert_failed(session, plan_id=plan_id, context=context, error=error or "", now=now)
        log.warning("plan failed", plan_id=plan_id, area_id=area_id, day=day.isoformat(), error=error)
        return plan_id
    previous = record.previous_published(session, area_id=area_id, day=day)
    changes = record.changes_since(session, previous_id=previous, plan=plan)
    plan_id = record.record(
        session, status=PlanStatus.DRAFT, plan=plan, changes=changes, previous_id=previous, **common
    )
    applied = record.apply(
        session, plan_id=plan_id, kind=kind, problem=problem, plan=plan, context=context, now=now, user_id=user_id
    )
    record.clear_closed(session, area_id=area_id, day=day, keep=set(context.tasks))
    record.supersede(session, plan_id=plan_id, area_id=area_id, day=day)
    published = []
    if kind in PUBLISHED_AT_ONCE:
        published = record.publish(session, plan_id=plan_id, now=now, user_id=user_id)
    record.resolve_failed(session, area_id=area_id, day=day, now=now)
    context.inputs["fingerprint"] = fingerprint(session, area_id=area_id, day=day)
    context.inputs["applied"] = applied.as_dict() | {"published": len(published)}
    session.execute(
        text("UPDATE plan SET inputs = CAST(:inputs AS jsonb) WHERE id = :id"),
        {"id": plan_id, "inputs": record._json(context.inputs)},
    )
    log.info("plan made", plan_id=plan_id, area_id=area_id, day=day.isoformat(), kind=str(kind),
             runtime_ms=runtime_ms, **applied.as_dict())  # fmt: skip
    return plan_id


@dataclass
class JobOutcome:
    """What a planning job did: plans made (ids), failed ones, communities skipped and errors."""

    planned: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"planned={len(self.planned)} failed={len(self.failed)} skipped={self.skipped} errors={len(self.errors)}"


def _status(session: Session, plan_id: int) -> str:
    return str(session.execute(text("SELECT status FROM plan WHERE id = :id"), {"id": plan_id}).scalar_one())


def _each(
    session: Session, areas: list[int], outcome: JobOutcome, work: Callable[[int], int | None], commit: bool
) -> None:
    """Plan each community in its own transaction (`commit`): one community's failure stops no other."""
    for area_id in areas:
        try:
            plan_id = work(area_id)
        except Exception as exc:
            session.rollback()
            log.exception("planning a community failed", area_id=area_id)
            outcome.errors.append(f"{area_id}: {type(exc).__name__}: {exc}")
            continue
        if plan_id is None:
            outcome.skipped += 1
        elif _status(session, plan_id) == PlanStatus.FAILED:
            outcome.failed.append(plan_id)
        else:
            outcome.planned.append(plan_id)
        if commit:
            session.commit()


def tomorrow_if_due(now: datetime, settings: ServiceRulesMixin) -> date | None:
    """Tomorrow (local) once the local time is at or past `plan_publish_at`; None before the cut-off."""
    local = now.astimezone(LOCAL_TIMEZONE)
    return local.date() + timedelta(days=1) if local.time() >= settings.plan_publish_at else None


def nightly(
    session: Session, *, now: datetime, settings: ServiceRulesMixin, planner: Planner | None = None, commit: bool = True
) -> JobOutcome:
    """Past the cut-off, tomorrow's plan for every community with open tasks and no nightly plan published for
    tomorrow yet, published at once. A community whose last nightly attempt failed on the same inputs is not
    tried again (its alert is open): a rerun writes nothing."""
    outcome = JobOutcome()
    day = tomorrow_if_due(now, settings)
    if day is None:
        return outcome
    start, end = local_day(day)
    areas = [
        int(a) for a in session.execute(text(queries.NIGHTLY_DUE), {"day": day, "start": start, "end": end}).scalars()
    ]

    def work(area_id: int) -> int | None:
        if _unchanged_since_last(session, area_id=area_id, day=day, kinds={PlanKind.NIGHTLY}):
            return None
        return run_plan(session, area_id=area_id, day=day, kind=PlanKind.NIGHTLY, now=now, settings=settings,
                        trigger={"job": "nightly_plan"}, planner=planner)  # fmt: skip

    _each(session, areas, outcome, work, commit)
    return outcome


def _unchanged_since_last(session: Session, *, area_id: int, day: date, kinds: set[PlanKind] | None = None) -> bool:
    """Whether the community's day is as its latest plan (of `kinds`, any kind if None) left it."""
    latest = session.execute(text(queries.LATEST_PLAN), {"area": area_id, "day": day}).first()
    if latest is None or (kinds is not None and latest.kind not in kinds):
        return False
    return bool(latest.fingerprint) and latest.fingerprint == fingerprint(session, area_id=area_id, day=day)


def intraday(
    session: Session, *, now: datetime, settings: ServiceRulesMixin, planner: Planner | None = None, commit: bool = True
) -> JobOutcome:
    """Today's live communities (a plan of today was published) where something changed since their latest plan
    (a task created, cancelled or given back to planning, a leave, a shift): the rest of the day is re-planned
    around what is fixed and published at once."""
    outcome = JobOutcome()
    day = local_date(now)
    areas = [int(a) for a in session.execute(text(queries.LIVE_DAYS), {"day": day}).scalars()]

    def work(area_id: int) -> int | None:
        if _unchanged_since_last(session, area_id=area_id, day=day):
            return None
        return run_plan(session, area_id=area_id, day=day, kind=PlanKind.INTRADAY, now=now, settings=settings,
                        trigger={"job": "intraday_replan"}, planner=planner)  # fmt: skip

    _each(session, areas, outcome, work, commit)
    return outcome
