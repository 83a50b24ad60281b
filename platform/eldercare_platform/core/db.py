"""Database engine and sessions for the platform (SQLModel over psycopg 3)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlmodel import Session, create_engine


@lru_cache(maxsize=8)
def engine_for(url: str, pool_size: int = 10) -> Engine:
    """One pooled engine per URL; connections are checked before use so a DB restart heals.

    A request holds its connection between the thread-pool steps FastAPI runs it in (dependencies,
    endpoint), so with fewer connections than concurrent requests, threads waiting for a connection
    can starve the requests holding one (measured: every request timed out at 100 clients). Hence a
    generous overflow, and a short pool timeout that answers 503 instead of hanging.
    """
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=4 * pool_size,
        pool_timeout=5,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC"},
    )


def raw_connection(session: Session) -> psycopg.Connection[Any]:
    """The session's own psycopg connection, so raw SQL (outbox rows, COPY) joins its transaction."""
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver
