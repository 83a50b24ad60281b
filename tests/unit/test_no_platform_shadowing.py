"""The repository must never shadow the standard library's `platform` module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_platform_from_repo_root_is_the_standard_library() -> None:
    """`import platform; platform.system()` works from the repository root, with it first on sys.path."""
    code = "import sys; sys.path.insert(0, '.'); import platform; print(platform.system(), platform.__file__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    system, path = result.stdout.split()
    assert system == "Linux"
    assert not Path(path).resolve().is_relative_to(ROOT)


def test_platform_folder_is_not_a_package() -> None:
    """The `platform/` folder holds `eldercare_platform` but has no `__init__.py` of its own."""
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert (ROOT / "platform" / "eldercare_platform" / "__init__.py").exists()
