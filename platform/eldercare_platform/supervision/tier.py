"""What a figure request is about: the period (local days) and the tier (an area inside the user's scope).

Every figure of the domain is computed over records that are both *in the area's subtree* and *in the user's
scope* (core/scope.py): for an area supervisor the second condition repeats the first, for an institution's
supervisor it keeps only the institution's records, and an unresolvable scope sees no area at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.clock import LOCAL_TIMEZONE, local_date
from eldercare_platform.core.errors import NotFoundError, UnprocessableError
from eldercare_platform.core.scope import Scope, ScopeKind, scope_of
from eldercare_platform.supervision.schemas import AreaRef
from eldercare_platform.users.models import User

MAX_PERIOD_DAYS = 366


class AreaNotFoundError(NotFoundError):
    """No such area in the user's scope."""

    code = "area_not_found"


class PeriodInvalidError(UnprocessableError):
    """The period is reversed or longer than 366 days."""

    code = "period_invalid"


def local_midnight(day: date) -> datetime:
    """The instant a local (Asia/Shanghai) day starts."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIMEZONE)


@dataclass(frozen=True)
class Period:
    """Local days `first` … `last`, inclusive; `start` … `end` is the same as instants, half-open."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """Local midnight starting `first`."""
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """Local midnight after `last` (exclusive)."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        """Every local day of the period."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def params(self) -> dict[str, Any]:
        """Bind parameters: `period_start`, `period_end` (instants), `first_day`, `last_day` (dates)."""
        return {"period_start": self.start, "period_end": self.end, "first_day": self.first, "last_day": self.last}


def resolve_period(first: date | None, last: date | None, *, now: datetime) -> Period:
    """The period asked for: default the current local month up to today; 422 `period_invalid` when `to` is
    before `from` or the period is longer than 366 days."""
    today = local_date(now)
    last = last or (today if first is None or first <= today else first)
    first = first or last.replace(day=1)
    if last < first:
        raise PeriodInvalidError("`to` is before `from`", first=first.isoformat(), last=last.isoformat())
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodInvalidError(
            f"a period is at most {MAX_PERIOD_DAYS} days", first=first.isoformat(), last=last.isoformat()
        )
    return Period(first, last)


def month_period(month: str | None, *, now: datetime) -> Period:
    """A calendar month `YYYY-MM` (default: the current local month) as a period of local days."""
    if month is None:
        first = local_date(now).replace(day=1)
    else:
        try:
            first = date(int(month[:4]), int(month[5:7]), 1)
        except ValueError as exc:
            raise PeriodInvalidError("month is YYYY-MM", month=month) from exc
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, following - timedelta(days=1))


@dataclass(frozen=True)
class Tier:
    """An area the user may look at, their scope, and the area's children (the drill-down rows)."""

    area: AreaRef
    scope: Scope
    children: list[AreaRef] = field(default_factory=list)

    @property
    def params(self) -> dict[str, Any]:
        """Bind parameters: `area_id`, `area_path` and the scope's own."""
        return {"area_id": self.area.id, "area_path": self.area.path, **self.scope.params}

    @staticmethod
    def in_area_sql(path: str) -> str:
        """A location (an area-path expression) inside the area's subtree."""
        return f"{path} LIKE :area_path || '%'"

    @staticmethod
    def child_sql(path: str) -> str:
        """The id of the child area a location (an area-path expression inside the subtree) lies in; NULL for a
        location at the area itself. Paths are `/`-joined ids, so it is the next segment after the area's path."""
        return f"NULLIF(split_part(substr({path}, length(:area_path) + 1), '/', 1), '')::int"


def _area_ref(row: Any) -> AreaRef:
    return AreaRef(id=int(row.id), name=str(row.name), level=str(row.level), path=str(row.path))


def _allowed(scope: Scope, session: Session, path: str) -> bool:
    if scope.kind is ScopeKind.ALL:
        return True
    if scope.kind is ScopeKind.AREA:
        return scope.area_path is not None and path.startswith(scope.area_path)
    if scope.kind is ScopeKind.INSTITUTION:
        home = _institution_area_path(session, scope.institution_id)
        return home is not None and path.startswith(home)
    return False


def _institution_area_path(session: Session, institution_id: int | None) -> str | None:
    row = session.execute(
        text("SELECT a.path FROM institution i JOIN area a ON a.id = i.area_id WHERE i.id = :id"),
        {"id": institution_id},
    ).first()
    return None if row is None else str(row.path)


def _root_id(session: Session, scope: Scope) -> int | None:
    """The area a user lands on: their scope area, their institution's area, or (everything) the first root."""
    params: dict[str, Any]
    if scope.kind is ScopeKind.AREA:
        sql, params = "SELECT id FROM area WHERE path = :path", {"path": scope.area_path}
    elif scope.kind is ScopeKind.INSTITUTION:
        sql, params = "SELECT area_id AS id FROM institution WHERE id = :id", {"id": scope.institution_id}
    elif scope.kind is ScopeKind.ALL:
        sql, params = "SELECT id FROM area WHERE parent_id IS NULL ORDER BY id LIMIT 1", {}
    else:
        return None
    row = session.execute(text(sql), params).first()
    return None if row is None else int(row.id)


def resolve_tier(session: Session, *, user: User, area_id: int | None) -> Tier:
    """The area asked for (default the root of the user's scope) with the user's scope and the area's children.

    404 `area_not_found` for an area that does not exist or lies outside the scope (an area above the scope is
    outside it too: drill-down goes only downwards), and for a user whose scope resolves to nothing."""
    scope = scope_of(session, user)
    wanted = area_id if area_id is not None else _root_id(session, scope)
    row = (
        None
        if wanted is None
        else session.execute(text("SELECT id, name, level, path FROM area WHERE id = :id"), {"id": wanted}).first()
    )
    if row is None or not _allowed(scope, session, str(row.path)):
        raise AreaNotFoundError("area not found", area_id=area_id)
    children = session.execute(
        text("SELECT id, name, level, path FROM area WHERE parent_id = :id ORDER BY code, id"), {"id": row.id}
    ).all()
    return Tier(area=_area_ref(row), scope=scope, children=[_area_ref(child) for child in children])
