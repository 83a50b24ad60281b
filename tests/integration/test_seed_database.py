"""The demo district loaded into PostgreSQL: counts, integrity, and demo users who can really sign in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from eldercare_platform.seed.generator import DEMO_PASSWORD, DEMO_USERS, generate
from eldercare_platform.seed.loader import DatabaseNotEmptyError, is_seeded, load
from tests.conftest import SEED_START, TEST_NOW, psql


@pytest.fixture(scope="module")
def seeded_client(seeded_url: str) -> Iterator[TestClient]:
    app = create_app(
        ApiSettings(environment="test", database_url=seeded_url), connect_broker=False, clock=FixedClock(TEST_NOW)
    )
    with TestClient(app) as client:
        yield client


def _token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_row_counts_match_the_generator(seeded_url: str) -> None:
    expected = generate(1000, seed=7, start_date=SEED_START).counts()
    for table, count in expected.items():
        assert psql(seeded_url, f"SELECT count(*) FROM {table}")[0][0] == count, table
    assert expected["resident"] == 1000


def test_every_household_has_exactly_one_alarm_unit(seeded_url: str) -> None:
    bad = psql(
        seeded_url,
        "SELECT h.id FROM household h LEFT JOIN device d ON d.household_id = h.id"
        " AND d.kind = 'home_alarm_unit' GROUP BY h.id HAVING count(d.id) <> 1",
    )
    assert bad == []


def test_sequences_continue_after_the_explicit_ids(seeded_url: str) -> None:
    area = psql(
        seeded_url, "INSERT INTO area (code, name, level, path) VALUES ('SEQTEST', 'x', 'community', '/') RETURNING id"
    )[0][0]
    assert area == psql(seeded_url, "SELECT max(id) FROM area")[0][0]
    psql(seeded_url, "DELETE FROM area WHERE code = 'SEQTEST'")


def test_loading_twice_is_refused(seeded_url: str) -> None:
    assert is_seeded(seeded_url)
    with pytest.raises(DatabaseNotEmptyError):
        load(seeded_url, generate(1000, seed=7))


@pytest.mark.parametrize("username", [name for name, _, _ in DEMO_USERS])
def test_every_demo_user_signs_in(seeded_client: TestClient, username: str) -> None:
    me = seeded_client.get("/api/auth/me", headers=_token(seeded_client, username)).json()
    assert me["username"] == username


def test_the_caregiver_team_signs_in_as_its_own_staff_records(seeded_client: TestClient, seeded_url: str) -> None:
    accounts = psql(
        seeded_url,
        "SELECT u.username, u.staff_id FROM app_user u JOIN staff s ON s.id = u.staff_id"
        " WHERE u.role = 'caregiver' AND s.role = 'caregiver' ORDER BY s.id",
    )
    caregivers = psql(seeded_url, "SELECT count(*) FROM staff WHERE role = 'caregiver'")[0][0]
    assert [name for name, _ in accounts] == [f"caregiver{n}" for n in range(1, caregivers + 1)]
    for username, staff_id in (accounts[1], accounts[-1]):
        me = seeded_client.get("/api/auth/me", headers=_token(seeded_client, username)).json()
        assert me["username"] == username and me["staff_id"] == staff_id


def test_scoped_supervisors_see_their_share(seeded_client: TestClient) -> None:
    district = seeded_client.get("/api/residents?limit=1", headers=_token(seeded_client, "supervisor_district"))
    street = seeded_client.get("/api/residents?limit=1", headers=_token(seeded_client, "supervisor_street"))
    home = seeded_client.get("/api/residents?limit=1", headers=_token(seeded_client, "supervisor_home"))
    assert district.json()["total"] == 1000
    assert 0 < street.json()["total"] < 1000
    assert home.json()["total"] == 0, "an institution's supervisor sees no home-care residents"


def test_services_tables_are_loaded_and_consistent(seeded_url: str) -> None:
    counts = psql(
        seeded_url,
        "SELECT (SELECT count(*) FROM resident r WHERE NOT EXISTS (SELECT 1 FROM care_plan p"
        "   WHERE p.resident_id = r.id AND p.valid_to IS NULL)),"
        " (SELECT count(*) FROM resident r WHERE NOT EXISTS (SELECT 1 FROM assessment a WHERE a.resident_id = r.id)),"
        " (SELECT count(*) FROM resident WHERE reassessment_due_on IS NULL),"
        " (SELECT count(*) FROM care_plan p, jsonb_array_elements(p.meals) m"
        "   WHERE NOT EXISTS (SELECT 1 FROM meal_point mp WHERE mp.id = (m->>'meal_point_id')::int)),"
        " (SELECT count(*) FROM resident r JOIN care_plan p ON p.resident_id = r.id WHERE r.care_tier <> p.visit_tier),"
        " (SELECT count(*) FROM shift WHERE pattern_id IS NULL),"
        " (SELECT count(*) FROM staff WHERE home_latitude IS NULL)",
    )[0]
    assert counts == (0, 0, 0, 0, 0, 0, 0)


def test_identity_columns_continue_after_the_explicit_ids(seeded_url: str) -> None:
    new_id = psql(
        seeded_url,
        "INSERT INTO shift_pattern (staff_id, weekdays, start_time, end_time, valid_from)"
        " VALUES (1, '{1}', '09:00', '10:00', '2026-01-01') RETURNING id",
    )[0][0]
    assert new_id == psql(seeded_url, "SELECT max(id) FROM shift_pattern")[0][0]
    psql(seeded_url, "DELETE FROM shift_pattern WHERE id = %s", (new_id,))
    assert psql(seeded_url, "SELECT pg_get_serial_sequence('care_plan', 'id') IS NOT NULL")[0][0]
    assert psql(seeded_url, "SELECT last_value FROM care_plan_id_seq")[0][0] == 1000


def test_coordinator1_sees_their_community(seeded_client: TestClient) -> None:
    response = seeded_client.get("/api/residents?limit=1", headers=_token(seeded_client, "coordinator1"))
    assert response.status_code == 200, response.text
    assert 0 < response.json()["total"] < 1000
