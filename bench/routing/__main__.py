"""`python -m bench.routing [public|district|urgent] …` (default `public`; `--help` on each).

- `public --instances DIR --seconds S`: PyVRP and OR-Tools on Solomon-format instances with `.sol` best-known costs.
- `district`: a generated 10,000-resident district's day, the planner beside the greedy baseline.
- `urgent`: urgent insertion latency under a live day plan.
"""

from __future__ import annotations

import importlib
import sys

PARTS = {"public": "bench.routing.public", "district": "bench.routing.district", "urgent": "bench.routing.urgent"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    part = args.pop(0) if args and args[0] in PARTS else "public"
    module = importlib.import_module(PARTS[part])
    return int(module.main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
