"""The batch writer every lane uses: a bounded queue, one thread, commit then acknowledge.

Paho's callbacks only decode and `put()`; this thread takes up to `max_rows` items or waits up to
`max_wait_s` for more, writes them in one transaction, and only then sends the PUBACKs. When the
queue is full, `put()` blocks paho's thread, so the gateway stops reading and the broker buffers:
nothing is dropped. `max_wait_s=0` (the alarm lane) flushes whatever is queued at once.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from prometheus_client import Counter, Gauge, Histogram

from eldercare_common.logging import get_logger
from eldercare_gateway.store import Store

log = get_logger(__name__)

BATCH_SECONDS = Histogram(
    "gateway_batch_seconds",
    "Time to write and commit one batch",
    ["lane"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_ROWS = Histogram(
    "gateway_batch_rows",
    "Messages per committed batch",
    ["lane"],
    buckets=(1, 5, 10, 50, 100, 500, 1000, 5000),
)
QUEUE_DEPTH = Gauge("gateway_queue_depth", "Messages waiting for the writer", ["lane"])
COMMITTED = Counter("gateway_messages_committed_total", "Messages committed (incl. dead letters)", ["lane"])


@dataclass(slots=True)
class Item:
    """One received message on its way to the database, with what is needed to acknowledge it."""

    work: Any
    mid: int
    qos: int
    generation: int


Connection = psycopg.Connection[tuple[object, ...]]
FlushFn = Callable[[Connection, Sequence[Item]], None]
PoisonFn = Callable[[Connection, Item, Exception], None]
AckFn = Callable[[Sequence[Item]], None]


class BatchWriter:
    """Single writer thread of a lane."""

    def __init__(
        self,
        *,
        lane: str,
        store: Store,
        flush: FlushFn,
        poison: PoisonFn,
        acknowledge: AckFn,
        max_rows: int,
        max_wait_s: float,
        queue_max: int,
        stop: threading.Event,
    ) -> None:
        self.lane = lane
        self._poison = poison
        self._store = store
        self._flush = flush
        self._acknowledge = acknowledge
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=queue_max)
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name=f"writer-{lane}", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def put(self, item: Item) -> None:
        """Queue an item; blocks while the queue is full (backpressure onto paho and the broker)."""
        while True:
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if self._stop.is_set():
                    return  # not acknowledged: the broker redelivers it to the next gateway

    def depth(self) -> int:
        """Items waiting."""
        return self._queue.qsize()

    def _collect(self) -> list[Item]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._max_wait_s
        while len(batch) < self._max_rows:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._collect()
            QUEUE_DEPTH.labels(self.lane).set(self._queue.qsize())
            if not batch:
                continue
            started = time.perf_counter()
            try:
                self._store.transaction(functools.partial(self._flush_batch, batch))
            except (psycopg.OperationalError, psycopg.InterfaceError):
                log.warning(
                    "stopping with an unwritten batch; the broker will redeliver it",
                    lane=self.lane,
                    size=len(batch),
                )
                return  # only reached when stopping: Store retries connection errors until then
            except Exception:
                log.exception("batch refused by the database; writing it item by item", lane=self.lane)
                for item in batch:
                    self._store.transaction(functools.partial(self._one, item))
            BATCH_SECONDS.labels(self.lane).observe(time.perf_counter() - started)
            BATCH_ROWS.labels(self.lane).observe(len(batch))
            COMMITTED.labels(self.lane).inc(len(batch))
            self._acknowledge(batch)

    def _flush_batch(self, batch: Sequence[Item], conn: Connection) -> None:
        self._flush(conn, batch)

    def _one(self, item: Item, conn: Connection) -> None:
        """Write one item; if the database refuses it, dead-letter it instead (never lose, never stall)."""
        try:
            with conn.transaction():
                self._flush(conn, [item])
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except Exception as exc:  # whatever the row did, it must not stop the lane
            self._poison(conn, item, exc)

    def join(self, timeout: float) -> None:
        """Wait for the thread to finish draining."""
        self._thread.join(timeout)
