"""Assessments, care plan versions and the reassessment job, through the API on the injected clock."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.care_plans.jobs import reassessments
from tests import factories as f
from tests.conftest import TEST_NOW
from tests.integration.care_support import assessment_body, care_world


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    return care_world(db)


def _auth(client: TestClient, world: dict[str, Any], who: str = "coordinator") -> dict[str, str]:
    return f.login(client, world[who].username)


def test_an_assessment_scores_sets_the_level_and_the_next_reassessment(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    body = assessment_body(bathing=1, stairs=0, memory=2, transport=1) | {"adjustments": ["dementia"]}
    response = client.post(f"/api/residents/{rid}/assessments", json=body, headers=_auth(client, world))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["total_score"] == 80 and out["preliminary_level"] == "mild" and out["level"] == "moderate"
    assert out["domain_scores"] == {"self_care": 29, "mobility": 12, "mental": 26, "perception_social": 13}
    level, assessed_on, due = db.execute(
        text("SELECT capability_level, capability_assessed_on, reassessment_due_on FROM resident WHERE id = :r"),
        {"r": rid},
    ).one()
    assert (level, assessed_on, due) == ("moderate", date(2026, 11, 20), date(2027, 5, 20))
    audited = db.execute(
        text("SELECT count(*) FROM audit_log WHERE entity = 'assessment' AND entity_id = :id"), {"id": str(out["id"])}
    ).scalar_one()
    assert audited == 1


def test_missing_and_out_of_range_items_are_a_422_naming_them(client: TestClient, world: dict[str, Any]) -> None:
    body = assessment_body(stairs=4)
    del body["items"]["eating"]
    response = client.post(
        f"/api/residents/{world['resident'].id}/assessments", json=body, headers=_auth(client, world)
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "invalid_assessment_items"
    assert error["missing"] == ["eating"] and error["out_of_range"] == ["stairs"]
    assert "eating" in error["detail"]


@pytest.mark.time_sensitive
def test_history_is_newest_first_and_another_community_sees_nothing(client: TestClient, world: dict[str, Any]) -> None:
    rid = world["resident"].id
    headers = _auth(client, world)
    for day in ("2026-05-20", "2026-11-20"):
        assert (
            client.post(f"/api/residents/{rid}/assessments", json=assessment_body(day), headers=headers).status_code
            == 201
        )
    history = client.get(f"/api/residents/{rid}/assessments", headers=headers).json()
    assert [a["assessed_on"] for a in history] == ["2026-11-20", "2026-05-20"]
    other = _auth(client, world, "other_coordinator")
    for path in ("assessments", "care-plan", "care-plans", "states"):
        response = client.get(f"/api/residents/{rid}/{path}", headers=other)
        assert response.status_code == 404 and response.json()["code"] == "resident_not_found"
    refused = client.post(f"/api/residents/{rid}/assessments", json=assessment_body(), headers=other)
    assert refused.status_code == 404


def test_an_assessment_cannot_be_dated_tomorrow(client: TestClient, world: dict[str, Any]) -> None:
    tomorrow = (TEST_NOW + timedelta(days=1)).date().isoformat()
    response = client.post(
        f"/api/residents/{world['resident'].id}/assessments",
        json=assessment_body(tomorrow),
        headers=_auth(client, world),
    )
    assert response.status_code == 422 and response.json()["code"] == "assessed_on_in_future"


def test_the_scale_is_served_to_any_signed_in_user(client: TestClient, world: dict[str, Any]) -> None:
    scale = client.get("/api/meta/assessment-scale", headers=_auth(client, world, "operator")).json()
    assert scale["total_max"] == 90 and len(scale["domains"]) == 4
    assert [(b["level"], b["min_total"], b["max_total"]) for b in scale["levels"]] == [
        ("intact", 90, 90),
        ("mild", 66, 89),
        ("moderate", 46, 65),
        ("severe", 30, 45),
        ("total", 0, 29),
    ]


def _plan(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "valid_from": "2026-11-22",
        "visit_tier": "key",
        "meals": [{"days": [1, 3, 5], "meal": "lunch", "mode": "delivery", "meal_point_id": world["meal_point"]}],
        "services": [{"service": "cleaning", "hours_per_month": 4, "funder": "government"}],
    } | changes


def test_a_plan_follows_the_proposed_tier_or_needs_a_reason(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    headers = _auth(client, world)
    current = client.get(f"/api/residents/{rid}/care-plan", headers=headers).json()
    assert current["current"] is None
    assert current["proposed"] == {"tier": "key", "reasons": ["key_category"]}  # 特困, 独居, intact
    assert current["subsidy_monthly_fen"] == 10_350  # ¥207 at home: half
    refused = client.post(
        f"/api/residents/{rid}/care-plans", json=_plan(world, visit_tier="high_risk"), headers=headers
    )
    assert refused.status_code == 422 and refused.json()["code"] == "override_reason_required"
    created = client.post(
        f"/api/residents/{rid}/care-plans",
        json=_plan(world, visit_tier="high_risk", override_reason="家属要求每周探访"),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["version"] == 1 and plan["proposed_tier"] == "key" and plan["visit_tier"] == "high_risk"
    assert plan["subsidy_monthly_fen"] == 10_350 and plan["meals"][0]["meal_point_id"] == world["meal_point"]
    assert db.execute(text("SELECT care_tier FROM resident WHERE id = :r"), {"r": rid}).scalar_one() == "high_risk"
    assert client.get(f"/api/residents/{rid}/care-plan", headers=headers).json()["current"]["id"] == plan["id"]


def test_a_plan_refuses_unknown_meal_points_and_past_dates(client: TestClient, world: dict[str, Any]) -> None:
    rid = world["resident"].id
    headers = _auth(client, world)
    meals = [{"days": [1], "meal": "lunch", "mode": "pick_up", "meal_point_id": 99_999_999}]
    response = client.post(f"/api/residents/{rid}/care-plans", json=_plan(world, meals=meals), headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "meal_point_not_found"
    assert response.json()["meal_point_ids"] == [99_999_999]
    yesterday = (TEST_NOW - timedelta(days=1)).date().isoformat()
    response = client.post(f"/api/residents/{rid}/care-plans", json=_plan(world, valid_from=yesterday), headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "valid_from_in_past"


def test_a_new_version_closes_the_previous_one_and_a_same_day_one_supersedes_it(
    client: TestClient, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    headers = _auth(client, world)
    first = client.post(f"/api/residents/{rid}/care-plans", json=_plan(world), headers=headers).json()
    second = client.post(
        f"/api/residents/{rid}/care-plans", json=_plan(world, valid_from="2026-12-01"), headers=headers
    )
    assert second.status_code == 201
    third = client.post(
        f"/api/residents/{rid}/care-plans", json=_plan(world, valid_from="2026-12-01", meals=[]), headers=headers
    ).json()
    versions = {p["version"]: p for p in client.get(f"/api/residents/{rid}/care-plans", headers=headers).json()}
    assert versions[1]["valid_to"] == "2026-11-30" and versions[1]["superseded_by"] is None
    assert versions[2]["valid_to"] == "2026-12-01" and versions[2]["superseded_by"] == third["id"]
    assert versions[3]["valid_to"] is None
    assert client.get(f"/api/residents/{rid}/care-plan", headers=headers).json()["current"]["id"] == first["id"]


def test_the_reassessment_job_makes_a_task_then_an_alert_and_an_assessment_ends_both(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    rid = world["resident"].id
    due = TEST_NOW.date() - timedelta(days=2)
    db.execute(text("UPDATE resident SET reassessment_due_on = :d WHERE id = :r"), {"d": due, "r": rid})
    assert reassessments(db, now=TEST_NOW)["tasks_created"] >= 1
    again = reassessments(db, now=TEST_NOW)  # idempotent
    task = db.execute(
        text("SELECT id, status, slot, source FROM task WHERE resident_id = :r AND kind = 'reassessment'"), {"r": rid}
    ).one()
    assert task.slot == f"reassessment:{due.isoformat()}" and task.source == "assessment"
    alert = db.execute(
        text("SELECT state FROM alert WHERE kind = 'reassessment_overdue' AND subject_key = :s"),
        {"s": f"resident:{rid}"},
    ).scalar_one()
    assert alert == "open" and again["alerts_raised"] == 0
    db.commit()
    response = client.post(
        f"/api/residents/{rid}/assessments", json=assessment_body("2026-11-21"), headers=_auth(client, world)
    )
    assert response.status_code == 201
    status, reason = db.execute(text("SELECT status, status_reason FROM task WHERE id = :id"), {"id": task.id}).one()
    assert (status, reason) == ("cancelled", "assessed")
    resolved = db.execute(
        text("SELECT state, resolution FROM alert WHERE kind = 'reassessment_overdue' AND subject_key = :s"),
        {"s": f"resident:{rid}"},
    ).one()
    assert tuple(resolved) == ("resolved", "assessed")
