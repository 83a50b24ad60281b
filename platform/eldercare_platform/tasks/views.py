"""The tasks domain's routes (thin: guards from deps.py, work in service.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/tasks", tags=["tasks"])


# --- the coordinator's board (pages helper, issue 11): GET /api/tasks/board; the work is in tasks/board.py -----------
from datetime import date as _date  # noqa: E402
from typing import Annotated as _Annotated  # noqa: E402

from fastapi import Query as _Query  # noqa: E402

from eldercare_platform.core.deps import NowDep as _NowDep  # noqa: E402
from eldercare_platform.core.deps import SessionDep as _SessionDep  # noqa: E402
from eldercare_platform.core.deps import SettingsDep as _SettingsDep  # noqa: E402
from eldercare_platform.core.errors import errors as _errors  # noqa: E402
from eldercare_platform.core.scope import scope_of as _scope_of  # noqa: E402
from eldercare_platform.tasks import board as _board  # noqa: E402
from eldercare_platform.tasks.deps import TaskReader as _TaskReader  # noqa: E402
from eldercare_platform.tasks.schemas import Board as _Board  # noqa: E402

_BoardArea = _Annotated[int, _Query(ge=1, le=2**31 - 1, description="The community (or street) of the board")]
_BoardDay = _Annotated[
    _date | None,
    _Query(ge=_date(2000, 1, 1), le=_date(2099, 12, 31), description="Local day (Asia/Shanghai); default today"),
]


@router.get("/board", response_model=_Board, responses=_errors(404, 422))
def coordinator_board(
    session: _SessionDep,
    user: _TaskReader,
    settings: _SettingsDep,
    now: _NowDep,
    area_id: _BoardArea,
    date: _BoardDay = None,
) -> _Board:
    """The coordinator's board of an area and a local day: tasks by staff member (with their shifts and load
    against their maximum), the unassigned lane, the ids of late and missed tasks, the area's unresolved alerts,
    counts by status, and `version` (the highest task/alert version shown: a page may skip redrawing when it is
    unchanged). 404 `area_not_found` for an area outside the user's scope."""
    return _board.board(
        session,
        scope=_scope_of(session, user),
        area_id=area_id,
        day=date,
        now=now,
        zone=settings.display_timezone,
        late_after_minutes=settings.task_late_after_minutes,
        missed_after_minutes=settings.task_missed_after_minutes,
    )


# Before any `/{task_id}` route of this router: otherwise "/tasks/board" would match it and fail as a bad id.
router.routes.insert(0, router.routes.pop())
