"""The care_plans domain's request and response shapes."""

from __future__ import annotations
