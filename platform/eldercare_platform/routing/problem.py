"""The planning problem and its answer, as plain data: what every planner reads and writes (docs/scheduling.md).

Nothing here touches the database: the planning domain builds a `PlanningProblem` from the roster, the care
plans and the task engine, hands it to a `Planner`, and applies the `Plan` it gets back. The benchmarks build the
same objects from generated districts. Times are aware datetimes (UTC in, UTC out).

- A `Caregiver` is a vehicle: one staff member's shift, from a start place (home base, care center) back to an
  end place, with a travel mode, skills, a task cap and residents they declined.
- A `Visit` is a task to serve at a home in a time window, for a duration, with a priority (1–3 must be served;
  4 may move to another day), an optional required skill, the staff who served this resident recently
  (continuity), and, for a meal delivery, the meal point to pick it up from and when it is ready.
- A visit already published or in progress is `pinned` to its caregiver (and, once started, to its time):
  a plan never moves it to anyone else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Point:
    """A place, in WGS-84 degrees."""

    latitude: float
    longitude: float


TRAVEL_MODES = ("foot", "ebike", "car")


@dataclass(frozen=True)
class Caregiver:
    """One staff member's shift: a vehicle of the routing problem."""

    staff_id: int
    shift_id: int
    shift_start: datetime
    shift_end: datetime
    start: Point | None  # where the shift starts (home base / care center); None: unknown, travel from it is 0
    end: Point | None  # where it ends; None: the route ends at its last stop
    travel_mode: str = "ebike"  # one of TRAVEL_MODES
    skills: frozenset[str] = frozenset()
    max_tasks: int = 8
    declined_residents: frozenset[int] = frozenset()
    # Where the caregiver is now and from when they are free (intraday: after the task in progress); None: the
    # shift's start place and start time.
    available_from: datetime | None = None
    position: Point | None = None


@dataclass(frozen=True)
class MealPickup:
    """A meal delivery's pickup: the meal point, and when the food is ready there.

    The delivery must reach the door within `max_minutes` of the pickup; planners enforce it conservatively
    by picking up no earlier than `ready_at` and delivering no later than `ready_at + max_minutes`."""

    point: Point
    ready_at: datetime
    max_minutes: int = 45
    meal_point_id: int | None = None


@dataclass(frozen=True)
class Visit:
    """A task to serve at a place."""

    task_id: int
    location: Point | None
    window_start: datetime
    window_end: datetime  # the latest start of service
    duration_minutes: int
    priority: int = 3  # 1 urgent, 2 high-risk, 3 normal: must be served; 4 flexible: may move to another day
    required_skill: str | None = None
    resident_id: int | None = None
    # Continuity of care: completed visits to this resident by staff id over the last weeks (more = preferred).
    served_by: Mapping[int, int] = field(default_factory=dict)
    # Published or in progress: stays with this staff member; with `pinned_start` (checked in) at that time too.
    pinned_staff_id: int | None = None
    pinned_start: datetime | None = None
    pickup: MealPickup | None = None  # a meal delivery: picked up at a meal point first
    kind: str = "visit"
    service: str | None = None

    @property
    def mandatory(self) -> bool:
        """Priorities 1–3 must be served (or explained); 4 may move to another day within its window."""
        return self.priority <= 3


@dataclass(frozen=True)
class PlannerSettings:
    """How hard to try and what to weigh (recorded with every plan)."""

    seconds: float = 10.0  # time limit of one solve
    seed: int = 1
    continuity_weight_km: float = 1.0  # a visit by someone other than the resident's usual caregiver costs this
    workload_slack: float = 0.25  # a caregiver takes at most ceil(fair share × (1 + slack)) tasks (and max_tasks)
    flexible_prize_km: float = 20.0  # what serving a priority-4 visit is worth, in km of travel

    def as_dict(self) -> dict[str, float | int]:
        return {
            "seconds": self.seconds,
            "seed": self.seed,
            "continuity_weight_km": self.continuity_weight_km,
            "workload_slack": self.workload_slack,
            "flexible_prize_km": self.flexible_prize_km,
        }


@dataclass(frozen=True)
class PlanningProblem:
    """One area's day: who is on shift, what is to be done, from when (`now`: nothing starts before it)."""

    caregivers: Sequence[Caregiver]
    visits: Sequence[Visit]
    now: datetime
    settings: PlannerSettings = PlannerSettings()
    label: str = ""  # e.g. the area's name and the day, for logs and benchmarks


@dataclass(frozen=True)
class Stop:
    """A visit in a route: its order, when service starts and ends, and the leg that led to it."""

    task_id: int
    sequence: int  # 1-based within the route
    start: datetime
    end: datetime
    travel_km: float  # from the previous place (the start place for the first stop)
    travel_minutes: float
    pinned: bool = False
    pickup_at: datetime | None = None  # a meal delivery: when it was picked up at the meal point
    # A meal delivery picked up as one of a batch (several meals fetched in one trip): the pickup was made among
    # those just before the stop with this sequence number (this stop's own, or an earlier one); None: on the
    # way to this stop, right before it.
    # `travel_km`/`travel_minutes` of a stop include the detour through the pickups made before it.
    pickup_before: int | None = None


@dataclass(frozen=True)
class Route:
    """One caregiver's shift, in order."""

    staff_id: int
    shift_id: int
    stops: tuple[Stop, ...]
    travel_km: float  # the whole route, including the way back to the end place
    travel_minutes: float


UNASSIGNED_REASONS = (
    "no_staff_on_shift",  # nobody's shift covers the window for the task's duration
    "no_staff_with_skill",  # somebody is on shift, nobody with the required skill
    "declined_by_all",  # everyone qualified declined this resident
    "window_infeasible",  # nobody qualified can get there inside the window (travel, other fixed visits)
    "no_capacity",  # every qualified caregiver is at their task cap
    "no_location",  # the home has no coordinates
    "deferred",  # a flexible (priority 4) visit the plan moved to another day
    "solver_failed",  # the solver found no feasible plan in its time limit
)


@dataclass(frozen=True)
class Unassigned:
    """A visit no route serves, with one of `UNASSIGNED_REASONS` and free-form detail."""

    task_id: int
    reason: str
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A planner's answer: routes, the visits left out with reasons, the cost breakdown and how it was found."""

    solver: str
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    cost: Mapping[str, float]  # travel_km, travel_minutes, lateness_minutes, continuity_misses, … (docs)
    runtime_seconds: float
    feasible: bool
    stats: Mapping[str, object] = field(default_factory=dict)


class Planner(Protocol):
    """Builds a day's routes. Implementations never mutate the problem, answer every visit exactly once (in a
    route or unassigned with a reason), keep every pinned visit with its caregiver (and at its pinned start),
    and never break a shift, a skill, a window or a declined resident."""

    name: str

    def plan(self, problem: PlanningProblem) -> Plan:
        """A plan for the whole problem."""
        ...

    def insert(self, problem: PlanningProblem, current: Plan, visit: Visit) -> Plan:
        """`current` with `visit` added to the best caregiver's route, every other route and stop kept fixed
        (only the chosen route's later start times may shift); the visit unassigned with a reason if no route
        can take it."""
        ...
