"""The travel legs of one problem: every place indexed once, one distance/time matrix per travel mode, computed
lazily (only for the modes some caregiver uses) from a `TravelModel`.

A `None` place (a caregiver's unknown start, or a route with no end place) travels 0 km in 0 minutes to and from
anywhere (docs/scheduling/engine.md): the problem says the place is unknown, so the engine neither invents a
distance nor refuses the route.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from eldercare_platform.routing.problem import Caregiver, PlanningProblem, Point, Visit
from eldercare_platform.routing.travel import TravelMatrix, TravelModel


def caregiver_points(caregiver: Caregiver) -> list[Point | None]:
    return [caregiver.start, caregiver.end, caregiver.position]


def visit_points(visit: Visit) -> list[Point | None]:
    return [visit.location, visit.pickup.point if visit.pickup is not None else None]


def problem_points(problem: PlanningProblem) -> list[Point]:
    """Every distinct place of the problem, caregivers first (in order), then visits, then meal points."""
    places: list[Point | None] = []
    for caregiver in problem.caregivers:
        places.extend(caregiver_points(caregiver))
    for visit in problem.visits:
        places.extend(visit_points(visit))
    return [p for p in dict.fromkeys(places) if p is not None]


class TravelTable:
    """Distances (km) and times (minutes) between the given places, by travel mode."""

    def __init__(self, travel: TravelModel, points: Iterable[Point | None]) -> None:
        self.travel = travel
        self.points: list[Point] = [p for p in dict.fromkeys(points) if p is not None]
        self.index: dict[Point, int] = {p: i for i, p in enumerate(self.points)}
        self._matrices: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        self._extra: dict[tuple[Point, Point, str], tuple[float, float]] = {}
        self._by_id: dict[int, tuple[Point, int]] = {}  # id(point) → (the point, kept alive; its index)

    @classmethod
    def for_problem(cls, travel: TravelModel, problem: PlanningProblem, extra: Sequence[Point] = ()) -> TravelTable:
        return cls(travel, [*problem_points(problem), *extra])

    def matrix(self, mode: str) -> TravelMatrix:
        """The full matrices for `mode`, in the order of `self.points` (computed once)."""
        if mode not in self._matrices:
            found = self.travel.matrix(self.points, mode)
            self._matrices[mode] = (np.asarray(found.km, dtype=np.float64), np.asarray(found.minutes, np.float64))
        km, minutes = self._matrices[mode]
        return TravelMatrix(km=km, minutes=minutes)

    def leg(self, a: Point | None, b: Point | None, mode: str) -> tuple[float, float]:
        """(km, minutes) from `a` to `b`; 0 when either is unknown (None) or both are the same place."""
        if a is None or b is None or a == b:
            return 0.0, 0.0
        i, j = self._find(a), self._find(b)
        if i is None or j is None:
            return self._outside(a, b, mode)
        found = self._matrices.get(mode)
        if found is None:
            self.matrix(mode)
            found = self._matrices[mode]
        return float(found[0][i, j]), float(found[1][i, j])

    def _find(self, point: Point) -> int | None:
        """The index of `point`; by identity first (hashing a dataclass of two floats is slow in hot loops)."""
        known = self._by_id.get(id(point))
        if known is not None:
            return known[1]
        index = self.index.get(point)
        if index is not None:
            self._by_id[id(point)] = (point, index)
        return index

    def _outside(self, a: Point, b: Point, mode: str) -> tuple[float, float]:
        """A leg between places the table was not built with: asked of the travel model on its own (cached)."""
        key = (a, b, mode)
        if key not in self._extra:
            found = self.travel.matrix([a, b], mode)
            self._extra[key] = (float(found.km[0, 1]), float(found.minutes[0, 1]))
        return self._extra[key]
