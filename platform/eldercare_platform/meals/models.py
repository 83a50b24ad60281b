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
