"""The planning API's request and response shapes."""

from __future__ import annotations
