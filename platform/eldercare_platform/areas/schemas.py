"""Areas' API shapes."""

from __future__ import annotations

from eldercare_platform.areas.models import AreaBase


class AreaPublic(AreaBase):
    """An area as the API returns it."""

    id: int
    path: str
