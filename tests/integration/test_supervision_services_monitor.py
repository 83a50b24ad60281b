"""The purchased-services statement and the care-center monitor against hand-computed figures.

A small fixed world in a database of this module's own (built once): district D (street S: communities A and
B) and district E (community O) under one city; institution I1 in A, care center CC1 in B, institution I2 in O.

Services, November 2026 (30 days). Entitlements:
- rA1: v1 01-10..15-11 cleaning 10 h + bathing 4 h; v2 16-11.. cleaning 20 h
  → cleaning 10·15/30 + 20·15/30 = 15.0 h, bathing 4·15/30 = 2.0 h;
- rA2: nursing 3 h (self-paid), nothing delivered → `not_delivered`;
- rB1: cleaning 2 h, v1 ..09-11 and v3 10-11..; v2 (10-11, 100 h) superseded, ignored → 2·9/30 + 2·21/30 = 2.0 h;
- rO: cleaning 5 h (district E).
Completed service tasks (EVV start → end; home of rA1 located, NEAR ≈ 140 m, FAR ≈ 7 km; rB1's home unlocated):
- T5 rA1 cleaning, staff s1 (no institution: 平台自有), 31-10 17:00Z = 1 Nov 01:00 local, 1 h, verified;
- T1 rA1 cleaning s1, 1.5 h, verified; T2 rA1 cleaning s1, 2 h, checked in FAR → unverified;
- T3 rA1 cleaning s2 (institution I1), 1 h verified; T4 rA1 bathing s2, 2.5 h verified → over 2.0 h entitled;
- T6 rA1 cleaning s1, 30-11 16:30Z = 1 Dec local: not November; T7 a missed task: not counted;
- T8 rB1 cleaning s1, 1 h, home without coordinates → unverified; T9 rO cleaning s1, 1 h (district E).

Monitor, 20–21 Nov 2026 local (19-11 16:00Z … 21-11 16:00Z): see `_monitor_world` for every sample and the sums.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.scope import EVERYTHING
from eldercare_platform.main import create_app
from eldercare_platform.supervision import statement
from eldercare_platform.supervision.rollups import refresh_rollups
from eldercare_platform.supervision.tier import Period
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import migrated_database, unpooled_engine
from tests.integration.services_monitor_support import (
    DISTRICT_MONITOR_TOTALS,
    DISTRICT_STATEMENT_TOTALS,
    LATEST,
    NOW,
    World,
    add_late_samples,
    add_todays_sample,
    assert_monitor_rollup_is_raw,
    build_monitor,
    build_services,
    changed_by_late_samples,
    check_statement_rollup,
    monitor_answer,
)


def _user(s: Session, name: str, role: Role, *, area: int | None = None, institution: int | None = None) -> None:
    s.add(
        User(
            username=name,
            full_name=name,
            role=role,
            scope_area_id=area,
            scope_institution_id=institution,
            password_hash=f._password_hash(),  # hashed once per run
        )
    )
    s.flush()


@pytest.fixture(scope="module")
def world(postgres: PostgresInstance) -> World:
    w = World(url=migrated_database(postgres, "eldercare_sv_monitor"))
    engine = unpooled_engine(w.url)
    with Session(engine, expire_on_commit=False) as s:
        build_services(s, w)
        build_monitor(s, w)
        areas = {"sup_city": "city", "sup_d": "d", "sup_street": "street", "sup_a": "a", "sup_b": "b"}
        for name, area_key in areas.items():
            _user(s, name, Role.SUPERVISOR, area=w.ids[area_key])
        _user(s, "sup_i1", Role.SUPERVISOR, institution=w.ids["i1"])
        f.user(s, role=Role.OPERATOR, username="op")
        f.user(s, role=Role.ADMIN, username="adm")
        s.commit()
    engine.dispose()
    return w


@pytest.fixture(scope="module")
def api(world: World) -> Iterator[TestClient]:
    app = create_app(
        ApiSettings(environment="test", database_url=world.url), connect_broker=False, clock=FixedClock(NOW)
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(api: TestClient) -> dict[str, dict[str, str]]:
    return {name: f.login(api, name) for name in ("sup_city", "sup_d", "sup_street", "sup_a", "sup_b", "sup_i1", "op")}


def _get(api: TestClient, headers: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    response = api.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


STATEMENT = "/api/supervision/services/statement"
MONITOR = "/api/supervision/monitor"


# --- the statement ---------------------------------------------------------------------------------------


def _lines(body: dict[str, Any]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    return {
        (x["resident_name"], x["service"], None if x["provider"] is None else x["provider"]["name"]): x
        for x in body["lines"]
    }


def test_the_statement_of_a_district_is_computed_from_plans_and_evv(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    body = _get(api, tokens["sup_d"], STATEMENT, month="2026-11")
    r = world.ids
    assert (body["section"], body["month"], body["from"], body["to"]) == (
        "services",
        "2026-11",
        "2026-11-01",
        "2026-11-30",
    )
    assert body["area"]["id"] == r["d"]
    lines = _lines(body)
    assert set(lines) == {
        ("赵玉兰", "cleaning", "平台自有"),
        ("赵玉兰", "cleaning", "颐养院"),
        ("赵玉兰", "bathing", "颐养院"),
        ("钱秀英", "nursing", None),
        ("孙国庆", "cleaning", "平台自有"),
    }
    own = lines[("赵玉兰", "cleaning", "平台自有")]
    assert (own["hours_entitled"], own["hours_delivered"], own["sessions"]) == (15.0, 4.5, 3)
    assert (own["evv_verified_sessions"], own["evv_verified_share"], own["funder"]) == (2, 0.6667, "government")
    assert own["provider"] == {"institution_id": None, "name": "平台自有"}
    assert [e["task_id"] for e in own["evidence"]] == [r["T5"], r["T1"], r["T2"]]  # T6 is December, T7 missed
    first, _, far = own["evidence"]
    assert (first["date"], first["hours"], first["verified"]) == ("2026-11-01", 1.0, True)
    assert far["verified"] is False and far["check_in_distance_m"] > 5000 and far["check_out_distance_m"] < 200
    assert far["staff_name"] == "周护理" and far["start"].startswith("2026-11-20T01:00")
    inst = lines[("赵玉兰", "cleaning", "颐养院")]
    assert (inst["hours_entitled"], inst["hours_delivered"], inst["sessions"], inst["evv_verified_share"]) == (
        15.0,
        1.0,
        1,
        1.0,
    )
    assert inst["provider"] == {"institution_id": r["i1"], "name": "颐养院"}
    bath = lines[("赵玉兰", "bathing", "颐养院")]
    assert (bath["hours_entitled"], bath["hours_delivered"]) == (2.0, 2.5)
    nursing = lines[("钱秀英", "nursing", None)]
    assert (nursing["hours_entitled"], nursing["hours_delivered"], nursing["sessions"]) == (3.0, 0.0, 0)
    assert (nursing["funder"], nursing["evv_verified_share"], nursing["evidence"]) == ("self_paid", None, [])
    b1 = lines[("孙国庆", "cleaning", "平台自有")]  # the superseded 100 h version counts for nothing
    assert (b1["hours_entitled"], b1["hours_delivered"], b1["evv_verified_share"]) == (2.0, 1.0, 0.0)
    assert b1["evidence"][0]["check_in_distance_m"] is None
    assert body["totals"] == DISTRICT_STATEMENT_TOTALS
    kinds = [(e["kind"], e["severity"], e["subject"]) for e in body["exceptions"]]
    assert kinds == [  # severity, then the oldest first: T8 on 5 Nov, T4 on 10 Nov, T2 on 20 Nov
        ("evv_unverified", 2, "孙国庆 · cleaning · 平台自有"),
        ("over_entitlement", 2, "赵玉兰 · bathing"),
        ("evv_unverified", 2, "赵玉兰 · cleaning · 平台自有"),
        ("not_delivered", 3, "钱秀英 · nursing"),
    ]
    assert body["exceptions"][0]["link"] == f"/api/tasks/{r['T8']}/evv"
    points = dict(next(s_ for s_ in body["series"] if s_["key"] == "hours_delivered")["points"])
    assert (points["2026-11-01"], points["2026-11-10"], points["2026-11-30"]) == (1.0, 2.5, 0.0)


def test_the_statement_drills_down_and_keeps_to_the_scope(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    r = world.ids
    street = _get(api, tokens["sup_d"], STATEMENT, month="2026-11", area_id=r["street"])
    children = {c["area"]["name"]: c["figures"] for c in street["children"]}
    assert children["宝塔山社区"] == {
        "residents": 2,
        "lines": 4,
        "hours_entitled": 20.0,
        "hours_delivered": 8.0,
        "delivered_share": 0.4,
        "sessions": 5,
        "evv_verified_sessions": 4,
        "evv_verified_share": 0.8,
    }
    assert (children["大西路社区"]["hours_entitled"], children["大西路社区"]["evv_verified_share"]) == (2.0, 0.0)
    city = _get(api, tokens["sup_city"], STATEMENT, month="2026-11")
    assert (city["totals"]["hours_entitled"], city["totals"]["hours_delivered"], city["totals"]["lines"]) == (
        27.0,
        10.0,
        6,
    )
    community = _get(api, tokens["sup_a"], STATEMENT, month="2026-11")
    assert {x["resident_name"] for x in community["lines"]} == {"赵玉兰", "钱秀英"}
    assert community["children"] == []
    outside = api.get(STATEMENT, headers=tokens["sup_a"], params={"month": "2026-11", "area_id": r["b"]})
    assert (outside.status_code, outside.json()["code"]) == (404, "area_not_found")
    institution = _get(api, tokens["sup_i1"], STATEMENT, month="2026-11")  # homes are not an institution's
    assert (institution["lines"], institution["totals"]["hours_delivered"]) == ([], 0.0)
    assert api.get(STATEMENT, headers=tokens["op"]).status_code == 403
    december = _get(api, tokens["sup_d"], STATEMENT)  # the default: the current month, 2 days old
    assert (december["month"], december["totals"]["hours_entitled"], december["totals"]["sessions"]) == (
        "2026-12",
        25.0,  # the open versions, whole month: rA1 cleaning 20 h + rA2 nursing 3 h + rB1 cleaning 2 h
        1,  # T6: 1 December 00:30 local
    )
    assert december["exceptions"] == []  # nothing "not delivered" while the month runs; T6 is verified
    bad = api.get(STATEMENT, headers=tokens["sup_d"], params={"month": "2026-13"})
    assert bad.status_code == 422


def test_the_statement_exports_its_lines_with_a_totals_row(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    response = api.get(STATEMENT, headers=tokens["sup_d"], params={"month": "2026-11", "format": "xlsx"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("社区", "老人编号", "老人", "服务项目")
    assert len(rows) == 1 + 5 + 1
    header = list(rows[0])
    own = next(x for x in rows[1:] if x[2] == "赵玉兰" and x[3] == "cleaning" and x[5] == "平台自有")
    assert own[header.index("实际服务时长(小时)")] == 4.5
    assert own[header.index("服务记录(任务号)")] == f"{world.ids['T5']} {world.ids['T1']} {world.ids['T2']}"
    assert rows[-1][0] == "京口区（合计）" and rows[-1][header.index("应享时长(小时)")] == 22.0
    csv = api.get(STATEMENT, headers=tokens["sup_d"], params={"month": "2026-11", "format": "csv", "lang": "en"})
    assert csv.content.startswith(b"\xef\xbb\xbf") and b"Hours delivered" in csv.content


# --- the monitor ----------------------------------------------------------------------------------------

PERIOD = {"from": "2026-11-20", "to": "2026-11-21"}


def test_the_monitor_of_a_district_counts_every_feed(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    body = _get(api, tokens["sup_d"], MONITOR, **PERIOD)
    assert body["section"] == "monitor"
    assert body["totals"] == DISTRICT_MONITOR_TOTALS
    found = [(e["kind"], e["severity"], e["subject"].split(" · ")[-1], e["since"]) for e in body["exceptions"]]
    assert found == [
        ("smoke", 1, "RS2", "2026-11-20T08:00:00Z"),
        ("smoke", 1, "RS1", "2026-11-21T05:00:00Z"),
        ("night_bed_exit", 2, "MT1", "2026-11-19T16:30:00Z"),
        ("vitals_out_of_range", 2, "VM1", "2026-11-20T01:30:00Z"),
        ("vitals_out_of_range", 2, "VM2", "2026-11-20T03:00:00Z"),
        ("camera_offline", 2, "CAM2", "2026-11-21T03:00:00Z"),
        ("camera_offline", 2, "CAM3", None),
        ("room_out_of_range", 3, "RS1", "2026-11-20T03:00:00Z"),
        ("room_out_of_range", 3, "RS2", "2026-11-20T06:00:00Z"),
    ]
    vm1 = next(e for e in body["exceptions"] if e["subject"].endswith("VM1"))
    assert vm1["link"] == f"/api/supervision/monitor/residents/{world.ids['rB1']}"
    assert vm1["area_id"] == world.ids["b"]
    series = {s_["key"]: dict(s_["points"]) for s_ in body["series"]}
    assert series["night_bed_exits"] == {"2026-11-20": 3, "2026-11-21": 0}
    assert series["checkins"] == {"2026-11-20": 2, "2026-11-21": 1}
    assert series["vitals_out_of_range"] == {"2026-11-20": 2, "2026-11-21": 1}
    assert [(x["name"], x["facility"], x["vitals_out_of_range"], x["night_bed_exits"]) for x in body["residents"]] == [
        ("孙国庆", "大西路日间照料中心", 2, 3),
        ("钱秀英", "颐养院", 1, 0),
    ]
    places = {p["name"]: p["figures"] for p in body["facilities"]}
    assert (places["大西路日间照料中心"]["terminals"], places["颐养院"]["terminals"]) == (6, 3)
    assert (places["颐养院"]["smoke"], places["颐养院"]["cameras_online"], places["颐养院"]["exceptions"]) == (1, 0, 4)


def test_the_monitor_keeps_to_the_scope(api: TestClient, world: World, tokens: dict[str, dict[str, str]]) -> None:
    city = _get(api, tokens["sup_city"], MONITOR, **PERIOD)
    assert (city["totals"]["institutions"], city["totals"]["cameras"], city["totals"]["exceptions"]) == (2, 4, 10)
    children = {c["area"]["name"]: c["figures"] for c in city["children"]}
    assert (children["京口区"]["exceptions"], children["武进区"]["exceptions"]) == (9, 1)
    institution = _get(api, tokens["sup_i1"], MONITOR, **PERIOD)
    assert [p["name"] for p in institution["facilities"]] == ["颐养院"]
    assert (institution["totals"]["care_centers"], institution["totals"]["terminals"]) == (0, 3)
    community_b = _get(api, tokens["sup_b"], MONITOR, **PERIOD)
    assert [p["name"] for p in community_b["facilities"]] == ["大西路日间照料中心"]
    assert {e["subject"].split(" · ")[-1] for e in community_b["exceptions"]} == {"RS1", "MT1", "VM1", "CAM2"}
    export = api.get(MONITOR, headers=tokens["sup_street"], params={**PERIOD, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["宝塔山社区", "大西路社区", "正东路街道（合计）"]


def test_a_residents_vitals_with_marks_and_an_audited_read(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    r = world.ids
    path = f"{MONITOR}/residents/{r['rB1']}"
    body = _get(api, tokens["sup_b"], path, **PERIOD)
    assert body["resident"]["name"] == "孙国庆" and body["resident"]["area"]["id"] == r["b"]
    metrics = {m["key"]: m for m in body["metrics"] if m["source"] == "vitals"}
    hr = metrics["heart_rate"]
    assert hr["points"] == [
        ["2026-11-20T09:00:00+08:00", 101.0],
        ["2026-11-20T10:00:00+08:00", 70.0],
        ["2026-11-21T10:00:00+08:00", 75.0],
    ]
    assert hr["out_of_range"] == [["2026-11-20T01:30:00Z", 130.0]] and (hr["low"], hr["high"]) == (50, 120)
    assert metrics["spo2"]["out_of_range"] == [["2026-11-21T02:00:00Z", 88.0]]
    assert metrics["temperature"]["out_of_range"] == []  # 37.5 °C is the upper bound, in range
    assert body["night_bed_exits"] == ["2026-11-19T16:30:00Z", "2026-11-19T17:10:00Z", "2026-11-20T14:00:00Z"]
    assert [c["at"] for c in body["checkins"]] == ["2026-11-20T01:00:00Z", "2026-11-21T01:00:00Z"]
    engine = unpooled_engine(world.url)
    with engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE entity = 'resident' AND entity_id = :r AND action = 'read'"
                " AND detail->>'via' = 'supervision.monitor'"
            ),
            {"r": str(r["rB1"])},
        ).scalar_one()
    engine.dispose()
    assert audited == 1
    refused = api.get(path, headers=tokens["sup_a"], params=PERIOD)
    assert (refused.status_code, refused.json()["code"]) == (404, "resident_not_found")
    # An institution's supervisor sees the resident its terminal is worn by, and no one else.
    assert _get(api, tokens["sup_i1"], f"{MONITOR}/residents/{r['rA2']}", **PERIOD)["metrics"][0]["key"] == "heart_rate"
    assert api.get(f"{MONITOR}/residents/{r['rA1']}", headers=tokens["sup_i1"], params=PERIOD).status_code == 404


def test_the_monitor_from_the_rollups_equals_the_raw_samples(world: World) -> None:
    """Migration 0017: the same answers from the rollups as from the raw samples after a full refresh, after samples
    arrived late for hours already rolled up (logged by the trigger, recomputed by the next refresh; one is a bed
    exit whose previous sample is in the hour and the day before), and with the current hour read raw. One
    transaction, rolled back: the module's world stays as the other tests expect it."""
    engine = unpooled_engine(world.url)
    try:
        with Session(engine) as s:
            refresh_rollups(s, now=NOW, full=True)
            before = assert_monitor_rollup_is_raw(s, world)
            city = str(s.execute(text("SELECT path FROM area WHERE id = :id"), {"id": world.ids["city"]}).scalar_one())
            add_late_samples(s)
            latest = Period(date(2026, 11, 15), date(2026, 12, 2))
            assert monitor_answer(s, EVERYTHING, city, latest, "rollup") == before[LATEST], "the rollup is read"
            assert changed_by_late_samples(before[LATEST], monitor_answer(s, EVERYTHING, city, latest, "raw")) == (1, 1)
            assert s.execute(text("SELECT count(*) FROM rollup_telemetry_stale")).scalar_one() == 3
            result = refresh_rollups(s, now=NOW + timedelta(minutes=5))
            assert (result.telemetry_hours, result.telemetry_days) == (2 + 3, 3), "the last 2 hours, 3 late; 3 days"
            after = assert_monitor_rollup_is_raw(s, world)
            assert changed_by_late_samples(before[LATEST], after[LATEST]) == (1, 1)
            add_todays_sample(s)
            assert changed_by_late_samples(after[LATEST], assert_monitor_rollup_is_raw(s, world)[LATEST]) == (1, 0)
            s.rollback()
    finally:
        engine.dispose()


def test_the_statement_pages_its_lines_and_counts_them_all(
    api: TestClient, world: World, tokens: dict[str, dict[str, str]]
) -> None:
    """The figures count every line (SQL, GROUPING SETS), whatever page of lines is asked for; the pages put
    together are the whole statement, and its figures are `figures()` over all its lines."""
    whole = _get(api, tokens["sup_city"], STATEMENT, month="2026-11")
    assert (whole["lines_total"], len(whole["lines"])) == (6, 6)
    pages = [_get(api, tokens["sup_city"], STATEMENT, month="2026-11", limit=4, offset=n) for n in (0, 4)]
    assert [len(p["lines"]) for p in pages] == [4, 2]
    assert pages[0]["lines"] + pages[1]["lines"] == whole["lines"]
    for page in pages:
        assert {k: v for k, v in page.items() if k not in ("lines", "generated_at")} == {
            k: v for k, v in whole.items() if k not in ("lines", "generated_at")
        }
    engine = unpooled_engine(world.url)
    try:
        with Session(engine) as s:
            for area in ("city", "d", "street", "a"):
                path = str(
                    s.execute(text("SELECT path FROM area WHERE id = :id"), {"id": world.ids[area]}).scalar_one()
                )
                st = statement.statement(s, scope=EVERYTHING, area_path=path, month=date(2026, 11, 1))
                assert st.totals == statement.figures(st.lines, st.entitled), area
                for child, figures in st.children.items():
                    child_path = f"{path}{child}/"
                    lines = [x for x in st.lines if x.area_path.startswith(child_path)]
                    assert figures == statement.figures(lines, st.entitled), (area, child)
    finally:
        engine.dispose()
    assert api.get(STATEMENT, headers=tokens["sup_city"], params={"limit": 0}).status_code == 422


def test_the_statement_from_the_rollup_equals_the_raw_path(world: World) -> None:
    """Migration 0020 (tests/integration/services_monitor_support.py, `check_statement_rollup`). One transaction,
    rolled back: the module's world stays as the other tests expect it."""
    engine = unpooled_engine(world.url)
    try:
        with Session(engine) as s:
            check_statement_rollup(s, world)
            s.rollback()
    finally:
        engine.dispose()
