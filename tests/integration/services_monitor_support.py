"""The small fixed world of the services statement and the care-center monitor (tests/integration/
test_supervision_services_monitor.py, and the TimescaleDB lane): see that module's docstring for every number.

`build(session)` writes it into a migrated, empty database and returns the ids; DISTRICT_* are the hand-computed
totals of district D (statement for November 2026, monitor for 20–21 November local)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.scope import EVERYTHING, Scope, ScopeKind
from eldercare_platform.supervision import monitor, statement
from eldercare_platform.supervision.monitor_facts import Source
from eldercare_platform.supervision.tier import Period
from tests import factories as f

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
    at: tuple[tuple[float, float], tuple[float, float]] = (NEAR, NEAR),
    status: str = "completed",
    path: str,
) -> int:
    a, b = at
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


def build_services(s: Session, w: World) -> None:
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


def build_monitor(s: Session, w: World) -> None:
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


def build(s: Session, url: str = "") -> World:
    """The whole world (services and monitor) in this session; the caller commits."""
    w = World(url=url)
    build_services(s, w)
    build_monitor(s, w)
    return w


DISTRICT_STATEMENT_TOTALS = {
    "residents": 3,
    "lines": 5,
    "hours_entitled": 22.0,
    "hours_delivered": 9.0,
    "delivered_share": 0.4091,
    "sessions": 6,
    "evv_verified_sessions": 4,
    "evv_verified_share": 0.6667,
}
DISTRICT_MONITOR_TOTALS = {
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


# --- the monitor from the rollups (migration 0017) against the raw samples ------------------------------------

ROLLUP_PERIODS = (
    (date(2026, 11, 20), date(2026, 11, 21)),  # whole days before the daily watermark (2 December)
    (date(2026, 11, 19), date(2026, 11, 22)),  # the day before: its mattress state carries into the 20th
    (date(2026, 11, 15), date(2026, 12, 2)),  # up to today: today from the hourly facts, after the watermark raw
)


def monitor_answer(session: Session, scope: Scope, area_path: str, period: Period, source: Source) -> Any:
    """Everything the monitor section is made of: per-facility figures, series, exceptions, wearers."""
    found = monitor.monitor(
        session, scope=scope, area_path=area_path, start=period.start, end=period.end, source=source
    )
    return (
        {(p.kind, p.id): monitor.figures([p]) for p in found.facilities},
        found.series,
        [(a.kind, a.severity, a.serial, a.since, a.message, a.resident_id) for a in found.alerts],
        {w.resident_id: (w.vitals_samples, w.vitals_out_of_range, w.night_bed_exits) for w in found.wearers.values()},
    )


def assert_monitor_rollup_is_raw(session: Session, w: World) -> dict[str, Any]:
    """The rollup path gives the raw path's answer for every period, at the city, a street and an institution;
    returns the city's answers by period (raw)."""
    city = str(session.execute(text("SELECT path FROM area WHERE id = :id"), {"id": w.ids["city"]}).scalar_one())
    street = str(session.execute(text("SELECT path FROM area WHERE id = :id"), {"id": w.ids["street"]}).scalar_one())
    scopes = (
        (EVERYTHING, city),
        (Scope(ScopeKind.AREA, area_path=street), street),
        (Scope(ScopeKind.INSTITUTION, institution_id=w.ids["i1"]), city),
    )
    answers = {}
    for first, last in ROLLUP_PERIODS:
        period = Period(first, last)
        for scope, path in scopes:
            raw = monitor_answer(session, scope, path, period, "raw")
            assert monitor_answer(session, scope, path, period, "rollup") == raw, (first, last, scope)
            if scope is EVERYTHING:
                answers[f"{first}..{last}"] = raw
    return answers


LATEST = "2026-11-15..2026-12-02"


def changed_by_late_samples(before: Any, after: Any) -> tuple[int, int]:
    """How many more out-of-range vitals samples and night bed exits the city has in the last period."""
    total = {key: sum(figures[key] for figures in after[0].values()) - sum(f[key] for f in before[0].values())
             for key in ("vitals_out_of_range", "night_bed_exits")}  # fmt: skip
    return total["vitals_out_of_range"], total["night_bed_exits"]


def add_late_samples(session: Session) -> None:
    """Samples written after a refresh for hours it had rolled up: an out-of-range heart rate (1 December) and a
    night bed exit at 00:10 on 1 December whose previous sample (23:50) is in the hour and day before."""
    _sample(session, "VM1", "vitals", "2026-12-01T02:00", heart_rate=140, spo2=97)
    _sample(session, "MT1", "mattress", "2026-11-30T15:50", in_bed=True)
    _sample(session, "MT1", "mattress", "2026-11-30T16:10", in_bed=False)


def add_todays_sample(session: Session) -> None:
    """A sample of the current hour (after the rollup's watermark): read raw at once."""
    _sample(session, "VM2", "vitals", "2026-12-02T04:03", heart_rate=45)


# --- the statement rollup (migration 0020) ---------------------------------------------------------------------


def statement_answers(session: Session, w: World, source: Source) -> dict[str, Any]:
    """The statement of November and of December (this month) at the city, at district D for a supervisor scoped to
    it, and at community A: everything (figures, findings, lines with their evidence), from the rollup or raw."""
    paths = {
        key: str(session.execute(text("SELECT path FROM area WHERE id = :id"), {"id": w.ids[key]}).scalar_one())
        for key in ("city", "d", "a")
    }
    answers: dict[str, Any] = {}
    for key, scope in (
        ("city", EVERYTHING),
        ("d", Scope(ScopeKind.AREA, area_path=paths["d"])),
        ("a", EVERYTHING),
    ):
        for month in (date(2026, 11, 1), date(2026, 12, 1)):
            answers[f"{key} {month:%Y-%m}"] = statement.statement(
                session, scope=scope, area_path=paths[key], month=month, month_over=month.month == 11, source=source
            )
    return answers


def assert_statement_rollup_is_raw(session: Session, w: World) -> dict[str, Any]:
    """The rollup path's statements equal the raw path's; returns them."""
    rollup = statement_answers(session, w, "rollup")
    assert rollup == statement_answers(session, w, "raw")
    return rollup


def change_after_refresh(s: Session, w: World) -> None:
    """After a refresh: a session completed today (read raw: the refresh's day), T3 (kept) now checked out far from
    the home (its resident read raw), rA2's care plan doubled and caregiver s2 moved to institution I2 (the provider
    of rA1's T3 and T4: both logged stale by the triggers)."""
    r = w.ids
    path = str(s.execute(text("SELECT path FROM area WHERE id = :id"), {"id": r["a"]}).scalar_one())
    r["T10"] = _task(
        s, r["rA1"], "cleaning", r["s2"], ("2026-12-02T01:00", "2026-12-02T02:00"), at=(NEAR, FAR), path=path
    )
    s.execute(
        text("UPDATE task SET check_out_latitude = :lat, check_out_longitude = :lon WHERE id = :t"),
        {"lat": FAR[0], "lon": FAR[1], "t": r["T3"]},
    )
    s.execute(
        text("UPDATE care_plan SET services = jsonb_set(services, '{0,hours_per_month}', '6') WHERE resident_id = :r"),
        {"r": r["rA2"]},
    )
    s.execute(text("UPDATE staff SET institution_id = :i WHERE id = :s"), {"i": r["i2"], "s": r["s2"]})


def check_statement_rollup(s: Session, w: World) -> None:
    """The statement from its rollup (kept lines and entitlements + the raw tail) equals the raw statement after a
    full refresh, with a session completed after it (today), a kept session changed, a care plan written and a
    caregiver moved after it (their residents read raw), and after the incremental refresh; altering a kept line
    shows it is read. The caller rolls back."""
    from eldercare_platform.supervision.rollups import refresh_rollups

    refresh_rollups(s, now=NOW, full=True)
    kept = s.execute(text("SELECT count(*) FROM rollup_statement_line")).scalar_one()
    assert kept == 6, "T5 (31 Oct UTC = 1 Nov local) … T9: 5 lines in November; T6 (1 Dec local) 1 in December"
    before = assert_statement_rollup_is_raw(s, w)
    assert s.execute(text("SELECT count(*) FROM rollup_statement_final WHERE NOT undelivered")).scalar_one() == 6
    assert s.execute(text("SELECT count(*) FROM rollup_statement_mixed")).scalar_one() == 0
    r_o = {"r": w.ids["rO"]}
    final = "UPDATE rollup_statement_final SET sessions = sessions + :n WHERE resident_id = :r AND NOT undelivered"
    s.execute(text(final), {"n": 1, **r_o})
    altered = statement_answers(s, w, "rollup")["city 2026-11"]
    assert altered.totals["sessions"] == before["city 2026-11"].totals["sessions"] + 1, "the final lines are read"
    s.execute(text(final), {"n": -1, **r_o})
    # A resident with a session kept where their home is not (0021's `mixed`) is built from the kept lines.
    s.execute(text("INSERT INTO rollup_statement_mixed (month, resident_id) VALUES ('2026-11-01', :r)"), r_o)
    assert assert_statement_rollup_is_raw(s, w) == before
    alter = "UPDATE rollup_statement_line SET sessions = sessions + :n WHERE resident_id = :r"
    s.execute(text(alter), {"n": 1, **r_o})
    altered = statement_answers(s, w, "rollup")["city 2026-11"]
    assert altered.totals["sessions"] == before["city 2026-11"].totals["sessions"] + 1, "the kept lines are read"
    s.execute(text(alter), {"n": -1, **r_o})
    s.execute(text("DELETE FROM rollup_statement_mixed"))
    change_after_refresh(s, w)
    assert s.execute(text("SELECT count(DISTINCT resident_id) FROM rollup_statement_stale")).scalar_one() == 2
    changed = assert_statement_rollup_is_raw(s, w)
    assert changed["city 2026-12"].totals["sessions"] == before["city 2026-12"].totals["sessions"] + 1
    assert changed["city 2026-11"].totals["hours_entitled"] == before["city 2026-11"].totals["hours_entitled"] + 3
    result = refresh_rollups(s, now=NOW + timedelta(minutes=5))
    assert result.statement_residents == 2, "rA1 (T3 changed, T10 completed, s2 moved) and rA2 (care plan)"
    assert s.execute(text("SELECT count(*) FROM rollup_statement_stale")).scalar_one() == 0
    assert assert_statement_rollup_is_raw(s, w) == changed
    # What the final lines keep of the home (0021's triggers): rO renamed, rB1's household moved to community A.
    s.execute(text("UPDATE resident SET name = '李桂芳二' WHERE id = :r"), r_o)
    s.execute(
        text("UPDATE household SET area_id = :a WHERE id = (SELECT household_id FROM resident WHERE id = :r)"),
        {"a": w.ids["a"], "r": w.ids["rB1"]},
    )
    assert set(s.execute(text("SELECT resident_id FROM rollup_statement_stale")).scalars()) == {
        w.ids["rO"],
        w.ids["rB1"],
    }
    moved = assert_statement_rollup_is_raw(s, w)
    assert "李桂芳二" in {line.resident_name for line in moved["city 2026-11"].lines}
    refresh_rollups(s, now=NOW + timedelta(minutes=10))
    assert assert_statement_rollup_is_raw(s, w) == moved
