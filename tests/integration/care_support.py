"""Shared set-up of the care-plans tests: two communities, a coordinator of each, a resident in the first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.care_plans import scale
from eldercare_platform.facilities.models import MealPoint, MealPointKind
from eldercare_platform.users.models import Role
from tests import factories as f


def care_world(db: Session) -> dict[str, Any]:
    db.execute(text("UPDATE outbox SET processed_at = now() WHERE processed_at IS NULL"))
    district = f.area(db, name="京口区", level=AreaLevel.DISTRICT)
    street = f.area(db, name="正东路街道", level=AreaLevel.STREET, parent=district)
    community = f.area(db, name="五条街社区", level=AreaLevel.COMMUNITY, parent=street)
    other = f.area(db, name="大市口社区", level=AreaLevel.COMMUNITY, parent=street)
    resident = f.resident(db, community=community, name="刘玉兰", categories=["extreme_poverty", "living_alone"])
    assert resident.household_id is not None and community.id is not None
    point = MealPoint(name="五条街助餐点", area_id=community.id, address="五条街1号", kind=MealPointKind.MEAL_POINT)
    db.add(point)
    db.flush()
    return {
        "community": community,
        "resident": resident,
        "unit": f.device(db, household_id=resident.household_id).serial,
        "meal_point": point.id,
        "coordinator": f.user(db, role=Role.COORDINATOR, scope_area=community),
        "other_coordinator": f.user(db, role=Role.COORDINATOR, scope_area=other),
        "operator": f.user(db, role=Role.OPERATOR),
    }


def assessment_body(assessed_on: str = "2026-11-20", **changes: int) -> dict[str, Any]:
    items = scale.full_marks()
    items.update(changes)
    return {
        "assessed_on": assessed_on,
        "reason": "periodic",
        "assessor_name": "周评估",
        "items": items,
        "notes": "家访评估",
    }
