"""The demo district's history (`python -m eldercare_platform.seed history`): on a copy of the seeded district with a
fixed clock, nothing it writes happened after now, alarms are acknowledged before they are resolved, the EVV times
are plausible, every supervision section has figures at the district tier within plausible bands, and the rollups
give the raw figures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from eldercare_common.devstack import PostgresInstance
from eldercare_platform.core.clock import FixedClock, local_date
from eldercare_platform.seed.history import HistoryPresentError, generate_history, has_history
from eldercare_platform.seed.history.world import local
from eldercare_platform.supervision import service
from eldercare_platform.supervision.alarms_figures import alarms_section
from eldercare_platform.supervision.monitor import monitor_section
from eldercare_platform.supervision.rollups import alarm_daily_figures, task_figures, telemetry_figures
from eldercare_platform.supervision.statement import services_statement
from eldercare_platform.supervision.tier import Period, Tier, month_period, resolve_period
from eldercare_platform.users.models import User
from tests.conftest import TEST_NOW, seeded_database, unpooled_engine

WEEKS = 4
NOW = FixedClock(TEST_NOW).now()
FIRST_DAY = local_date(NOW) - timedelta(days=7 * WEEKS)


@pytest.fixture(scope="module")
def history(postgres: PostgresInstance, seeded_template: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    """A copy of the seeded district with four weeks of history up to TEST_NOW."""
    engine = unpooled_engine(seeded_database(postgres, seeded_template, "seed_history"))
    with Session(engine) as session:
        assert not has_history(session, now=NOW)
        result = generate_history(session, now=NOW, weeks=WEEKS)
        session.commit()
    yield engine, result.counts
    engine.dispose()


def _district(session: Session) -> tuple[Tier, Period]:
    user = session.exec(select(User).where(User.username == "supervisor_district")).one()
    return service.resolve_tier(session, user=user, area_id=None), resolve_period(FIRST_DAY, local_date(NOW), now=NOW)


AFTER_NOW = {
    "alarm": "greatest(opened_at, last_event_at, acknowledged_at, reached_at, resolved_at, escalated_at)",
    "alarm_transition": "at",
    "device_event": "greatest(received_at, device_time)",
    "task": "greatest(window_start, created_at, assigned_at, published_at, accepted_at, en_route_at, checked_in_at,"
    " completed_at, updated_at)",
    "task_event": "at",
    "meal_order": "greatest(ordered_at, collected_at, updated_at, deadline)",
    "resident_state": "greatest(starts_at, ends_at, recorded_at, ended_at)",
    "telemetry": "greatest(time, device_time)",
    "device_status": "greatest(last_seen_at, last_heartbeat_at, changed_at)",
}
"""What happened, per table (a task may still be due after now — a follow-up to do — but it started before)."""


def test_every_record_is_consistent_and_in_the_past(history: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = history
    assert all(counts[table] > 0 for table in ("alarm", "task", "task_event", "meal_order", "telemetry"))
    with Session(engine) as session:
        for table, moment in AFTER_NOW.items():
            late = session.execute(text(f"SELECT count(*) FROM {table} WHERE {moment} > :now"), {"now": NOW}).scalar()
            assert late == 0, f"{table}: {late} rows after now"
        early = session.execute(
            text("SELECT count(*) FROM alarm WHERE opened_at < :start"), {"start": local(FIRST_DAY)}
        )
        assert early.scalar() == 0
        # Acknowledged after opening and before resolving; an alarm resolved is acknowledged; traces start at opening.
        assert (
            session.execute(
                text(
                    "SELECT count(*) FROM alarm WHERE acknowledged_at < opened_at OR resolved_at < acknowledged_at"
                    " OR (resolved_at IS NOT NULL AND acknowledged_at IS NULL)"
                    " OR EXISTS (SELECT 1 FROM alarm_transition t WHERE t.alarm_id = alarm.id"
                    " AND t.at < alarm.opened_at)"
                )
            ).scalar()
            == 0
        )
        # EVV: check-in after the task was sent, on the window's local day for planned work, a plausible length, at
        # the door (within a kilometre; most within the verified 200 m); every completed task's trace says so.
        evv = session.execute(
            text(
                """SELECT count(*) AS done,
                   count(*) FILTER (WHERE checked_in_at < published_at OR completed_at <= checked_in_at
                       OR completed_at - checked_in_at > interval '4 hours'
                       OR (source = 'plan' AND (checked_in_at < window_start OR checked_in_at >= window_start
                           + interval '9 hours'))) AS implausible,
                   count(*) FILTER (WHERE abs(check_in_latitude - h.latitude) > 0.01
                       OR abs(check_in_longitude - h.longitude) > 0.012) AS far,
                   count(*) FILTER (WHERE abs(check_in_latitude - h.latitude) < 0.0018
                       AND abs(check_in_longitude - h.longitude) < 0.0021) AS near,
                   count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM task_event e WHERE e.task_id = t.id
                       AND e.action = 'completed' AND e.at = t.completed_at)) AS untraced
                FROM task t JOIN household h ON h.id = t.household_id
                WHERE t.status = 'completed' AND t.checked_in_at IS NOT NULL"""
            )
        ).one()
        assert evv.done > 1000 and evv.implausible == 0 and evv.far == 0 and evv.untraced == 0
        assert evv.near / evv.done > 0.95
        # Every past task is closed (the engine's jobs would mark anything else missed at start-up), and the visits
        # of a stay recorded before them are suspended with its reason.
        assert (
            session.execute(
                text(
                    "SELECT count(*) FROM task WHERE status IN ('planned', 'assigned', 'published', 'en_route')"
                    " AND window_end + interval '30 minutes' <= :now"
                ),
                {"now": NOW},
            ).scalar()
            == 0
        )
        suspended = session.execute(
            text("SELECT DISTINCT status_reason FROM task WHERE status = 'suspended' ORDER BY 1")
        ).scalars()
        assert set(suspended) <= {"resident_hospital", "resident_away_with_family"}
        with pytest.raises(HistoryPresentError):
            generate_history(session, now=NOW, weeks=1)


def known(totals: Mapping[str, float | int | None]) -> dict[str, float]:
    """The figures that have a value (a rate of nothing is None: the key is then missing, and the test fails)."""
    return {key: float(value) for key, value in totals.items() if value is not None}


def test_every_section_has_figures_and_the_rollups_agree(history: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = history
    with Session(engine) as session:
        tier, period = _district(session)
        alarms = known(alarms_section(session, tier=tier, period=period, now=NOW).totals)
        assert alarms["alarms"] > 100 and alarms["resolved"] == alarms["alarms"]
        assert 0.9 <= alarms["ack_within_60s_share"] <= 0.995 and 5 <= alarms["ack_p50_s"] <= 40
        assert alarms["repeat_callers"] > 0 and alarms["type.sos"] > alarms["type.fall"] > 0
        visits = service.visits_section(session, tier=tier, period=period, now=NOW, late_after=timedelta(minutes=15))
        v = known(visits.totals)
        assert v["due"] > 300 and 0.88 <= v["visit_rate"] <= 0.99 and v["missed"] > 0 and v["excused"] > 0
        assert v["problems"] > 0 and 0.6 <= v["close_rate"] <= 1.0
        # Late counts from the planned start (tasks/lateness.py): a few % of the done visits, not all of them.
        print(f"history visits: late {v['late']} of {v['done']} done ({v['late'] / v['done']:.1%})")
        assert 0.01 <= v["late"] / v["done"] <= 0.08
        meals = known(service.meals_section(session, tier=tier, period=period, now=NOW).totals)
        assert meals["orders"] > 1000 and 0.95 <= meals["served_rate"] <= 0.999 and meals["not_collected"] > 0
        devices = service.devices_section(session, tier=tier, period=period, now=NOW)
        d = known(devices.totals)
        assert d["faults_opened"] > 0 and d["faults_open"] > 0 and d["silent_over_7d"] == 1 and d["low_battery"] == 2
        assert {e.kind for e in devices.exceptions} == {"device_fault_uncovered", "device_silent_over_7d"}
        monitor = known(monitor_section(session, tier=tier, period=period, now=NOW).totals)
        assert monitor["vitals_samples"] > 1000 and monitor["vitals_out_of_range"] > 0
        assert monitor["night_bed_exits"] > 0 and monitor["checkins"] > 0 and monitor["cameras"] == 6
        assert monitor["cameras_online"] == 5 and monitor["room_out_of_range"] > 0
        statement = known(services_statement(session, tier=tier, period=month_period(None, now=NOW), now=NOW).totals)
        assert statement["sessions"] > 50 and 0.3 <= statement["delivered_share"] <= 1.0
        assert 0.9 <= statement["evv_verified_share"] < 1.0

        # The rollups (refreshed in full by the history) give the raw figures.
        raw = alarms_section(session, tier=tier, period=period, now=NOW, source="raw")
        rolled = alarms_section(session, tier=tier, period=period, now=NOW)
        assert rolled.model_dump(exclude={"generated_at"}) == raw.model_dump(exclude={"generated_at"})
        first, last, path = period.first, period.last, tier.area.path
        for figures in (alarm_daily_figures, task_figures):
            assert figures(session, area_path=path, first_day=first, last_day=last, source="rollup") == figures(
                session, area_path=path, first_day=first, last_day=last, source="raw"
            )
        serials = list(session.execute(text("SELECT serial FROM device WHERE care_center_id IS NOT NULL")).scalars())
        assert telemetry_figures(session, serials=serials, start=period.start, end=period.end, source="rollup") == (
            telemetry_figures(session, serials=serials, start=period.start, end=period.end, source="raw")
        )
