"""`python -m eldercare_platform.planning [--day YYYY-MM-DD] [--seconds S]`: a manual plan (a draft) now for every
community with open tasks on the local day (default: today) and no plan of it yet, one after the other.

`make demo` runs it at start-up (scripts/run_demo.py) so that today's board shows routes; a coordinator then
publishes a community's plan (`POST /api/plans/{id}/publish`). `--seconds` overrides `planner_seconds` per
community. Reads the scheduler's settings (`DATABASE_URL`, `ELDERCARE_*`); exit status 1 if a community failed.
"""

from __future__ import annotations

import argparse
from datetime import date

from sqlmodel import Session

from eldercare_common.logging import configure_logging
from eldercare_common.settings import load_settings
from eldercare_platform.core.clock import SYSTEM_CLOCK, local_date
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.core.db import engine_for
from eldercare_platform.planning import service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eldercare_platform.planning", description=__doc__)
    parser.add_argument("--day", type=date.fromisoformat, default=None, help="local day, YYYY-MM-DD (default today)")
    parser.add_argument("--seconds", type=float, default=None, help="the solve's time limit per community")
    args = parser.parse_args(argv)
    settings = load_settings(SchedulerSettings)
    if args.seconds is not None:
        settings = settings.model_copy(update={"planner_seconds": args.seconds})
    configure_logging(process="planning", level=settings.log_level, json=settings.log_json)
    engine = engine_for(settings.sqlalchemy_url, 1)
    now = SYSTEM_CLOCK.now()
    try:
        with Session(engine) as session:
            outcome = service.plan_unplanned(session, day=args.day or local_date(now), now=now, settings=settings)
    finally:
        engine.dispose()
    print(f"  plans of {args.day or local_date(now)}: {outcome.summary()}", flush=True)
    return 1 if outcome.errors or outcome.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
