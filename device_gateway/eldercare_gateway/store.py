"""One PostgreSQL connection per lane, with reconnect-and-retry: a database restart stalls a lane, never loses.

While the database is away, the lane's writer keeps retrying the same batch; meanwhile nothing is
acknowledged, the bounded queue fills, paho stops reading, and the broker holds the messages.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from eldercare_common import failpoints
from eldercare_common.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class Store:
    """A lazily (re)opened connection and a retrying transaction runner."""

    def __init__(self, database_url: str, *, name: str, stop: threading.Event) -> None:
        self._url = database_url
        self._name = name
        self._stop = stop
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(
                self._url,
                application_name=f"eldercare-gateway-{self._name}",
                connect_timeout=5,
                options="-c timezone=UTC",
            )
        return self._conn

    def _reset(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def transaction(self, work: Callable[[psycopg.Connection[tuple[object, ...]]], T]) -> T:
        """Run `work` in a transaction and commit; on a connection error, reconnect and run it again.

        `work` must be idempotent (our writes are: unique keys and upserts). Gives up only when the
        process is stopping, raising the last error so the caller does not acknowledge anything.
        """
        for attempt in Retrying(
            retry=retry_if_exception_type((psycopg.OperationalError, psycopg.InterfaceError)),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=lambda _state: self._stop.is_set(),
            before_sleep=self._before_retry,
            reraise=True,
        ):
            with attempt:
                conn = self._connection()
                try:
                    result = work(conn)
                    failpoints.hit(f"{self._name}.before_commit")
                    conn.commit()
                except Exception:
                    if not conn.closed:
                        conn.rollback()
                    raise
                return result
        raise RuntimeError("unreachable")  # pragma: no cover - Retrying either returns or raises

    def _before_retry(self, state: RetryCallState) -> None:
        self._reset()
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "database unavailable; retrying", lane=self._name, attempt=state.attempt_number, error=str(error)[:200]
        )

    def close(self) -> None:
        """Close the connection."""
        self._reset()
