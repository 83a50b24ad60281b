"""Distances on the earth, shared by the platform (assignment, roster, EVV check-in distance) and the simulators
(their caregivers' travel): one haversine, not a copy in each."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
"""The mean earth radius (IUGG), as the routing engine uses."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_m_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """The same haversine as SQL text over four column expressions, in metres (`haversine_km` × 1000, operation by
    operation, so PostgreSQL computes the same double; NULL when a position is unknown)."""
    rad = "(pi() / 180.0)"
    h = (
        f"power(sin(({lat2} - {lat1}) * {rad} / 2), 2)"
        f" + cos({lat1} * {rad}) * cos({lat2} * {rad}) * power(sin(({lon2} - {lon1}) * {rad} / 2), 2)"
    )
    return f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt({h}))) * 1000.0)"
