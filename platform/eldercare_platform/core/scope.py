"""The one scope rule: what a user may see, as SQL for every query and as a test for every push.

Everything the platform shows about people and devices has a *location*: the area path of the
community it is in (a home, a care center or an institution) and, for what belongs to an
institution, that institution.

- A resident or a household is located at the home's community.
- A device is located where its owner (household, care center or institution) is; an institution's
  device is also located at that institution.
- A device event is located where its device is; an alarm where its device was when it opened
  (`alarm.area_path`) and at the device's institution, if any.
- A staff member is located at their home zone and at their institution, if any.
- A task, an alert or a meal order is located where its resident's home is (`task.area_path`,
  `alert.area_path`, copied when it is written); an alert about a staff member, at the staff member's
  home zone; an alert about an area (visit coverage), at that area. These are the home services of the
  virtual nursing home: an institution's scope sees none of them (`path_sql`).

A user's scope is one of:

- everything (`ALL`): a user with no scope area and no scope institution (operators, admins,
  caregivers; their role decides which endpoints they may call at all);
- an area subtree (`AREA`): every location whose area path starts with the scope area's path
  (a city, district, street or community supervisor; a community coordinator);
- an institution (`INSTITUTION`): every location at that institution (机构负责人);
- nothing (`NOTHING`): a scope that cannot be resolved (a supervisor without a scope, a scope
  area that does not exist, both a scope area and an institution). The rule fails closed.

A scope restricts whatever the user's role is. Every query that returns residents, households,
devices, device events, alarms, staff or counts of them filters with the SQL below, and every
WebSocket push filters with `Scope.sees`, the same rule in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import TextClause, text
from sqlmodel import Session

from eldercare_platform.areas.models import Area
from eldercare_platform.users.models import Role, User

# Materialized area paths are `/`-joined integer ids, so a prefix match needs no LIKE escaping;
# anything else is refused rather than interpolated into a pattern.
_PATH = re.compile(r"^(/[0-9]+)+/$")


class ScopeKind(StrEnum):
    """The kinds of scope."""

    ALL = "all"
    AREA = "area"
    INSTITUTION = "institution"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Scope:
    """A user's scope. The `*_sql` methods return SQL booleans over the given table aliases; bind `params`."""

    kind: ScopeKind
    area_path: str | None = None
    institution_id: int | None = None

    @property
    def unrestricted(self) -> bool:
        """True when the user sees the whole city."""
        return self.kind is ScopeKind.ALL

    @property
    def params(self) -> dict[str, Any]:
        """The bind parameters the SQL fragments may use (a fragment may use none, e.g. `false`)."""
        if self.kind is ScopeKind.AREA:
            return {"scope_path": self.area_path}
        if self.kind is ScopeKind.INSTITUTION:
            return {"scope_institution": self.institution_id}
        return {}

    def sees(self, *, area_path: str | None, institution_id: int | None) -> bool:
        """Whether a location is in scope: the rule in Python, for pushes (same result as the SQL)."""
        if self.kind is ScopeKind.ALL:
            return True
        if self.kind is ScopeKind.AREA:
            return area_path is not None and self.area_path is not None and area_path.startswith(self.area_path)
        if self.kind is ScopeKind.INSTITUTION:
            return institution_id is not None and institution_id == self.institution_id
        return False

    def _area(self, area_id: str) -> str:
        """The area with this id expression lies in the scope area's subtree (AREA only)."""
        return (
            f"EXISTS (SELECT 1 FROM area scope_a WHERE scope_a.id = {area_id} AND scope_a.path LIKE :scope_path || '%')"
        )

    def _fixed(self) -> str | None:
        if self.kind is ScopeKind.ALL:
            return "true"
        if self.kind is ScopeKind.NOTHING:
            return "false"
        return None

    def households_sql(self, household: str) -> str:
        """A household (alias) in scope: its community is in the area; institutions have no homes."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if self.kind is ScopeKind.AREA:
            return self._area(f"{household}.area_id")
        return "false"

    def residents_sql(self, resident: str) -> str:
        """A resident (alias) in scope: located at their home."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if self.kind is ScopeKind.AREA:
            return self._area(
                f"(SELECT scope_h.area_id FROM household scope_h WHERE scope_h.id = {resident}.household_id)"
            )
        return "false"

    def home_sql(self, resident: str, home_area_path: str) -> str:
        """`residents_sql` where the resident's home area is already joined (`home_area_path`, the path of their
        household's area): the same rule, checked on that path instead of by a lookup per resident."""
        if self.kind is ScopeKind.AREA:
            return f"{home_area_path} LIKE :scope_path || '%'"
        return self.residents_sql(resident)

    def device_at_sql(self, device: str, location_path: str) -> str:
        """`devices_sql` where the device's location is already joined (`location_path`, the path of its owner's
        area): the same rule, checked on that path instead of by a lookup per device."""
        if self.kind is ScopeKind.AREA:
            return f"{location_path} LIKE :scope_path || '%'"
        return self.devices_sql(device)

    def devices_sql(self, device: str) -> str:
        """A device (alias) in scope: located where its one owner is."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if self.kind is ScopeKind.AREA:
            return (
                "EXISTS (SELECT 1 FROM area scope_a WHERE scope_a.path LIKE :scope_path || '%' AND scope_a.id IN ("
                f"(SELECT area_id FROM household WHERE id = {device}.household_id),"
                f" (SELECT area_id FROM care_center WHERE id = {device}.care_center_id),"
                f" (SELECT area_id FROM institution WHERE id = {device}.institution_id)))"
            )
        return f"{device}.institution_id = :scope_institution"

    def device_serial_sql(self, serial: str) -> str:
        """The device with this serial (an expression) is in scope; an unknown serial is in nobody's scope."""
        if self.kind is ScopeKind.ALL:
            return "true"
        return (
            f"EXISTS (SELECT 1 FROM device scope_d WHERE scope_d.serial = {serial} AND {self.devices_sql('scope_d')})"
        )

    def events_sql(self, event: str) -> str:
        """A device event (alias) in scope: located where its device is."""
        return self.device_serial_sql(f"{event}.device_serial")

    def alarms_sql(self, alarm: str) -> str:
        """An alarm (alias) in scope: where its device was when it opened, and at the device's institution."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if self.kind is ScopeKind.AREA:
            return f"{alarm}.area_path LIKE :scope_path || '%'"
        return (
            "EXISTS (SELECT 1 FROM device scope_d WHERE scope_d.serial = "
            f"{alarm}.device_serial AND scope_d.institution_id = :scope_institution)"
        )

    def staff_sql(self, staff: str) -> str:
        """A staff member (alias) in scope: their home zone is in the area, or they work at the institution."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if self.kind is ScopeKind.AREA:
            return self._area(f"{staff}.home_area_id")
        return f"{staff}.institution_id = :scope_institution"

    def path_sql(self, area_path: str) -> str:
        """A row located at this area-path expression (tasks, alerts): homes only, so an institution sees none."""
        if (fixed := self._fixed()) is not None:
            return fixed
        if self.kind is ScopeKind.AREA:
            return f"{area_path} LIKE :scope_path || '%'"
        return "false"

    def clause(self, sql: str) -> TextClause:
        """A fragment from the methods above as a clause for a SQLModel `select(...).where(...)`."""
        return text(sql).bindparams(**{key: value for key, value in self.params.items() if f":{key}" in sql})


EVERYTHING = Scope(ScopeKind.ALL)
NOTHING = Scope(ScopeKind.NOTHING)


def scope_of(session: Session, user: User) -> Scope:
    """The user's scope (see the module docstring). Fails closed: anything unresolvable sees nothing."""
    if user.scope_area_id is not None and user.scope_institution_id is not None:
        return NOTHING
    if user.scope_institution_id is not None:
        return Scope(ScopeKind.INSTITUTION, institution_id=user.scope_institution_id)
    if user.scope_area_id is not None:
        area = session.get(Area, user.scope_area_id)
        if area is None or not _PATH.match(area.path):
            return NOTHING
        return Scope(ScopeKind.AREA, area_path=area.path)
    if user.role in (Role.SUPERVISOR, Role.COORDINATOR):
        return NOTHING  # the database forbids it; never read it as "everything"
    return EVERYTHING
