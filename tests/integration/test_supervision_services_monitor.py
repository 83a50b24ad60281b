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
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import FixedClock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from eldercare_platform.users.models import Role, User
from tests import factories as f
from tests.conftest import migrated_database, unpooled_engine

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # the API's clock: 2 December, noon in Shanghai
HOME = (32.2000, 119.4500)
NEAR = (32.2010, 119.4510)
FAR = (32.2500, 119.5000)


def z(text_: str) -> datetime:
    """An instant written as `2026-11-20T01:00` (UTC)."""
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


@dataclass
class World:
    url: str
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)


def _insert(s: Session, sql: str, **params: Any) -> int:
    return int(s.execute(text(sql + " RETURNING id"), params).scalar_one())


def _plan(s: Session, resident: int, version: int, valid: tuple[str, str | None], services: list[Any]) -> int:
    return _insert(
        s,
        "INSERT INTO care_plan (resident_id, version, valid_from, valid_to, visit_tier, proposed_tier, services,"
        " created_at) VALUES (:r, :v, :a, :b, 'regular', 'regular', CAST(:services AS jsonb), :now)",
        r=resident,
        v=version,
        a=valid[0],
        b=valid[1],
        services=json.dumps([{"service": x, "hours_per_month": h, "funder": fu} for x, h, fu in services]),
        now=z("2026-09-01T00:00"),
    )


def _task(
    s: Session,
    resident: int,
    service: str,
    staff: int,
    span: tuple[str, str],
    *,
    at: tuple[tuple[float, float], tuple[float, float]] | None = (NEAR, NEAR),
    status: str = "completed",
    path: str,
) -> int:
    (a, b) = at or ((None, None), (None, None))  # type: ignore[assignment]
    return _insert(
        s,
        "INSERT INTO task (kind, status, source, service, resident_id, assignee_staff_id, area_path, window_start,"
        " window_end, checked_in_at, completed_at, check_in_latitude, check_in_longitude, check_out_latitude,"
        " check_out_longitude, created_at)"
        " VALUES ('service', :status, 'plan', :service, :r, :staff, :path, :ws, :we, :cin, :cout, :a0, :a1,"
        " :b0, :b1, :ws)",
        status=status,
        service=service,
        r=resident,
        staff=staff,
        path=path,
        ws=z(span[0]),
        we=z(span[1]),
        cin=z(span[0]) if status == "completed" else None,
        cout=z(span[1]) if status == "completed" else None,
        a0=a[0],
        a1=a[1],
        b0=b[0],
        b1=b[1],
    )


def _device(
    s: Session,
    serial: str,
    kind: str,
    *,
    center: int | None = None,
    inst: int | None = None,
    resident: int | None = None,
) -> None:
    s.execute(
        text(
            "INSERT INTO device (serial, kind, model, care_center_id, institution_id, resident_id,"
            " heartbeat_interval_s, state, installed_at) VALUES (:s, :k, 'T-1', :c, :i, :r, 60, 'active', :at)"
        ),
        {"s": serial, "k": kind, "c": center, "i": inst, "r": resident, "at": z("2026-01-01T00:00")},
    )


def _sample(s: Session, serial: str, kind: str, at: str, **data: Any) -> None:
    s.execute(
        text("INSERT INTO telemetry (time, device_serial, kind, data) VALUES (:t, :s, :k, CAST(:d AS jsonb))"),
        {"t": z(at), "s": serial, "k": kind, "d": json.dumps(data)},
    )


def _services_world(s: Session, w: World) -> None:
    city = f.area(s, name="镇江市", level=AreaLevel.CITY)
    d = f.area(s, name="京口区", level=AreaLevel.DISTRICT, parent=city)
    street = f.area(s, name="正东路街道", level=AreaLevel.STREET, parent=d)
    a = f.area(s, name="宝塔山社区", level=AreaLevel.COMMUNITY, parent=street)
    b = f.area(s, name="大西路社区", level=AreaLevel.COMMUNITY, parent=street)
    e = f.area(s, name="武进区", level=AreaLevel.DISTRICT, parent=city)
    e_street = f.area(s, name="湖塘镇", level=AreaLevel.STREET, parent=e)
    o = f.area(s, name="花园社区", level=AreaLevel.COMMUNITY, parent=e_street)
    for key, area in (("city", city), ("d", d), ("street", street), ("a", a), ("b", b), ("e", e), ("o", o)):
        assert area.id is not None
        w.ids[key] = area.id
    paths = {"a": a.path, "b": b.path, "o": o.path}
    people = {
        key: f.resident(s, community=area, name=name)
        for key, area, name in (("rA1", a, "赵玉兰"), ("rA2", a, "钱秀英"), ("rB1", b, "孙国庆"), ("rO", o, "李桂芳"))
    }
    for key, person in people.items():
        assert person.id is not None
        w.ids[key] = person.id
    s.execute(
        text("UPDATE household SET latitude = :lat, longitude = :lon WHERE id = :h"),
        {"lat": HOME[0], "lon": HOME[1], "h": people["rA1"].household_id},
    )
    s.execute(
        text("UPDATE household SET latitude = :lat, longitude = :lon WHERE id = :h"),
        {"lat": HOME[0], "lon": HOME[1], "h": people["rO"].household_id},
    )
    w.ids["i1"] = _insert(
        s,
        "INSERT INTO institution (name, area_id, address, beds, nursing_beds)"
        " VALUES ('颐养院', :a, '宝塔路1号', 100, 60)",
        a=a.id,
    )
    w.ids["i2"] = _insert(
        s,
        "INSERT INTO institution (name, area_id, address, beds, nursing_beds)"
        " VALUES ('湖塘敬老院', :a, '湖塘路2号', 80, 40)",
        a=o.id,
    )
    w.ids["cc1"] = _insert(
        s,
        "INSERT INTO care_center (name, area_id, address, kind, capacity)"
        " VALUES ('大西路日间照料中心', :a, '大西路3号', 'day_care_center', 30)",
        a=b.id,
    )
    staff_sql = (
        "INSERT INTO staff (name, phone, role, skills, home_area_id, institution_id, active)"
        " VALUES (:n, '13900000000', 'caregiver', ARRAY['cleaning'], :a, :i, true)"
    )
    s1 = _insert(s, staff_sql, n="周护理", a=a.id, i=None)
    s2 = _insert(s, staff_sql, n="吴护士", a=a.id, i=w.ids["i1"])
    w.ids["s1"], w.ids["s2"] = s1, s2
    r = w.ids
    _plan(s, r["rA1"], 1, ("2026-10-01", "2026-11-15"), [("cleaning", 10, "government"), ("bathing", 4, "government")])
    _plan(s, r["rA1"], 2, ("2026-11-16", None), [("cleaning", 20, "government")])
    _plan(s, r["rA2"], 1, ("2026-11-01", None), [("nursing", 3, "self_paid")])
    _plan(s, r["rB1"], 1, ("2026-09-01", "2026-11-09"), [("cleaning", 2, "government")])
    superseded = _plan(s, r["rB1"], 2, ("2026-11-10", "2026-11-10"), [("cleaning", 100, "government")])
    newest = _plan(s, r["rB1"], 3, ("2026-11-10", None), [("cleaning", 2, "government")])
    s.execute(text("UPDATE care_plan SET superseded_by = :n WHERE id = :o"), {"n": newest, "o": superseded})
    _plan(s, r["rO"], 1, ("2026-11-01", None), [("cleaning", 5, "government")])
    pa = str(paths["a"])
    r["T5"] = _task(s, r["rA1"], "cleaning", s1, ("2026-10-31T17:00", "2026-10-31T18:00"), path=pa)
    r["T1"] = _task(s, r["rA1"], "cleaning", s1, ("2026-11-03T02:00", "2026-11-03T03:30"), path=pa)
    r["T2"] = _task(s, r["rA1"], "cleaning", s1, ("2026-11-20T01:00", "2026-11-20T03:00"), at=(FAR, NEAR), path=pa)
    r["T3"] = _task(s, r["rA1"], "cleaning", s2, ("2026-11-21T00:00", "2026-11-21T01:00"), path=pa)
    r["T4"] = _task(s, r["rA1"], "bathing", s2, ("2026-11-10T06:00", "2026-11-10T08:30"), path=pa)
    r["T6"] = _task(s, r["rA1"], "cleaning", s1, ("2026-11-30T16:30", "2026-11-30T17:30"), path=pa)
    r["T7"] = _task(s, r["rA1"], "cleaning", s1, ("2026-11-25T02:00", "2026-11-25T03:00"), status="missed", path=pa)
    r["T8"] = _task(s, r["rB1"], "cleaning", s1, ("2026-11-05T02:00", "2026-11-05T03:00"), path=str(paths["b"]))
    r["T9"] = _task(s, r["rO"], "cleaning", s1, ("2026-11-06T02:00", "2026-11-06T03:00"), path=str(paths["o"]))


def _monitor_world(s: Session, w: World) -> None:
    """Terminals and their samples. Sums for district D, 20–21 Nov local:
    vitals: VM1 4 samples (T4 before the period is not), 2 out (HR 130, SpO2 88; 37.5 °C is in range), VM2 1
    sample out (systolic 165) → 5 / 3; night bed exits: MT1 00:30, 01:10 and 22:00 local on 20 Nov (not 13:00,
    not 06:00, not a second `false`) → 3; room: RS1 4 samples, 2 out (31 °C, 75 %), 1 smoke; RS2 1 sample
    out (17.9 °C) and a `smoke` device event → 5 / 3, smoke 2; check-ins 3 by 2 residents; cameras CAM1
    online, CAM2 offline since 21 Nov 03:00Z, CAM3 no feed → 3 cameras, 1 online."""
    r = w.ids
    cc1, i1, i2 = r["cc1"], r["i1"], r["i2"]
    _device(s, "VM1", "vitals_monitor", center=cc1, resident=r["rB1"])
    _device(s, "MT1", "smart_mattress", center=cc1, resident=r["rB1"])
    _device(s, "RS1", "room_sensor", center=cc1)
    _device(s, "CK1", "checkin_terminal", center=cc1)
    _device(s, "CAM1", "camera", center=cc1)
    _device(s, "CAM2", "camera", center=cc1)
    _device(s, "RS2", "room_sensor", inst=i1)
    _device(s, "CAM3", "camera", inst=i1)
    _device(s, "VM2", "vitals_monitor", inst=i1, resident=r["rA2"])
    _device(s, "CAM4", "camera", inst=i2)
    _device(s, "OLD", "camera", center=cc1)
    s.execute(text("UPDATE device SET state = 'retired' WHERE serial = 'OLD'"))
    ok = {"heart_rate": 72, "spo2": 97, "systolic": 130, "diastolic": 80, "temperature": 36.6}
    _sample(s, "VM1", "vitals", "2026-11-20T01:00", **ok)
    _sample(s, "VM1", "vitals", "2026-11-20T01:30", **{**ok, "heart_rate": 130})
    _sample(s, "VM1", "vitals", "2026-11-20T02:00", **{**ok, "heart_rate": 70, "temperature": 37.5})
    _sample(s, "VM1", "vitals", "2026-11-21T02:00", **{**ok, "heart_rate": 75, "spo2": 88})
    _sample(s, "VM1", "vitals", "2026-11-19T15:00", **{**ok, "heart_rate": 140})  # 23:00 on the 19th: before
    _sample(s, "VM2", "vitals", "2026-11-20T03:00", heart_rate=75, systolic=165)
    for at, in_bed in (
        ("2026-11-19T13:00", True),  # 21:00 on the 19th, before the period: the state the first exit leaves
        ("2026-11-19T16:30", False),  # 00:30 on the 20th: exit 1
        ("2026-11-19T17:00", True),
        ("2026-11-19T17:10", False),  # 01:10: exit 2
        ("2026-11-19T17:20", False),  # still out: no new exit
        ("2026-11-20T04:00", True),
        ("2026-11-20T05:00", False),  # 13:00: daytime
        ("2026-11-20T13:00", True),
        ("2026-11-20T14:00", False),  # 22:00 exactly: exit 3
        ("2026-11-20T21:00", True),
        ("2026-11-20T22:00", False),  # 06:00 exactly: day again
    ):
        _sample(s, "MT1", "mattress", at, in_bed=in_bed, movement=0.1)
    _sample(s, "RS1", "room", "2026-11-20T02:00", temperature=22, humidity=55)
    _sample(s, "RS1", "room", "2026-11-20T03:00", temperature=31, humidity=55)
    _sample(s, "RS1", "room", "2026-11-20T04:00", temperature=22, humidity=75)
    _sample(s, "RS1", "room", "2026-11-21T05:00", temperature=23, humidity=50, smoke=True)
    _sample(s, "RS2", "room", "2026-11-20T06:00", temperature=17.9, humidity=50)
    s.execute(
        text(
            "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)"
            " VALUES ('RS2', 'e-smoke-1', 'smoke', :t, :t)"
        ),
        {"t": z("2026-11-20T08:00")},
    )
    ref = {key: f"R{r[key]:06d}" for key in ("rA1", "rB1")}
    _sample(s, "CK1", "checkin", "2026-11-20T01:00", resident_ref=ref["rB1"], method="face")
    _sample(s, "CK1", "checkin", "2026-11-20T02:00", resident_ref=ref["rA1"], method="face")
    _sample(s, "CK1", "checkin", "2026-11-21T01:00", resident_ref=ref["rB1"], method="card")
    _sample(s, "CAM1", "camera_link", "2026-11-21T10:00", online=True, bitrate_kbps=1800)
    _sample(s, "CAM2", "camera_link", "2026-11-20T10:00", online=True, bitrate_kbps=1800)
    _sample(s, "CAM2", "camera_link", "2026-11-21T03:00", online=False)
    _sample(s, "CAM2", "camera_link", "2026-11-21T04:00", online=False)
    _sample(s, "CAM4", "camera_link", "2026-11-21T04:00", online=False)


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
        _services_world(s, w)
        _monitor_world(s, w)
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
    assert body["totals"] == {
        "residents": 3,
        "lines": 5,
        "hours_entitled": 22.0,
        "hours_delivered": 9.0,
        "delivered_share": 0.4091,
        "sessions": 6,
        "evv_verified_sessions": 4,
        "evv_verified_share": 0.6667,
    }
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
    assert body["totals"] == {
        "care_centers": 1,
        "institutions": 1,
        "terminals": 9,
        "vitals_samples": 5,
        "vitals_out_of_range": 3,
        "night_bed_exits": 3,
        "room_samples": 5,
        "room_out_of_range": 3,
        "smoke": 2,
        "checkins": 3,
        "checkin_residents": 2,
        "cameras": 3,
        "cameras_online": 1,
        "camera_online_share": 0.3333,
        "exceptions": 9,
    }
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
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
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
