"""Tasks as the task engine leaves them: who does them (the crew) and each step's time, position and record.

A task row here holds the columns the engine writes; its trace (`task_event`) is derived from them after the
rows are written (write.py), so a row's steps and its trace always agree.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from eldercare_platform.core.clock import local_date
from eldercare_platform.seed.history.book import Book, Row, Weighted, minutes, near
from eldercare_platform.seed.history.world import Resident, Staff, World, local
from eldercare_platform.tasks.checklists import checklist_for
from eldercare_platform.tasks.models import TaskStatus

HOME_ROLES = ("caregiver", "social_worker", "volunteer")
"""Who works in homes (nurses work at their care center)."""
FAR_SHARE = 0.015
"""Check-ins or check-outs made away from the door (250–600 m: recorded, not location-verified)."""
ROUTE_TRAVEL = (8.0, 20.0)
"""Minutes between the end of one stop of a caregiver's planned day and the start of the next."""
DELAYED_SHARE = 0.03
"""Arrivals held up (an earlier visit ran over, traffic): 16–75 min after the planned start — late
(tasks/lateness.py); the others arrive 10 min early to 14 min after it."""

PROBLEMS: tuple[tuple[str, str, str], ...] = (
    # category, the checklist item answered `problem`, what the caregiver wrote
    ("health", "condition", "血压偏高,自述头晕,已建议就医复查"),
    ("health", "medicines_taken", "近三天未按时服降压药,药盒未动"),
    ("safety", "floors_clear", "卫生间地面湿滑,无防滑垫,有跌倒风险"),
    ("safety", "gas_off", "燃气灶开关松动,需请燃气公司检修"),
    ("home_repair", "door_lock", "入户门锁损坏,无法反锁"),
    ("home_repair", "room_temperature", "取暖器故障,室内温度偏低"),
    ("hygiene", "condition", "个人卫生较差,需安排助浴服务"),
    ("food", "ate_today", "冰箱内食物过期,近两日进食少"),
    ("social", "mood", "情绪低落,子女近月未探望,需心理慰藉"),
    ("other", "smoke_alarm", "烟感报警器电池耗尽,已告知社区更换"),
)
CONDITION = Weighted.of([("good", 0.72), ("fair", 0.25), ("poor", 0.03)])


class Crew:
    """Who does a resident's work: a staff member of the resident's community with the skill (else of the street,
    else anyone with it), mostly the same person for the same resident (continuity), sometimes a colleague."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.rng = rng
        self.home_staff = [s for s in world.staff if s.role in HOME_ROLES]
        self.by_skill: dict[str, list[Staff]] = defaultdict(list)
        for staff in self.home_staff:
            for skill in staff.skills:
                self.by_skill[skill].append(staff)
        self._cache: dict[tuple[int, str], list[Staff]] = {}
        self.route_end: dict[tuple[int, date], datetime] = {}

    def plan_stop(self, staff: Staff, row: Row) -> datetime:
        """The planned start the plan gives `row` in `staff`'s route of its day (`task.planned_start`): after
        their previous stop of the day (its length and the travel), inside the window; a stop that no longer fits
        goes anywhere in its window (an overbooked day)."""
        start_of: datetime = row["window_start"]
        end_of: datetime = row["window_end"]
        key = (staff.id, local_date(start_of))
        length = minutes(row["duration_minutes"])
        start = max(start_of, self.route_end.get(key, start_of))
        if start + length > end_of:
            start = start_of + max(timedelta(0), end_of - length - start_of) * self.rng.random()
        start = start.replace(second=0, microsecond=0)
        after = start + length + minutes(self.rng.uniform(*ROUTE_TRAVEL))
        self.route_end[key] = max(self.route_end.get(key, start_of), after)
        return start

    def candidates(self, home: Resident, skill: str | None) -> list[Staff]:
        """Staff who can do the work at this home, nearest first (community, street, district)."""
        key = (home.area_id, skill or "")
        found = self._cache.get(key)
        if found is None:
            pool = self.by_skill.get(skill, []) if skill else []
            pool = pool or [s for s in self.home_staff if s.role == "caregiver"] or self.home_staff
            found = (
                [s for s in pool if s.home_area_id == home.area_id]
                or [s for s in pool if s.street_id == home.street_id]
                or pool
            )
            self._cache[key] = found
        return found

    def pick(self, home: Resident, skill: str | None) -> Staff:
        """The resident's usual staff member for the skill (80 %), else a colleague."""
        found = self.candidates(home, skill)
        if len(found) > 1 and self.rng.random() < 0.2:
            return self.rng.choice(found)
        return found[home.id % len(found)]


def arrival(rng: random.Random, planned: datetime, *, earliest: datetime) -> datetime:
    """When the caregiver is at the door for a stop planned at `planned` (not before `earliest`, the window
    start): mostly around the planned start, DELAYED_SHARE of them held up."""
    if rng.random() < DELAYED_SHARE:
        return planned + minutes(rng.uniform(16, 75))
    return max(earliest, planned + minutes(rng.triangular(-10, 14, 0)))


def new_task(
    book: Book,
    *,
    kind: str,
    source: str,
    home: Resident,
    window_start: datetime,
    window_end: datetime,
    created_at: datetime,
    priority: int = 3,
    duration_minutes: int = 30,
    **columns: Any,
) -> Row:
    """A task row as the engine creates it (`planned`, nobody yet); `columns` sets the others (service, slot, …)."""
    row: Row = {
        "id": book.new_id("task"),
        "kind": kind,
        "status": TaskStatus.PLANNED.value,
        "source": source,
        "service": None,
        "slot": None,
        "resident_id": home.id,
        "household_id": home.household_id,
        "area_id": home.area_id,
        "area_path": home.area_path,
        "device_serial": None,
        "alarm_id": None,
        "assignee_staff_id": None,
        "care_plan_id": None,
        "meal_order_id": None,
        "follow_up_of": None,
        "window_start": window_start,
        "window_end": window_end,
        "due_at": window_end,
        "duration_minutes": duration_minutes,
        "priority": priority,
        "required_skill": None,
        "status_reason": None,
        "notes": None,
        "created_at": created_at,
        "created_by": None,
        "assigned_at": None,
        "published_at": None,
        "accepted_at": None,
        "en_route_at": None,
        "checked_in_at": None,
        "completed_at": None,
        "check_in_latitude": None,
        "check_in_longitude": None,
        "check_out_latitude": None,
        "check_out_longitude": None,
        "findings": {},
        "problem_found": False,
        "updated_at": created_at,
        "updated_by": None,
        "planned_start": None,
    }
    row.update(columns)
    book.tasks.append(row)
    return row


def assign(row: Row, staff: Staff, *, at: datetime, published: datetime | None = None) -> None:
    """Assigned (and published) to `staff`."""
    row["assignee_staff_id"] = staff.id
    row["assigned_at"] = at
    row["published_at"] = published or at
    row["status"] = TaskStatus.PUBLISHED.value
    row["updated_at"] = row["published_at"]


def planned_publish(row: Row) -> datetime:
    """When a plan task was assigned and published: the nightly plan at 20:00 the day before its window (or when it
    was created, if later)."""
    evening = local(local_date(row["window_start"]) - timedelta(days=1), 20)
    created: datetime = row["created_at"]
    return max(evening, created)


def findings_for(rng: random.Random, row: Row, *, problem: tuple[str, str, str] | None) -> dict[str, Any]:
    """The visit record (tasks/schemas.py `Findings`, plus `problem`) for a completed task of this kind."""
    items = checklist_for(row["kind"], row["service"])
    checklist = {item.key: ("na" if rng.random() < 0.04 else "ok") for item in items}
    record: dict[str, Any] = {
        "resident_condition": "fair" if problem else CONDITION.draw(rng),
        "needs": [],
        "notes": None,
        "checklist": checklist,
        "problem_category": None,
        "meal_outcome": None,
        "photo_ids": [],
        "problem": None,
    }
    if problem:
        category, item, words = problem
        if item in checklist:
            checklist[item] = "problem"
        record.update(problem_category=category, problem=words)
    return record


def do(
    rng: random.Random,
    row: Row,
    staff: Staff,
    home: Resident,
    *,
    check_in: datetime,
    minutes_on_site: float,
    problem: tuple[str, str, str] | None = None,
    published: datetime | None = None,
    meal_outcome: str | None = None,
) -> None:
    """The task done by `staff`: accepted, en route, checked in at the door at `check_in`, completed after
    `minutes_on_site` with the visit record (EVV: both positions near the home, a few far from it)."""
    if row["assignee_staff_id"] is None:
        assign(row, staff, at=published or row["created_at"], published=published)
    travel = minutes(rng.uniform(4, 20))
    check_in = max(check_in, row["published_at"] + travel)  # nobody sets off before the task is on their list
    row["en_route_at"] = max(row["published_at"], check_in - travel)
    # Most caregivers just set off (en route accepts the task too); a few tap "accept" first.
    accepted = row["en_route_at"] - minutes(rng.uniform(1, 40)) if rng.random() < 0.3 else row["en_route_at"]
    row["accepted_at"] = max(row["published_at"], accepted)
    row["checked_in_at"] = check_in
    row["completed_at"] = check_in + minutes(minutes_on_site)
    far = rng.random() < FAR_SHARE
    row["check_in_latitude"], row["check_in_longitude"] = near(rng, home, far=far)
    row["check_out_latitude"], row["check_out_longitude"] = near(rng, home, far=far and rng.random() < 0.5)
    if row["kind"] == "meal_delivery":
        row["findings"] = {"checklist": {}, "needs": [], "photo_ids": [], "meal_outcome": meal_outcome, "problem": None}
    elif row["kind"] not in ("maintenance", "substitute_cover"):
        row["findings"] = findings_for(rng, row, problem=problem)
    row["problem_found"] = problem is not None
    row["status"] = TaskStatus.COMPLETED.value
    row["updated_at"] = row["completed_at"]
    row["updated_by"] = staff.user_id


def end(row: Row, status: TaskStatus, *, at: datetime, reason: str | None, by: int | None = None) -> None:
    """The task closed without being done (missed, cancelled, suspended) at `at`, with the reason."""
    row["status"] = status.value
    row["status_reason"] = reason
    row["updated_at"] = max(at, row["updated_at"])
    row["updated_by"] = by
