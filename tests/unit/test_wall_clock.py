"""No decision of the platform reads the wall clock: every "now" comes from the injected clock (core/clock.py).

A static guard over every module of `eldercare_platform`: no `datetime.now()`, `datetime.utcnow()`, `date.today()`
or `time.time()` in Python, no `now()`, `CURRENT_DATE`, `CURRENT_TIMESTAMP`, `LOCALTIMESTAMP` or
`clock_timestamp()` in SQL — except where a time is only a record of when a row was written (column defaults in
migrations, the SQLModel default factory, the outbox's processed stamp) and the system clock itself. It covers
every code path, including those no test reaches; the shifted-clock pass (`make test`'s second run, the clock a
year ahead) then checks, on the tests marked `time_sensitive`, what a static look cannot: libraries, and the
date arithmetic around the clock (docs/development.md, "Time").
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

PLATFORM = ROOT / "platform" / "eldercare_platform"

FORBIDDEN = {
    "datetime.now()": re.compile(r"\bdatetime\.now\("),
    "datetime.utcnow()": re.compile(r"\butcnow\(\)"),
    "date.today()": re.compile(r"\bdate\.today\(\)"),
    "time.time()": re.compile(r"\btime\.time\(\)"),
    "SQL now()": re.compile(r"(?<![.\w])now\(\)", re.IGNORECASE),
    "SQL CURRENT_DATE/TIMESTAMP": re.compile(r"\b(current_date|current_timestamp|localtimestamp)\b", re.IGNORECASE),
    "SQL clock_timestamp()": re.compile(r"\b(clock|statement|transaction)_timestamp\(", re.IGNORECASE),
}

RECORD_KEEPING = {
    "core/clock.py": "the system clock itself (and its docstring)",
    "core/types.py": "created_at/updated_at defaults: when a row was written, never a decision",
    "core/downlink.py": "the outbox's processed_at stamp: when a message went out, never a decision",
    "system/service.py": "a docstring saying the database's now() is not used",
}


def offences(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line: what: the line` for every wall-clock read in `path`."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for name, pattern in FORBIDDEN.items():
            if pattern.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {name}: {line.strip()}")
    return found


def test_no_platform_module_reads_the_wall_clock() -> None:
    checked = 0
    found: list[str] = []
    for path in sorted(PLATFORM.rglob("*.py")):
        relative = path.relative_to(PLATFORM).as_posix()
        if relative.startswith("migrations/") or relative in RECORD_KEEPING:
            continue
        checked += 1
        found += offences(path)
    assert checked > 150, "the guard walked the platform's modules"
    assert found == [], "read the time from the injected clock (core/clock.py):\n" + "\n".join(found)


def test_the_guard_catches_each_way_of_reading_the_wall_clock(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "\n".join(
            [
                "a = datetime.now(UTC)",
                "b = date.today()",
                "c = time.time()",
                'd = "SELECT * FROM task WHERE due_at < now()"',
                'e = "WHERE day = CURRENT_DATE"',
                'f = "SET at = clock_timestamp()"',
                "g = clock.now()  # the injected clock: allowed",
            ]
        ),
        encoding="utf-8",
    )
    found = [line.split(": ")[1] for line in offences(sample, tmp_path)]
    assert found == [
        "datetime.now()",
        "date.today()",
        "time.time()",
        "SQL now()",
        "SQL CURRENT_DATE/TIMESTAMP",
        "SQL clock_timestamp()",
    ]
