"""Fixtures of the browser tests: the demo in a subprocess, Chromium through Playwright.

Every test here is marked ``browser``. Without Chromium at /usr/bin/chromium, or without
Redis for the distributed demo, the test is skipped with the reason, except under CI=true,
where the missing tool fails it. Each test saves a screenshot under
test-output/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.browser.demo_process import DemoProcess

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_DIR = Path(__file__).resolve().parent
OUTPUT_DIR = Path(settings.OUTPUT_DIR)
SCREENSHOT_DIR = OUTPUT_DIR / "screenshots"

# Records the text of every toast as it appears, and every text that a state variable's
# element shows. Tests then check the order of toasts that have closed again, and of values
# that have changed again.
RECORD_TOASTS = """
window.__toasts = [];
window.__values = {};
(function () {
  function recordValue(element) {
    var name = element.getAttribute("data-lc-var");
    var history = window.__values[name] || (window.__values[name] = []);
    if (history[history.length - 1] !== element.textContent) {
      history.push(element.textContent);
    }
  }
  function watch() {
    document.querySelectorAll("[data-lc-var]").forEach(recordValue);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        mutation.addedNodes.forEach(function (node) {
          if (node.nodeType === 1 && node.classList.contains("lc-toast")) {
            var message = node.querySelector(".lc-toast-message");
            window.__toasts.push((message || node).textContent);
          }
        });
        var target = mutation.target.nodeType === 1 ? mutation.target : mutation.target.parentElement;
        var variable = target && target.closest("[data-lc-var]");
        if (variable) {
          recordValue(variable);
        }
      });
    }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
})();
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def missing(reason: str) -> None:
    """Skip the test, or fail it under CI=true, where every tool must be present."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    if not os.access(CHROMIUM_PATH, os.X_OK):
        missing(f"browser tests need Chromium at {CHROMIUM_PATH}; install Debian's chromium package")


def require_redis() -> None:
    from tests.conftest import redis_problem

    problem = redis_problem()
    if problem:
        missing(f"the distributed demo needs Redis: {problem}")


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoProcess]:
    """The demo in distributed mode: daphne, a prefork worker and beat, on Redis and SQLite."""
    require_redis()
    require_chromium()
    work_dir = Path(tempfile.mkdtemp(prefix="demo-browser-"))
    process = DemoProcess(work_dir, OUTPUT_DIR / "browser" / "demo-distributed.log", mode="distributed")
    process.start()
    yield process
    process.stop()
    process.purge_redis_keys(settings.REDIS_URL)
    shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, closed after each module: Playwright's sync API marks an asyncio loop as
    running in the main thread while it is open, which would break asyncio.run() and
    async_to_sync() in the test modules that follow."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    # Kept on the item, so fixtures can tell in their teardown whether the test failed.
    setattr(item, f"report_{report.when}", report)
    return report


def call_failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


def screenshot_path(request: pytest.FixtureRequest, suffix: str = "") -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    path = SCREENSHOT_DIR / f"{name}{'-' + suffix if suffix else ''}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser profile per test, so each test gets its own session and state."""
    browser_context = browser.new_context(viewport={"width": 1280, "height": 900})
    browser_context.set_default_timeout(15_000)
    browser_context.add_init_script(RECORD_TOASTS)
    yield browser_context
    if call_failed(request):
        for index, open_page in enumerate(browser_context.pages):
            open_page.screenshot(path=str(screenshot_path(request, f"failed-{index}")), full_page=True)
    browser_context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Iterator[Callable[..., Path]]:
    """Save a full-page screenshot named after the test; the test calls it at the moment to show."""
    saved: list[Path] = []

    def save(target_page: Any, suffix: str = "") -> Path:
        path = screenshot_path(request, suffix)
        target_page.screenshot(path=str(path), full_page=True)
        saved.append(path)
        return path

    yield save
    if not call_failed(request):
        assert saved, f"{request.node.name} saved no screenshot; call the screenshot fixture."


def open_live(page: Any, url: str) -> None:
    """Load a page and wait until its websocket is live, so actions go over the socket."""
    page.goto(url)
    page.wait_for_selector("[data-lc-status][data-state='live']")


def toasts(page: Any) -> list[str]:
    recorded: list[str] = page.evaluate("window.__toasts || []")
    return recorded


def is_in_order(expected: list[str], seen: list[str]) -> bool:
    """Return whether ``expected`` occurs in ``seen`` in the same order, other toasts in between."""
    remaining = iter(seen)
    return all(any(text == item for item in remaining) for text in expected)


def wait_for_toasts(page: Any, expected: list[str], timeout: float = 20.0) -> list[str]:
    """Wait until the toasts of ``expected`` appeared in this order; return every toast seen."""
    deadline = time.monotonic() + timeout
    seen = toasts(page)
    while not is_in_order(expected, seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"Toasts {expected} did not appear in this order within {timeout} s; seen: {seen}")
        page.wait_for_timeout(100)
        seen = toasts(page)
    return seen


def wait_for_values(page: Any, name: str, expected: list[str], timeout: float = 20.0) -> list[str]:
    """Wait until state variable ``name`` showed the texts of ``expected`` in this order."""
    deadline = time.monotonic() + timeout
    script = f"(window.__values || {{}})[{name!r}] || []"
    seen: list[str] = page.evaluate(script)
    while not is_in_order(expected, seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} did not show {expected} in this order within {timeout} s; seen: {seen}")
        page.wait_for_timeout(100)
        seen = page.evaluate(script)
    return seen


def state_text(page: Any, name: str) -> Any:
    """Return a locator for the element that shows state variable ``name``."""
    return page.locator(f"[data-lc-var='{name}']")
