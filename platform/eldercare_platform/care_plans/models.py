"""Capability assessments, care plans and temporary states: the vocabulary (the `assessment`, `care_plan` and
`resident_state` tables are written in SQL by migration 0007; the API's shapes are in `schemas.py`)."""

from __future__ import annotations

from enum import StrEnum


class AssessmentReason(StrEnum):
    """Why an assessment was made."""

    INITIAL = "initial"  # 首次评估
    PERIODIC = "periodic"  # 定期评估 (every 6 months, MZ/T 039)
    HOSPITAL_DISCHARGE = "hospital_discharge"  # 出院后
    FALL_INJURY = "fall_injury"  # 跌倒受伤后
    CONDITION_CHANGE = "condition_change"  # 状况变化
    OTHER = "other"


class MealMode(StrEnum):
    """How a meal reaches the resident."""

    DINE_IN = "dine_in"  # 堂食
    PICK_UP = "pick_up"  # 自取
    DELIVERY = "delivery"  # 送餐上门


class Meal(StrEnum):
    """Meals of the day."""

    BREAKFAST = "breakfast"
    LUNCH = "lunch"
    DINNER = "dinner"


class PurchasedService(StrEnum):
    """Home services bought by the government (政府购买) or by the resident (自费)."""

    BATHING = "bathing"  # 助浴
    CLEANING = "cleaning"  # 助洁
    MEDICAL_ESCORT = "medical_escort"  # 助医/陪诊
    SHOPPING = "shopping"  # 代购
    ERRANDS = "errands"  # 代办
    NURSING = "nursing"  # 护理
    REHABILITATION = "rehabilitation"  # 康复
    PSYCHOLOGICAL_COMFORT = "psychological_comfort"  # 精神慰藉


class Funder(StrEnum):
    """Who pays for a service."""

    GOVERNMENT = "government"  # 政府购买
    SELF_PAID = "self_paid"  # 自费


class StateKind(StrEnum):
    """Temporary (or final) states of a resident."""

    HOSPITAL = "hospital"  # 住院
    AWAY_WITH_FAMILY = "away_with_family"  # 随子女外出
    MOVED = "moved"  # 迁出
    DECEASED = "deceased"  # 去世
