"""The visit record per kind of task: the checklist a caregiver ticks at the door (pure data).

A visit (探访关爱), an urgent visit and a follow-up share a short wellbeing and home-safety checklist; a purchased
service (上门服务) adds whether it was done as planned and whether the resident was satisfied; a meal delivery has
no checklist, only its outcome (handed over, left with a neighbour; nobody home is the no-answer path). Each item
is answered `ok`, `problem` or `na` in `findings.checklist` (tasks/work.py checks the keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ChecklistAnswer = Literal["ok", "problem", "na"]
ChecklistGroup = Literal["wellbeing", "home_safety", "service"]
GROUPS: tuple[str, ...] = get_args(ChecklistGroup)

PROBLEM_CATEGORIES = ("health", "safety", "home_repair", "hygiene", "food", "social", "other")
"""What a problem found is about (required with `problem_found`; the follow-up task's notes carry it)."""

MEAL_OUTCOMES = ("handed_over", "left_with_neighbour")
"""How a meal delivery ended at the door (nobody home: the no-answer path, `POST /api/tasks/{id}/no-answer`)."""


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the checklist."""

    key: str
    label_zh: str
    label_en: str
    group: ChecklistGroup


WELLBEING = (
    ChecklistItem("condition", "精神与身体状况", "General condition", "wellbeing"),
    ChecklistItem("mood", "情绪", "Mood", "wellbeing"),
    ChecklistItem("ate_today", "今天已进食", "Has eaten today", "wellbeing"),
    ChecklistItem("medicines_taken", "按时服药", "Medicines taken", "wellbeing"),
    ChecklistItem("mobility", "行动能力，无跌倒", "Mobility, no falls", "wellbeing"),
)
HOME_SAFETY = (
    ChecklistItem("gas_off", "燃气、灶具已关闭", "Gas and stove off", "home_safety"),
    ChecklistItem("floors_clear", "地面通道无障碍物", "Floors clear", "home_safety"),
    ChecklistItem("smoke_alarm", "烟雾报警器正常", "Smoke alarm works", "home_safety"),
    ChecklistItem("door_lock", "门锁正常", "Door lock works", "home_safety"),
    ChecklistItem("room_temperature", "室温适宜", "Room temperature ok", "home_safety"),
)
SERVICE = (
    ChecklistItem("done_as_planned", "服务按计划完成", "Service done as planned", "service"),
    ChecklistItem("resident_satisfied", "老人满意", "Resident satisfied", "service"),
)

_BY_KIND: dict[str, tuple[ChecklistItem, ...]] = {
    "visit": WELLBEING + HOME_SAFETY,
    "urgent_visit": WELLBEING + HOME_SAFETY,
    "follow_up": WELLBEING + HOME_SAFETY,
    "alarm_response": WELLBEING + HOME_SAFETY,
    "reassessment": WELLBEING,
    "service": WELLBEING + SERVICE,
    "meal_delivery": (),
}

ALL_ITEMS: tuple[ChecklistItem, ...] = WELLBEING + HOME_SAFETY + SERVICE


def checklist_for(kind: str, service: str | None = None) -> tuple[ChecklistItem, ...]:
    """The checklist of a task of this kind (and service); empty for kinds with no visit record (maintenance,
    substitute cover, meal delivery)."""
    del service  # every purchased service shares one checklist for now; the argument is where it would differ
    return _BY_KIND.get(kind, ())


def unknown_items(kind: str, service: str | None, answers: dict[str, str]) -> list[str]:
    """The keys of `answers` that are not on the task's checklist, sorted."""
    allowed = {item.key for item in checklist_for(kind, service)}
    return sorted(set(answers) - allowed)
