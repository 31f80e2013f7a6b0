"""Browser tests: Playwright for Python driving Debian's Chromium, headless, against
pytest-django's live server. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("TONGBAN_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Screens:
    def __init__(self, name: str):
        self.dir = SHOTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def shot(self, page, label: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.dir / f"{self.n:02d}-{label}.png"), full_page=True)


@pytest.fixture
def screens(request):
    return Screens(request.node.name)


@pytest.fixture
def open_page(browser, live_server):
    """open_page(width) → a fresh context (own cookies) and page at that viewport width."""
    contexts = []

    def make(width: int = 390):
        ctx = browser.new_context(
            viewport={"width": width, "height": 844 if width < 700 else 900},
            locale="zh-CN",
            accept_downloads=True,
            base_url=live_server.url,
        )
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def login(page, username: str) -> None:
    from tongban.services.demo import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
