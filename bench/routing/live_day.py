"""A live day for the urgent-insertion benchmark: a district of communities whose caregivers are out on published
routes, built straight into a migrated database (bench/routing/urgent.py).

The district is a grid of communities (~1.6 km apart) around People's Square, Shanghai. Each community has its
residents (homes within ~0.8 km of its centre) and its caregivers (home bases among them, e-bikes, a 12-hour
shift from `now` − 3 h, at most 16 tasks a shift). Every caregiver has a route of 8–12 visits among the
community's homes, in nearest-neighbour order, spread evenly over the shift (30 minutes each, a one-hour window
around the planned start), as the nightly plan published it — one `plan` row per community with its stops. At
`now`, the visits whose planned end has passed are completed, one under way is checked in, the rest published.
Everything is seeded: the same arguments give the same day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from sqlmodel import Session, select

from eldercare_platform.areas.models import Area, AreaLevel
from eldercare_platform.core.clock import local_date
from eldercare_platform.residents.models import Gender, Household, Resident
from eldercare_platform.roster.models import Shift, Staff, StaffRole, TravelMode
from eldercare_platform.users.models import Role, User

CENTER = (31.2304, 121.4737)
SPACING_KM = 1.6
HOME_RADIUS_KM = 0.8
KM_PER_DEGREE = 111.32
SHIFT_BEFORE = timedelta(hours=3)
SHIFT_LENGTH = timedelta(hours=12)
VISIT_MINUTES = 30


@dataclass
class LiveDay:
    """What was built: ids the benchmark needs, and counts for the report."""

    district_id: int
    communities: int = 0
    residents: list[int] = field(default_factory=list)
    staff: list[int] = field(default_factory=list)
    users: dict[int, int] = field(default_factory=dict)  # staff id → user id (their caregiver login)
    tasks: int = 0
    completed: int = 0
    checked_in: int = 0
    route_lengths: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lengths = sorted(self.route_lengths)
        return {
            "communities": self.communities,
            "residents": len(self.residents),
            "caregivers": len(self.staff),
            "tasks": self.tasks,
            "completed_at_now": self.completed,
            "checked_in_at_now": self.checked_in,
            "route_length_min_median_max": [lengths[0], lengths[len(lengths) // 2], lengths[-1]] if lengths else [],
        }


def _near(rng: random.Random, center: tuple[float, float], radius_km: float) -> tuple[float, float]:
    r = radius_km * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    dlat = r * math.cos(angle) / KM_PER_DEGREE
    dlon = r * math.sin(angle) / (KM_PER_DEGREE * math.cos(math.radians(center[0])))
    return round(center[0] + dlat, 6), round(center[1] + dlon, 6)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * KM_PER_DEGREE
    dlon = (a[1] - b[1]) * KM_PER_DEGREE * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlon)


def _area(session: Session, *, code: str, name: str, level: AreaLevel, parent: Area | None) -> Area:
    area = Area(code=code, name=name, level=level, parent_id=parent.id if parent else None, path="/")
    session.add(area)
    session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    return area


def _ordered(home: tuple[float, float], stops: list[tuple[int, tuple[float, float]]]) -> list[int]:
    """Nearest neighbour from the home base: a plausible route order."""
    left, here, order = list(stops), home, []
    while left:
        best = min(left, key=lambda s: _km(here, s[1]))
        left.remove(best)
        order.append(best[0])
        here = best[1]
    return order


_TASK = """
INSERT INTO task (kind, status, source, resident_id, household_id, assignee_staff_id, service, area_id, area_path,
                  window_start, window_end, due_at, duration_minutes, priority, created_at, assigned_at, published_at,
                  checked_in_at, completed_at, route_sequence, planned_start, plan_id, updated_at)
VALUES ('visit', %s, 'plan', %s, %s, %s, 'visit', %s, %s, %s, %s, %s, %s, 3, %s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id
"""


def build(
    url: str,
    *,
    now: datetime,
    communities: int,
    caregivers_per: int,
    residents_per: int,
    tasks_min: int = 8,
    tasks_max: int = 12,
    seed: int = 1,
) -> LiveDay:
    """Build the district's live day into the (migrated, empty) database at `url`."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    rng = random.Random(seed)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    shift_start = now - SHIFT_BEFORE
    columns = math.ceil(math.sqrt(communities))
    homes: dict[int, tuple[int, tuple[float, float]]] = {}  # resident id → (household id, place)
    by_community: dict[int, list[int]] = {}
    staff_rows: list[tuple[int, int, tuple[float, float]]] = []  # (staff id, community id, home base)
    with Session(engine) as session:
        city = _area(session, code="BU00", name="基准市", level=AreaLevel.CITY, parent=None)
        district = _area(session, code="BU01", name="基准区", level=AreaLevel.DISTRICT, parent=city)
        day = LiveDay(district_id=int(district.id or 0))
        for c in range(communities):
            east_km_per_degree = KM_PER_DEGREE * math.cos(math.radians(CENTER[0]))
            center = (
                CENTER[0] + (c // columns - columns / 2) * SPACING_KM / KM_PER_DEGREE,
                CENTER[1] + (c % columns - columns / 2) * SPACING_KM / east_km_per_degree,
            )
            community = _area(session, code=f"BU01{c:04d}", name=f"基准社区{c + 1}", level=AreaLevel.COMMUNITY,
                              parent=district)  # fmt: skip
            assert community.id is not None
            households = [
                Household(area_id=community.id, address=f"基准社区{c + 1}幸福路{i + 1}号", latitude=lat, longitude=lon)
                for i, (lat, lon) in ((i, _near(rng, center, HOME_RADIUS_KM)) for i in range(residents_per))
            ]
            session.add_all(households)
            session.flush()
            people = [
                Resident(
                    household_id=h.id or 0,
                    name=f"老人{c + 1}-{i + 1}",
                    gender=rng.choice(list(Gender)),
                    birth_date=date(1935 + rng.randrange(20), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                    categories=["living_alone"],
                    health_conditions=[],
                )
                for i, h in enumerate(households)
            ]
            session.add_all(people)
            staff = [
                Staff(
                    name=f"护理员{c + 1}-{i + 1}",
                    phone=f"139{c:04d}{i:04d}",
                    role=StaffRole.CAREGIVER,
                    skills=["visit"],
                    home_area_id=community.id,
                    max_tasks_per_shift=16,
                    travel_mode=TravelMode.EBIKE,
                    home_latitude=(base := _near(rng, center, HOME_RADIUS_KM))[0],
                    home_longitude=base[1],
                )
                for i in range(caregivers_per)
            ]
            session.add_all(staff)
            session.flush()
            for household, person in zip(households, people, strict=True):
                assert person.id is not None and household.id is not None
                homes[person.id] = (household.id, (household.latitude or 0.0, household.longitude or 0.0))
                by_community.setdefault(community.id, []).append(person.id)
            for s in staff:
                assert s.id is not None
                session.add(Shift(staff_id=s.id, starts_at=shift_start, ends_at=shift_start + SHIFT_LENGTH))
                user = User(username=f"bench_cg_{s.id}", full_name=s.name, role=Role.CAREGIVER, staff_id=s.id,
                            password_hash="!")  # fmt: skip
                session.add(user)
                session.flush()
                day.users[s.id] = int(user.id or 0)
                staff_rows.append((s.id, community.id, (s.home_latitude or 0.0, s.home_longitude or 0.0)))
        session.commit()
        paths = {
            int(a.id or 0): a.path for a in session.exec(select(Area).where(Area.level == AreaLevel.COMMUNITY)).all()
        }
    engine.dispose()
    day.communities = communities
    day.residents = sorted(homes)
    day.staff = [s for s, _, _ in staff_rows]
    _routes(url, now=now, rng=rng, staff_rows=staff_rows, by_community=by_community, homes=homes, paths=paths,
            tasks=(tasks_min, tasks_max), day=day)  # fmt: skip
    return day


def _routes(
    url: str,
    *,
    now: datetime,
    rng: random.Random,
    staff_rows: list[tuple[int, int, tuple[float, float]]],
    by_community: dict[int, list[int]],
    homes: dict[int, tuple[int, tuple[float, float]]],
    paths: dict[int, str],
    tasks: tuple[int, int],
    day: LiveDay,
) -> None:
    """Every caregiver's published route, and each community's nightly plan with its stops."""
    shift_start = now - SHIFT_BEFORE
    first, last = shift_start + timedelta(minutes=30), shift_start + SHIFT_LENGTH - timedelta(minutes=90)
    made = now - timedelta(hours=14)
    with psycopg.connect(url) as conn:
        plans: dict[int, int] = {}
        for community_id, path in paths.items():
            row = conn.execute(
                "INSERT INTO plan (area_id, area_path, day, kind, status, solver, created_at, published_at)"
                " VALUES (%s, %s, %s, 'nightly', 'published', 'bench', %s, %s) RETURNING id",
                (community_id, path, local_date(now), made, made),
            ).fetchone()
            assert row is not None
            plans[community_id] = int(row[0])
        for staff_id, community_id, base in staff_rows:
            count = rng.randint(*tasks)
            chosen = rng.sample(by_community[community_id], count)
            order = _ordered(base, [(r, homes[r][1]) for r in chosen])
            step = (last - first) / max(1, count - 1)
            day.route_lengths.append(count)
            for sequence, resident in enumerate(order, start=1):
                planned = first + step * (sequence - 1)
                ends = planned + timedelta(minutes=VISIT_MINUTES)
                status = "completed" if ends <= now else "checked_in" if planned <= now else "published"
                day.completed += status == "completed"
                day.checked_in += status == "checked_in"
                values = (
                    status, resident, homes[resident][0], staff_id, community_id, paths[community_id],
                    planned - timedelta(minutes=30), planned + timedelta(minutes=30), planned + timedelta(minutes=30),
                    VISIT_MINUTES, made, made, made, planned if status != "published" else None,
                    ends if status == "completed" else None, sequence, planned, plans[community_id], made,
                )  # fmt: skip
                task = conn.execute(_TASK, values).fetchone()
                assert task is not None
                conn.execute(
                    "INSERT INTO plan_stop (plan_id, task_id, staff_id, sequence, planned_start, planned_end, pinned)"
                    " VALUES (%s, %s, %s, %s, %s, %s, false)",
                    (plans[community_id], task[0], staff_id, sequence, planned, ends),
                )
                day.tasks += 1
        conn.commit()
        conn.execute("ANALYZE")
