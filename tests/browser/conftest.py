"""Browser fixtures: the real API served by uvicorn on a free port, and Debian's headless Chromium."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from eldercare_common.devstack import MosquittoInstance, free_port, wait_for_port
from eldercare_gateway.service import Gateway
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app
from tests.conftest import platform_settings
from tests.integration.gateway_support import gateway_settings, running_gateway

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """The real API under uvicorn on a fixed port, which a test may stop and start (a platform restart)."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve in a background thread."""
        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for_port("127.0.0.1", self.port)

    def stop(self) -> None:
        """Shut down (open WebSockets are closed)."""
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser_broker(seeded_broker: MosquittoInstance) -> MosquittoInstance:
    """The broker that knows the seeded district's devices."""
    return seeded_broker


@pytest.fixture(scope="session")
def browser_gateway(seeded_url: str, browser_broker: MosquittoInstance) -> Iterator[Gateway]:
    """A gateway between that broker and the seeded database."""
    with running_gateway(gateway_settings(seeded_url, browser_broker, instance=f"br{os.getpid()}")) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def live_server(seeded_url: str, browser_broker: MosquittoInstance) -> Iterator[LiveServer]:
    """The API on the seeded database with its broker connection, intake worker and live hub."""
    settings = platform_settings(seeded_url, browser_broker)
    server = LiveServer(settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_api(live_server: LiveServer) -> str:
    """Base URL of the live API."""
    return live_server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium from Debian (installed by `make test`), driven by Playwright."""
    assert Path(CHROMIUM).exists(), "Chromium missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page at 1366×768, the call center's screen size."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai")
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Page, name: str, *, docs: bool = False) -> Path:
    """Save a screenshot under var/test/screenshots for a human to look at; `docs=True` also (re)writes
    docs/screenshots/<name>.png, the picture the documentation shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{int(time.time())}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (DOCS_SCREENSHOTS / f"{name}.png").write_bytes(path.read_bytes())
    return path
