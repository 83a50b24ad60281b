"""When a task not yet checked in counts as late: one SQL definition, used by the TASK_LATE rule
(tasks/alerting.py), the coordinator's board (tasks/board.py) and the supervision visits figure
(supervision/visit_facts.py, through `tasks.service`). docs/services/tasks-engine.md, "Late".

The deadline is `late_after` (`task_late_after_minutes`) after the time the caregiver was expected at the door:
the planned start the plan last applied to the task gave it (`task.planned_start`, the plan's `plan_stop`;
nightly and intraday plans are published as they are applied), else the window start; never later than the
window end, and never earlier than window start + `late_after`:

    greatest(window_start + late_after,
             least(coalesce(planned_start, window_start) + late_after, window_end))

- no planned start (an unplanned task, one assigned by hand, an urgent task no route took, a task the plan could
  not serve): window start + `late_after`, as before;
- a planned start inside the window: planned start + `late_after`, but at the latest the window end (a check-in
  after the window end is late whatever the plan said);
- a planned start before the window start (the window moved after the plan): window start + `late_after`.

A deadline is NULL only for a task without a window start.
"""

from __future__ import annotations


def late_deadline(alias: str = "t", late_after: str = "CAST(:late_after AS interval)") -> str:
    """The SQL expression of the late deadline of the task row `alias` (with `window_start`, `window_end`,
    `planned_start`); `late_after` is an interval expression (a bound `:late_after` by default)."""
    return (
        f"greatest({alias}.window_start + {late_after},"
        f" least(coalesce({alias}.planned_start, {alias}.window_start) + {late_after}, {alias}.window_end))"
    )
