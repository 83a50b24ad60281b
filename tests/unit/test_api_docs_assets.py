"""The docs pages' assets: pinned npm packages, installed by bootstrap, copied into the image, or a clear 503."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from eldercare_platform.core.api_docs import missing_assets, vendor_asset_dirs
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.vendor import PACKAGES, missing_packages, vendor_build_dirs
from eldercare_platform.main import create_app

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"


def test_versions_are_pinned_exactly_and_locked() -> None:
    package = json.loads((WEB / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    assert set(package["dependencies"]) == {"swagger-ui-dist", "redoc", *PACKAGES}
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly, not {version!r}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_bootstrap_installs_them_for_the_runtime_not_only_for_tests() -> None:
    script = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    runtime_part = script.split("if [[ $want_test == 1 ]]; then\n  for dir")[0]
    assert "npm ci --prefix web" in runtime_part
    assert "need+=(nodejs)" in runtime_part.split("if [[ $want_test == 1 ]]")[0]


def test_the_image_builds_and_points_at_them() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY web/package.json web/package-lock.json" in dockerfile and "npm ci" in dockerfile
    image_vendor = Path("/app/web/node_modules")
    folders = [*vendor_asset_dirs(Path("node_modules")).values(), *vendor_build_dirs(Path("node_modules")).values()]
    for folder in folders:
        assert f"/web/{folder} ./web/{folder}" in dockerfile, f"the image lacks {folder}"
    assert f"ELDERCARE_WEB_VENDOR_DIR={image_vendor}" in dockerfile


def test_installed_here() -> None:
    assert missing_assets(ApiSettings(environment="test").web_vendor_dir) == [], "run scripts/bootstrap.sh"
    assert missing_packages(ApiSettings(environment="test").web_vendor_dir) == [], "run scripts/bootstrap.sh"


def test_without_the_assets_the_pages_say_how_to_install_them(tmp_path: Path) -> None:
    app = create_app(ApiSettings(environment="test", web_vendor_dir=tmp_path), connect_broker=False)
    client = TestClient(app)
    for url in ("/api/docs", "/api/redoc"):
        response = client.get(url)
        assert response.status_code == 503
        assert "scripts/bootstrap.sh" in response.text and str(tmp_path) in response.text
    assert client.get("/api/openapi.json").status_code == 200


def test_the_caregiver_apps_packages_are_served_from_our_origin() -> None:
    client = TestClient(create_app(ApiSettings(environment="test"), connect_broker=False))
    workbox = client.get("/ui/vendor/workbox-sw/workbox-sw.js")
    assert workbox.status_code == 200 and "javascript" in workbox.headers["content-type"]
    for module in ("core", "precaching", "routing", "strategies", "expiration"):
        assert client.get(f"/ui/vendor/workbox-{module}/workbox-{module}.prod.js").status_code == 200
    idb = client.get("/ui/vendor/idb/index.js")
    assert idb.status_code == 200 and "export {" in idb.text
    assert client.get("/ui/vendor/idb/../package.json").status_code == 404  # only the build folder
    assert client.get("/ui/vendor/left-pad/index.js").status_code == 404


def test_echarts_is_served_from_our_origin() -> None:
    client = TestClient(create_app(ApiSettings(environment="test"), connect_broker=False))
    echarts = client.get("/ui/vendor/echarts/echarts.esm.min.js")
    assert echarts.status_code == 200 and "javascript" in echarts.headers["content-type"]
    assert "export{" in echarts.text.replace(" ", "")
