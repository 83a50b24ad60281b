"""The platform decides with its injected clock, never with today's date or PostgreSQL's `now()`.

Each test sets the clock to an instant far from today (and from each other) and checks that the
card's last 24 h, ages, token expiry, the status page's 24 h counts, the intake worker, the live hub
and the scheduler's jobs all follow it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.alarms.intake import intake_pending
from eldercare_platform.alarms.live import AlarmHub, IntakeWorker
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings, SchedulerSettings
from eldercare_platform.core.db import engine_for
from eldercare_platform.main import create_app
from eldercare_platform.scheduler.__main__ import build_scheduler
from eldercare_platform.scheduler.runner import slot_start
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import migrated_database, psql, sqlalchemy_url, unpooled_engine
from tests.integration.gateway_support import wait_for
from tests.integration.test_alarms import raise_event, settle_others_events

pytestmark = pytest.mark.time_sensitive

BIRTH_EVE = datetime(2030, 3, 7, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on 7 March in Shanghai; the factory's residents
# are born on 8 March 1940, so they turn 90 one second later (while it is still 7 March in UTC).


def test_the_process_clock_is_shifted_exactly_as_asked(engine: Engine, clock_shift: timedelta) -> None:
    """PostgreSQL keeps the real clock: in the shifted lane the two differ by the shift, else they agree."""
    with engine.connect() as conn:
        database_now = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    drift = datetime.now(UTC) - database_now - clock_shift
    assert abs(drift) < timedelta(minutes=1), f"process clock is {drift} off the expected shift {clock_shift}"


@pytest.fixture
def home(db: Session) -> dict[str, Any]:
    settle_others_events(db)
    district = f.area(db, name="钟楼区", level=AreaLevel.DISTRICT)
    community = f.area(db, name="西林社区", level=AreaLevel.COMMUNITY, parent=district)
    resident = f.resident(db, community=community, name="周玉兰")
    assert resident.household_id is not None
    unit = f.device(db, household_id=resident.household_id)
    return {
        "community": community,
        "resident": resident,
        "unit": unit.serial,
        "operator": f.user(db, role=Role.OPERATOR),
    }


def test_the_cards_last_24_hours_end_at_the_apps_clock(
    client: TestClient, db: Session, clock: FixedClock, home: dict[str, Any]
) -> None:
    base = datetime(2033, 5, 10, 2, 0, tzinfo=UTC)
    for hours_ago, kind in ((30, "low_battery"), (3, "door_open"), (0, "sos")):
        raise_event(db, home["unit"], kind, at=base - timedelta(hours=hours_ago))
    intake_pending(db, now=base)
    clock.set(base)
    queue = client.get("/api/alarms", headers=_login(client, home)).json()
    [sos] = [a for a in queue if a["type"] == "sos" and a["device_serial"] == home["unit"]]

    def window() -> list[str]:
        card = client.get(f"/api/alarms/{sos['id']}/card", headers=_login(client, home)).json()
        return [event["event_type"] for event in card["last_24h"]["events"]]

    assert window() == ["sos", "door_open"], "30 h old is out, 3 h old is in"
    clock.set(base + timedelta(hours=22))
    assert window() == ["sos"], "now the door event is 25 h old"
    clock.set(base + timedelta(hours=24, seconds=1))
    assert window() == []


def test_ages_turn_over_at_midnight_in_shanghai_by_the_apps_clock(
    client: TestClient, db: Session, clock: FixedClock, home: dict[str, Any]
) -> None:
    raise_event(db, home["unit"], "sos", at=BIRTH_EVE)
    [alarm_id] = intake_pending(db, now=BIRTH_EVE)
    resident_id = home["resident"].id

    def ages() -> dict[str, int]:
        headers = _login(client, home)
        [listed] = client.get(f"/api/residents?area_id={home['community'].id}", headers=headers).json()["items"]
        [queued] = [a for a in client.get("/api/alarms", headers=headers).json() if a["id"] == alarm_id]
        return {
            "list": listed["age"],
            "resident card": client.get(f"/api/residents/{resident_id}", headers=headers).json()["age"],
            "queue": queued["resident_age"],
            "alarm card": client.get(f"/api/alarms/{alarm_id}/card", headers=headers).json()["resident"]["age"],
        }

    clock.set(BIRTH_EVE)
    assert set(ages().values()) == {89}
    clock.advance(timedelta(seconds=1))
    assert set(ages().values()) == {90}, "8 March has begun in Shanghai"


def test_a_token_expires_by_the_apps_clock(client: TestClient, clock: FixedClock, home: dict[str, Any]) -> None:
    clock.set(datetime(2040, 8, 1, 9, 0, tzinfo=UTC))
    headers = _login(client, home)
    shift = timedelta(minutes=ApiSettings(environment="test").access_token_minutes)
    clock.advance(shift - timedelta(seconds=1))
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/auth/me", headers=headers).status_code == 401


# --- the parts that run outside a request, on a database of their own (their work commits) ---


@pytest.fixture(scope="module")
def own_url(postgres: PostgresInstance) -> str:
    return migrated_database(postgres, "eldercare_clock")


@pytest.fixture(scope="module")
def own_engine(own_url: str) -> Iterator[Engine]:
    engine = unpooled_engine(own_url)
    yield engine
    engine.dispose()


def test_status_counts_the_last_24_hours_back_from_the_apps_clock(own_url: str, own_engine: Engine) -> None:
    far = datetime(2100, 1, 1, tzinfo=UTC)
    psql(
        own_url,
        "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)"
        " VALUES ('CLK0000001', 'recent', 'sos', %s, %s), ('CLK0000001', 'old', 'sos', %s, %s)",
        (far - timedelta(hours=1), far - timedelta(hours=1), far - timedelta(hours=30), far - timedelta(hours=30)),
    )
    psql(
        own_url,
        "INSERT INTO dead_letter (received_at, topic, payload, reason) VALUES (%s, 'x', '\\x00', 'test')",
        (far - timedelta(hours=2),),
    )
    with Session(own_engine, expire_on_commit=False) as session:
        admin = f.user(session, role=Role.ADMIN)
        session.commit()
    clock = FixedClock(far)
    app = create_app(ApiSettings(environment="test", database_url=own_url), connect_broker=False, clock=clock)
    with TestClient(app) as client:

        def counts() -> tuple[int, int]:
            headers = f.login(client, admin.username)
            body = client.get("/api/system/status", headers=headers).json()["counts"]
            return body["events_24h"], body["dead_letters_24h"]

        assert counts() == (1, 1)
        clock.set(far + timedelta(hours=22))
        assert counts() == (1, 0)
        clock.set(far + timedelta(hours=23))
        assert counts() == (0, 0)


def test_intake_live_hub_and_escalation_follow_the_injected_clock(own_url: str, own_engine: Engine) -> None:
    far = datetime(2099, 6, 1, 3, 0, tzinfo=UTC)
    clock = FixedClock(far)
    with Session(own_engine, expire_on_commit=False) as session:
        district = f.area(session, name="武进区", level=AreaLevel.DISTRICT)
        community = f.area(session, name="湖塘社区", level=AreaLevel.COMMUNITY, parent=district)
        resident = f.resident(session, community=community)
        assert resident.household_id is not None
        serial = f.device(session, household_id=resident.household_id).serial
        raise_event(session, serial, "sos", at=far - timedelta(seconds=5))
        session.commit()
    orm_url = sqlalchemy_url(own_url)
    worker = IntakeWorker(own_url, orm_url, clock=clock)
    worker.start()
    try:
        [alarm_id] = wait_for(
            lambda: [r[0] for r in psql(own_url, "SELECT id FROM alarm WHERE device_serial = %s", (serial,))],
            timeout=15,
            what="the intake worker to open the alarm",
        )
    finally:
        worker.stop()
    [(opened_at,)] = psql(
        own_url, "SELECT at FROM alarm_transition WHERE alarm_id = %s AND action = 'opened'", (alarm_id,)
    )
    assert opened_at == far
    assert psql(own_url, "SELECT DISTINCT processed_at FROM outbox WHERE topic = 'device_event'") == [(far,)]

    [pushed] = AlarmHub(own_url, orm_url, clock=clock)._read([alarm_id])
    assert pushed.resident_age == 159  # born 8 March 1940, pushed on 1 June 2099

    settings = SchedulerSettings(environment="test", database_url=own_url)
    scheduler = build_scheduler(settings, engine_for(settings.sqlalchemy_url, 2), clock=clock)
    escalation = scheduler.get_job("alarm_escalation")
    assert escalation is not None
    clock.set(far + timedelta(seconds=settings.supervisor_after_seconds))
    escalation.func()
    [(level, escalated_at)] = psql(
        own_url, "SELECT escalation_level, escalated_at FROM alarm WHERE id = %s", (alarm_id,)
    )
    assert (level, escalated_at) == (2, clock.now())
    [(fire_time, started_at, status)] = psql(
        own_url, "SELECT fire_time, started_at, status FROM job_run WHERE job = 'alarm_escalation'"
    )
    interval = timedelta(seconds=settings.escalation_check_seconds)
    assert (fire_time, started_at, status) == (slot_start(clock.now(), interval), clock.now(), "succeeded")


def _login(client: TestClient, home: dict[str, Any]) -> dict[str, str]:
    """A fresh token from the API's clock as it stands now (a token from before a jump may have expired)."""
    operator: User = home["operator"]
    return f.login(client, operator.username)
