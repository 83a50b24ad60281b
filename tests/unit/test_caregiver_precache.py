"""The caregiver app's precache list is in step with its files (scripts/caregiver_precache.py writes it): a stale
list would leave phones on an old app, or offline without a file the new one imports."""

from __future__ import annotations

import re

from scripts.caregiver_precache import APP, TARGET, entries, manifest_text


def test_the_committed_list_is_up_to_date() -> None:
    assert TARGET.read_text(encoding="utf-8") == manifest_text(), "run `.venv/bin/python -m scripts.caregiver_precache`"


def test_every_module_the_app_imports_is_precached() -> None:
    urls = {entry["url"] for entry in entries()}
    for script in APP.glob("*.js"):
        for imported in re.findall(r'from "(/ui/[^"]+)"|import "(/ui/[^"]+)"', script.read_text(encoding="utf-8")):
            url = imported[0] or imported[1]
            assert url in urls, f"{script.name} imports {url}, which is not precached"
    assert "/ui/caregiver/index.html" in urls and "/ui/caregiver/manifest.webmanifest" in urls
    assert "/ui/caregiver/sw.js" not in urls
