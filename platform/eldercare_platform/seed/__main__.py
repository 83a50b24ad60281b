"""Command line: generate the demo data set and load it into the platform database.

    python -m eldercare_platform.seed [--residents N] [--seed S] [--if-empty] [--start-date YYYY-MM-DD]

Reads the database from `DATABASE_URL` (or `ELDERCARE_DATABASE_URL`). The schema must be migrated
and the tables empty; with `--if-empty`, an already seeded database is left alone (exit status 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from eldercare_common.settings import DatabaseSettingsMixin, load_settings
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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success or when skipped)."""
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
