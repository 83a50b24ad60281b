"""The care_plans domain's routes (thin: guards from deps.py, work in service.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/care-plans", tags=["care-plans"])
