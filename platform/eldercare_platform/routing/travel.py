"""Travel between places: a road-distance estimate by default, behind an interface a deployment can point at a
real routing engine's distance matrix (OSRM, Valhalla, 高德: docs/scheduling.md).

The default, `GreatCircleTravel`, is great-circle distance × a circuity factor (roads are not straight: 1.3 is
typical of a Chinese city's grid), and time = that distance at the travel mode's speed. Both are deterministic
and need no network, which is what an offline intranet and the tests need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from eldercare_platform.routing.problem import Point

EARTH_RADIUS_KM = 6371.0088

DEFAULT_SPEEDS_KMH: Mapping[str, float] = {"foot": 4.5, "ebike": 15.0, "car": 25.0}
"""Door-to-door speeds in a city, parking and stairs included (docs/scheduling.md)."""


@dataclass(frozen=True)
class TravelMatrix:
    """Distances (km) and times (minutes) between every pair of `points`, in their order."""

    km: NDArray[np.float64]
    minutes: NDArray[np.float64]


class TravelModel(Protocol):
    """Answers distance and time matrices for a list of places and a travel mode."""

    @property
    def name(self) -> str:
        """What the plan records as its travel model (read-only: frozen dataclasses implement it)."""
        ...

    def matrix(self, points: Sequence[Point], mode: str) -> TravelMatrix:
        """The n×n matrices for `points` travelled by `mode` (one of problem.TRAVEL_MODES)."""
        ...


def great_circle_km(points: Sequence[Point]) -> NDArray[np.float64]:
    """The n×n great-circle distances in km (haversine), vectorised."""
    if not points:
        return np.zeros((0, 0))
    lat = np.radians(np.array([p.latitude for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.longitude for p in points], dtype=np.float64))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


@dataclass(frozen=True)
class GreatCircleTravel:
    """Great-circle distance × circuity; time at the mode's speed."""

    circuity: float = 1.3
    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    name: str = "great_circle"

    def matrix(self, points: Sequence[Point], mode: str) -> TravelMatrix:
        km = great_circle_km(points) * self.circuity
        speed = self.speeds_kmh.get(mode) or self.speeds_kmh["ebike"]
        return TravelMatrix(km=km, minutes=km / speed * 60.0)
