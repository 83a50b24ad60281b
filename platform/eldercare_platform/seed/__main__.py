"""Command line: generate the demo data set and load it into the platform database, then (`history`) its past.

    python -m eldercare_platform.seed [--residents N] [--seed S] [--if-empty] [--start-date YYYY-MM-DD]
    python -m eldercare_platform.seed history [--weeks 4] [--seed S] [--now ISO-INSTANT] [--if-empty]

Reads the database from `DATABASE_URL` (or `ELDERCARE_DATABASE_URL`). The schema must be migrated
and the tables empty; with `--if-empty`, an already seeded database is left alone (exit status 0).
`history` writes the weeks before now (the system clock, or `--now`) into a seeded database: alarms,
visits, services, meal orders, stays away, device faults, terminal telemetry (seed/history/); with
`--if-empty`, a database that already has records from before today is left alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from eldercare_common.settings import DatabaseSettingsMixin, load_settings
from eldercare_platform.core.clock import SYSTEM_CLOCK, as_utc
from eldercare_platform.core.config import ServiceRulesMixin
from eldercare_platform.seed.generator import (
    CAREGIVER_USERNAME,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_USERS,
    MAX_RESIDENTS,
    MIN_RESIDENTS,
    generate,
    today_in_shanghai,
)
from eldercare_platform.seed.history import MAX_WEEKS, HistoryPresentError, generate_history, has_history
from eldercare_platform.seed.loader import DatabaseNotEmptyError, is_seeded, load


def _residents(value: str) -> int:
    number = int(value.replace("_", "").replace(",", ""))
    if not MIN_RESIDENTS <= number <= MAX_RESIDENTS:
        raise argparse.ArgumentTypeError(f"must be between {MIN_RESIDENTS} and {MAX_RESIDENTS}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eldercare_platform.seed",
        description="Generate the 常州市天宁区 demo data set and load it into the platform database.",
    )
    parser.add_argument(
        "--residents",
        type=_residents,
        default=MIN_RESIDENTS,
        help=f"elderly residents, {MIN_RESIDENTS:,} to {MAX_RESIDENTS:,} (default {MIN_RESIDENTS:,})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--if-empty", action="store_true", help="do nothing if the database is already seeded")
    parser.add_argument("--print-users", action="store_true", help="only print the demo users and exit")
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="first day of the generated week of shifts (default: today in Asia/Shanghai)",
    )
    return parser


def _history_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eldercare_platform.seed history",
        description="Write the seeded district's past weeks (alarms, visits, services, meals, stays, device faults,"
        " terminal telemetry) up to now, then refresh the supervision rollups.",
    )
    parser.add_argument("--weeks", type=int, default=4, help=f"weeks before now, 1 to {MAX_WEEKS} (default 4)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        metavar="ISO-INSTANT",
        help="the instant the history ends at, with its offset (default: the system clock)",
    )
    parser.add_argument("--if-empty", action="store_true", help="do nothing if the database already has a past")
    return parser


def history_main(argv: list[str]) -> int:
    """`history`: write the past weeks; returns the exit status (0 on success or when skipped)."""
    args = _history_parser().parse_args(argv)
    if not 1 <= args.weeks <= MAX_WEEKS:
        print(f"error: --weeks must be between 1 and {MAX_WEEKS}", file=sys.stderr)
        return 2
    now = as_utc(args.now) if args.now is not None else SYSTEM_CLOCK.now()
    settings = load_settings(DatabaseSettingsMixin)
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    began = time.perf_counter()
    try:
        with Session(engine) as session:
            if args.if_empty and has_history(session, now=now):
                print("Database already has records from before today; no history written (--if-empty).")
                return 0
            result = generate_history(session, now=now, weeks=args.weeks, seed=args.seed, rules=ServiceRulesMixin())
            session.commit()
    except HistoryPresentError as exc:
        print(f"error: {exc}; use --if-empty to skip it", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.seconds.items())
    print(
        f"History of {args.weeks} weeks up to {now.isoformat()} (seed {args.seed}) in "
        f"{time.perf_counter() - began:.1f} s ({steps}):"
    )
    width = max(map(len, result.counts))
    for table, count in result.counts.items():
        print(f"  {table:<{width}}  {count:>8,}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success or when skipped)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["history"]:
        return history_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.print_users:
        print_demo_users()
        return 0
    url = load_settings(DatabaseSettingsMixin).libpq_url
    if args.if_empty and is_seeded(url):
        print("Database already seeded; nothing to do (--if-empty).")
        return 0
    start_date = args.start_date or today_in_shanghai()
    began = time.perf_counter()
    data = generate(args.residents, seed=args.seed, start_date=start_date)
    generated = time.perf_counter()
    try:
        counts = load(url, data)
    except DatabaseNotEmptyError as exc:
        print(f"error: {exc}; use --if-empty to skip a seeded database", file=sys.stderr)
        return 1
    loaded = time.perf_counter()
    print(
        f"Seeded {args.residents:,} residents (seed {args.seed}, shifts from {start_date}): "
        f"generated in {generated - began:.1f} s, loaded in {loaded - generated:.1f} s."
    )
    width = max(map(len, counts))
    for table, count in counts.items():
        print(f"  {table:<{width}}  {count:>8,}")
    print_demo_users()
    return 0


def print_demo_users() -> None:
    """The demo accounts and their shared password (demo data only)."""
    print(f"Demo users (password for all: {DEMO_PASSWORD}):")
    for username, role, description in DEMO_USERS:
        print(f"  {username:<20} {role:<10} {description}")
    team = f"{CAREGIVER_USERNAME.format(number=2)} …"
    print(f"  {team:<20} {'caregiver':<10} every other caregiver's staff record, in staff id order (simulated team)")


if __name__ == "__main__":
    sys.exit(main())
