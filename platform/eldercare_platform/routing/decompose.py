"""Splitting a problem too large for one solve into parts by the caregivers' home clusters
(docs/scheduling/engine.md, "Large problems").

Caregivers are clustered by where they set off (k-means, seeded, on a local flat projection); each visit goes
with its pinned caregiver's cluster, else with the cluster of the nearest caregiver who can serve it. Each part
is solved on its own; what a part leaves out is offered to every caregiver by the insertion pass afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from eldercare_platform.routing.problem import Caregiver, Point, Visit

Key = tuple[int, int]


def _xy(points: Sequence[Point | None], origin: Point) -> np.ndarray:
    scale = math.cos(math.radians(origin.latitude))
    rows = [
        (0.0, 0.0) if p is None else ((p.longitude - origin.longitude) * scale, p.latitude - origin.latitude)
        for p in points
    ]
    return np.array(rows, dtype=np.float64) * 111.32


def kmeans(xy: np.ndarray, k: int, seed: int, rounds: int = 20) -> np.ndarray:
    """Labels 0..k-1 for the rows of `xy` (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    centres = xy[rng.choice(len(xy), size=k, replace=False)]
    labels = np.zeros(len(xy), dtype=np.int64)
    for _ in range(rounds):
        labels = np.argmin(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        moved = np.array([xy[labels == i].mean(axis=0) if np.any(labels == i) else centres[i] for i in range(k)])
        if np.allclose(moved, centres):
            break
        centres = moved
    return labels


def split(
    caregivers: Sequence[Caregiver],
    visits: Sequence[Visit],
    eligible: Mapping[int, Sequence[Caregiver]],
    *,
    parts: int,
    seed: int,
) -> list[tuple[list[Caregiver], list[Visit]]]:
    """`parts` (caregivers, visits) groups; empty groups are dropped."""
    starts = [c.position if c.position is not None else c.start for c in caregivers]
    known = [p for p in starts if p is not None]
    if parts <= 1 or len(caregivers) <= parts or not known:
        return [(list(caregivers), list(visits))]
    origin = known[0]
    labels = kmeans(_xy(starts, origin), parts, seed)
    part_of: dict[Key, int] = {
        (c.staff_id, c.shift_id): int(label) for c, label in zip(caregivers, labels, strict=True)
    }
    home = {(c.staff_id, c.shift_id): p for c, p in zip(caregivers, starts, strict=True)}
    groups: list[tuple[list[Caregiver], list[Visit]]] = [([], []) for _ in range(parts)]
    for c in caregivers:
        groups[part_of[(c.staff_id, c.shift_id)]][0].append(c)
    for v in visits:
        who = list(eligible[v.task_id])
        if not who:
            continue
        if v.location is None:
            best = who[0]
        else:
            where = _xy([v.location], origin)[0]
            spots = _xy([home[(c.staff_id, c.shift_id)] or v.location for c in who], origin)
            best = who[int(np.argmin(((spots - where) ** 2).sum(axis=1)))]
        groups[part_of[(best.staff_id, best.shift_id)]][1].append(v)
    return [g for g in groups if g[0] and g[1]]
