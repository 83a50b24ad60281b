"""A `TravelModel` asking an OSRM-compatible `/table` service for road distances and times (the deployment's
real road network: `travel_matrix_url`; docs/scheduling/engine.md, "Travel").

    GET {base_url}/table/v1/{profile}/{lon,lat;lon,lat;...}?annotations=distance,duration&sources=…&destinations=…

answers `{"code": "Ok", "distances": [[m, …]], "durations": [[s, …]]}`. Large matrices are asked in blocks of
`block` places (OSRM's default `--max-table-size` is 100). A pair with no route (null) gets `UNREACHABLE_KM`
and `UNREACHABLE_MINUTES`, so no planner ever uses it. The tests run it against a local HTTP server with a canned
answer (we are offline here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

from eldercare_platform.routing.problem import Point
from eldercare_platform.routing.travel import TravelMatrix

UNREACHABLE_KM = 1000.0
UNREACHABLE_MINUTES = 100_000.0
DEFAULT_PROFILES: Mapping[str, str] = {"foot": "foot", "ebike": "bike", "car": "driving"}


class OsrmError(RuntimeError):
    """The table service failed or answered something else than a table."""


@dataclass(frozen=True)
class OsrmTableTravel:
    """Distances and times from an OSRM-compatible table service; `profiles` maps travel modes to its profiles."""

    base_url: str
    profiles: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    block: int = 100
    timeout_seconds: float = 30.0
    name: str = "osrm"

    def matrix(self, points: Sequence[Point], mode: str) -> TravelMatrix:
        n = len(points)
        km = np.zeros((n, n), dtype=np.float64)
        minutes = np.zeros((n, n), dtype=np.float64)
        profile = self.profiles.get(mode) or self.profiles.get("ebike") or "driving"
        blocks = [list(range(i, min(i + self.block, n))) for i in range(0, n, self.block)]
        with httpx.Client(timeout=self.timeout_seconds) as client:
            for rows in blocks:
                for cols in blocks:
                    dist, dur = self._block(client, profile, points, rows, cols)
                    km[np.ix_(rows, cols)] = dist / 1000.0
                    minutes[np.ix_(rows, cols)] = dur / 60.0
        np.fill_diagonal(km, 0.0)
        np.fill_diagonal(minutes, 0.0)
        return TravelMatrix(km=km, minutes=minutes)

    def _block(
        self, client: httpx.Client, profile: str, points: Sequence[Point], rows: list[int], cols: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        places = list(dict.fromkeys([*rows, *cols]))
        at = {index: i for i, index in enumerate(places)}
        coordinates = ";".join(f"{points[i].longitude:.6f},{points[i].latitude:.6f}" for i in places)
        sources = ";".join(str(at[i]) for i in rows)
        destinations = ";".join(str(at[j]) for j in cols)
        url = (
            f"{self.base_url.rstrip('/')}/table/v1/{profile}/{coordinates}"
            f"?annotations=distance,duration&sources={sources}&destinations={destinations}"
        )  # literal ';' as OSRM documents it
        try:
            response = client.get(url)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OsrmError(f"table service: {error}") from error
        if not isinstance(body, dict) or body.get("code") != "Ok":
            raise OsrmError(f"table service answered {str(body)[:200]}")
        return (
            _filled(body.get("distances"), len(rows), len(cols), UNREACHABLE_KM * 1000.0),
            _filled(body.get("durations"), len(rows), len(cols), UNREACHABLE_MINUTES * 60.0),
        )


def _filled(table: object, rows: int, cols: int, missing: float) -> np.ndarray:
    if (
        not isinstance(table, list)
        or len(table) != rows
        or any(not isinstance(r, list) or len(r) != cols for r in table)
    ):
        raise OsrmError("table service answered a table of the wrong shape")
    return np.array([[missing if x is None else float(x) for x in row] for row in table], dtype=np.float64)
