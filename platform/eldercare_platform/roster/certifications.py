"""Certificates: kept per staff member, checked for the skills that need them, watched for expiry.

A certificate is valid through its `expires_on` day. `certification_alerts` (the daily job) raises
`certification_expiring` (subject `certification:<id>`) for a certificate expiring within
`certification_warn_days` and `certification_expired` for one past its date, both owned by the coordinator of
the staff member's home zone; a certificate renewed (a later `expires_on`) or removed has its alerts resolved.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.alerts import service as alerts_service
from eldercare_platform.alerts.models import AlertKind
from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.roster.owners import coordinator_for, staff_area_path
from eldercare_platform.roster.rules import certificate_status
from eldercare_platform.roster.schemas import CertificationIn, CertificationPublic

CERT_COLUMNS = "id, staff_id, name, number, level, issued_on, expires_on"


class CertificationNotFoundError(NotFoundError):
    """No such certificate for this staff member."""

    code = "certification_not_found"


def certification_public(row: dict[str, object], *, today: date, warn_days: int) -> CertificationPublic:
    expires = row["expires_on"]
    assert expires is None or isinstance(expires, date)
    return CertificationPublic.model_validate(
        row | {"status": certificate_status(expires, today=today, warn_days=warn_days)}
    )


def list_certifications(session: Session, *, staff_id: int, today: date, warn_days: int) -> list[CertificationPublic]:
    """The staff member's certificates with their status on `today`."""
    rows = session.execute(
        text(f"SELECT {CERT_COLUMNS} FROM staff_certification WHERE staff_id = :id ORDER BY id"), {"id": staff_id}
    ).mappings()
    return [certification_public(dict(row), today=today, warn_days=warn_days) for row in rows]


def add_certification(
    session: Session, *, staff_id: int, certification: CertificationIn, today: date, warn_days: int
) -> CertificationPublic:
    """Record a certificate."""
    row = (
        session.execute(
            text(
                "INSERT INTO staff_certification (staff_id, name, number, level, issued_on, expires_on)"
                f" VALUES (:staff, :name, :number, :level, :issued_on, :expires_on) RETURNING {CERT_COLUMNS}"
            ),
            {"staff": staff_id, **certification.model_dump()},
        )
        .mappings()
        .one()
    )
    return certification_public(dict(row), today=today, warn_days=warn_days)


def update_certification(
    session: Session,
    *,
    staff_id: int,
    certification_id: int,
    certification: CertificationIn,
    today: date,
    warn_days: int,
) -> CertificationPublic:
    """Replace a certificate's fields (a renewal is a later `expires_on`; the daily job resolves its alerts)."""
    row = (
        session.execute(
            text(
                "UPDATE staff_certification SET name = :name, number = :number, level = :level,"
                " issued_on = :issued_on, expires_on = :expires_on WHERE id = :id AND staff_id = :staff"
                f" RETURNING {CERT_COLUMNS}"
            ),
            {"staff": staff_id, "id": certification_id, **certification.model_dump()},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise CertificationNotFoundError(f"certification {certification_id} not found for staff {staff_id}")
    return certification_public(dict(row), today=today, warn_days=warn_days)


def remove_certification(session: Session, *, staff_id: int, certification_id: int) -> None:
    """Delete a certificate."""
    deleted = session.execute(
        text("DELETE FROM staff_certification WHERE id = :id AND staff_id = :staff RETURNING id"),
        {"id": certification_id, "staff": staff_id},
    ).first()
    if deleted is None:
        raise CertificationNotFoundError(f"certification {certification_id} not found for staff {staff_id}")


_DUE = """
SELECT c.id, c.staff_id, c.name, c.expires_on, s.name AS staff_name
FROM staff_certification c JOIN staff s ON s.id = c.staff_id
WHERE s.active AND c.expires_on IS NOT NULL AND c.expires_on <= :horizon
ORDER BY c.id
"""


def certification_alerts(session: Session, *, today: date, warn_days: int, now: datetime) -> dict[str, int]:
    """Raise expiring / expired alerts for active staff's certificates; resolve those no longer true.

    Idempotent (one open alert per kind and certificate). Returns counts: expiring, expired (now true),
    raised (new alerts), resolved.
    """
    rows = session.execute(text(_DUE), {"horizon": today + timedelta(days=warn_days)}).all()
    expiring: list[str] = []
    expired: list[str] = []
    raised = 0
    paths: dict[int, str | None] = {}
    for row in rows:
        subject = f"certification:{row.id}"
        is_expired = row.expires_on < today
        (expired if is_expired else expiring).append(subject)
        staff_id = int(row.staff_id)
        if staff_id not in paths:
            paths[staff_id] = staff_area_path(session, staff_id=staff_id)
        days = (row.expires_on - today).days
        message = (
            f"{row.staff_name} 的{row.name}已于 {row.expires_on} 过期 certificate expired on {row.expires_on}"
            if is_expired
            else f"{row.staff_name} 的{row.name}将于 {row.expires_on} 到期 ({days} 天) expires in {days} days"
        )
        if alerts_service.raise_alert(
            session,
            kind=AlertKind.CERTIFICATION_EXPIRED if is_expired else AlertKind.CERTIFICATION_EXPIRING,
            subject_key=subject,
            message=message,
            now=now,
            severity=2 if is_expired else 3,
            staff_id=staff_id,
            owner_user_id=coordinator_for(session, area_path=paths[staff_id]),
            detail={"certification_id": int(row.id), "name": row.name, "expires_on": row.expires_on.isoformat()},
        ):
            raised += 1
    resolved = alerts_service.resolve_alerts(
        session, kind=AlertKind.CERTIFICATION_EXPIRING, now=now, resolution="expired", subject_keys=expired
    )
    resolved += alerts_service.resolve_alerts(
        session, kind=AlertKind.CERTIFICATION_EXPIRING, now=now, resolution="renewed", keep=expiring
    )
    resolved += alerts_service.resolve_alerts(
        session, kind=AlertKind.CERTIFICATION_EXPIRED, now=now, resolution="renewed", keep=expired
    )
    return {"expiring": len(expiring), "expired": len(expired), "raised": raised, "resolved": resolved}
