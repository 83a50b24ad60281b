"""The supervision domain's routes (thin: guards and parameters from deps.py, work in service.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/supervision", tags=["supervision"])
