"""Schemathesis hooks for tests/integration/test_api_fuzz.py: which signed-in role each generated request uses.

Loaded by the schemathesis CLI through `SCHEMATHESIS_HOOKS=tests.integration.fuzz_hooks`; the bearer tokens
of the seeded district's demo users come in `ELDERCARE_FUZZ_TOKENS` (JSON: role -> token).

Most requests go out as a role that may use the operation (admin for the admin-only ones, the demo
community coordinator for the services' operations, the demo caregiver for their own tasks, an operator for
the rest), so the fuzzer reaches the handlers; a fixed share go out as a district supervisor and as a
caregiver, so their answers (scoped 200s, 403s, 404s) are checked against the schema too. The rotation is
a counter per operation, not a random draw: each operation's first request goes out as its intended role,
and with one worker and a fixed seed the run is the same every time.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import schemathesis

ADMIN_ONLY = {
    ("POST", "/api/devices"),
    ("POST", "/api/devices/{device_id}/credentials"),
    ("PUT", "/api/devices/{device_id}/config"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("PUT", "/api/alarm-types/{alarm_type}"),
}
ROTATION = ("intended", "intended", "intended", "supervisor", "intended", "intended", "intended", "caregiver")
_turns: dict[str, Iterator[str]] = {}


SERVICES = ("/api/residents/{resident_id}/", "/api/roster", "/api/tasks", "/api/alerts", "/api/meals", "/api/plans")
"""The services' operations (issues 11, 12): a community coordinator's, so they go out as one."""
CAREGIVER_WORK = ("/accept", "/en-route", "/check-in", "/complete", "/no-answer", "/acknowledge")


def role_for(method: str, path: str, turn: str) -> str:
    """The role a request goes out as: the operation's intended role, or the turn's other role."""
    if turn != "intended":
        return turn
    if (method.upper(), path) in ADMIN_ONLY:
        return "admin"
    if path.startswith("/api/me/") or path.endswith(CAREGIVER_WORK):
        return "caregiver"
    if path.startswith(SERVICES):
        return "coordinator"
    if path.startswith("/api/supervision"):
        return "supervisor"  # issue 14: the figures of a tier (operators may not read them)
    return "operator"


@schemathesis.auth(refresh_interval=None, retry_on=[])
class SeededRoles:
    """Bearer tokens of the seeded demo users, chosen per request."""

    def get(self, case: Any, context: Any) -> dict[str, str]:
        tokens: dict[str, str] = json.loads(os.environ["ELDERCARE_FUZZ_TOKENS"])
        return tokens

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        method, path = case.operation.method, case.operation.path
        turn = next(_turns.setdefault(f"{method} {path}", itertools.cycle(ROTATION)))
        role = role_for(method, path, turn)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data[role]}"}
