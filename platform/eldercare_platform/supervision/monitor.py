"""The care-center and institution monitor (养老服务监测预警): what the terminals of each care center and
institution reported in a period, exceptions first, and the drill-down to one resident's vitals
(docs/supervision.md, "Care-center monitor").

Terminals: the devices owned by a care center or an institution (not retired), in the user's scope
(`Scope.devices_sql`). Feeds, from `telemetry` in [start, end):

- `vitals`: a sample is out of range when any of its metrics is outside `VITAL_RANGES` (bounds inclusive);
- `mattress`: a bed exit at night is a sample `in_bed: false` whose previous sample of the same mattress said
  `in_bed: true`, at a local time (Asia/Shanghai) from 22:00 to before 06:00;
- `room`: out of range when temperature or humidity is outside `ROOM_RANGES`; smoke when `smoke` is true, and
  every `smoke` device event of a terminal;
- `checkin`: check-ins (and the residents they name);
- `camera_link`: a camera (device kind `camera`) is offline when its last sample of the period says
  `online: false`, or when it sent none in the period (视频监控应接尽接: an exception either way).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.audit.service import record
from eldercare_platform.core.clock import LOCAL_TIMEZONE
from eldercare_platform.core.errors import NotFoundError
from eldercare_platform.core.scope import Scope, ScopeKind, scope_of
from eldercare_platform.supervision.monitor_facts import (
    MATTRESS_METRICS,
    NIGHT_FROM_HOUR,
    NIGHT_UNTIL_HOUR,
    ROOM_RANGES,
    VITAL_RANGES,
    Feeds,
    Source,
    outside,
    rollup_feeds,
)
from eldercare_platform.supervision.monitor_schemas import (
    CheckinOut,
    FacilityRow,
    MetricTrend,
    MonitorExceptionKind,
    MonitorFigures,
    MonitorResident,
    ResidentBrief,
    ResidentVitals,
)
from eldercare_platform.supervision.schemas import AreaRef, ChildFigures, Exception_, Series, worst_first
from eldercare_platform.supervision.sections import plain_plans
from eldercare_platform.supervision.tier import Period, Tier
from eldercare_platform.users.models import User


def is_night(moment: datetime) -> bool:
    """22:00 ≤ local time < 06:00."""
    hour = moment.astimezone(LOCAL_TIMEZONE).hour
    return hour >= NIGHT_FROM_HOUR or hour < NIGHT_UNTIL_HOUR


FACILITIES = """
    SELECT 'care_center' AS kind, c.id, c.name, a.id AS area_id, a.path AS area_path
    FROM care_center c JOIN area a ON a.id = c.area_id
    WHERE a.path LIKE :area_path || '%' AND {centers}
    UNION ALL
    SELECT 'institution', i.id, i.name, a.id, a.path
    FROM institution i JOIN area a ON a.id = i.area_id
    WHERE a.path LIKE :area_path || '%' AND {institutions}
    ORDER BY 5, 1, 2
"""

TERMINALS = """
    SELECT d.serial, d.kind, d.resident_id,
           CASE WHEN d.care_center_id IS NOT NULL THEN 'care_center' ELSE 'institution' END AS facility_kind,
           coalesce(d.care_center_id, d.institution_id) AS facility_id
    FROM device d
    WHERE d.state <> 'retired' AND (d.care_center_id = ANY(:centers) OR d.institution_id = ANY(:institutions))
      AND {scope}
"""

VITALS = f"""
    SELECT t.device_serial AS serial, (t.time AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS samples,
           count(*) FILTER (WHERE {outside("t", VITAL_RANGES)}) AS out_of_range,
           min(t.time) FILTER (WHERE {outside("t", VITAL_RANGES)}) AS since
    FROM telemetry t
    WHERE t.kind = 'vitals' AND t.device_serial = ANY(:serials) AND t.time >= :start AND t.time < :end
    GROUP BY 1, 2
"""

BED_EXITS = """
    SELECT serial, time FROM (
        SELECT t.device_serial AS serial, t.time, (t.data->>'in_bed')::boolean AS in_bed,
               lag((t.data->>'in_bed')::boolean) OVER (PARTITION BY t.device_serial ORDER BY t.time) AS before
        FROM telemetry t
        WHERE t.kind = 'mattress' AND t.device_serial = ANY(:serials) AND jsonb_typeof(t.data->'in_bed') = 'boolean'
          AND t.time >= CAST(:start AS timestamptz) - interval '1 day' AND t.time < :end
    ) s
    WHERE s.time >= :start AND NOT s.in_bed AND s.before
      AND (extract(hour FROM s.time AT TIME ZONE 'Asia/Shanghai') >= 22
           OR extract(hour FROM s.time AT TIME ZONE 'Asia/Shanghai') < 6)
    ORDER BY s.time
"""

ROOM = f"""
    SELECT t.device_serial AS serial, count(*) AS samples,
           count(*) FILTER (WHERE {outside("t", ROOM_RANGES)}) AS out_of_range,
           min(t.time) FILTER (WHERE {outside("t", ROOM_RANGES)}) AS since,
           count(*) FILTER (WHERE t.data->'smoke' = 'true'::jsonb) AS smoke,
           min(t.time) FILTER (WHERE t.data->'smoke' = 'true'::jsonb) AS smoke_since
    FROM telemetry t
    WHERE t.kind = 'room' AND t.device_serial = ANY(:serials) AND t.time >= :start AND t.time < :end
    GROUP BY t.device_serial
"""

SMOKE_EVENTS = """
    SELECT e.device_serial AS serial, count(*) AS n, min(e.received_at) AS since
    FROM device_event e
    WHERE e.event_type = 'smoke' AND e.device_serial = ANY(:serials)
      AND e.received_at >= :start AND e.received_at < :end
    GROUP BY e.device_serial
"""

CHECKINS = """
    SELECT t.device_serial AS serial, (t.time AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n,
           array_agg(DISTINCT t.data->>'resident_ref') FILTER (WHERE t.data ? 'resident_ref') AS refs
    FROM telemetry t
    WHERE t.kind = 'checkin' AND t.device_serial = ANY(:serials) AND t.time >= :start AND t.time < :end
    GROUP BY 1, 2
"""

CAMERAS = """
    SELECT d.serial, last.time, last.online
    FROM unnest(CAST(:cameras AS text[])) AS d(serial)
    LEFT JOIN LATERAL (
        SELECT t.time, coalesce(t.data->'online' = 'true'::jsonb, false) AS online
        FROM telemetry t
        WHERE t.kind = 'camera_link' AND t.device_serial = d.serial AND t.time >= :start AND t.time < :end
        ORDER BY t.time DESC LIMIT 1
    ) last ON true
"""

OFFLINE_SINCE = """
    SELECT min(t.time) FROM telemetry t
    WHERE t.kind = 'camera_link' AND t.device_serial = :serial AND t.time >= :start AND t.time <= :last
      AND t.time > coalesce((SELECT max(o.time) FROM telemetry o WHERE o.kind = 'camera_link'
                             AND o.device_serial = :serial AND o.time < :last AND o.data->'online' = 'true'::jsonb),
                            '-infinity')
"""


def _raw_feeds(session: Session, params: dict[str, Any]) -> Feeds:
    """The feeds from the raw samples (the definitions, docs/supervision.md)."""
    found = Feeds()
    found.vitals = [
        (r.serial, r.day, int(r.samples), int(r.out_of_range), r.since) for r in session.execute(text(VITALS), params)
    ]
    found.exits = [(r.serial, r.time, 1) for r in session.execute(text(BED_EXITS), params)]
    found.room = {
        r.serial: (int(r.samples), int(r.out_of_range), r.since, int(r.smoke), r.smoke_since)
        for r in session.execute(text(ROOM), params)
    }
    for r in session.execute(text(CHECKINS), params):
        found.checkins.append((r.serial, r.day, int(r.n)))
        found.refs.setdefault(r.serial, set()).update(r.refs or [])
    return found


@dataclass
class Alert:
    """An exception of the monitor (mapped onto the common `exceptions` shape by the views)."""

    kind: str
    severity: int
    area_id: int
    facility: str
    subject: str
    message: str
    since: datetime | None
    serial: str
    resident_id: int | None = None


@dataclass
class Facility:
    """A care center or an institution with its terminals' figures over the period."""

    kind: str
    id: int
    name: str
    area_id: int
    area_path: str
    terminals: int = 0
    vitals_samples: int = 0
    vitals_out_of_range: int = 0
    night_bed_exits: int = 0
    room_samples: int = 0
    room_out_of_range: int = 0
    smoke: int = 0
    checkins: int = 0
    checkin_refs: set[str | None] = field(default_factory=set)
    cameras: int = 0
    cameras_online: int = 0
    alerts: list[Alert] = field(default_factory=list)


@dataclass
class Wearer:
    """A resident wearing (or assigned to) a terminal of a facility: their vitals and bed exits in the period."""

    resident_id: int
    facility: Facility
    vitals_samples: int = 0
    vitals_out_of_range: int = 0
    night_bed_exits: int = 0


@dataclass
class Monitor:
    """Facilities, their exceptions (worst first) and daily series."""

    facilities: list[Facility]
    alerts: list[Alert]
    series: dict[str, dict[str, int]]
    wearers: dict[int, Wearer] = field(default_factory=dict)


def _label(kind: str) -> str:
    return "养老机构" if kind == "institution" else "照料中心"


def monitor(
    session: Session, *, scope: Scope, area_path: str, start: datetime, end: datetime, source: Source = "rollup"
) -> Monitor:
    """The terminals' feeds of the care centers and institutions under `area_path` (in scope) in [start, end).

    `source="rollup"` reads the hourly facts (the rollup up to its watermark, raw rows after it) when the period is
    hour-aligned and the rollup has been refreshed; `"raw"` (or else) the raw samples. Both give the same figures.
    """
    plain_plans(session)
    params: dict[str, Any] = {"area_path": area_path}
    centers = institutions = "true"
    if scope.kind is ScopeKind.INSTITUTION:  # an institution sees itself, no care center
        centers, institutions = "false", "i.id = :scope_institution"
        params["scope_institution"] = scope.institution_id
    elif scope.kind is ScopeKind.NOTHING:
        centers = institutions = "false"
    rows = session.execute(text(FACILITIES.format(centers=centers, institutions=institutions)), params).all()
    facilities = {(r.kind, int(r.id)): Facility(r.kind, int(r.id), r.name, int(r.area_id), r.area_path) for r in rows}
    series: dict[str, dict[str, int]] = {"vitals_out_of_range": {}, "night_bed_exits": {}, "checkins": {}}
    if not facilities:
        return Monitor([], [], series)
    terminal_sql = TERMINALS.format(scope=scope.devices_sql("d"))
    terminals = session.execute(
        text(terminal_sql),
        {
            "centers": [i for k, i in facilities if k == "care_center"],
            "institutions": [i for k, i in facilities if k == "institution"],
            **{k: v for k, v in scope.params.items() if f":{k}" in terminal_sql},
        },
    ).all()
    owner: dict[str, Facility] = {}
    device_resident: dict[str, int | None] = {}
    cameras: list[str] = []
    for t in terminals:
        place = facilities[(t.facility_kind, int(t.facility_id))]
        place.terminals += 1
        owner[t.serial] = place
        device_resident[t.serial] = t.resident_id
        if t.kind == "camera":
            cameras.append(t.serial)
            place.cameras += 1
    params = {"serials": list(owner), "start": start, "end": end}

    wearers: dict[int, Wearer] = {}
    for serial, rid in device_resident.items():
        if rid is not None and rid not in wearers:
            wearers[rid] = Wearer(rid, owner[serial])

    def wearer_of(serial: str) -> Wearer | None:
        rid = device_resident.get(serial)
        return None if rid is None else wearers[rid]

    def alert(place: Facility, item: Alert) -> None:
        place.alerts.append(item)

    feeds = rollup_feeds(session, serials=list(owner), start=start, end=end) if source == "rollup" else None
    if feeds is None:
        feeds = _raw_feeds(session, params)
    vitals: dict[str, list[tuple[str, date, int, int, datetime | None]]] = defaultdict(list)
    for r in feeds.vitals:
        vitals[r[0]].append(r)
        if r[3]:
            day = r[1].isoformat()
            series["vitals_out_of_range"][day] = series["vitals_out_of_range"].get(day, 0) + r[3]
    for serial, days in vitals.items():
        place = owner[serial]
        samples = sum(d[2] for d in days)
        out = sum(d[3] for d in days)
        place.vitals_samples += samples
        place.vitals_out_of_range += out
        if (wearer := wearer_of(serial)) is not None:
            wearer.vitals_samples += samples
            wearer.vitals_out_of_range += out
        if out:
            alert(
                place,
                Alert(
                    MonitorExceptionKind.VITALS_OUT_OF_RANGE,
                    2,
                    place.area_id,
                    place.name,
                    f"{_label(place.kind)} {place.name} · {serial}",
                    f"{out}/{samples} vitals samples out of range",
                    min(d[4] for d in days if d[4] is not None),
                    serial,
                    device_resident.get(serial),
                ),
            )
    exits: dict[str, tuple[int, datetime]] = {}
    for serial, moment, n in feeds.exits:
        count, first = exits.get(serial, (0, moment))
        exits[serial] = (count + n, min(first, moment))
        day = moment.astimezone(LOCAL_TIMEZONE).date().isoformat()
        series["night_bed_exits"][day] = series["night_bed_exits"].get(day, 0) + n
    for serial, (count, first) in exits.items():
        place = owner[serial]
        place.night_bed_exits += count
        if (wearer := wearer_of(serial)) is not None:
            wearer.night_bed_exits += count
        alert(
            place,
            Alert(
                MonitorExceptionKind.NIGHT_BED_EXIT,
                2,
                place.area_id,
                place.name,
                f"{_label(place.kind)} {place.name} · {serial}",
                f"{count} bed exits at night (22:00–06:00)",
                first,
                serial,
                device_resident.get(serial),
            ),
        )
    smoke: dict[str, tuple[int, datetime | None]] = {}
    for serial, (samples, out, since, smoked, smoke_since) in feeds.room.items():
        place = owner[serial]
        place.room_samples += samples
        place.room_out_of_range += out
        if smoked:
            smoke[serial] = (smoked, smoke_since)
        if out:
            alert(
                place,
                Alert(
                    MonitorExceptionKind.ROOM_OUT_OF_RANGE,
                    3,
                    place.area_id,
                    place.name,
                    f"{_label(place.kind)} {place.name} · {serial}",
                    f"{out}/{samples} room samples out of range (temperature / humidity)",
                    since,
                    serial,
                ),
            )
    for r in session.execute(text(SMOKE_EVENTS), params):
        n, since = smoke.get(r.serial, (0, None))
        smoke[r.serial] = (n + int(r.n), r.since if since is None else min(since, r.since))
    for serial, (n, since) in smoke.items():
        place = owner[serial]
        place.smoke += n
        alert(
            place,
            Alert(
                MonitorExceptionKind.SMOKE,
                1,
                place.area_id,
                place.name,
                f"{_label(place.kind)} {place.name} · {serial}",
                f"smoke reported {n} times",
                since,
                serial,
            ),
        )
    for serial, checkin_day, n in feeds.checkins:
        owner[serial].checkins += n
        day = checkin_day.isoformat()
        series["checkins"][day] = series["checkins"].get(day, 0) + n
    for serial, refs in feeds.refs.items():
        owner[serial].checkin_refs.update(refs)
    if cameras:
        for r in session.execute(text(CAMERAS), {"cameras": cameras, "start": start, "end": end}):
            place = owner[r.serial]
            if r.online:
                place.cameras_online += 1
                continue
            if r.time is None:
                message, since = "camera sent no link status in the period (offline)", None
            else:
                message = "camera offline"
                since = session.execute(
                    text(OFFLINE_SINCE), {"serial": r.serial, "start": start, "last": r.time}
                ).scalar()
            alert(
                place,
                Alert(
                    MonitorExceptionKind.CAMERA_OFFLINE,
                    2,
                    place.area_id,
                    place.name,
                    f"{_label(place.kind)} {place.name} · {r.serial}",
                    message,
                    since,
                    r.serial,
                ),
            )
    ordered = list(facilities.values())
    alerts = sorted(
        (a for place in ordered for a in place.alerts),
        key=lambda a: (a.severity, a.since or datetime.max.replace(tzinfo=LOCAL_TIMEZONE), a.subject),
    )
    return Monitor(ordered, alerts, series, wearers)


def figures(places: list[Facility]) -> dict[str, float | int | None]:
    """The monitor's figures over some facilities."""
    cameras = sum(p.cameras for p in places)
    online = sum(p.cameras_online for p in places)
    refs: set[str | None] = set()
    for p in places:
        refs |= p.checkin_refs
    return {
        "care_centers": sum(p.kind == "care_center" for p in places),
        "institutions": sum(p.kind == "institution" for p in places),
        "terminals": sum(p.terminals for p in places),
        "vitals_samples": sum(p.vitals_samples for p in places),
        "vitals_out_of_range": sum(p.vitals_out_of_range for p in places),
        "night_bed_exits": sum(p.night_bed_exits for p in places),
        "room_samples": sum(p.room_samples for p in places),
        "room_out_of_range": sum(p.room_out_of_range for p in places),
        "smoke": sum(p.smoke for p in places),
        "checkins": sum(p.checkins for p in places),
        "checkin_residents": len(refs),
        "cameras": cameras,
        "cameras_online": online,
        "camera_online_share": None if cameras == 0 else round(online / cameras, 4),
        "exceptions": sum(len(p.alerts) for p in places),
    }


# --- the resident drill-down -----------------------------------------------------------------------------

RESIDENT_IN_SCOPE = """
    SELECT r.id, r.name, a.id AS area_id, a.name AS area_name, a.level AS area_level, a.path AS area_path
    FROM resident r JOIN household h ON h.id = r.household_id JOIN area a ON a.id = h.area_id
    WHERE r.id = :resident AND ({residents} OR EXISTS (
        SELECT 1 FROM device d WHERE d.resident_id = r.id AND d.household_id IS NULL AND {devices}))
"""

RESIDENT_SAMPLES = """
    SELECT t.time, t.kind, t.device_serial, t.data
    FROM telemetry t
    WHERE t.device_serial = ANY(ARRAY(SELECT serial FROM device WHERE resident_id = :resident))
      AND t.kind IN ('vitals', 'mattress') AND t.time >= CAST(:start AS timestamptz) - interval '1 day'
      AND t.time < :end
    ORDER BY t.time
"""

RESIDENT_CHECKINS = """
    SELECT t.time, t.device_serial, coalesce(c.name, i.name) AS facility
    FROM telemetry t JOIN device d ON d.serial = t.device_serial
    LEFT JOIN care_center c ON c.id = d.care_center_id LEFT JOIN institution i ON i.id = d.institution_id
    WHERE t.kind = 'checkin' AND t.time >= :start AND t.time < :end AND t.data->>'resident_ref' = :ref
    ORDER BY t.time
"""


def resident_ref(resident_id: int) -> str:
    """The card number terminals name a resident by: `R` + the id in six digits (docs/device-protocol.md)."""
    return f"R{resident_id:06d}"


@dataclass
class Metric:
    """One charted metric: hourly means (local hours) and the samples out of range."""

    key: str
    source: str
    unit: str
    low: float
    high: float
    points: list[tuple[str, float]]
    out_of_range: list[tuple[datetime, float]]


@dataclass
class ResidentTrends:
    """A resident's vitals in a period."""

    resident: Any
    metrics: list[Metric]
    night_bed_exits: list[datetime]
    checkins: list[tuple[datetime, str, str | None]]


def resident_in_scope(session: Session, *, scope: Scope, resident_id: int) -> Any | None:
    """The resident row if the user may see them: their home is in scope, or a care center's or institution's
    terminal in scope is theirs."""
    sql = RESIDENT_IN_SCOPE.format(residents=scope.residents_sql("r"), devices=scope.devices_sql("d"))
    params = {"resident": resident_id, **{k: v for k, v in scope.params.items() if f":{k}" in sql}}
    return session.execute(text(sql), params).first()


def trends(session: Session, *, resident: Any, start: datetime, end: datetime) -> ResidentTrends:
    """Hourly means of every vitals and mattress metric, marks out of range, night bed exits, check-ins."""
    ref = resident_ref(int(resident.id))
    samples = session.execute(text(RESIDENT_SAMPLES), {"start": start, "end": end, "resident": resident.id}).all()
    sums: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    marks: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
    exits: list[datetime] = []
    last_in_bed: dict[str, bool] = {}
    local_hours: dict[datetime, str] = {}  # UTC hour → its local hour's ISO text (Asia/Shanghai: UTC+8, same hours)
    for s in samples:
        if s.time < start:  # the day before: only a mattress's state, so the first exit of the period counts
            if s.kind == "mattress" and isinstance(s.data.get("in_bed"), bool):
                last_in_bed[s.device_serial] = bool(s.data["in_bed"])
            continue
        ranges = VITAL_RANGES if s.kind == "vitals" else MATTRESS_METRICS
        utc_hour = s.time.replace(minute=0, second=0, microsecond=0)
        if (hour := local_hours.get(utc_hour)) is None:
            hour = local_hours[utc_hour] = utc_hour.astimezone(LOCAL_TIMEZONE).isoformat()
        for key, (lo, hi, _) in ranges.items():
            value = s.data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            sums[(s.kind, key)][hour].append(float(value))
            if not lo <= value <= hi:
                marks[(s.kind, key)].append((s.time, float(value)))
        if s.kind == "mattress" and isinstance(s.data.get("in_bed"), bool):
            in_bed = bool(s.data["in_bed"])
            if not in_bed and last_in_bed.get(s.device_serial) and is_night(s.time):
                exits.append(s.time)
            last_in_bed[s.device_serial] = in_bed
    metrics = []
    for source, ranges in (("vitals", VITAL_RANGES), ("mattress", MATTRESS_METRICS)):
        for key, (lo, hi, unit) in ranges.items():
            hours = sums.get((source, key))
            if not hours:
                continue
            points = [(hour, round(sum(v) / len(v), 2)) for hour, v in sorted(hours.items())]
            metrics.append(Metric(key, source, unit, lo, hi, points, marks.get((source, key), [])))
    checkins = [
        (r.time, r.device_serial, r.facility)
        for r in session.execute(text(RESIDENT_CHECKINS), {"start": start, "end": end, "ref": ref})
    ]
    return ResidentTrends(resident, metrics, exits, checkins)


# --- the section (common shape) and the drill-down -------------------------------------------------------

MONITOR_LINK = "/api/supervision/monitor/residents/{resident}"


def _exception(a: Alert) -> Exception_:
    return Exception_(
        kind=a.kind,
        severity=a.severity,
        area_id=a.area_id,
        subject=a.subject,
        message=a.message,
        since=a.since,
        link=None if a.resident_id is None else MONITOR_LINK.format(resident=a.resident_id),
    )


def monitor_section(session: Session, *, tier: Tier, period: Period, now: datetime) -> MonitorFigures:
    """The monitor of the tier's care centers and institutions over the period."""
    found = monitor(session, scope=tier.scope, area_path=tier.area.path, start=period.start, end=period.end)
    areas = {
        int(r.id): AreaRef(id=int(r.id), name=r.name, level=r.level, path=r.path)
        for r in session.execute(
            text("SELECT id, name, level, path FROM area WHERE id = ANY(:ids)"),
            {"ids": list({p.area_id for p in found.facilities})},
        )
    }
    children = [
        ChildFigures(area=child, figures=figures([p for p in found.facilities if p.area_path.startswith(child.path)]))
        for child in tier.children
    ]
    series = [
        Series(key=key, points=[(d.isoformat(), per_day.get(d.isoformat(), 0)) for d in period.days])
        for key, per_day in found.series.items()
    ]
    return MonitorFigures(
        section="monitor",
        area=tier.area,
        from_=period.first,
        to=period.last,
        generated_at=now,
        totals=figures(found.facilities),
        children=children,
        series=series,
        exceptions=worst_first([_exception(a) for a in found.alerts]),
        facilities=[
            FacilityRow(kind=p.kind, id=p.id, name=p.name, area=areas[p.area_id], figures=figures([p]))
            for p in found.facilities
        ],
        residents=_wearers(session, found),
    )


def _wearers(session: Session, found: Monitor) -> list[MonitorResident]:
    """The residents the facilities' terminals are assigned to, most out-of-range samples first."""
    if not found.wearers:
        return []
    names = dict(
        session.execute(text("SELECT id, name FROM resident WHERE id = ANY(:ids)"), {"ids": list(found.wearers)}).all()
    )
    rows = [
        MonitorResident(
            id=w.resident_id,
            name=names.get(w.resident_id, ""),
            facility_kind=w.facility.kind,
            facility_id=w.facility.id,
            facility=w.facility.name,
            vitals_samples=w.vitals_samples,
            vitals_out_of_range=w.vitals_out_of_range,
            night_bed_exits=w.night_bed_exits,
            link=MONITOR_LINK.format(resident=w.resident_id),
        )
        for w in found.wearers.values()
    ]
    return sorted(rows, key=lambda r: (-r.vitals_out_of_range, -r.night_bed_exits, r.name, r.id))


class ResidentNotFoundError(NotFoundError):
    """No such resident in the user's scope."""

    code = "resident_not_found"


def resident_vitals(
    session: Session, *, user: User, resident_id: int, period: Period, now: datetime, client_ip: str | None
) -> ResidentVitals:
    """A resident's vitals trends with out-of-range marks, bed exits at night and check-ins; the read is
    audited (one `read` row of entity `resident`, via `supervision.monitor`)."""
    scope = scope_of(session, user)
    row = resident_in_scope(session, scope=scope, resident_id=resident_id)
    if row is None:
        raise ResidentNotFoundError("resident not found", resident_id=resident_id)
    record(
        session,
        user_id=user.id,
        action="read",
        entity="resident",
        entity_id=resident_id,
        detail={"via": "supervision.monitor", "from": period.first.isoformat(), "to": period.last.isoformat()},
        client_ip=client_ip,
    )
    found = trends(session, resident=row, start=period.start, end=period.end)
    return ResidentVitals(
        resident=ResidentBrief(
            id=int(row.id),
            name=row.name,
            area=AreaRef(id=int(row.area_id), name=row.area_name, level=row.area_level, path=row.area_path),
        ),
        from_=period.first,
        to=period.last,
        generated_at=now,
        metrics=[MetricTrend(**m.__dict__) for m in found.metrics],
        night_bed_exits=found.night_bed_exits,
        checkins=[CheckinOut(at=at, device_serial=serial, facility=name) for at, serial, name in found.checkins],
    )
