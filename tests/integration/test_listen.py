"""The one LISTEN helper (core/listen.py) through an outage: kill its connection, NOTIFY while it is away.

A NOTIFY sent while nobody listens is gone for good. The listener must reconnect by itself and then
call its catch-up, so that what was committed (and notified) during the outage is still processed,
and soon: well before the safety-net poll (60 s here) could have found it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from eldercare_common.contract.outbox import NotifyChannel
from eldercare_common.devstack import PostgresInstance
from eldercare_gateway.event_store import insert_events
from eldercare_gateway.events import EventRow
from eldercare_platform.alarms.live import AlarmHub, Console, IntakeWorker
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.listen import Backoff, Listener
from eldercare_platform.core.scope import Scope, ScopeKind
from tests import factories as f
from tests.conftest import migrated_database, psql, sqlalchemy_url, unpooled_engine
from tests.integration.gateway_support import wait_for

# Away for 3 s after losing its connection: time enough to commit and NOTIFY while nobody listens.
SLOW_RETURN = Backoff(pause_s=3.0, initial_s=0.5, max_s=3.0)
NEVER_POLL_S = 60.0


@pytest.fixture(scope="module")
def own_url(postgres: PostgresInstance) -> str:
    return migrated_database(postgres, "eldercare_listen")


@pytest.fixture(scope="module")
def own_engine(own_url: str) -> Iterator[Engine]:
    engine = unpooled_engine(own_url)
    yield engine
    engine.dispose()


def a_device(engine: Engine, name: str) -> str:
    with Session(engine, expire_on_commit=False) as session:
        district = f.area(session, name=f"{name}区", level=AreaLevel.DISTRICT)
        community = f.area(session, name=f"{name}社区", level=AreaLevel.COMMUNITY, parent=district)
        resident = f.resident(session, community=community)
        assert resident.household_id is not None
        serial = f.device(session, household_id=resident.household_id).serial
        session.commit()
    return serial


def listening_backends(url: str, listener: Listener) -> int:
    return int(
        psql(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            (listener.application_name,),
        )[0][0]
    )


def cut(url: str, listener: Listener) -> None:
    """Terminate the listener's PostgreSQL connection and wait until it has noticed."""
    [(killed,)] = psql(
        url,
        # pg_stat_activity is the whole cluster's: other tests' API processes listen under the same name.
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = %s AND datname = current_database()",
        (listener.application_name,),
    )
    assert killed == 1
    wait_for(lambda: not listener.connected, timeout=10, what="the listener to notice its connection is gone")


def test_the_listener_reconnects_and_catches_up(own_url: str) -> None:
    caught_up: list[float] = []
    notified: list[str] = []
    listener = Listener(
        own_url,
        [NotifyChannel.DOWNLINK],
        name="test-listen",
        on_notify=notified.append,
        on_connect=lambda: caught_up.append(time.monotonic()),
        backoff=SLOW_RETURN,
    )
    listener.start()
    try:
        wait_for(lambda: listener.connected, timeout=10, what="the listener to connect")
        assert len(caught_up) == 1 and listener.connects == 1
        psql(own_url, "SELECT pg_notify('downlink', 'first')")
        wait_for(lambda: notified == ["first"], timeout=10, what="the first notification")
        assert listener.wait(0) is True  # woken

        cut(own_url, listener)
        psql(own_url, "SELECT pg_notify('downlink', 'lost')")  # nobody listens: gone
        assert not listener.connected and listening_backends(own_url, listener) == 0

        wait_for(lambda: len(caught_up) == 2, timeout=15, what="the catch-up after the reconnect")
        assert listener.connected and listener.connects == 2 and listening_backends(own_url, listener) == 1
        psql(own_url, "SELECT pg_notify('downlink', 'after')")
        wait_for(lambda: notified == ["first", "after"], timeout=10, what="notifications after the reconnect")
    finally:
        listener.stop()
    assert not listener.connected
    wait_for(lambda: listening_backends(own_url, listener) == 0, timeout=10, what="the connection to close")


def test_intake_takes_an_event_stored_while_its_listener_was_away(own_url: str, own_engine: Engine) -> None:
    serial = a_device(own_engine, "武进")
    orm_url = sqlalchemy_url(own_url)
    worker = IntakeWorker(own_url, orm_url, poll_s=NEVER_POLL_S, backoff=SLOW_RETURN)
    worker.start()
    try:
        wait_for(lambda: worker.listener.connected, timeout=10, what="the intake's listener to connect")
        time.sleep(0.5)  # the first catch-up has run; the worker now sleeps until woken
        cut(own_url, worker.listener)

        # What the gateway does for an SOS: device_event + outbox + NOTIFY device_event, one transaction.
        now = datetime.now(UTC)
        with psycopg.connect(own_url) as conn:
            [event_id] = insert_events(conn, [EventRow(serial, "sos-outage", "sos", now, now)])
        assert not worker.listener.connected and worker.listener.connects == 1  # the NOTIFY reached nobody
        started = time.monotonic()

        [alarm_id] = wait_for(
            lambda: [r[0] for r in psql(own_url, "SELECT id FROM alarm WHERE device_serial = %s", (serial,))],
            timeout=20,
            what="the intake to open the alarm after its listener came back",
        )
        assert time.monotonic() - started < NEVER_POLL_S / 2  # the catch-up did it, not the poll
        assert worker.listener.connects == 2
    finally:
        worker.stop()
    assert psql(own_url, "SELECT device_event_id FROM alarm_event WHERE alarm_id = %s", (alarm_id,)) == [(event_id,)]
    assert psql(
        own_url, "SELECT processed_at IS NOT NULL FROM outbox WHERE payload->>'device_event_id' = %s", (str(event_id),)
    ) == [(True,)]


class _Socket:
    """The console's WebSocket is never used by the hub itself: it only fills the console's queue."""


def test_the_live_hub_pushes_a_change_made_while_its_listener_was_away(own_url: str, own_engine: Engine) -> None:
    serial = a_device(own_engine, "新北")
    now = datetime.now(UTC)
    with psycopg.connect(own_url) as conn:
        insert_events(conn, [EventRow(serial, "fall-outage", "fall", now, now)])
    orm_url = sqlalchemy_url(own_url)
    from eldercare_platform.alarms.intake import intake_pending

    with Session(own_engine) as session:
        [alarm_id] = intake_pending(session, now=now)

    async def scenario() -> dict[str, Any]:
        hub = AlarmHub(own_url, orm_url, sweep_s=NEVER_POLL_S, backoff=SLOW_RETURN)
        console = Console(websocket=_Socket(), scope=Scope(ScopeKind.ALL))  # type: ignore[arg-type]
        hub.consoles.add(console)
        hub.start()
        try:
            ready = lambda: hub.listener.connected and hub._last_version  # noqa: E731
            await asyncio.to_thread(wait_for, ready, timeout=10, what="the hub to listen and read the versions")
            await asyncio.sleep(0.5)  # the first sweep ran; now only a NOTIFY or a reconnect wakes the hub
            while not console.queue.empty():
                console.queue.get_nowait()
            await asyncio.to_thread(cut, own_url, hub.listener)
            psql(  # an operator's change in another process: new version, NOTIFY alarm_changed
                own_url,
                "WITH bumped AS (UPDATE alarm SET version = nextval('alarm_version_seq') WHERE id = %s RETURNING id)"
                " SELECT pg_notify('alarm_changed', id::text) FROM bumped",
                (alarm_id,),
            )
            assert not hub.listener.connected and hub.listener.connects == 1
            return await asyncio.wait_for(console.queue.get(), timeout=NEVER_POLL_S / 2)
        finally:
            await hub.stop()

    # A loop of its own on a thread of its own: earlier tests (Playwright's sync API) may have left one
    # running on this thread, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        message = pool.submit(asyncio.run, scenario()).result()
    assert message["type"] == "alarm" and message["alarm"]["id"] == alarm_id
    [(version,)] = psql(own_url, "SELECT version FROM alarm WHERE id = %s", (alarm_id,))
    assert message["alarm"]["version"] == version
