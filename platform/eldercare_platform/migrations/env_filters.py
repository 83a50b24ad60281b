"""What autogenerate compares: the SQLModel tables only.

The time-series, outbox and alarm-center tables are written in SQL by their migrations (hypertables,
partial indexes, sequences); autogenerate must neither propose dropping them nor diff them.
"""

from __future__ import annotations

from typing import Any


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Skip database objects (tables, their indexes) that have no SQLModel counterpart."""
    return not (reflected and compare_to is None)
