"""The solver side of planning: the travel model and the planner a deployment's settings call for, and the checks
every plan passes before it touches a task (docs/scheduling.md)."""

from __future__ import annotations

from eldercare_common.logging import get_logger
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.routing.osrm import OsrmTableTravel
from eldercare_platform.routing.problem import Plan, Planner, PlannerSettings, PlanningProblem
from eldercare_platform.routing.pyvrp_planner import PyVRPPlanner
from eldercare_platform.routing.travel import GreatCircleTravel, TravelModel
from eldercare_platform.routing.validate import violations

log = get_logger(__name__)


def travel_model(settings: ServiceRulesMixin) -> TravelModel:
    """The deployment's road network when `travel_matrix_url` names an OSRM-compatible table service, else the
    great-circle estimate (`estimate_model`)."""
    if settings.travel_matrix_url:
        return OsrmTableTravel(base_url=settings.travel_matrix_url.rstrip("/"))
    return estimate_model(settings)


def estimate_model(settings: ServiceRulesMixin) -> TravelModel:
    """Great-circle distance × `travel_circuity` at the modes' speeds (needs no network)."""
    speeds = {
        "foot": settings.travel_speed_foot_kmh,
        "ebike": settings.travel_speed_ebike_kmh,
        "car": settings.travel_speed_car_kmh,
    }
    return GreatCircleTravel(circuity=settings.travel_circuity, speeds_kmh=speeds)


def planner_settings(settings: ServiceRulesMixin, *, seconds: float | None = None) -> PlannerSettings:
    """The solve's settings (recorded with every plan)."""
    return PlannerSettings(
        seconds=settings.planner_seconds if seconds is None else seconds,
        seed=settings.planner_seed,
        continuity_weight_km=settings.continuity_weight_km,
        workload_slack=settings.workload_slack,
    )


def default_planner(settings: ServiceRulesMixin, travel: TravelModel | None = None) -> Planner:
    """The product's planner: PyVRP (routing/pyvrp_planner.py) on the settings' travel model, its time limit the
    problem's `settings.seconds` (`planner_seconds`)."""
    return PyVRPPlanner(travel or travel_model(settings))


def check(problem: PlanningProblem, plan: Plan, travel: TravelModel) -> list[str]:
    """Why a plan must not be applied (empty: it may): every rule of `routing.validate` (each visit answered
    exactly once; shifts, skills, windows, caps, declined residents, pinned caregivers and starts, the hot-food
    limit, stop times consistent with the travel model the planner used)."""
    return violations(problem, plan, travel)
