"""`rollup_state`: what each rollup's last refresh saw (a version, the instant), shared by the refreshes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session


def save_state(session: Session, rollup: str, version: int | None, now: datetime) -> None:
    """Record that `rollup` was refreshed at `now`, having seen rows up to `version`."""
    session.execute(
        text(
            "INSERT INTO rollup_state (rollup, seen_version, refreshed_at) VALUES (:r, :v, :now)"
            " ON CONFLICT (rollup) DO UPDATE"
            " SET seen_version = excluded.seen_version, refreshed_at = excluded.refreshed_at"
        ),
        {"r": rollup, "v": version, "now": now},
    )
