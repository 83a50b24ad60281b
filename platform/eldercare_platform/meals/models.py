"""Meal orders (助餐): the vocabulary (the `meal_order` table is written in SQL by migration 0007)."""

from __future__ import annotations

from enum import StrEnum


class OrderSource(StrEnum):
    """Where an order came from."""

    PLAN = "plan"  # the care plan's meal plan, ordered by the daily job
    AD_HOC = "ad_hoc"  # phoned in or added by a coordinator before the cut-off


class OrderStatus(StrEnum):
    """ordered → collected (dine-in, pick-up) / delivered; not_collected (a welfare call); cancelled."""

    ORDERED = "ordered"
    COLLECTED = "collected"
    DELIVERED = "delivered"
    NOT_COLLECTED = "not_collected"
    CANCELLED = "cancelled"


class CollectedVia(StrEnum):
    """How a collection was recorded."""

    TERMINAL = "terminal"  # the canteen check-in terminal (MQTT telemetry `meal_checkin`)
    STAFF = "staff"  # the delivering caregiver's check-out
    MANUAL = "manual"  # a coordinator or canteen worker by hand


class MealReason(StrEnum):
    """Codes the platform writes as an order's `status_reason`, on a welfare call's trace or on a delivery task's
    trace (pages translate them; an operator's or coordinator's own words are free text)."""

    DEADLINE_PASSED = "deadline_passed"  # still ordered after its deadline: not collected
    MEAL_NOT_COLLECTED = "meal_not_collected"  # the welfare call's first line
    MEAL_NOT_COLLECTED_AGAIN = "meal_not_collected_again"  # another meal missed while the call is open
    MEAL_COLLECTED_LATE = "meal_collected_late"  # collected or delivered after the welfare call opened
    CHECKED_IN_WITHOUT_ORDER = "checked_in_without_order"  # a terminal check-in made an ad-hoc order
    CHECKED_IN_AFTER_NOT_COLLECTED = "checked_in_after_not_collected"
    CHECKED_IN_AFTER_CANCELLED = "checked_in_after_cancelled"
    DELIVERED_LATE = "delivered_late"  # pick-up to door beyond meal_delivery_limit_minutes
    MEAL_ORDER_CANCELLED = "meal_order_cancelled"  # the delivery task of a cancelled order
    MEAL_COLLECTED_AT_CANTEEN = "meal_collected_at_canteen"  # the delivery task of an order eaten at the canteen
    MEAL_CAPACITY_OK = "meal_capacity_ok"  # a capacity alert resolved by the order job
    RESIDENT_AWAY = "resident_away"  # in hospital, away, moved or deceased at the deadline: cancelled, no call
    LEFT_WITH_NEIGHBOUR = "left_with_neighbour"  # delivered: the caregiver left it with a neighbour (the app)
