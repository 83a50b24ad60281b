"""Downlinks to devices through the outbox: enqueue in the caller's transaction, publish after commit.

`enqueue_downlink` writes an outbox row in the same transaction as the decision that causes it (an
operator acknowledging a call, an admin changing a heartbeat interval), so a downlink is never sent
for a change that rolled back and never forgotten for one that committed. `DownlinkPublisher`, run
by the platform API, publishes pending rows at QoS 1, waits for the broker's PUBACK, and only then
marks them processed; a broker outage delays downlinks, it does not lose them. The outbox row and
the topics are the device contract's (`eldercare_common.contract`).
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from prometheus_client import Counter
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from eldercare_common.contract.outbox import NotifyChannel, OutboxTopic
from eldercare_common.contract.v1 import RETAINED_DOWNLINKS, Downlink, downlink_topic, encode
from eldercare_common.logging import get_logger
from eldercare_platform.core.listen import DEFAULT_BACKOFF, Backoff, ListeningWorker

log = get_logger(__name__)

PUBLISHED = Counter("downlinks_published_total", "Downlinks acknowledged by the broker", ["channel"])


def enqueue_downlink(conn: psycopg.Connection[Any], *, serial: str, channel: Downlink, payload: BaseModel) -> int:
    """Add a downlink to the outbox in the caller's transaction; returns the outbox id."""
    row = conn.execute(
        "INSERT INTO outbox (topic, payload) VALUES (%s, %s) RETURNING id",
        (
            OutboxTopic.DOWNLINK.value,
            Jsonb({"serial": serial, "channel": str(channel), "body": payload.model_dump(mode="json")}),
        ),
    ).fetchone()
    conn.execute("SELECT pg_notify(%s, '')", (NotifyChannel.DOWNLINK.value,))
    assert row is not None
    return int(row[0])


class DownlinkPublisher(ListeningWorker):
    """Publishes pending downlink rows; several processes may run it (rows are claimed with SKIP LOCKED)."""

    def __init__(
        self,
        database_url: str,
        client: mqtt.Client,
        *,
        batch: int = 100,
        poll_s: float = 1.0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__(
            database_url, [NotifyChannel.DOWNLINK], name="downlink-publisher", poll_s=poll_s, backoff=backoff
        )
        self._url = database_url
        self._client = client
        self._batch = batch

    def publish_pending(self, conn: psycopg.Connection[Any]) -> int:
        """Publish one batch of pending downlinks; returns how many the broker acknowledged."""
        published = 0
        with conn.transaction():
            rows = conn.execute(
                "SELECT id, payload FROM outbox WHERE topic = %s AND processed_at IS NULL"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (OutboxTopic.DOWNLINK.value, self._batch),
            ).fetchall()
            for outbox_id, payload in rows:
                channel = Downlink(payload["channel"])
                info = self._client.publish(
                    downlink_topic(payload["serial"], channel),
                    encode(_Body.model_validate(payload["body"])),
                    qos=1,
                    retain=channel in RETAINED_DOWNLINKS,
                )
                try:
                    info.wait_for_publish(timeout=5)
                except (RuntimeError, ValueError) as exc:
                    conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s",
                        (str(exc)[:500], outbox_id),
                    )
                    break
                if not info.is_published():
                    conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = 'no PUBACK in 5 s' WHERE id = %s",
                        (outbox_id,),
                    )
                    break
                conn.execute("UPDATE outbox SET processed_at = now() WHERE id = %s", (outbox_id,))
                PUBLISHED.labels(channel).inc()
                published += 1
        return published

    def _work(self) -> None:
        # The listener wakes this loop (a NOTIFY, or a reconnect: then whatever was queued meanwhile is
        # published); the poll is only a safety net. The work has a connection of its own.
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    while not self._stop.is_set():
                        if not self._client.is_connected():
                            self._stop.wait(0.5)
                            continue
                        if self.publish_pending(conn) == self._batch:
                            continue  # more waiting: go again at once
                        self._wait()
            except psycopg.Error as exc:
                log.warning("downlink publisher lost the database; retrying", error=str(exc)[:200])
                self._stop.wait(2.0)


class _Body(BaseModel):
    """Any downlink body: already validated when it was enqueued, re-encoded as compact JSON."""

    model_config = {"extra": "allow"}
