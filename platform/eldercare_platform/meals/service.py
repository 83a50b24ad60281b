"""The meals domain's service functions (keyword-only arguments; `now` from the injected clock)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session


def cancel_orders_for_resident(
    session: Session, *, resident_id: int, from_date: date, until_date: date | None, reason: str, now: datetime
) -> int:
    """Cancel the resident's open orders served from `from_date` (to `until_date`, inclusive, if given)."""
    result = session.execute(
        text(
            "UPDATE meal_order SET status = 'cancelled', status_reason = :reason, updated_at = :now"
            " WHERE resident_id = :r AND status = 'ordered' AND service_date >= :from"
            " AND (CAST(:until AS date) IS NULL OR service_date <= :until)"
        ),
        {"r": resident_id, "from": from_date, "until": until_date, "reason": reason, "now": now},
    )
    return int(getattr(result, "rowcount", 0) or 0)
