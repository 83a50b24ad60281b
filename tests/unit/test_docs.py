"""Generated docs stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from scripts.export_openapi import openapi_text

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_text(), "run `make docs` and commit docs/openapi.json"


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
