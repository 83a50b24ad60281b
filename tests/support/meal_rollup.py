"""The meals section from the meal rollup (migration 0018) against the section from raw rows, on the figures helper's
world (tests/integration/supervision_support.py; its meals are also worked out by hand in
tests/integration/test_supervision_figures.py): after a full refresh, right after orders, a welfare call and a
resident's home changed (read raw until the next refresh), and after the incremental refresh that follows. Used by
the PostgreSQL test (tests/integration/test_supervision_rollups.py) and the TimescaleDB lane
(tests/timescale_tests/test_supervision_meal_rollup.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.scope import EVERYTHING, Scope, ScopeKind
from eldercare_platform.supervision.meals_figures import meals_section, point_rows
from eldercare_platform.supervision.rollups import refresh_rollups
from eldercare_platform.supervision.schemas import AreaRef
from eldercare_platform.supervision.tier import Period, Tier
from tests.integration.supervision_support import AREAS, NOW, PATHS, local

PERIODS = (
    Period(date(2026, 11, 1), date(2026, 11, 22)),  # across the refresh's day (22 November, local)
    Period(date(2026, 11, 3), date(2026, 11, 6)),  # rollup only
    Period(date(2026, 11, 22), date(2026, 11, 30)),  # raw only
)


def _tier(area: int, scope: Scope = EVERYTHING) -> Tier:
    def ref(id: int) -> AreaRef:
        _, _, level, name = next(row for row in AREAS if row[0] == id)
        return AreaRef(id=id, name=name, level=level, path=PATHS[id])

    return Tier(area=ref(area), scope=scope, children=[ref(row[0]) for row in AREAS if row[1] == area])


TIERS = (
    _tier(1),
    _tier(2),
    _tier(3),
    _tier(3, Scope(kind=ScopeKind.AREA, area_path=PATHS[3])),
    _tier(2, Scope(kind=ScopeKind.INSTITUTION, institution_id=1)),
)


def assert_agree(session: Session) -> None:
    for tier in TIERS:
        for period in PERIODS:
            context = (tier.area.path, tier.scope.kind, period)
            rollup = meals_section(session, tier=tier, period=period, now=NOW)
            assert rollup == meals_section(session, tier=tier, period=period, now=NOW, source="raw"), context
            assert point_rows(session, tier=tier, period=period) == (
                point_rows(session, tier=tier, period=period, source="raw")
            ), context


def check(session: Session) -> None:
    """On the figures helper's world just written: a full refresh, changes after it, an incremental refresh; the
    rollup path equals the raw path at every step, and the section reads the rollup."""
    result = refresh_rollups(session, now=NOW, full=True)
    session.commit()
    assert result.meal_days == 6, "orders on 3–8 November (the 22nd is the refresh's day: raw)"
    stored = session.execute(text("SELECT count(*), count(*) FILTER (WHERE final) FROM rollup_meal_order")).one()
    assert tuple(stored) == (9, 8), "order 7 is not final: its welfare call (alarm 11) is open"
    assert_agree(session)
    # After the refresh: order 6 (no call) is collected after all, alarm 10 (order 5's call) gets another outcome,
    # resident 3 moves to household 4 (community 7, the other street: orders 3 and 6 move with them), and an order
    # for 10 November is recorded late.
    session.execute(text("UPDATE meal_order SET status = 'collected', collected_at = :at WHERE id = 6"), {"at": NOW})
    session.execute(
        text("UPDATE alarm SET outcome = 'assisted_by_phone', version = nextval('alarm_version_seq') WHERE id = 10")
    )
    session.execute(text("UPDATE resident SET household_id = 4 WHERE id = 3"))
    session.execute(
        text(
            "INSERT INTO meal_order (id, resident_id, meal_point_id, service_date, meal, mode, source, status,"
            " deadline, ordered_at) VALUES (12, 1, 1, '2026-11-10', 'lunch', 'dine_in', 'ad_hoc', 'not_collected',"
            " :deadline, :deadline)"
        ),
        {"deadline": local(11, 10, 13)},
    )
    session.commit()
    assert_agree(session)
    district = meals_section(session, tier=_tier(2), period=PERIODS[0], now=NOW)
    assert district.totals["not_collected.assisted_by_phone"] == 1
    assert {c.area.id: c.figures["orders"] for c in district.children} == {
        3: 6,
        6: 4,
    }  # resident 3 took orders 3 and 6 along
    result = refresh_rollups(session, now=NOW, lookback_days=1)
    session.commit()
    # The changed orders' days (3, 5, 6, 10 November) and the one not final (7 November).
    assert result.meal_days == 5
    assert_agree(session)
    assert meals_section(session, tier=_tier(2), period=PERIODS[0], now=NOW) == district
    # Read from the rollup: a stored sum changed behind the refresh's back shows until a full refresh.
    session.execute(
        text("UPDATE rollup_meal_daily SET orders = orders + 100 WHERE area_path = '/1/2/' AND status = 'collected'")
    )
    tampered = meals_section(session, tier=_tier(2), period=PERIODS[1], now=NOW)
    assert tampered.totals["collected"] == int(district.totals["collected"] or 0) + 100 * 2  # days 3 and 6
    refresh_rollups(session, now=NOW, full=True)
    session.commit()
    assert meals_section(session, tier=_tier(2), period=PERIODS[0], now=NOW) == district
