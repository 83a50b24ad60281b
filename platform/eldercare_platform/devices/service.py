"""Device queries with their live status from the gateway's status lane."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from eldercare_platform.areas.models import Area
from eldercare_platform.areas.service import area_filter
from eldercare_platform.devices.models import Device
from eldercare_platform.residents.models import Household
from eldercare_platform.users.models import User


def list_devices(
    session: Session,
    *,
    user: User,
    kind: str | None = None,
    household_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Device]:
    """Devices the user may see (a scoped supervisor: homes in their area)."""
    query = select(Device)
    scope = area_filter(session, user=user)
    if scope is not None:
        query = (
            query.join(Household, col(Household.id) == Device.household_id)
            .join(Area, col(Area.id) == Household.area_id)
            .where(scope)
        )
    if kind:
        query = query.where(Device.kind == kind)
    if household_id is not None:
        query = query.where(Device.household_id == household_id)
    return list(session.exec(query.order_by(col(Device.id)).limit(limit).offset(offset)).all())


def status_of(session: Session, *, serials: list[str]) -> dict[str, dict[str, Any]]:
    """Latest status rows (online, last seen, battery…) keyed by device serial."""
    if not serials:
        return {}
    rows = session.execute(
        text(
            "SELECT device_serial, online, last_seen_at, battery_pct, signal_dbm, mains_power "
            "FROM device_status WHERE device_serial = ANY(:serials)"
        ),
        {"serials": serials},
    ).mappings()
    return {row["device_serial"]: dict(row) for row in rows}
