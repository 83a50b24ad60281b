"""Planning: build a day's problem from the roster, the care plans and the task engine; run the planner; record
and apply the plan (docs/scheduling.md)."""

from __future__ import annotations
