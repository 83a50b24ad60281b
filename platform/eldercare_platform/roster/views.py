"""The roster domain's routes (thin: guards from deps.py, work in service.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/roster", tags=["roster"])
