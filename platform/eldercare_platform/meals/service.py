"""The meals domain's service functions (keyword-only arguments; `now` from the injected clock)."""

from __future__ import annotations
