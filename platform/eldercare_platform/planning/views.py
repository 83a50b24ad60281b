"""The planning API (`/api/plans`): thin routes over `service`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/plans", tags=["planning"])
