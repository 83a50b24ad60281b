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
