"""Schemathesis against the real API: every operation of docs/openapi.json, fuzzed, must never answer 5xx.

The API runs as in production (`eldercare-api` under uvicorn, on a free port) on a PostgreSQL database of
its own loaded with the seeded demo district (seed 7, a fixed start date) and a few open alarms, connected to
the session's Mosquitto. Schemathesis (the `st` CLI of the pinned version) reads the API's own OpenAPI
document and runs all four phases — examples, coverage (boundary and invalid values of every parameter),
fuzzing (Hypothesis) and stateful (sequences along the links it infers) — with a fixed seed and a bounded
number of examples per operation, so a run tests the same cases every time. The operations are dealt to two
`st` processes run at once (each operation's cases are the seed's, whichever process runs it), and the
stateful phase runs over all of them in a third: about a minute on two cores. The
requests are signed in as the seeded users (tests/integration/fuzz_hooks.py picks the role per request: admin
or operator as the operation needs, and a share as supervisor and caregiver).

Checks: no 5xx (`not_a_server_error`), every status code is documented (`status_code_conformance`), every
body matches its documented schema — so every error is the one `ErrorResponse` shape
(`response_schema_conformance`) — and the documented content type (`content_type_conformance`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.devstack import MosquittoInstance, PostgresInstance, free_port
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.alarms.intake import intake_pending
from tests.conftest import ROOT, migrated_database, unpooled_engine
from tests.integration.gateway_support import wait_for

pytestmark = [pytest.mark.fuzz, pytest.mark.slow, pytest.mark.timeout(600)]

# Fixed, so every run sends the same requests; set ELDERCARE_FUZZ_SEED / ELDERCARE_FUZZ_EXAMPLES to explore.
SEED = int(os.environ.get("ELDERCARE_FUZZ_SEED", "20261122"))
MAX_EXAMPLES = int(os.environ.get("ELDERCARE_FUZZ_EXAMPLES", "60"))
SHARES = int(os.environ.get("ELDERCARE_FUZZ_SHARES", "2"))  # Schemathesis processes, each with a share of operations
WORKERS = int(os.environ.get("ELDERCARE_FUZZ_WORKERS", "1"))  # threads per process (they share its GIL)
FIXED_DAY = date(2026, 11, 22)
T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
ROLES = {
    "admin": "admin",
    "operator": "operator1",
    "supervisor": "supervisor_district",
    "caregiver": "caregiver1",
    "coordinator": "coordinator1",
}
# Ids that exist in the fuzz database: the fuzzer draws from these half the time (Schemathesis dictionaries),
# so requests get past "not found" to the handlers (acknowledge, dispatch to a real caregiver, feedback, ...).
KNOWN = {
    "path.alarm_id": [1, 2, 3, 4, 5, 6],
    "path.alarm_type": ["sos", "fall", "smoke"],
    "path.resident_id": [1, 2, 500],
    "path.device_id": [1, 2, 3],
    "path.device_event_id": [1, 2, 3],
    "body.staff_id": [1, 2, 3],
    "body.household_id": [1, 2],
    "query.area_id": [1, 2, 3],
    "query.parent_id": [1, 2, 3],
}
CHECKS = ",".join(
    (
        "not_a_server_error",  # no 5xx, whatever comes in
        "status_code_conformance",  # every status documented
        "response_schema_conformance",  # every body as documented: errors are all ErrorResponse
        "content_type_conformance",
        "negative_data_rejection",  # what the schema calls invalid (since=0.5, id 2**31) is refused
    )
)


@pytest.fixture(scope="module")
def fuzz_database(postgres: PostgresInstance) -> str:
    """A database of its own (the fuzzer writes: users, devices, alarm actions), seeded, with open alarms."""
    from eldercare_platform.seed.generator import generate
    from eldercare_platform.seed.loader import load

    url = migrated_database(postgres, "eldercare_fuzz")
    load(url, generate(1000, seed=7, start_date=FIXED_DAY))
    engine = unpooled_engine(url)
    with Session(engine) as session:
        serials = session.execute(
            text("SELECT serial FROM device WHERE kind = 'home_alarm_unit' ORDER BY id LIMIT 6")
        ).scalars()
        for index, serial in enumerate(serials):
            event_type = ("sos", "fall", "smoke")[index % 3]
            device_event_id = session.execute(
                text(
                    "INSERT INTO device_event (device_serial, event_id, event_type, device_time, received_at)"
                    " VALUES (:s, :e, :t, :at, :at) RETURNING id"
                ),
                {"s": serial, "e": f"fuzz-{index}", "t": event_type, "at": T0},
            ).scalar_one()
            session.execute(
                text(
                    "INSERT INTO outbox (topic, payload) VALUES ('device_event',"
                    " jsonb_build_object('device_event_id', CAST(:id AS bigint)))"
                ),
                {"id": device_event_id},
            )
        session.commit()
        assert len(intake_pending(session, now=T0)) == 6
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def served_api(
    fuzz_database: str, mosquitto: MosquittoInstance, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`eldercare-api` (uvicorn, one worker) on a free port; yields its base URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("fuzz") / "api.log"
    env = {
        **os.environ,
        "ELDERCARE_ENV": "test",
        "DATABASE_URL": fuzz_database,
        "MQTT_URL": mosquitto.url,
        "MQTT_USERNAME": "platform",
        "MQTT_PASSWORD": DEMO_MQTT_PASSWORD,
        "ELDERCARE_PORT": str(port),
        "ELDERCARE_PLANNER_SECONDS": "0.2",  # POST /api/plans solves: keep each call short
    }
    with log_path.open("wb") as log:
        api = subprocess.Popen([sys.executable, "-m", "eldercare_platform.cli"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _status(f"{base}/health") == 200, timeout=60, what="a healthy API")
        yield base
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)


def schemathesis_config() -> str:
    """The run's `schemathesis.toml`: no crash cache (every run the same), and the known ids."""
    lines = ["[cache]", "enabled = false", ""]
    for key, values in KNOWN.items():
        name = key.replace(".", "_")
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{key.replace(".", "_")}", probability = 0.5 }}' for key in KNOWN]
    return "\n".join(lines) + "\n"


def login(base: str, username: str) -> str:
    """A bearer token for a seeded demo user."""
    from eldercare_platform.seed.generator import DEMO_PASSWORD

    form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/api/auth/token", data=form, timeout=30) as response:
        token: str = json.loads(response.read())["access_token"]
    return token


def operation_shares(operations: set[str], count: int) -> list[list[str]]:
    """The operations dealt into `count` shares in turn (sorted, so neighbours of a path go to different shares)."""
    ordered = sorted(operations)
    return [ordered[index::count] for index in range(count)]


def name_regex(names: list[str]) -> str:
    """A regular expression matching exactly these operation names ("METHOD /path", as Schemathesis labels them)."""
    return "^(?:" + "|".join(re.escape(name) for name in names) + ")$"


def st_command(
    base: str, config: Path, report: Path, *, phases: str, workers: int, include: str | None = None
) -> list[str]:
    """One `st run` of the pinned Schemathesis: the same checks, seed and examples for every share."""
    return [
        str(Path(sys.executable).with_name("st")),
        "--no-color",
        f"--config-file={config}",
        "run",
        f"{base}/api/openapi.json",
        f"--phases={phases}",
        f"--checks={CHECKS}",
        f"--seed={SEED}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--workers={workers}",
        "--continue-on-failure",
        "--generation-database=none",
        "--request-timeout=20",
        "--suppress-health-check=all",
        "--report=junit",
        f"--report-junit-path={report}",
        *([f"--include-name-regex={include}"] if include else []),
    ]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(served_api: str, tmp_path: Path) -> None:
    tokens = {role: login(served_api, username) for role, username in ROLES.items()}
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(), encoding="utf-8")
    with urllib.request.urlopen(f"{served_api}/api/openapi.json", timeout=30) as response:
        paths = json.loads(response.read())["paths"]
    operations = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    # Examples, coverage and fuzzing test each operation on its own (its cases come from the seed, its role
    # rotation is its own), so the operations are dealt to SHARES processes run at once: one Schemathesis
    # process is held to one core by its GIL, and its threads wait on each other's generation. The stateful
    # phase follows links between operations, so it runs once, over all of them, beside the shares.
    runs: dict[str, list[str]] = {
        f"share{index}": st_command(
            served_api,
            config,
            tmp_path / f"share{index}.xml",
            phases="examples,coverage,fuzzing",
            workers=WORKERS,
            include=name_regex(share),
        )
        for index, share in enumerate(operation_shares(operations, SHARES))
    }
    runs["stateful"] = st_command(served_api, config, tmp_path / "stateful.xml", phases="stateful", workers=1)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.integration.fuzz_hooks",
        "ELDERCARE_FUZZ_TOKENS": json.dumps(tokens),
        "PYTHONPATH": str(ROOT),
    }
    started = {
        name: subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for name, command in runs.items()
    }
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}
    try:
        for name, process in started.items():
            outputs[name], _ = process.communicate(timeout=540)
            codes[name] = process.returncode
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    output = "\n".join(f"===== {name}\n{said}" for name, said in outputs.items())
    print(output)  # shown with -s, and with the failure
    assert all(code == 0 for code in codes.values()), output
    for name, said in outputs.items():
        for phase in ("Stateful",) if name == "stateful" else ("Examples", "Coverage", "Fuzzing"):
            assert f"✅ {phase}" in said, f"phase {phase} did not run and pass in {name}"
    tested: set[str | None] = set()
    for name in runs:
        suite = ElementTree.parse(tmp_path / f"{name}.xml").getroot()
        if name != "stateful":
            tested |= {case.get("name") for case in suite.iter("testcase")}
        assert suite.get("failures") == "0" and suite.get("errors") == "0", name
    assert operations <= tested, f"operations not tested: {sorted(operations - tested)}"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0
