"""Browser fixtures: the real API served by uvicorn on a free port, and Debian's headless Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from eldercare_common.devstack import MosquittoInstance, free_port, wait_for_port
from eldercare_common.settings import DEMO_MQTT_PASSWORD
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_api(seeded_url: str, mosquitto: MosquittoInstance) -> Iterator[str]:
    """Base URL of the API on the seeded database, with its broker connection."""
    settings = ApiSettings(
        environment="test",
        database_url=seeded_url,
        mqtt_url=mosquitto.url,
        mqtt_username="platform",
        mqtt_password=DEMO_MQTT_PASSWORD,
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


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


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under var/test/screenshots for a human to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{int(time.time())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
