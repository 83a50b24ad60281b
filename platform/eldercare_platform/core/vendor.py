"""Third-party browser code the pages load, served from our own origin (never a CDN: intranets and phones in a
stairwell are offline): `/ui/vendor/<package>/…` is the `build/` folder (`dist/` for ECharts) of an npm package
pinned in `web/package.json`, installed into `web/node_modules` by `scripts/bootstrap.sh` (and by the Dockerfile's web
stage). The caregiver app's service worker loads Workbox from here (`workbox.setConfig({modulePathCb})`), and the
app's outbox the `idb` module, the supervisors' dashboards ECharts (`/ui/vendor/echarts/echarts.esm.min.js`).
A package that is not installed is simply not mounted (its URLs answer 404) and a warning says how to install it;
the API's docs pages have their own mount (core/api_docs.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eldercare_common.logging import get_logger

log = get_logger(__name__)

VENDOR_URL = "/ui/vendor"
PACKAGES = (
    "workbox-sw",
    "workbox-core",
    "workbox-precaching",
    "workbox-routing",
    "workbox-strategies",
    "workbox-expiration",
    "idb",
    "echarts",
)
"""The npm packages whose `build/` folder is served under /ui/vendor/<package>/ (the caregiver app's; the
supervisors' dashboards' ECharts)."""
FOLDERS = {"echarts": "dist"}
"""The packages whose browser files are in another folder than `build/`."""


def vendor_build_dirs(vendor_dir: Path) -> dict[str, Path]:
    """Each served package's build folder, by package name."""
    return {name: vendor_dir / name / FOLDERS.get(name, "build") for name in PACKAGES}


def missing_packages(vendor_dir: Path) -> list[str]:
    """The served packages that are not installed (empty when all are)."""
    return [name for name, folder in vendor_build_dirs(vendor_dir).items() if not folder.is_dir()]


def add_vendor_assets(app: FastAPI, *, vendor_dir: Path) -> None:
    """Mount every installed package's build folder; call before the `/ui` mount, which would shadow them."""
    missing = missing_packages(vendor_dir)
    if missing:
        log.warning(
            "browser vendor packages missing",
            missing=missing,
            hint="run `bash scripts/bootstrap.sh` (npm ci in web/) or set ELDERCARE_WEB_VENDOR_DIR",
        )
    for name, folder in vendor_build_dirs(vendor_dir).items():
        if name not in missing:
            app.mount(f"{VENDOR_URL}/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
