"""Named failpoints for fault tests: `ELDERCARE_FAILPOINTS=alarm.before_commit=pause`.

Unset (always, outside fault tests) a failpoint costs one dictionary lookup. `pause` prints
`FAILPOINT <name>` to stderr and blocks forever, so a test can SIGKILL the process at exactly that
point; `crash` exits at once with status 86 without cleaning up (like a power cut).
"""

from __future__ import annotations

import os
import sys
import threading

_ACTIVE: dict[str, str] = dict(
    item.split("=", 1) for item in os.environ.get("ELDERCARE_FAILPOINTS", "").split(",") if "=" in item
)


def hit(name: str) -> None:
    """Trigger the failpoint `name` if it is armed."""
    action = _ACTIVE.get(name)
    if action is None:
        return
    print(f"FAILPOINT {name}", file=sys.stderr, flush=True)
    if action == "pause":
        threading.Event().wait()
    elif action == "crash":
        os._exit(86)
