"""Shared fixtures: a private PostgreSQL 15 and Mosquitto for the whole session, rolled back per test.

The services are real: started from Debian's binaries under var/test/, on free ports, and stopped
at the end. A missing binary fails the run with a message saying to run `make test` (which installs
it); CI never skips these.

Time: no test depends on today's date. The API under test runs on a `FixedClock` at `TEST_NOW`, and
test data is dated relative to it. `--clock-shift-days=N` (or `ELDERCARE_TEST_CLOCK_SHIFT_DAYS=N`)
moves this process's clock N days ahead with time-machine for the whole session; `make test` runs
the `time_sensitive` tests a second time that way, a year ahead (docs/development.md, "Time").
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from eldercare_common.devstack import MosquittoInstance, PostgresInstance, free_port
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.core.clock import Clock, FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.deps import get_db, rolled_back_on_error
from eldercare_platform.main import create_app
from eldercare_platform.migrate import upgrade
from eldercare_platform.planning.solver import travel_model
from eldercare_platform.tasks import service as tasks_service

ROOT = Path(__file__).resolve().parents[1]
TEST_VAR = ROOT / "var" / "test"
SERVICE_ACCOUNTS = {"gateway": DEMO_MQTT_PASSWORD, "platform": DEMO_MQTT_PASSWORD, "tester": DEMO_MQTT_PASSWORD}

TEST_NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai: "now" of the API under test
SEED_START = date(2026, 11, 16)  # the seeded district's week of shifts, which contains TEST_NOW
CLOCK_SHIFT = pytest.StashKey[timedelta]()
_TRAVEL = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=int(os.environ.get("ELDERCARE_TEST_CLOCK_SHIFT_DAYS", "0") or 0),
        help="move this process's clock N days ahead for the whole run (time-machine); "
        "PostgreSQL, Mosquitto and child processes keep the real clock",
    )


def pytest_configure(config: pytest.Config) -> None:
    days: int = config.getoption("--clock-shift-days")
    config.stash[CLOCK_SHIFT] = timedelta(days=days)
    if days:
        import time_machine

        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        traveller.start()
        config.stash[_TRAVEL] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVEL, None)
    if traveller is not None:
        traveller.stop()  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str | None:
    shift = config.stash.get(CLOCK_SHIFT, timedelta(0))
    if not shift:
        return None
    return f"process clock shifted {shift.days:+d} days (time-machine); PostgreSQL keeps the real clock"


@pytest.fixture(scope="session")
def clock_shift(pytestconfig: pytest.Config) -> timedelta:
    """How far this run moved the process clock (zero unless --clock-shift-days was given)."""
    return pytestconfig.stash[CLOCK_SHIFT]


@pytest.fixture
def clock() -> FixedClock:
    """The clock of the API under test: standing at TEST_NOW (tests may `set` or `advance` it)."""
    return FixedClock(TEST_NOW)


@contextmanager
def private_postgres(name: str, database: str) -> Iterator[PostgresInstance]:
    """A fresh PostgreSQL cluster under var/test/, removed afterwards."""
    data_dir = TEST_VAR / f"{name}-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    instance = PostgresInstance(data_dir, free_port(), database=database)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop(mode="immediate")
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def private_broker(name: str, device_hashes: list[tuple[str, str]] | None = None) -> Iterator[MosquittoInstance]:
    """A fresh Mosquitto with the service accounts (and these devices), removed afterwards."""
    directory = TEST_VAR / f"{name}-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    broker = MosquittoInstance(
        directory, free_port(), service_accounts=dict(SERVICE_ACCOUNTS), device_hashes=device_hashes or []
    )
    broker.write_config()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresInstance]:
    """A fresh private PostgreSQL cluster for the session."""
    with private_postgres("pg", "eldercare_test") as instance:
        yield instance


@pytest.fixture(scope="session")
def database_url(postgres: PostgresInstance) -> str:
    """The migrated test database (a copy of the session's migrated template)."""
    return migrated_database(postgres, postgres.database)


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) of a libpq URL."""
    return url.replace("postgresql://", "postgresql+psycopg://")


def unpooled_engine(url: str) -> Engine:
    """An SQLAlchemy engine on a libpq URL that holds no connection between uses (dispose it when done)."""
    return create_engine(sqlalchemy_url(url), poolclass=NullPool)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An SQLAlchemy engine on the test database."""
    eng = unpooled_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()
    outer.rollback()
    connection.close()


def api_settings_for(database_url: str) -> ApiSettings:
    """API settings for tests (demo secrets are accepted in test mode)."""
    return ApiSettings(
        environment="test", database_url=database_url, mqtt_url="mqtt://127.0.0.1:1", planner_seconds=0.2
    )


@pytest.fixture
def api_settings(database_url: str) -> ApiSettings:
    """API settings for tests (demo secrets are accepted in test mode)."""
    return api_settings_for(database_url)


def platform_settings(
    database_url: str, broker: MosquittoInstance, *, mqtt_password: str = DEMO_MQTT_PASSWORD
) -> ApiSettings:
    """API settings (test mode) on this database, connected to `broker` as the platform's account."""
    return ApiSettings(
        environment="test",
        database_url=database_url,
        mqtt_url=broker.url,
        mqtt_username="platform",
        mqtt_password=mqtt_password,
    )


class RunningTestClock:
    """The clock of the shared test app: it tells what the running test's `clock` tells (`client` points it there)."""

    def __init__(self) -> None:
        self.current: Clock = FixedClock(TEST_NOW)

    def now(self) -> datetime:
        """The running test's "now"."""
        return self.current.now()


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> tuple[FastAPI, RunningTestClock]:
    """The app behind every `client`, built once: building one (FastAPI's routes and their dependencies) takes
    ~0.1 s, which every test using `client` paid. It keeps no state between tests: its lifespan runs per test (each
    `client` enters it), its clock is the running test's, and its database session is the test's."""
    running = RunningTestClock()
    return create_app(api_settings_for(database_url), connect_broker=False, clock=running), running


@pytest.fixture
def client(
    shared_app: tuple[FastAPI, RunningTestClock], api_settings: ApiSettings, db: Session, clock: FixedClock
) -> Iterator[TestClient]:
    """The API on the test's `clock`, its database session bound to the test's rolled-back transaction, no broker."""
    app, running = shared_app
    running.current = clock
    # what create_app configures process-wide, as it was for this app (another app of the run may have changed it)
    tasks_service.configure_urgent_routing(travel=travel_model(api_settings))

    def override() -> Iterator[Session]:
        yield from rolled_back_on_error(db)  # like get_db: a failed request leaves nothing half-done

    app.dependency_overrides[get_db] = override
    try:
        with TestClient(app) as test_client:
            yield test_client
    finally:
        app.dependency_overrides.clear()
        running.current = FixedClock(TEST_NOW)


@pytest.fixture(scope="session")
def timescale_url() -> Iterator[str]:
    """The TimescaleDB lane's server for the session (PGlite over the wire, tests/support/timescale.py), migrated to
    head once. Start-up and migration take a few seconds, so modules share it: each writes its world inside one
    transaction it rolls back (`timescale_session`), leaving the database empty for the next."""
    from tests.support.timescale import pglite_timescale_server

    with pglite_timescale_server() as dsn:
        upgrade(dsn)
        yield dsn


@contextmanager
def timescale_session(url: str) -> Iterator[Session]:
    """A session on the lane's server inside a transaction that is rolled back at the end (commits become
    savepoints): PGlite has one backend, so everything of the module goes through this one connection."""
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool, connect_args={"prepare_threshold": None})
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()
        engine.dispose()


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MosquittoInstance]:
    """A private Mosquitto broker with service accounts; tests register devices and sync it."""
    with private_broker("mosquitto") as broker:
        yield broker


@pytest.fixture(scope="session")
def seeded_broker(seeded_url: str) -> Iterator[MosquittoInstance]:
    """A broker that knows every device of the seeded district (their demo passwords)."""
    from eldercare_platform.devices.broker_files import device_password_hashes

    with private_broker("mosquitto-seeded", device_password_hashes(seeded_url)) as broker:
        yield broker


def psql(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit and return its rows (helper for integration tests)."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


@event.listens_for(Engine, "connect")
def _utc(dbapi_connection: object, _record: object) -> None:
    """Every test connection works in UTC, like the services."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()


MIGRATED_TEMPLATE = "eldercare_migrated_template"
"""Per cluster, a database migrated to head once and never connected to again: the migrated databases are copies."""
_templates: set[tuple[int, str]] = set()


def migrated_database(postgres: PostgresInstance, name: str) -> str:
    """A database of its own on the session's cluster, created afresh and migrated; returns its URL.

    The first call on a cluster runs every migration into `MIGRATED_TEMPLATE`; each database is then
    `CREATE DATABASE ... TEMPLATE` of it (a file copy, ~0.1 s, where the migrations take ~1 s each time).
    The migrations themselves are tested on a scratch database of their own (tests/integration/test_migrations.py).
    """
    key = (postgres.port, str(postgres.data_dir))
    if key not in _templates:
        postgres.drop_database(MIGRATED_TEMPLATE)
        postgres.create_database(MIGRATED_TEMPLATE)
        upgrade(postgres.url_for(MIGRATED_TEMPLATE))  # Alembic's engine is unpooled: no connection stays open
        _templates.add(key)
    return copied_database(postgres, MIGRATED_TEMPLATE, name)


def copied_database(postgres: PostgresInstance, template: str, name: str) -> str:
    """`name` created afresh as a copy of `template` (which nobody may be connected to); returns its URL."""
    postgres.drop_database(name)
    with psycopg.connect(postgres.url_for("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return postgres.url_for(name)


SEEDED_TEMPLATE = "eldercare_seeded_template"
"""The seeded district as loaded, never connected to after (a database someone is connected to cannot be a
template): `seeded_database` makes databases from it."""


@pytest.fixture(scope="session")
def seeded_template(postgres: PostgresInstance) -> str:
    """The name of a database migrated and loaded with the 1,000-resident demo district (seed 7) from SEED_START,
    loaded once and never connected to again: `seeded_database` copies it for whoever needs the district."""
    from eldercare_platform.seed.generator import generate
    from eldercare_platform.seed.loader import load

    load(migrated_database(postgres, SEEDED_TEMPLATE), generate(1000, seed=7, start_date=SEED_START))
    return SEEDED_TEMPLATE


def seeded_database(postgres: PostgresInstance, seeded_template: str, name: str) -> str:
    """A database of its own holding the demo district as loaded (a copy of `seeded_template`); returns its URL."""
    return copied_database(postgres, seeded_template, name)


@pytest.fixture(scope="session")
def seeded_url(postgres: PostgresInstance, seeded_template: str) -> str:
    """A separate database, migrated and loaded with the 1,000-resident demo district (seed 7) from SEED_START."""
    return seeded_database(postgres, seeded_template, "eldercare_seeded")
