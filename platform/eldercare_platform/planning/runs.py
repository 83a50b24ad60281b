"""Running the planner: one community's day (`run_plan`), the nightly plans for tomorrow and the intraday replans
of today (docs/scheduling.md, "When plans run").

A plan is made for one community and one local day at a time; a street or a district is planned community by
community, one after the other, each solve with its own time limit (`planner_seconds`). Runs of the same
community and day are serialised by an advisory lock, so a coordinator's run and a job never interleave.
"""

from __future__ import annotations

import time
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
from eldercare_platform.planning.solver import check, default_planner, estimate_model
from eldercare_platform.routing.greedy import GreedyPlanner
from eldercare_platform.routing.problem import Plan, Planner, PlanningProblem
from eldercare_platform.routing.travel import TravelModel

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


def _solve(planner: Planner, problem: PlanningProblem, travel: TravelModel) -> tuple[Plan | None, str | None, int]:
    """Solve and check: (the plan, why it must not be applied or None, milliseconds). A solver that raises, a
    plan the solver says is infeasible and a plan that breaks a rule (routing.validate on `travel`, the model the
    planner used) all have an error."""
    started = time.perf_counter()
    try:
        plan = planner.plan(problem)
    except Exception as exc:  # a solver crash is a failed plan, not a failed job: the tasks stay as they were
        log.exception("planner failed", planner=planner.name, label=problem.label)
        return None, f"solver error: {type(exc).__name__}: {exc}", round((time.perf_counter() - started) * 1000)
    runtime_ms = round((time.perf_counter() - started) * 1000)
    problems = check(problem, plan, travel)
    if not plan.feasible:
        problems.insert(0, "the solver found no feasible plan")
    if not problems:
        return plan, None, runtime_ms
    return plan, "; ".join(problems[:50]) + (f" (+{len(problems) - 50} more)" if len(problems) > 50 else ""), runtime_ms


def _travel_of(planner: Planner, default: TravelModel) -> TravelModel:
    """The travel model a planner plans on (the engine's planners keep it as `travel`)."""
    travel = getattr(planner, "travel", None)
    return travel if travel is not None else default


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
    fallback: Planner | None = None,
) -> int:
    """Plan the community's day: build the problem, solve, check, record, apply to the tasks and (nightly,
    intraday) publish. A plan whose solver raised, that is not feasible, or that breaks a rule is recorded
    `failed` with its problems and applied to nothing; then `fallback`'s plan is tried the same way (the
    product's planner falls back on the greedy baseline, on the great-circle estimate if the solver raised: the
    travel service may be down), and when there is none or it fails too, a PLAN_FAILED alert is raised.
    Returns the id of the plan applied, else of the failed one. Flushes; the caller commits."""
    _lock(session, area_id, day)
    started = time.perf_counter()
    problem, context = build_problem(session, area_id=area_id, day=day, now=now, settings=settings)
    context.inputs["build_ms"] = round((time.perf_counter() - started) * 1000)
    product = planner is None
    chosen = planner or default_planner(settings, context.travel)
    trigger = {"kind": str(kind)} | (trigger or {})
    common: dict[str, Any] = {"context": context, "kind": kind, "now": now, "user_id": user_id}
    travel = _travel_of(chosen, context.travel)
    plan, error, runtime_ms = _solve(chosen, problem, travel)
    if error is not None:
        # A plan that broke a rule is not tried again on the same inputs; a solver that raised (perhaps the
        # travel service) is, at the job's next run.
        context.inputs["fingerprint"] = fingerprint(session, area_id=area_id, day=day) if plan is not None else None
        failed_id = record.record(
            session,
            status=PlanStatus.FAILED,
            plan=plan,
            error=error,
            solver=plan.solver if plan else chosen.name,
            settings=record.settings_of(problem, travel, chosen.name),
            trigger=trigger,
            runtime_ms=runtime_ms,
            **common,
        )
        log.warning("plan refused", plan_id=failed_id, area_id=area_id, day=day.isoformat(), error=error[:500])
        if product and fallback is None:
            fallback = GreedyPlanner(context.travel if plan is not None else estimate_model(settings))
        fallback_error: str | None = error
        if fallback is not None:
            chosen, travel = fallback, _travel_of(fallback, context.travel)
            plan, fallback_error, runtime_ms = _solve(chosen, problem, travel)
            trigger = trigger | {"fallback_of": failed_id}
        if fallback_error is not None:
            record.alert_failed(session, plan_id=failed_id, context=context, error=error, now=now)
            return failed_id
    assert plan is not None
    previous = record.previous_published(session, area_id=area_id, day=day)
    plan_id = record.record(
        session,
        status=PlanStatus.DRAFT,
        plan=plan,
        changes=record.changes_since(session, previous_id=previous, plan=plan),
        previous_id=previous,
        solver=plan.solver,
        settings=record.settings_of(problem, travel, chosen.name),
        trigger=trigger,
        runtime_ms=runtime_ms,
        **common,
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
    log.info(
        "plan made",
        plan_id=plan_id,
        area_id=area_id,
        day=day.isoformat(),
        kind=str(kind),
        runtime_ms=runtime_ms,
        **applied.as_dict(),
    )
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


def _plan_communities(
    session: Session,
    *,
    areas_sql: str,
    params: dict[str, Any],
    day: date,
    kind: PlanKind,
    trigger: dict[str, Any],
    now: datetime,
    settings: ServiceRulesMixin,
    planner: Planner | None,
    commit: bool,
    skip_unchanged: bool = False,
    unchanged_kinds: set[PlanKind] | None = None,
) -> JobOutcome:
    """Plan each community `areas_sql` lists, one after the other, each in its own transaction (`commit`): one
    community's failure stops no other. With `skip_unchanged`, a community whose day is as its latest plan (of
    `unchanged_kinds`, any kind if None) left it is skipped."""
    outcome = JobOutcome()
    areas = [int(a) for a in session.execute(text(areas_sql), params).scalars()]
    for area_id in areas:
        try:
            if skip_unchanged and _unchanged_since_last(session, area_id=area_id, day=day, kinds=unchanged_kinds):
                plan_id = None
            else:
                plan_id = run_plan(
                    session,
                    area_id=area_id,
                    day=day,
                    kind=kind,
                    now=now,
                    settings=settings,
                    trigger=trigger,
                    planner=planner,
                )
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
    return outcome


def tomorrow_if_due(now: datetime, settings: ServiceRulesMixin) -> date | None:
    """Tomorrow (local) once the local time is at or past `plan_publish_at`; None before the cut-off."""
    local = now.astimezone(LOCAL_TIMEZONE)
    return local.date() + timedelta(days=1) if local.time() >= settings.plan_publish_at else None


def nightly(
    session: Session,
    *,
    now: datetime,
    settings: ServiceRulesMixin,
    planner: Planner | None = None,
    commit: bool = True,
    within: str = "",
) -> JobOutcome:
    """Past the cut-off, tomorrow's plan for every community with open tasks and no nightly plan published for
    tomorrow yet, published at once. A community whose last nightly attempt failed on the same inputs is not
    tried again (its alert is open): a rerun writes nothing. `within` (an area path) limits every run here to the
    communities under it (a deployment shared by districts; the tests' own district)."""
    day = tomorrow_if_due(now, settings)
    if day is None:
        return JobOutcome()
    start, end = local_day(day)
    return _plan_communities(
        session,
        areas_sql=queries.NIGHTLY_DUE,
        params={"day": day, "start": start, "end": end, "within": within},
        day=day,
        kind=PlanKind.NIGHTLY,
        trigger={"job": "nightly_plan"},
        now=now,
        settings=settings,
        planner=planner,
        commit=commit,
        skip_unchanged=True,
        unchanged_kinds={PlanKind.NIGHTLY},
    )


def _unchanged_since_last(session: Session, *, area_id: int, day: date, kinds: set[PlanKind] | None = None) -> bool:
    """Whether the community's day is as its latest plan (of `kinds`, any kind if None) left it."""
    latest = session.execute(text(queries.LATEST_PLAN), {"area": area_id, "day": day}).first()
    if latest is None or (kinds is not None and latest.kind not in kinds):
        return False
    return bool(latest.fingerprint) and latest.fingerprint == fingerprint(session, area_id=area_id, day=day)


def intraday(
    session: Session,
    *,
    now: datetime,
    settings: ServiceRulesMixin,
    planner: Planner | None = None,
    commit: bool = True,
    within: str = "",
) -> JobOutcome:
    """Today's live communities (a plan of today was published) where something changed since their latest plan
    (a task created, cancelled or given back to planning, a leave, a shift): the rest of the day is re-planned
    around what is fixed and published at once."""
    day = local_date(now)
    return _plan_communities(
        session,
        areas_sql=queries.LIVE_DAYS,
        params={"day": day, "within": within},
        day=day,
        kind=PlanKind.INTRADAY,
        trigger={"job": "intraday_replan"},
        now=now,
        settings=settings,
        planner=planner,
        commit=commit,
        skip_unchanged=True,
    )


def plan_unplanned(
    session: Session,
    *,
    day: date,
    now: datetime,
    settings: ServiceRulesMixin,
    planner: Planner | None = None,
    commit: bool = True,
    within: str = "",
) -> JobOutcome:
    """A manual plan (a draft, for a coordinator to publish) of the day for every community with open tasks and
    no plan of it yet: what `make demo` runs at start-up so that today's board shows routes."""
    start, end = local_day(day)
    return _plan_communities(
        session,
        areas_sql=queries.UNPLANNED,
        params={"day": day, "start": start, "end": end, "within": within},
        day=day,
        kind=PlanKind.MANUAL,
        trigger={"command": "python -m eldercare_platform.planning"},
        now=now,
        settings=settings,
        planner=planner,
        commit=commit,
    )
