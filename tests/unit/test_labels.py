"""Every value of every enum a page shows has its words in zh-CN and English (platform/.../meta/labels.py): a new
enum member without a label fails here, before a page could show its raw code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from fastapi.testclient import TestClient

from eldercare_common.contract.v1 import EventType, FaultType
from eldercare_platform.alarms.models import AlarmSource, AlarmState, CallResult, Outcome, ReachMethod, TraceAction
from eldercare_platform.alerts.models import AlertKind, AlertState
from eldercare_platform.care_plans.models import AssessmentReason, Funder, Meal, MealMode, PurchasedService, StateKind
from eldercare_platform.care_plans.rules import TierReason
from eldercare_platform.care_plans.scale import LevelAdjustment
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.devices.models import DeviceKind, DeviceState
from eldercare_platform.main import create_app
from eldercare_platform.meals.models import CollectedVia, MealReason, OrderSource, OrderStatus
from eldercare_platform.meta.labels import KINDS, LOCALES, all_labels, missing_labels
from eldercare_platform.planning.models import PlanKind, PlanReason, PlanStatus
from eldercare_platform.residents.models import CapabilityLevel, CareTier, Gender, ResidentCategory, ResidentStatus
from eldercare_platform.roster.models import (
    CertificateStatus,
    LeaveKind,
    PreferenceKind,
    Skill,
    StaffRole,
    TravelMode,
    Unassignable,
)
from eldercare_platform.routing.problem import UNASSIGNED_REASONS
from eldercare_platform.supervision.columns import FIGURES as SUPERVISION_FIGURES
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.monitor_columns import FIGURES as SERVICES_MONITOR_FIGURES
from eldercare_platform.supervision.monitor_schemas import FacilityKind, MonitorExceptionKind, StatementExceptionKind
from eldercare_platform.tasks.checklists import ALL_ITEMS, GROUPS, MEAL_OUTCOMES, PROBLEM_CATEGORIES, ChecklistAnswer
from eldercare_platform.tasks.models import EngineReason, TaskAction, TaskKind, TaskSource, TaskStatus
from eldercare_platform.users.models import Role
from eldercare_platform.users.permissions import Permission

ENUMS: dict[str, list[Any]] = {
    "supervisionException": [*ExceptionKind, *StatementExceptionKind, *MonitorExceptionKind],
    "supervisionFigure": list({**SUPERVISION_FIGURES, **SERVICES_MONITOR_FIGURES}),
    "alarmState": list(AlarmState),
    "traceAction": list(TraceAction),
    "callResult": list(CallResult),
    "outcome": list(Outcome),
    "reachMethod": list(ReachMethod),
    "eventType": [*EventType, *FaultType],
    "deviceKind": list(DeviceKind),
    "deviceState": list(DeviceState),
    "role": list(Role),
    "permission": list(Permission),
    "gender": list(Gender),
    "capability": list(CapabilityLevel),
    "careTier": list(CareTier),
    "residentCategory": list(ResidentCategory),
    "residentStatus": list(ResidentStatus),
    "taskKind": list(TaskKind),
    "taskStatus": list(TaskStatus),
    "taskSource": list(TaskSource),
    "taskAction": list(TaskAction),
    "alertKind": list(AlertKind),
    "alertState": list(AlertState),
    "assessmentReason": list(AssessmentReason),
    "meal": list(Meal),
    "mealMode": list(MealMode),
    "purchasedService": list(PurchasedService),
    "funder": list(Funder),
    "residentState": list(StateKind),
    "mealOrderSource": list(OrderSource),
    "mealOrderStatus": list(OrderStatus),
    "collectedVia": list(CollectedVia),
    "travelMode": list(TravelMode),
    "tierReason": list(TierReason.ALL),
    "levelAdjustment": list(LevelAdjustment),
    "staffRole": list(StaffRole),
    "skill": list(Skill),
    "leaveKind": list(LeaveKind),
    "preferenceKind": list(PreferenceKind),
    "certificateStatus": list(CertificateStatus),
    "unassignableReason": list(Unassignable),
    "taskEngineReason": list(EngineReason),
    "alarmSource": list(AlarmSource),
    "mealReason": list(MealReason),
    "planKind": list(PlanKind),
    "planStatus": list(PlanStatus),
    "planUnassignedReason": list(UNASSIGNED_REASONS),
    "planReason": list(PlanReason),
    "problemCategory": list(PROBLEM_CATEGORIES),
    "mealOutcome": list(MEAL_OUTCOMES),
    "checklistAnswer": list(get_args(ChecklistAnswer)),
    "checklistGroup": list(GROUPS),
    "checklistItem": [item.key for item in ALL_ITEMS],
    "facilityKind": list(FacilityKind),
}


def test_every_member_of_every_listed_enum_has_both_labels() -> None:
    assert missing_labels() == []
    labels = all_labels()
    for kind, members in ENUMS.items():
        assert [str(m) for m in members] == list(labels[kind]), kind
        for member in members:
            words = labels[kind][str(member)]
            assert set(words) == set(LOCALES) and all(words[locale].strip() for locale in LOCALES), (kind, member)


def test_the_scope_kinds_are_those_auth_me_answers() -> None:
    assert set(all_labels()["scope"]) == {"all", "area", "institution", "zone", "none"}


def test_every_kind_is_checked_here() -> None:
    assert set(KINDS) == set(ENUMS) | {"scope"}


def test_a_value_without_a_label_is_reported() -> None:
    values, words = KINDS["alarmState"]
    KINDS["alarmState"] = ((*values, "paused"), words)
    try:
        assert missing_labels() == ["alarmState.paused"]
    finally:
        KINDS["alarmState"] = (values, words)


def test_the_endpoint_is_documented_with_its_model_and_errors() -> None:
    app = create_app(ApiSettings(environment="test"), connect_broker=False)
    document = TestClient(app).get("/api/openapi.json").json()
    operation = document["paths"]["/api/meta/labels"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Labels"
    }
    for status in ("401", "500", "503"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
    label = document["components"]["schemas"]["Label"]
    assert set(label["required"]) == {"zh-CN", "en"}


def test_pages_copy_no_enum_lists() -> None:
    """The pages take enum words from the API: no outcome, reach method, alarm-type or permission table in JS."""
    root = Path(__file__).resolve().parents[2] / "dashboards"
    copied = [*(f'"{v}"' for v in [*Outcome, *ReachMethod]), "alarmType.", "deviceKind.", "perm."]
    for path in [*root.rglob("*.js"), *root.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        found = [value for value in copied if value in text]
        assert not found, f"{path.relative_to(root)} copies enum values {found}: use label()/labelCodes()"
