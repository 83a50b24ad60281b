"""The care-plans domain's request and response shapes.

`MealPlanEntry` and `ServiceEntitlement` are also the shape of `care_plan.meals` / `care_plan.services` (jsonb):
the task generator and the meal-order job read them through these models.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from eldercare_platform.care_plans.models import AssessmentReason, Funder, Meal, MealMode, PurchasedService, StateKind
from eldercare_platform.care_plans.scale import LevelAdjustment
from eldercare_platform.core.params import INT4_MAX, Instant, IsoDate
from eldercare_platform.residents.models import CapabilityLevel, CareTier

Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 Monday … 7 Sunday")]


class MealPlanEntry(BaseModel):
    """One meal of the meal plan: on these weekdays, this meal, served this way from this meal point."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(min_length=1, max_length=7)
    meal: Meal
    mode: MealMode
    meal_point_id: int = Field(ge=1, le=INT4_MAX)
    diet: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=10, description="低盐, 低糖, 软食, 清真…"
    )


class ServiceEntitlement(BaseModel):
    """Purchased home-service hours per month for one service, and who pays."""

    model_config = ConfigDict(extra="forbid")

    service: PurchasedService
    hours_per_month: float = Field(gt=0, le=200)
    funder: Funder


# --- assessments -----------------------------------------------------------------------------------------


class AssessmentCreate(BaseModel):
    """A capability assessment as the assessor recorded it (GB/T 42195-2022 items: GET /api/meta/assessment-scale)."""

    model_config = ConfigDict(extra="forbid")

    assessed_on: IsoDate
    reason: AssessmentReason
    assessor_name: str = Field(min_length=1, max_length=64)
    assessor_staff_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    items: dict[Annotated[str, Field(max_length=64)], int] = Field(
        max_length=64, description="item code → score, every item of the scale"
    )
    adjustments: list[LevelAdjustment] = Field(
        default_factory=list,
        max_length=4,
        description="能力等级变更依据: coma, dementia, mental_disorder, care_risk_events",
    )
    notes: str | None = Field(default=None, max_length=2000)


class AssessmentOut(BaseModel):
    """A stored assessment with its scores and level."""

    id: int
    resident_id: int
    assessed_on: date
    reason: str
    standard: str
    assessor_name: str
    assessor_staff_id: int | None
    items: dict[str, int]
    domain_scores: dict[str, int]
    total_score: int
    preliminary_level: CapabilityLevel | None
    level_adjustments: list[str]
    level: CapabilityLevel
    notes: str | None
    recorded_at: datetime
    recorded_by: int | None


class ScaleItemOut(BaseModel):
    """One item of the scale, for the assessment form."""

    code: str
    ref: str
    min_score: int
    max_score: int
    label_zh: str
    label_en: str


class ScaleDomainOut(BaseModel):
    """One first-level indicator."""

    code: str
    ref: str
    label_zh: str
    label_en: str
    max_score: int
    items: list[ScaleItemOut]


class LevelBandOut(BaseModel):
    """A level and its total-score range."""

    level: CapabilityLevel
    min_total: int
    max_total: int
    label_zh: str
    label_en: str


class ScaleOut(BaseModel):
    """The whole scale: what a page needs to render the form and explain the result."""

    standard: str
    total_max: int
    domains: list[ScaleDomainOut]
    levels: list[LevelBandOut]
    adjustments: list[str]


# --- care plans -------------------------------------------------------------------------------------------


class TierProposalOut(BaseModel):
    """The tier the rules propose now, with reason codes."""

    tier: CareTier
    reasons: list[str]


class CarePlanCreate(BaseModel):
    """A new version of a resident's care plan."""

    model_config = ConfigDict(extra="forbid")

    valid_from: IsoDate
    visit_tier: CareTier
    override_reason: str | None = Field(
        default=None, min_length=1, max_length=500, description="Required when visit_tier differs from the proposal"
    )
    meals: list[MealPlanEntry] = Field(default_factory=list, max_length=21)
    services: list[ServiceEntitlement] = Field(default_factory=list, max_length=len(PurchasedService) * 2)
    notes: str | None = Field(default=None, max_length=2000)


class CarePlanOut(BaseModel):
    """One version of a care plan."""

    id: int
    resident_id: int
    version: int
    valid_from: date
    valid_to: date | None
    superseded_by: int | None
    visit_tier: CareTier
    proposed_tier: CareTier
    tier_reasons: list[str]
    override_reason: str | None
    assessment_id: int | None
    meals: list[MealPlanEntry]
    services: list[ServiceEntitlement]
    subsidy_monthly_fen: int
    subsidy_basis: str | None
    notes: str | None
    created_at: datetime
    created_by: int | None


class CurrentCarePlan(BaseModel):
    """The version in force today (None before the first), and what the rules propose now."""

    current: CarePlanOut | None
    proposed: TierProposalOut
    subsidy_monthly_fen: int = Field(description="What the resident's level and categories give now (fen)")
    subsidy_basis: str | None


# --- temporary states ---------------------------------------------------------------------------------------


class StateCreate(BaseModel):
    """A temporary (hospital, away) or final (moved, deceased) state of a resident."""

    model_config = ConfigDict(extra="forbid")

    kind: StateKind
    starts_at: Instant
    ends_at: Instant | None = Field(default=None, description="Hospital/away only; moved and deceased never end")
    reason: str = Field(min_length=1, max_length=500)


class StateEnd(BaseModel):
    """The end of a hospital stay (discharge) or a stay away."""

    model_config = ConfigDict(extra="forbid")

    ends_at: Instant


class StateOut(BaseModel):
    """A stored state."""

    id: int
    resident_id: int
    kind: StateKind
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    recorded_at: datetime
    recorded_by: int | None
    ended_at: datetime | None
    ended_by: int | None


class StateBrief(BaseModel):
    """The state a resident is in at a moment (the alarm card shows it: "住院中")."""

    id: int
    kind: StateKind
    since: datetime
    until: datetime | None
