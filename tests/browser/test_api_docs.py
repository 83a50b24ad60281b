"""/api/docs (Swagger UI) and /api/redoc (ReDoc) render with every request off this machine refused.

Call-center intranets are offline: a page that loads its JavaScript from a CDN is blank there. The
browser here fails every request whose host is not loopback, records it, and the pages must still
list the API's operations, having asked for nothing outside.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from eldercare_common.devstack import MosquittoInstance
from tests.browser.conftest import SCREENSHOTS, LiveServer
from tests.conftest import platform_settings

pytestmark = pytest.mark.browser

DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="module")
def docs_server(database_url: str, mosquitto: MosquittoInstance) -> Iterator[LiveServer]:
    """The real API under uvicorn on the migrated (unseeded) test database."""
    server = LiveServer(platform_settings(database_url, mosquitto))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page whose requests to any host but loopback fail (as on an offline intranet); returns them too."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    refused: list[str] = []

    def gate(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", gate)
    page = context.new_page()
    yield page, refused
    context.close()


def keep(page: Page, name: str) -> None:
    """What a reader sees first, in var/test/screenshots and docs/screenshots/ (like every page's picture)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    shutil.copyfile(path, DOC_SCREENSHOTS / f"{name}.png")


def test_swagger_ui_renders_offline_from_our_own_origin(
    docs_server: LiveServer, offline_page: tuple[Page, list[str]]
) -> None:
    page, refused = offline_page
    response = page.goto(f"{docs_server.url}/api/docs")
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Eldercare platform API", timeout=15_000)
    # Operations are listed, grouped by tag: the devices list among them.
    expect(page.locator(".opblock-summary-path[data-path='/api/devices']").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    # The Authorize button is there (OAuth2 password flow against /api/auth/token).
    expect(page.locator("button.authorize")).to_be_visible()
    keep(page, "api-docs-swagger")
    assert refused == [], f"the page asked for something off this machine: {refused}"


def test_redoc_renders_offline_from_our_own_origin(
    docs_server: LiveServer, offline_page: tuple[Page, list[str]]
) -> None:
    page, refused = offline_page
    response = page.goto(f"{docs_server.url}/api/redoc")
    assert response is not None and response.status == 200
    expect(page.locator("h1").first).to_contain_text("Eldercare platform API", timeout=15_000)
    # ReDoc's side menu lists the operations; the devices list is one of them.
    expect(page.locator("[role=menuitem]", has_text="Get Devices").first).to_be_attached()
    assert page.locator("[role=menuitem]").count() > 20
    keep(page, "api-docs-redoc")
    assert refused == [], f"the page asked for something off this machine: {refused}"


def test_assets_come_from_the_pinned_npm_packages(
    docs_server: LiveServer, offline_page: tuple[Page, list[str]]
) -> None:
    page, _ = offline_page
    html = page.request.get(f"{docs_server.url}/api/docs").text()
    assert "/api/docs/assets/swagger-ui/swagger-ui-bundle.js" in html and "cdn." not in html
    redoc_html = page.request.get(f"{docs_server.url}/api/redoc").text()
    assert "/api/docs/assets/redoc/redoc.standalone.js" in redoc_html and "fonts.googleapis" not in redoc_html
    bundle = page.request.get(f"{docs_server.url}/api/docs/assets/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status == 200 and len(bundle.body()) > 500_000
