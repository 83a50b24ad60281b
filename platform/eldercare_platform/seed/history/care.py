"""Visits and purchased services from the care plans, stays away from home, and what followed each.

The tasks are the task generator's own (`tasks.slots.wanted_for`: the same days, slots, windows and priorities),
created 13 days ahead as the rolling window does, published by the nightly plan at 20:00 the day before with a
planned start in its caregiver's route of the day (`task.planned_start`: late counts from it), then done
by the crew — or missed (not done in time, or nobody answered at the door: a welfare call), cancelled by the
coordinator, or suspended because the resident was in hospital or away with family (`resident_state`, recorded
when the platform learned of it: a stay recorded after the visit's window leaves it missed, and the figures excuse
it). A problem found opens a follow-up (`finding:<task>`), most of them done within a day; a missed visit is mostly
reassigned the next morning (`follow_up_of`); a discharge from hospital brings a visit within a day.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from eldercare_platform.care_plans.models import StateKind
from eldercare_platform.core.clock import local_date
from eldercare_platform.seed.history.book import Away, Book, Row, Weighted, minutes, poisson
from eldercare_platform.seed.history.work import PROBLEMS, Crew, arrival, do, end, new_task, planned_publish
from eldercare_platform.seed.history.world import Resident, World, local
from eldercare_platform.tasks.models import HIGH, EngineReason, TaskKind, TaskSource, TaskStatus
from eldercare_platform.tasks.slots import wanted_for

VISIT_FATE = Weighted.of([("done", 0.935), ("not_done", 0.03), ("no_answer", 0.02), ("cancelled", 0.015)])
SERVICE_FATE = Weighted.of([("done", 0.96), ("not_done", 0.025), ("cancelled", 0.015)])
SESSION = {False: (0.88, 1.0), True: (1.0, 1.15)}
"""How long a purchased session lasts, as a share of its booked length: within it, or (5 %) over."""
PROBLEM_SHARE = {"visit": 0.06, "service": 0.02, "follow_up": 0.1}
REASSIGN_SHARE = {"visit": 0.7, "service": 0.4}
REASSIGN_AFTER_NO_ANSWER = 0.5
CANCEL_REASONS = ("老人临时外出,改期", "家属在家陪护,本次取消", "老人要求改期")
FOLLOW_UP_HOURS = 24
HOSPITAL_STAYS_PER_RESIDENT_PER_WEEK = 0.0025
"""Admissions not raised by an alarm (planned treatment, a referral), ≈ 13 % of older people a year."""
FAMILY_STAYS_PER_RESIDENT_PER_WEEK = 0.0025
HOSPITAL_REASONS = ("肺部感染住院治疗", "高血压复查住院", "白内障手术", "慢阻肺急性加重", "髋部骨折术后康复")
FAMILY_REASONS = ("随子女外出探亲", "去外地女儿家小住", "春节前去儿子家")


def add_stay(
    book: Book,
    rng: random.Random,
    *,
    resident_id: int,
    kind: str,
    starts_at: datetime,
    days: float,
    recorded_at: datetime | None = None,
) -> Away | None:
    """A stay away (not overlapping the resident's others): recorded a few hours after it began (a tenth of
    hospital stays a day or more late), ended `days` later if that is past (else still going on)."""
    planned_end = starts_at + timedelta(days=days)
    if any(
        s.overlaps(starts_at - timedelta(days=1), planned_end + timedelta(days=1))
        for s in book.away.get(resident_id, ())
    ):
        return None
    ends_at: datetime | None = planned_end
    if recorded_at is None:
        late = rng.random() < 0.1
        recorded_at = starts_at + (timedelta(hours=rng.uniform(24, 60)) if late else minutes(rng.uniform(40, 480)))
    if recorded_at >= book.now - timedelta(minutes=10):
        return None  # not known yet
    if ends_at is not None and ends_at >= book.now - timedelta(hours=2):
        ends_at = None  # still away
    stay = Away(book.new_id("resident_state"), resident_id, kind, starts_at, ends_at, recorded_at)
    book.away.setdefault(resident_id, []).append(stay)
    book.away[resident_id].sort(key=lambda s: s.starts_at)
    ended_at = None
    if ends_at is not None:
        ended_at = min(book.now - minutes(5), ends_at + timedelta(hours=rng.uniform(0.5, 20)))
        if kind == StateKind.HOSPITAL:
            book.discharged[resident_id] = ends_at.date()
    reasons = HOSPITAL_REASONS if kind == StateKind.HOSPITAL else FAMILY_REASONS
    book.states.append(
        {
            "id": stay.id,
            "resident_id": resident_id,
            "kind": kind,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "reason": rng.choice(reasons),
            "recorded_at": recorded_at,
            "recorded_by": None,
            "ended_at": ended_at,
            "ended_by": None,
        }
    )
    return stay


def planned_stays(book: Book, world: World, rng: random.Random) -> None:
    """Hospital stays not raised by an alarm and stays with family (recorded a day or two before they begin)."""
    weeks = len(book.days) / 7
    residents = sorted(world.residents)
    for kind, rate in (
        (StateKind.HOSPITAL, HOSPITAL_STAYS_PER_RESIDENT_PER_WEEK),
        (StateKind.AWAY_WITH_FAMILY, FAMILY_STAYS_PER_RESIDENT_PER_WEEK),
    ):
        for resident_id in rng.sample(residents, min(len(residents), poisson(rng, rate * weeks * len(residents)))):
            starts_at = book.start + timedelta(seconds=rng.uniform(0, (book.now - book.start).total_seconds()))
            if kind == StateKind.HOSPITAL:
                add_stay(book, rng, resident_id=resident_id, kind=kind, starts_at=starts_at, days=rng.uniform(3, 14))
            else:
                recorded = starts_at - timedelta(hours=rng.uniform(20, 60))
                add_stay(
                    book,
                    rng,
                    resident_id=resident_id,
                    kind=kind,
                    starts_at=starts_at,
                    days=rng.uniform(3, 10),
                    recorded_at=max(recorded, book.start),
                )


def _fate_while_away(row: Row, stay: Away) -> None:
    """A task made before the stay was known whose window starts during it: suspended when the stay was recorded
    before the window closed, else missed (not done in time; the figures excuse it: the state covers it)."""
    if stay.recorded_at <= row["window_end"]:
        end(row, TaskStatus.SUSPENDED, at=stay.recorded_at, reason=stay.reason)
    else:
        end(row, TaskStatus.MISSED, at=row["window_end"] + minutes(30), reason="not_done_in_time")


def plan_tasks(book: Book, world: World, crew: Crew, rng: random.Random) -> None:
    """The care plans' visits and service sessions of every day before today, and what became of each."""
    days = book.days
    if not days:
        return
    for resident_id, versions in world.plans.items():
        home = world.residents.get(resident_id)
        if home is None:
            continue
        plans = sorted((v.plan() for v in versions), key=lambda p: p.valid_from, reverse=True)
        created_of = {v.id: v.created_at for v in versions}
        for wanted in wanted_for(resident_id, plans, days, set()):
            ws, we = wanted.window()
            created = max(
                local(wanted.day - timedelta(days=13), 0, rng.uniform(5, 20)), created_of[wanted.care_plan_id]
            )
            if created >= we or ws < home.enrolled_at:
                continue
            stay = book.away_during(resident_id, local(wanted.day), local(wanted.day, 24))
            if stay is not None and stay.recorded_at <= created:
                continue  # a day the stay covers (even in part), known when the day's tasks were made: none
            row = new_task(
                book,
                kind=str(wanted.kind),
                source=TaskSource.PLAN.value,
                home=home,
                window_start=ws,
                window_end=we,
                created_at=created,
                priority=wanted.priority,
                duration_minutes=wanted.duration_minutes,
                service=wanted.service,
                slot=wanted.slot,
                care_plan_id=wanted.care_plan_id,
                required_skill=wanted.required_skill,
            )
            if stay is not None and stay.covers(ws):
                _fate_while_away(row, stay)
                continue
            _work_plan_task(book, world, crew, rng, row, home)


def _work_plan_task(book: Book, world: World, crew: Crew, rng: random.Random, row: Row, home: Resident) -> None:
    kind = row["kind"]
    fate = (VISIT_FATE if kind == TaskKind.VISIT else SERVICE_FATE).draw(rng)
    staff = crew.pick(home, row["required_skill"])
    published = planned_publish(row)
    day = row["window_start"]
    if fate != "cancelled":  # the nightly plan placed it in its caregiver's route (cancelled before it ran)
        row["planned_start"] = crew.plan_stop(staff, row)
    if fate == "done":
        length = row["duration_minutes"]
        # A visit takes what it takes; a purchased session mostly its booked length (5 % run over: the statement's
        # over_entitlement when the month's hours are used up).
        over = rng.random() < 0.05
        on_site = rng.uniform(0.7, 1.3) * length if kind == TaskKind.VISIT else rng.uniform(*SESSION[over]) * length
        check_in = arrival(rng, row["planned_start"], earliest=day)
        problem = rng.choice(PROBLEMS) if rng.random() < PROBLEM_SHARE.get(kind, 0.0) else None
        do(rng, row, staff, home, check_in=check_in, minutes_on_site=on_site, problem=problem, published=published)
        if problem:
            follow_up(book, crew, rng, row, home, problem)
        return
    if fate == "cancelled":
        coordinator = world.coordinators.get(home.area_id)
        at = published - timedelta(hours=rng.uniform(1, 30))
        end(
            row,
            TaskStatus.CANCELLED,
            at=max(at, row["created_at"] + minutes(1)),
            reason=rng.choice(CANCEL_REASONS),
            by=coordinator,
        )
        return
    row["assignee_staff_id"], row["assigned_at"], row["published_at"] = staff.id, published, published
    row["status"] = TaskStatus.PUBLISHED.value
    if fate == "no_answer":
        at_door = arrival(rng, row["planned_start"], earliest=day)
        row["accepted_at"] = at_door - minutes(rng.uniform(20, 90))
        row["en_route_at"] = at_door - minutes(rng.uniform(5, 20))
        end(row, TaskStatus.MISSED, at=at_door, reason=EngineReason.NO_ANSWER, by=staff.user_id)
        book.welfare.append(("visit_no_answer", home.id, at_door, {"task_id": row["id"]}))
        if kind == TaskKind.VISIT and rng.random() < REASSIGN_AFTER_NO_ANSWER:
            reassign(book, world, crew, rng, row, home, at_door)
        return
    missed_at = row["window_end"] + minutes(30 + rng.uniform(0, 5))
    end(row, TaskStatus.MISSED, at=missed_at, reason="not_done_in_time")
    if rng.random() < REASSIGN_SHARE.get(kind, 0.0):
        reassign(book, world, crew, rng, row, home, missed_at)


def reassign(
    book: Book, world: World, crew: Crew, rng: random.Random, missed: Row, home: Resident, missed_at: datetime
) -> None:
    """The coordinator reassigns a missed task the next morning: a new task (`follow_up_of`) for the rest of the
    day, done the same day (only when all of it is over by now)."""
    at = local(local_date(missed_at) + timedelta(days=1), 8, rng.uniform(30, 120))
    length = missed["window_end"] - missed["window_start"]
    on_site = missed["duration_minutes"] * rng.uniform(0.8, 1.2)
    planned = (at + minutes(rng.uniform(30, 240))).replace(second=0, microsecond=0)  # the intraday replan's stop
    check_in = arrival(rng, planned, earliest=at)
    if check_in + minutes(on_site) >= book.now - timedelta(hours=1):
        return
    row = new_task(
        book,
        kind=missed["kind"],
        source=missed["source"],
        home=home,
        window_start=at,
        window_end=at + length,
        created_at=at,
        priority=missed["priority"],
        duration_minutes=missed["duration_minutes"],
        service=missed["service"],
        follow_up_of=missed["id"],
        required_skill=missed["required_skill"],
        created_by=world.coordinators.get(home.area_id),
        planned_start=planned,
    )
    do(
        rng,
        row,
        crew.pick(home, row["required_skill"]),
        home,
        check_in=check_in,
        minutes_on_site=on_site,
        published=at + minutes(rng.uniform(1, 10)),
    )


def follow_up(
    book: Book,
    crew: Crew,
    rng: random.Random,
    found_on: Row,
    home: Resident,
    problem: tuple[str, str, str],
    depth: int = 0,
) -> None:
    """A problem found: a follow-up visit within a day (`finding:<task>`), assigned by the coordinator; done in time
    (most, a tenth of them finding a new problem), missed, or still to do now."""
    start = found_on["completed_at"]
    row = new_task(
        book,
        kind=TaskKind.FOLLOW_UP.value,
        source=TaskSource.FINDING.value,
        home=home,
        window_start=start,
        window_end=start + timedelta(hours=FOLLOW_UP_HOURS),
        created_at=start,
        priority=HIGH,
        service=TaskKind.FOLLOW_UP.value,
        slot=f"finding:{found_on['id']}",
        follow_up_of=found_on["id"],
        notes=f"[{problem[0]}] {problem[2]}",
    )
    staff = crew.pick(home, "visit")
    assigned = start + minutes(rng.uniform(10, 180))
    check_in = start + timedelta(hours=rng.uniform(2, 22))
    on_site = rng.uniform(20, 45)
    fate = rng.random()
    if fate < 0.9 and check_in + minutes(on_site) < book.now - minutes(30):
        again = rng.choice(PROBLEMS) if rng.random() < PROBLEM_SHARE["follow_up"] and depth < 2 else None
        do(rng, row, staff, home, check_in=check_in, minutes_on_site=on_site, problem=again, published=assigned)
        if again:
            follow_up(book, crew, rng, row, home, again, depth + 1)
        return
    if assigned < book.now:
        row["assignee_staff_id"], row["assigned_at"], row["published_at"] = staff.id, assigned, assigned
        row["status"], row["updated_at"] = TaskStatus.PUBLISHED.value, assigned
    missed_at = row["window_end"] + minutes(30)
    if missed_at < book.now:
        end(row, TaskStatus.MISSED, at=missed_at, reason="not_done_in_time")


def discharge_visits(book: Book, world: World, crew: Crew, rng: random.Random) -> None:
    """A visit within a day of every discharge from hospital (`discharge:<state>`), created when the discharge was
    recorded; done, or still to do now."""
    for state in book.states:
        if state["kind"] != StateKind.HOSPITAL or state["ended_at"] is None:
            continue
        home = world.residents.get(state["resident_id"])
        if home is None:
            continue
        ends, recorded = state["ends_at"], state["ended_at"]
        row = new_task(
            book,
            kind=TaskKind.VISIT.value,
            source=TaskSource.ASSESSMENT.value,
            home=home,
            window_start=ends,
            window_end=max(ends + timedelta(hours=24), recorded + timedelta(hours=1)),
            created_at=recorded,
            priority=HIGH,
            service="visit",
            slot=f"discharge:{state['id']}",
            notes="出院后探访 visit after hospital discharge",
        )
        staff = crew.pick(home, "visit")
        published = recorded + minutes(20)
        latest = max(1.0, (row["window_end"] - recorded).total_seconds() / 3600 - 1.5)
        check_in = recorded + timedelta(hours=rng.uniform(1, latest))
        on_site = rng.uniform(25, 50)
        if check_in + minutes(on_site) < book.now - minutes(30):
            do(rng, row, staff, home, check_in=check_in, minutes_on_site=on_site, published=published)
        elif published < book.now:  # later today or tomorrow: on the caregiver's list now
            row["assignee_staff_id"] = staff.id
            row["assigned_at"] = row["published_at"] = row["updated_at"] = published
            row["status"] = TaskStatus.PUBLISHED.value
            if row["window_end"] + minutes(30) <= book.now:
                end(row, TaskStatus.MISSED, at=row["window_end"] + minutes(30), reason="not_done_in_time")
