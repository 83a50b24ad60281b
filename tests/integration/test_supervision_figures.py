"""The supervision figures (alarms, visits, meals, devices) against hand-computed numbers on a small fixed world
(tests/integration/supervision_support.py), scope at every tier, and the exports opened with openpyxl.

The hand-computed checks of each section run on PostgreSQL and in the TimescaleDB lane (`lane`: the same world
and the same API on the lane's session server, rolled back afterwards), with the same expected numbers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.db import raw_connection
from eldercare_platform.core.deps import get_db, rolled_back_on_error
from eldercare_platform.main import create_app
from tests.conftest import migrated_database, timescale_session
from tests.factories import login
from tests.integration.supervision_support import NOW, USERS, build, write_world

PERIOD = {"from": "2026-11-01", "to": "2026-11-22"}


Api = tuple[TestClient, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
def api(postgres: PostgresInstance) -> Iterator[Api]:
    url = migrated_database(postgres, "supervision_figures")
    build(url)
    settings = ApiSettings(environment="test", database_url=url, mqtt_url="mqtt://127.0.0.1:1")
    app = create_app(settings, connect_broker=False, clock=FixedClock(NOW))
    with TestClient(app) as client:
        yield client, {username: login(client, username) for username in USERS}


LANE_USERS = ("sv_district", "sv_city", "sv_institution")
"""Who the hand-computed checks sign in as."""


@pytest.fixture(scope="module", params=["postgresql", pytest.param("timescale", marks=pytest.mark.timescale)])
def lane(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The API on the world, on PostgreSQL (the module's `api`) or on TimescaleDB (the lane's session server: the
    world written in a transaction every request joins, rolled back at the end)."""
    if request.param == "postgresql":
        yield request.getfixturevalue("api")
        return
    url = request.getfixturevalue("timescale_url")
    with timescale_session(url) as session:
        write_world(raw_connection(session))
        settings = ApiSettings(environment="test", database_url=url, mqtt_url="mqtt://127.0.0.1:1")
        app = create_app(settings, connect_broker=False, clock=FixedClock(NOW))

        def shared() -> Iterator[Session]:
            yield from rolled_back_on_error(session)

        app.dependency_overrides[get_db] = shared
        with TestClient(app) as client:
            yield client, {username: login(client, username) for username in LANE_USERS}


def get(api: Api, user: str, path: str, **params: Any) -> Any:
    client, headers = api
    response = client.get(f"/api/supervision/{path}", params={**PERIOD, **params}, headers=headers[user])
    assert response.status_code == 200, response.text
    return response.json()


def children(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["area"]["name"]: row["figures"] for row in body["children"]}


def test_alarms_of_a_district(lane: Api) -> None:
    body = get(lane, "sv_district", "alarms")
    assert body["area"] == {"id": 2, "name": "天宁区", "level": "district", "path": "/1/2/"}
    assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-22")
    totals = body["totals"]
    # In the district and the period: alarms 1, 2, 3 (r1), 4, 5, 7 (the institution's), 9 (00:30 on 1 Nov local;
    # alarm 8 at 23:00 on 31 Oct is not), the welfare calls 10 and 11. Device faults 21-25 are not alarms here.
    assert totals["alarms"] == 9
    assert totals["acknowledged"] == 8 and totals["resolved"] == 6
    # ack seconds sorted: 30 60 61 90 100 120 200 300 → p50 = (90+100)/2, p90 at 6.3 = 200 + 0.3 × 100
    assert (totals["ack_p50_s"], totals["ack_p90_s"]) == (95.0, 230.0)
    # resolve seconds: 300 400 600 900 1000 1200 → p50 = 750, p90 at 4.5 = 1100
    assert (totals["resolve_p50_s"], totals["resolve_p90_s"]) == (750.0, 1100.0)
    # acknowledged at exactly 60 s counts as ≤ 60 s (alarm 1), 61 s does not (alarm 3)
    assert (totals["ack_within_60s"], totals["ack_within_180s"]) == (2, 6)
    assert (totals["ack_within_60s_share"], totals["ack_within_180s_share"]) == (0.2222, 0.6667)
    assert totals["repeat_callers"] == 1  # r1: three alarms
    assert totals["active_residents"] == 4  # r6 is deceased
    assert totals["alarms_per_1000_residents"] == 2250.0
    assert {k: v for k, v in totals.items() if k.startswith("type.")} == {
        "type.sos": 4,
        "type.fall": 1,
        "type.inactivity": 1,
        "type.bed_exit": 1,
        "type.meal_not_collected": 2,
    }
    assert {k: v for k, v in totals.items() if k.startswith("outcome.")} == {
        "outcome.assisted_by_phone": 2,
        "outcome.taken_to_hospital": 1,
        "outcome.false_alarm": 1,
        "outcome.assisted_at_home": 2,
        "outcome.open": 3,
    }
    rows = children(body)
    assert list(rows) == ["红梅街道", "茶山街道"]
    street = rows["红梅街道"]  # alarms 1 2 3 4 7 9 10: ack 30 60 61 90 100 120 200
    assert (street["alarms"], street["ack_p50_s"], street["ack_p90_s"]) == (7, 90.0, 152.0)
    assert (street["ack_within_60s_share"], street["repeat_callers"], street["active_residents"]) == (0.2857, 1, 3)
    assert street["type.sos"] == 3 and street["type.inactivity"] == 1
    other = rows["茶山街道"]  # alarm 5 (never acknowledged) and welfare call 11 (300 s, open)
    assert (other["alarms"], other["acknowledged"], other["ack_p50_s"], other["resolve_p50_s"]) == (2, 1, 300.0, None)
    assert (other["ack_within_60s_share"], other["alarms_per_1000_residents"], other["type.fall"]) == (0.0, 2000.0, 0)

    series = {s["key"]: dict(s["points"]) for s in body["series"]}
    assert len(series["alarms_per_day"]) == 22
    assert series["alarms_per_day"]["2026-11-01"] == 1  # alarm 9, by its local day
    assert series["alarms_per_day"]["2026-11-05"] == 2  # alarm 2 at 20:00 local and welfare call 10
    assert series["alarms_by_hour"]["00:00"] == 2 and series["alarms_by_hour"]["13:00"] == 2
    kinds = [(e["kind"], e["severity"]) for e in body["exceptions"]]
    assert kinds[0] == ("alarm_unanswered", 1)  # alarm 5, worst first
    assert ("alarm_unresolved", 2) in kinds and ("alarm_repeat_caller", 2) in kinds
    assert ("alarm_ack_within_60s_below_target", 2) in kinds
    assert sorted(e["subject"] for e in body["exceptions"] if e["kind"] == "alarm_unresolved") == [
        "#11 meal_not_collected",
        "#4 inactivity",
    ]


def test_alarms_at_every_tier(api: Any) -> None:
    city = get(api, "sv_city", "alarms")
    assert city["area"]["id"] == 1 and city["totals"]["alarms"] == 10  # + alarm 6 in the other district
    assert city["totals"]["active_residents"] == 5
    assert {row["area"]["id"]: row["figures"]["alarms"] for row in city["children"]} == {2: 9, 8: 1}
    assert get(api, "sv_admin", "alarms")["totals"] == city["totals"]  # everything: lands on the city
    street = get(api, "sv_street", "alarms")
    assert street["area"]["id"] == 3
    assert {row["area"]["id"]: row["figures"]["alarms"] for row in street["children"]} == {4: 6, 5: 1}
    community = get(api, "sv_community", "alarms")
    assert (community["area"]["id"], community["totals"]["alarms"], community["children"]) == (4, 6, [])
    # drill-down: the district supervisor may look at a community below them
    assert get(api, "sv_district", "alarms", area_id=7)["totals"]["alarms"] == 2
    # the institution's supervisor: its community, only its devices' alarms (alarm 7), and no home residents
    institution = get(api, "sv_institution", "alarms")
    assert institution["area"]["id"] == 4
    totals = institution["totals"]
    assert (totals["alarms"], totals["ack_p50_s"], totals["ack_within_180s"]) == (1, 90.0, 1)
    assert (totals["active_residents"], totals["alarms_per_1000_residents"]) == (0, None)
    assert get(api, "sv_coordinator", "alarms")["totals"]["alarms"] == 6
    client, headers = api
    areas = client.get("/api/supervision/areas", headers=headers["sv_district"]).json()
    assert [area["id"] for area in areas] == [2, 3, 6]  # the district, then its streets


@pytest.mark.parametrize(
    ("user", "area_id"),
    [
        ("sv_district", 8),  # the other district
        ("sv_district", 1),  # above the scope
        ("sv_community", 3),  # the street above the community
        ("sv_institution", 2),
        ("sv_institution", 5),
        ("sv_street", 999_999),  # no such area
    ],
)
def test_an_area_outside_the_scope_is_not_found(api: Any, user: str, area_id: int) -> None:
    client, headers = api
    for section in ("alarms", "visits", "meals", "devices", "visits/caregivers", "meals/points"):
        response = client.get(f"/api/supervision/{section}", params={"area_id": area_id}, headers=headers[user])
        assert response.status_code == 404, (section, response.text)
        assert response.json()["code"] == "area_not_found"


def test_operators_may_not_and_periods_are_checked(api: Any) -> None:
    client, headers = api
    assert client.get("/api/supervision/alarms", headers=headers["sv_operator"]).status_code == 403
    assert client.get("/api/supervision/alarms").status_code == 401
    reversed_ = client.get(
        "/api/supervision/visits", params={"from": "2026-11-10", "to": "2026-11-01"}, headers=headers["sv_city"]
    )
    assert (reversed_.status_code, reversed_.json()["code"]) == (422, "period_invalid")
    too_long = client.get(
        "/api/supervision/meals", params={"from": "2025-11-01", "to": "2026-11-02"}, headers=headers["sv_city"]
    )
    assert (too_long.status_code, too_long.json()["code"]) == (422, "period_invalid")
    default = client.get("/api/supervision/devices", headers=headers["sv_city"]).json()
    assert (default["from"], default["to"]) == ("2026-11-01", "2026-11-22")  # this month up to today


def test_visits_of_a_district(lane: Api) -> None:
    body = get(lane, "sv_district", "visits")
    totals = body["totals"]
    # Due: 1, 2, 3 (community 4), 6 (moved to the 21st, community 5), 8 and 12 (community 7). Not due: 4 (missed while
    # in hospital), 5 (cancelled: in hospital), 9 (suspended: away) — excused; 7 (later today) — pending.
    assert (totals["due"], totals["done"], totals["visit_rate"]) == (6, 4, 0.6667)
    assert (totals["late"], totals["missed"], totals["excused"], totals["pending"]) == (2, 1, 3, 1)
    assert totals["missed.not_done_in_time"] == 1 and "missed.no_answer" not in totals
    # problems: 2 (closed by follow-up 31 after 24 h), 6 (follow-up still planned), 8 (closed after a second
    # follow-up: 10:30 on the 10th → 10:00 on the 12th = 171,000 s)
    assert (totals["problems"], totals["closed"], totals["close_rate"]) == (3, 2, 0.6667)
    assert totals["close_median_s"] == (86_400 + 171_000) / 2
    rows = children(body)
    assert rows["红梅街道"] == {
        "due": 4,
        "done": 3,
        "visit_rate": 0.75,
        "late": 1,
        "missed": 1,
        "excused": 2,
        "pending": 1,
        "problems": 2,
        "closed": 1,
        "close_rate": 0.5,
        "close_median_s": 86_400.0,
        "missed.not_done_in_time": 1,
    }
    assert (rows["茶山街道"]["due"], rows["茶山街道"]["done"], rows["茶山街道"]["close_median_s"]) == (2, 1, 171_000.0)
    done = dict(next(s for s in body["series"] if s["key"] == "visits_done_per_day")["points"])
    assert (done["2026-11-21"], done["2026-11-20"]) == (1, 0)  # the moved visit counts on the day it is due now
    kinds = [(e["kind"], e["subject"]) for e in body["exceptions"]]
    assert kinds[0] == ("visit_missed", "老人2")
    assert ("visit_problem_open", "老人3") in kinds
    assert {e["subject"] for e in body["exceptions"] if e["kind"] == "visit_rate_behind"} == {"红梅街道", "茶山街道"}


def test_visits_per_caregiver_and_at_other_tiers(api: Any) -> None:
    rows = get(api, "sv_district", "visits/caregivers")["rows"]
    by_name = {row["name"]: row for row in rows}
    assert (by_name["张护理"]["due"], by_name["张护理"]["done"], by_name["张护理"]["late"]) == (3, 2, 1)
    assert (by_name["李护理"]["institution"], by_name["李护理"]["problems"], by_name["李护理"]["closed"]) == (
        "红梅养老院",
        2,
        1,
    )
    assert by_name[None]["due"] == 1  # visit 12: nobody assigned
    assert get(api, "sv_city", "visits")["totals"]["due"] == 7  # + visit 10 in the other district
    assert get(api, "sv_community", "visits", area_id=4)["totals"]["due"] == 3
    institution = get(api, "sv_institution", "visits")["totals"]
    assert (institution["due"], institution["visit_rate"]) == (0, None)  # home visits are not an institution's


def test_meals_of_a_district(lane: Api) -> None:
    body = get(lane, "sv_district", "meals")
    totals = body["totals"]
    # orders of residents 1-4 (order 11 is r5's, in the other district); order 8 cancelled; order 10 (breakfast
    # today, deadline passed, still `ordered`) is settled, order 9 (dinner tonight) not yet
    assert (totals["orders"], totals["cancelled"], totals["delivered"], totals["collected"]) == (9, 1, 1, 3)
    assert (totals["not_collected"], totals["settled"], totals["served_rate"]) == (3, 8, 0.5)
    assert {k: v for k, v in totals.items() if k.startswith("not_collected.")} == {
        "not_collected.assisted_at_home": 1,
        "not_collected.no_call": 1,
        "not_collected.open": 1,
    }
    rows = children(body)
    assert (rows["红梅街道"]["orders"], rows["红梅街道"]["served_rate"]) == (7, 0.5714)
    assert (rows["茶山街道"]["settled"], rows["茶山街道"]["served_rate"], rows["茶山街道"]["not_collected.open"]) == (
        1,
        0.0,
        1,
    )
    kinds = {(e["kind"], e["subject"]) for e in body["exceptions"]}
    assert ("meal_not_collected_no_call", "老人3") in kinds and ("meal_not_collected_open", "老人4") in kinds
    assert ("meal_point_over_capacity", "助餐点1") in kinds
    no_call = next(e for e in body["exceptions"] if e["kind"] == "meal_not_collected_no_call")
    assert no_call["link"] == "/api/meals/orders?date=2026-11-06&meal_point_id=1&status=not_collected"
    points = {row["name"]: row for row in get(lane, "sv_district", "meals/points")["rows"]}
    # point 1: meals 3 Nov lunch (3 seats), 4 Nov (delivery only), 5 Nov, 6 Nov, 22 Nov breakfast → 6 seats over
    # 5 meals of 2 seats; point 2: 7 Nov, 22 Nov dinner, 5 Nov (a delivery for r5) → 2 seats over 3 meals of 10
    assert (points["助餐点1"]["meals"], points["助餐点1"]["seats_taken"], points["助餐点1"]["capacity_use"]) == (
        5,
        6,
        0.6,
    )
    assert (points["助餐点1"]["peak_use"], points["助餐点1"]["over_capacity_meals"]) == (1.5, 1)
    assert (points["助餐点2"]["orders"], points["助餐点2"]["capacity_use"], points["助餐点2"]["peak_use"]) == (
        3,
        0.0667,
        0.1,
    )
    assert get(lane, "sv_institution", "meals")["totals"]["orders"] == 0
    assert get(lane, "sv_institution", "meals/points")["rows"] == []


def test_devices_of_a_district_and_an_institution(lane: Api) -> None:
    totals = get(lane, "sv_district", "devices")["totals"]
    # HOME-1..4, the care center's camera, the institution's mattress (RET-1 is retired; HOME-5 elsewhere)
    assert (totals["devices"], totals["online"], totals["online_share"]) == (6, 2, 0.3333)
    assert (totals["silent_1_24h"], totals["silent_1_7d"], totals["silent_over_7d"], totals["never_seen"]) == (
        1,
        1,
        1,
        1,
    )
    assert totals["low_battery"] == 2  # HOME-2 15 %, INS-1 10 %
    # faults 21 (30 h, substitute cover), 22 (5 d, maintenance task), 23 (3 h, its task cancelled), 24 (1 h)
    assert (totals["faults_opened"], totals["faults_open"], totals["faults_open_over_2h"]) == (4, 4, 3)
    assert (
        totals["faults_over_2h_substitute_cover"],
        totals["faults_over_2h_task"],
        totals["faults_over_2h_uncovered"],
    ) == (1, 1, 1)
    body = get(lane, "sv_district", "devices")
    assert [(e["kind"], e["subject"]) for e in body["exceptions"]] == [
        ("device_fault_uncovered", "HOME-2"),
        ("device_silent_over_7d", "HOME-4"),
    ]
    assert {row["area"]["id"]: row["figures"]["devices"] for row in body["children"]} == {3: 5, 6: 1}
    assert get(lane, "sv_city", "devices")["totals"]["faults_opened"] == 5  # + 25 in the other district
    institution = get(lane, "sv_institution", "devices")["totals"]
    assert (institution["devices"], institution["low_battery"], institution["faults_open"]) == (1, 1, 1)
    assert institution["faults_open_over_2h"] == 0


def test_exports_are_the_children_table_and_a_totals_row(api: Any) -> None:
    client, headers = api
    response = client.get(
        "/api/supervision/visits", params={**PERIOD, "format": "xlsx"}, headers=headers["sv_district"]
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "supervision-visits-2-2026-11-01-2026-11-22.xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = table[0]
    assert header[:5] == ["区域", "层级", "应探访", "已探访", "探访率"]
    assert [row[0] for row in table[1:]] == ["红梅街道", "茶山街道", "天宁区（合计）"]
    assert table[3][2:5] == [6, 4, 0.6667]
    assert table[2][header.index("闭环时长中位数(秒)")] == 171_000

    csv = client.get(
        "/api/supervision/alarms", params={**PERIOD, "format": "csv", "lang": "en"}, headers=headers["sv_district"]
    )
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Area,Level,Alarms,Acknowledged")
    assert "Type: sos" in lines[0]
    assert lines[-1].startswith("天宁区（Total）,district,9,8,")
    points = client.get(
        "/api/supervision/meals/points", params={**PERIOD, "format": "csv"}, headers=headers["sv_district"]
    )
    assert points.content.decode("utf-8-sig").splitlines()[1].startswith("助餐点1,2,5,7,6,3,0.6,1.5,1")
    caregivers = client.get(
        "/api/supervision/visits/caregivers", params={**PERIOD, "format": "xlsx"}, headers=headers["sv_district"]
    )
    sheet = load_workbook(io.BytesIO(caregivers.content)).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["护理员", "所属机构", "应探访", "已探访"]
    assert rows[1][:4] == ["张护理", None, 3, 2]  # 张护理 has no institution: an empty cell
